// Version discovery: GET /compute (the choices, v2.0 listed first as clients expect) and each version's document.
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { MAX, MIN } from './microversions.ts';

function version(ctx: RouteContext, id: 'v2.0' | 'v2.1'): Record<string, unknown> {
  const root = `${ctx.baseUrl()}/compute`;
  const v21 = id === 'v2.1';
  return {
    id,
    status: v21 ? 'CURRENT' : 'SUPPORTED',
    version: v21 ? MAX : '',
    min_version: v21 ? MIN : '',
    updated: v21 ? '2013-07-23T11:33:21Z' : '2011-01-21T11:33:21Z',
    links: [{ rel: 'self', href: `${root}/${v21 ? 'v2.1' : 'v2'}/` }],
  };
}

function document(ctx: RouteContext, id: 'v2.0' | 'v2.1'): Record<string, unknown> {
  const v = version(ctx, id);
  (v['links'] as unknown[]).push({
    rel: 'describedby',
    type: 'text/html',
    href: 'https://docs.openstack.org/',
  });
  v['media-types'] = [
    {
      base: 'application/json',
      type: `application/vnd.openstack.compute+json;version=${id === 'v2.1' ? '2.1' : '2'}`,
    },
  ];
  return { version: v };
}

export function versionRoutes(): Route[] {
  const list: Route['handler'] = (ctx) => ({
    body: { versions: [version(ctx, 'v2.0'), version(ctx, 'v2.1')] },
  });
  return [
    { method: 'GET', path: '/compute', auth: 'none', handler: list },
    {
      method: 'GET',
      path: '/compute/v2.1',
      auth: 'none',
      handler: (ctx) => ({ body: document(ctx, 'v2.1') }),
    },
    { method: 'GET', path: '/compute/v2', auth: 'none', handler: (ctx) => ({ body: document(ctx, 'v2.0') }) },
  ];
}
