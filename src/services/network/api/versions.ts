// Neutron's version documents: GET /network/ (the versions list) and GET /network/v2.0/ (the resources).
import type { Route, RouteContext } from '../../../platform/http/types.ts';

const RESOURCES = [
  'subnets',
  'networks',
  'ports',
  'subnetpools',
  'routers',
  'floatingips',
  'security-groups',
  'security-group-rules',
  'rbac-policies',
  'address-scopes',
  'quotas',
  'agents',
  'availability_zones',
  'extensions',
];

function root(ctx: RouteContext): string {
  return `${ctx.baseUrl()}/network`;
}

export function versionRoutes(): Route[] {
  const versions = (ctx: RouteContext) => ({
    body: {
      versions: [
        {
          id: 'v2.0',
          status: 'CURRENT',
          links: [{ rel: 'self', href: `${root(ctx)}/v2.0/` }],
        },
      ],
    },
  });
  const resources = (ctx: RouteContext) => ({
    body: {
      resources: RESOURCES.map((c) => ({
        name: c.replace(/ies$/, 'y').replace(/s$/, '').replace(/-/g, '_'),
        collection: c,
        links: [{ rel: 'self', href: `${root(ctx)}/v2.0/${c}` }],
      })),
    },
  });
  return [
    // The shared router ignores trailing slashes: '/network' also answers '/network/'.
    { method: 'GET', path: '/network', auth: 'none', handler: versions },
    { method: 'GET', path: '/network/v2.0', auth: 'optional', handler: resources },
  ];
}
