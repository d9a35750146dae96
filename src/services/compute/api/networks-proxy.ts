// os-networks and os-tenant-networks (≤2.35): Neutron's networks in nova-network's shapes, list and show only;
// what nova-network could change answers 410 Gone, as Nova does since nova-network went.
import { isNeutronError, type NeutronNetwork } from '../../../clients/network.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { userNeutron } from './network-proxy-common.ts';
import { isAdmin } from './resource-common.ts';

const FIELDS = [
  'id',
  'cidr',
  'netmask',
  'gateway',
  'broadcast',
  'dns1',
  'dns2',
  'cidr_v6',
  'gateway_v6',
  'label',
  'netmask_v6',
];
const ADMIN_FIELDS = [
  'created_at',
  'updated_at',
  'deleted_at',
  'deleted',
  'injected',
  'bridge',
  'vlan',
  'vpn_public_address',
  'vpn_public_port',
  'vpn_private_address',
  'dhcp_start',
  'project_id',
  'host',
  'bridge_interface',
  'multi_host',
  'priority',
  'rxtx_base',
  'mtu',
  'dhcp_server',
  'enable_dhcp',
  'share_address',
];

/** os-networks' view: every nova-network field, only id and label still filled. */
function networkDict(ctx: RouteContext, n: NeutronNetwork): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of isAdmin(ctx) ? [...FIELDS, ...ADMIN_FIELDS] : FIELDS)
    out[f] = f === 'id' ? n.id : f === 'label' ? n.name : null;
  return out;
}

/** os-tenant-networks' view: the cidr is the string "None", as Nova has always answered with Neutron. */
function tenantNetworkDict(n: NeutronNetwork): Record<string, unknown> {
  return { id: n.id, cidr: 'None', label: n.name };
}

const gone = () => new ApiError(410, 'Gone', 'The resource is no longer available.');

export function networkProxyRoutes(cx: ComputeContext): Route[] {
  const target = (ctx: RouteContext) => ({ project_id: ctx.auth?.projectId ?? null });
  const show = async (ctx: RouteContext): Promise<NeutronNetwork> => {
    try {
      return await userNeutron(cx, ctx).showNetwork(ctx.params['id']!);
    } catch (err) {
      if (isNeutronError(err, 404)) throw new ApiError(404, 'NetworkNotFound', 'Network not found');
      throw err;
    }
  };
  const goneRoutes = (base: string, extra: Route[] = []): Route[] => [
    { method: 'POST', path: base, handler: () => Promise.reject(gone()) },
    { method: 'DELETE', path: `${base}/:id`, handler: () => Promise.reject(gone()) },
    ...extra,
  ];
  const N = '/compute/v2.1/os-networks';
  const T = '/compute/v2.1/os-tenant-networks';
  return [
    {
      method: 'GET',
      path: N,
      async handler(ctx) {
        const neutron = userNeutron(cx, ctx);
        ctx.authorize('os_compute_api:os-networks:list', target(ctx));
        return { body: { networks: (await neutron.listNetworks()).map((n) => networkDict(ctx, n)) } };
      },
    },
    {
      method: 'GET',
      path: `${N}/:id`,
      async handler(ctx) {
        userNeutron(cx, ctx);
        ctx.authorize('os_compute_api:os-networks:show', target(ctx));
        return { body: { network: networkDict(ctx, await show(ctx)) } };
      },
    },
    ...goneRoutes(N, [
      { method: 'POST', path: `${N}/add`, handler: () => Promise.reject(gone()) },
      { method: 'POST', path: `${N}/:id/action`, handler: () => Promise.reject(gone()) },
    ]),
    {
      method: 'GET',
      path: T,
      async handler(ctx) {
        const neutron = userNeutron(cx, ctx);
        ctx.authorize('os_compute_api:os-tenant-networks:list', target(ctx));
        return { body: { networks: (await neutron.listNetworks()).map(tenantNetworkDict) } };
      },
    },
    {
      method: 'GET',
      path: `${T}/:id`,
      async handler(ctx) {
        userNeutron(cx, ctx);
        ctx.authorize('os_compute_api:os-tenant-networks:show', target(ctx));
        return { body: { network: tenantNetworkDict(await show(ctx)) } };
      },
    },
    ...goneRoutes(T),
  ];
}
