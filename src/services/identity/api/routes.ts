// The one route table of Identity: every /v3 resource's routes, in one list.
import type { Route } from '../../../platform/http/types.ts';
import type { IdentityContext } from '../context.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { TokenService } from '../tokens/service.ts';
import { appCredentialRoutes } from './app-credentials.ts';
import { authRoutes } from './auth.ts';
import { credentialRoutes } from './credentials.ts';
import { userRoutes } from './users.ts';
import { versionRoutes } from './versions.ts';

export function identityRoutes(ix: IdentityContext, reader: IdentityReader, tokens: TokenService): Route[] {
  return [
    ...versionRoutes(ix), ...authRoutes(ix, reader, tokens), ...userRoutes(ix, reader, tokens),
    ...appCredentialRoutes(ix, reader),
    ...credentialRoutes(ix, reader),
  ];
}
