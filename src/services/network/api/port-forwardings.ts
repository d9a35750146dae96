// /v2.0/floatingips/{id}/port_forwardings: DNAT of one floating IP's TCP/UDP ports to internal addresses
// (floating-ip-port-forwarding with its description), as Neutron's port forwarding plugin.
import { isUniqueViolation } from '../../../platform/db/errors.ts';
import { isApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { routerForFloatingIp } from '../domain/floating-ip-assoc.ts';
import { dropForwardings } from '../domain/floating-ip-cleanup.ts';
import { loadPort, portNotFound, visiblePort } from '../domain/l3-core.ts';
import {
  floatingIpPortAlreadyAssociated,
  portForwardingBadRequest,
  portForwardingNotFound,
  portHasBindingFloatingIp,
} from '../domain/l3-errors.ts';
import { ipAddressError, ipVersion } from '../domain/l3-ip.ts';
import type { FloatingIpsTable, PortForwardingsTable } from '../store/tables-l3.ts';
import { callerOf } from './common.ts';
import { findVisibleFloatingIp } from './floating-ips.ts';
import { listBody, parseListQuery } from './listing.ts';
import {
  isUuid,
  maxLen,
  oneOf,
  parseCreate,
  parseUpdate,
  type ResourceSpec,
  showBody,
  toInt,
  view,
} from './resource.ts';

const portRange = (v: number) =>
  v < 1
    ? `'${v}' is too small - must be at least '1'`
    : v > 65535
      ? `'${v}' is too large - must be no larger than '65535'`
      : undefined;

export const portForwardingSpec: ResourceSpec = {
  member: 'port_forwarding',
  collection: 'port_forwardings',
  attrs: {
    id: { post: false, put: false },
    project_id: { post: true, put: false, visible: false },
    tenant_id: { post: true, put: false, visible: false },
    external_port: { post: true, put: true, convert: toInt, validate: portRange },
    internal_port: { post: true, put: true, convert: toInt, validate: portRange, filter: false },
    internal_ip_address: { post: true, put: true, validate: ipAddressError, filter: false },
    protocol: { post: true, put: true, validate: oneOf(['tcp', 'udp']) },
    internal_port_id: { post: true, put: true, validate: isUuid },
    description: { post: true, put: true, default: '', validate: maxLen(255) },
  },
};

function render(pf: PortForwardingsTable): Record<string, unknown> {
  return {
    id: pf.id,
    external_port: pf.external_port,
    internal_port: pf.internal_port,
    internal_ip_address: pf.internal_ip_address,
    protocol: pf.protocol,
    internal_port_id: pf.internal_port_id,
    description: pf.description,
  };
}

const pyFixedIps = (ips: { subnet_id: string; ip_address: string }[]) =>
  `[${ips.map((ip) => `{'subnet_id': '${ip.subnet_id}', 'ip_address': '${ip.ip_address}'}`).join(', ')}]`;

/** Checks one forwarding against the floating IP, its internal port and the others; returns the router it needs. */
async function checkForwarding(
  trx: NetworkTrx,
  fip: FloatingIpsTable,
  pf: PortForwardingsTable,
  isAdmin: boolean,
): Promise<string> {
  const others = (
    await trx.selectFrom('network_port_forwardings').selectAll().where('floatingip_id', '=', fip.id).execute()
  ).filter((o) => o.id !== pf.id && o.protocol === pf.protocol);
  const clash = others.find((o) => o.external_port === pf.external_port);
  if (clash)
    throw portForwardingBadRequest(
      `There is a port collision with the external_port_range. The following ranges collides: ${clash.external_port}:${clash.external_port} and ${pf.external_port}:${pf.external_port}`,
    );
  const bound = await trx
    .selectFrom('network_floatingips')
    .select(['id', 'floating_ip_address'])
    .where('fixed_port_id', '=', pf.internal_port_id)
    .executeTakeFirst();
  if (bound)
    throw portHasBindingFloatingIp({
      floatingIpAddress: bound.floating_ip_address,
      fipId: bound.id,
      portId: pf.internal_port_id,
      fixedIp: pf.internal_ip_address,
    });
  if (fip.fixed_port_id)
    throw floatingIpPortAlreadyAssociated({
      floatingIpAddress: fip.floating_ip_address,
      fipId: fip.id,
      portId: pf.internal_port_id,
      fixedIp: pf.internal_ip_address,
      netId: fip.floating_network_id,
    });
  const port = await loadPort(trx, pf.internal_port_id);
  if (!port || (!isAdmin && port.project_id !== fip.project_id)) throw portNotFound(pf.internal_port_id);
  const v4 = port.fixedIps.filter((ip) => ipVersion(ip.ip_address) === 4);
  if (v4.length === 0)
    throw portForwardingBadRequest(
      `Requested internal port ${port.id} must allocate an IPv4 address at least.`,
    );
  const match = v4.find((ip) => ip.ip_address === pf.internal_ip_address);
  if (!match)
    throw portForwardingBadRequest(
      `Requested internal IP address ${pf.internal_ip_address} is not suitable for internal neutron port ${port.id}, as its fixed_ips are ${pyFixedIps(v4)}`,
    );
  let routerId: string;
  try {
    routerId = await routerForFloatingIp(trx, port, match.subnet_id, fip.floating_network_id);
  } catch (e) {
    if (!isApiError(e) || e.code !== 'ExternalGatewayForFloatingIPNotFound') throw e;
    throw portForwardingBadRequest(
      `External network ${fip.floating_network_id} is not reachable from subnet ${match.subnet_id}. Cannot set Port forwarding for port ${port.id} with Floating IP ${fip.id}`,
    );
  }
  if (fip.router_id && fip.router_id !== routerId)
    throw portForwardingBadRequest(
      `The Floating IP ${fip.id} had been set on router ${fip.router_id}, the internal Neutron port ${port.id} can not reach it`,
    );
  return routerId;
}

function duplicate(e: unknown, pf: PortForwardingsTable): never {
  if (isUniqueViolation(e))
    throw portForwardingBadRequest(
      `A duplicate port forwarding entry with same attributes already exists, conflicting values are {'floatingip_id': '${pf.floatingip_id}', 'external_port': ${pf.external_port}, 'protocol': '${pf.protocol}'}`,
    );
  throw e;
}

async function loadForwarding(cx: NetworkContext, ctx: RouteContext, fip: FloatingIpsTable) {
  const pf = await cx.db
    .selectFrom('network_port_forwardings')
    .selectAll()
    .where('id', '=', ctx.params['pf_id']!)
    .executeTakeFirst();
  if (!pf || pf.floatingip_id !== fip.id) throw portForwardingNotFound(ctx.params['pf_id']!);
  return pf;
}

/** The parent floating IP (FloatingIPNotFound) and the policy on it (its owner, or admin). */
async function parent(cx: NetworkContext, ctx: RouteContext, action?: string) {
  const fip = await findVisibleFloatingIp(cx, callerOf(ctx), ctx.params['id']!);
  if (action) ctx.authorize(`${action}_floatingip_port_forwarding`, { ext_parent_owner: fip.project_id });
  return fip;
}

async function create(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const fip0 = await parent(cx, ctx, 'create');
  const v = parseCreate(portForwardingSpec, caller, ctx.body).items[0]!.values;
  await visiblePort(cx, caller, v['internal_port_id']);
  const pf: PortForwardingsTable = {
    id: cx.ids.uuid(),
    floatingip_id: fip0.id,
    protocol: v['protocol'],
    external_port: v['external_port'],
    internal_port: v['internal_port'],
    internal_ip_address: v['internal_ip_address'],
    internal_port_id: v['internal_port_id'],
    description: v['description'],
  };
  await cx
    .write(async (trx, record) => {
      const fip = await trx
        .selectFrom('network_floatingips')
        .selectAll()
        .where('id', '=', fip0.id)
        .executeTakeFirst();
      if (!fip) throw portForwardingNotFound(pf.id);
      const routerId = await checkForwarding(trx, fip, pf, caller.isAdmin);
      if (!fip.router_id)
        await trx
          .updateTable('network_floatingips')
          .set({ router_id: routerId, status: 'ACTIVE' })
          .where('id', '=', fip.id)
          .execute();
      await trx.insertInto('network_port_forwardings').values(pf).execute();
      record({ kind: 'floatingip', id: fip.id, action: 'update', projectId: fip.project_id });
      record({ kind: 'router', id: routerId, action: 'update' });
    })
    .catch((e) => duplicate(e, pf));
  return { status: 201, body: { port_forwarding: view(ctx, portForwardingSpec, render(pf)) } };
}

async function update(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const fip0 = await parent(cx, ctx, 'update');
  const before = await loadForwarding(cx, ctx, fip0);
  const v = parseUpdate(portForwardingSpec, caller, ctx.body).values;
  if (v['internal_port_id']) await visiblePort(cx, caller, v['internal_port_id']);
  const pf: PortForwardingsTable = { ...before };
  for (const k of [
    'protocol',
    'external_port',
    'internal_port',
    'internal_ip_address',
    'internal_port_id',
    'description',
  ] as const)
    if (v[k] !== undefined) (pf as unknown as Record<string, unknown>)[k] = v[k];
  await cx
    .write(async (trx, record) => {
      const fip = await trx
        .selectFrom('network_floatingips')
        .selectAll()
        .where('id', '=', fip0.id)
        .executeTakeFirst();
      if (!fip) throw portForwardingNotFound(pf.id);
      const routerId = await checkForwarding(trx, { ...fip, router_id: fip.router_id }, pf, caller.isAdmin);
      await trx
        .updateTable('network_port_forwardings')
        .set({
          protocol: pf.protocol,
          external_port: pf.external_port,
          internal_port: pf.internal_port,
          internal_ip_address: pf.internal_ip_address,
          internal_port_id: pf.internal_port_id,
          description: pf.description,
        })
        .where('id', '=', pf.id)
        .execute();
      record({ kind: 'floatingip', id: fip.id, action: 'update', projectId: fip.project_id });
      record({ kind: 'router', id: routerId, action: 'update' });
    })
    .catch((e) => duplicate(e, pf));
  return { body: { port_forwarding: view(ctx, portForwardingSpec, render(pf)) } };
}

export function portForwardingRoutes(cx: NetworkContext): Route[] {
  const base = '/network/v2.0/floatingips/:id/port_forwardings';
  return [
    { method: 'POST', path: base, handler: (ctx) => create(cx, ctx) },
    {
      method: 'GET',
      path: base,
      async handler(ctx) {
        const fip = await parent(cx, ctx);
        const q = parseListQuery(ctx, portForwardingSpec);
        const rows = await cx.db
          .selectFrom('network_port_forwardings')
          .selectAll()
          .where('floatingip_id', '=', fip.id)
          .orderBy('id')
          .execute();
        return listBody(ctx, portForwardingSpec, rows.map(render), q);
      },
    },
    {
      method: 'GET',
      path: `${base}/:pf_id`,
      async handler(ctx) {
        const fip = await parent(cx, ctx);
        return showBody(ctx, portForwardingSpec, render(await loadForwarding(cx, ctx, fip)));
      },
    },
    { method: 'PUT', path: `${base}/:pf_id`, handler: (ctx) => update(cx, ctx) },
    {
      method: 'DELETE',
      path: `${base}/:pf_id`,
      async handler(ctx) {
        const fip = await parent(cx, ctx, 'delete');
        const pf = await loadForwarding(cx, ctx, fip);
        await cx.write(async (trx, record) => {
          await dropForwardings(trx, [pf.id]);
          record({ kind: 'floatingip', id: fip.id, action: 'update', projectId: fip.project_id });
          if (fip.router_id) record({ kind: 'router', id: fip.router_id, action: 'update' });
        });
        return { status: 204 };
      },
    },
  ];
}
