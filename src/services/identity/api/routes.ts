// The one route table of Identity: every /v3 resource's routes, in one list.
import type { Route } from '../../../platform/http/types.ts';
import type { IdentityContext } from '../context.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { TokenService } from '../tokens/service.ts';
import { appCredentialRoutes } from './app-credentials.ts';
import { assignmentRoutes } from './assignments.ts';
import { authRoutes } from './auth.ts';
import { catalogRoutes } from './catalog.ts';
import { credentialRoutes } from './credentials.ts';
import { domainConfigRoutes } from './domain-configs.ts';
import { domainRoutes } from './domains.ts';
import { ec2CredentialRoutes } from './ec2-credentials.ts';
import { endpointGroupRoutes } from './endpoint-groups.ts';
import { groupRoutes } from './groups.ts';
import { oauthConsumerRoutes } from './oauth1-consumers.ts';
import { policyRoutes } from './policies.ts';
import { projectRoutes } from './projects.ts';
import { roleRoutes } from './roles.ts';
import { trustRoutes } from './trusts.ts';
import { userRoutes } from './users.ts';
import { versionRoutes } from './versions.ts';

export function identityRoutes(ix: IdentityContext, reader: IdentityReader, tokens: TokenService): Route[] {
  return [
    ...versionRoutes(ix),
    ...authRoutes(ix, reader, tokens),
    ...domainRoutes(ix, reader),
    ...projectRoutes(ix, reader),
    ...userRoutes(ix, reader, tokens),
    ...groupRoutes(ix, reader),
    ...roleRoutes(ix, reader),
    ...assignmentRoutes(ix, reader),
    ...catalogRoutes(ix, reader),
    ...appCredentialRoutes(ix, reader),
    ...credentialRoutes(ix, reader),
    ...ec2CredentialRoutes(ix, reader),
    ...policyRoutes(ix, reader),
    ...oauthConsumerRoutes(ix, reader),
    ...endpointGroupRoutes(ix, reader),
    ...domainConfigRoutes(ix, reader),
    ...trustRoutes(ix, reader),
  ];
}
