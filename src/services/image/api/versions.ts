// Version discovery at /image and /image/versions, as Glance publishes it (v2.0 … v2.16).
import type { Route } from '../../../platform/http/types.ts';

const VERSIONS: readonly [string, string][] = [
  ['2.16', 'CURRENT'],
  ['2.15', 'SUPPORTED'],
  ['2.14', 'SUPPORTED'],
  ['2.13', 'SUPPORTED'],
  ['2.12', 'SUPPORTED'],
  ['2.11', 'SUPPORTED'],
  ['2.10', 'SUPPORTED'],
  ['2.9', 'SUPPORTED'],
  ['2.8', 'SUPPORTED'],
  ['2.7', 'SUPPORTED'],
  ['2.6', 'SUPPORTED'],
  ['2.5', 'SUPPORTED'],
  ['2.4', 'SUPPORTED'],
  ['2.3', 'SUPPORTED'],
  ['2.2', 'SUPPORTED'],
  ['2.1', 'SUPPORTED'],
  ['2.0', 'SUPPORTED'],
];

export function imageVersions(base: string): Record<string, unknown> {
  return {
    versions: VERSIONS.map(([id, status]) => ({
      id: `v${id}`,
      status,
      links: [{ rel: 'self', href: `${base}/image/v2/` }],
    })),
  };
}

export function versionRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/image',
      auth: 'none',
      handler: (ctx) => ({ status: 300, body: imageVersions(ctx.baseUrl()) }),
    },
    {
      method: 'GET',
      path: '/image/versions',
      auth: 'none',
      handler: (ctx) => ({ body: imageVersions(ctx.baseUrl()) }),
    },
    // Glance answers its version list for any unversioned path too; /image/v2 is the usual one clients try.
    {
      method: 'GET',
      path: '/image/v2',
      auth: 'none',
      handler: (ctx) => ({ status: 300, body: imageVersions(ctx.baseUrl()) }),
    },
  ];
}
