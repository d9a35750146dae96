// GET /placement: the version document, served without a token (placement/handlers/root.py).
import type { Route } from '../../../platform/http/types.ts';
import { MAX_VERSION, MIN_VERSION } from '../domain/versions.ts';
import { mvOf, PREFIX } from './common.ts';

export function rootRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: PREFIX,
      auth: 'none',
      handler(ctx) {
        const headers: Record<string, string> = {};
        if (mvOf(ctx).atLeast('1.15')) {
          headers['cache-control'] = 'no-cache';
          headers['last-modified'] = new Date().toUTCString();
        }
        return {
          headers,
          body: {
            versions: [
              {
                id: `v${MIN_VERSION}`,
                max_version: MAX_VERSION,
                min_version: MIN_VERSION,
                status: 'CURRENT',
                links: [{ rel: 'self', href: '' }],
              },
            ],
          },
        };
      },
    },
  ];
}
