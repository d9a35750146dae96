// /v2.0/floatingips: create (a network:floatingip port on an external network), list, show, update
// (associate, move, disassociate), delete; with fip-port-details and the port forwardings they carry.
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { type AssociationRequest, resolveAssociation } from '../domain/floating-ip-assoc.ts';
import { type Db, loadPorts, OWNER_FLOATINGIP, visibleNetwork, visiblePort } from '../domain/l3-core.ts';
import {
  externalIpExhausted,
  fipInUseByPortForwarding,
  floatingIpBadRequest,
  floatingIpNotFound,
} from '../domain/l3-errors.ts';
import { ipAddressError, ipVersion } from '../domain/l3-ip.ts';
import { createPortIn, deletePortIn } from '../domain/port-ops.ts';
import { writeRetrying } from '../domain/port-write.ts';
import { countQuotaIn, enforceQuota } from '../domain/quota-check.ts';
import { subnetRowsOfNetwork } from '../domain/subnet-rows.ts';
import type { FloatingIpsTable } from '../store/tables-l3.ts';
import { bool, callerOf, targetOf } from './common.ts';
import { listBody, parseListQuery } from './listing.ts';
import {
  type Caller,
  enforceAttrPolicies,
  isUuid,
  parseCreate,
  parseUpdate,
  type ResourceSpec,
  showBody,
  standardAttrs,
  view,
} from './resource.ts';
import { checkRevision, dropTags, loadTags } from './standard-attrs.ts';
import type { TaggableResource } from './tags.ts';

countQuotaIn('floatingip', 'network_floatingips');

const orNone =
  (check: (v: unknown) => string | undefined) =>
  (v: unknown): string | undefined =>
    v === null ? undefined : check(v);

export const floatingIpSpec: ResourceSpec = {
  member: 'floatingip',
  collection: 'floatingips',
  attrs: {
    ...standardAttrs({ name: false }),
    floating_ip_address: {
      post: true,
      put: false,
      default: null,
      validate: orNone(ipAddressError),
      policy: true,
    },
    subnet_id: { post: true, put: false, default: null, validate: orNone(isUuid), visible: false },
    floating_network_id: { post: true, put: false, validate: isUuid },
    router_id: { post: false, put: false },
    port_id: { post: true, put: true, default: null, validate: orNone(isUuid) },
    fixed_ip_address: { post: true, put: true, default: null, validate: orNone(ipAddressError) },
    status: { post: false, put: false },
    port_details: { post: false, put: false, filter: false, sort: false },
    port_forwardings: { post: false, put: false, filter: false, sort: false },
  },
};

export async function renderFloatingIps(
  db: Db,
  rows: FloatingIpsTable[],
): Promise<Record<string, unknown>[]> {
  const ids = rows.map((r) => r.id);
  const [tags, ports, pfs] = await Promise.all([
    loadTags(db, 'floatingips', ids),
    loadPorts(
      db,
      rows.flatMap((r) => (r.fixed_port_id ? [r.fixed_port_id] : [])),
    ),
    ids.length === 0
      ? Promise.resolve([])
      : db
          .selectFrom('network_port_forwardings')
          .selectAll()
          .where('floatingip_id', 'in', ids)
          .orderBy('external_port')
          .execute(),
  ]);
  return rows.map((r) => {
    const p = r.fixed_port_id ? ports.get(r.fixed_port_id) : undefined;
    return {
      id: r.id,
      tenant_id: r.project_id,
      project_id: r.project_id,
      floating_ip_address: r.floating_ip_address,
      floating_network_id: r.floating_network_id,
      router_id: r.router_id,
      port_id: r.fixed_port_id,
      fixed_ip_address: r.fixed_ip_address,
      status: r.status,
      description: r.description,
      port_details: p
        ? {
            name: p.name,
            network_id: p.network_id,
            mac_address: p.mac_address,
            admin_state_up: bool(p.admin_state_up),
            status: p.status,
            device_id: p.device_id,
            device_owner: p.device_owner,
          }
        : null,
      port_forwardings: pfs
        .filter((pf) => pf.floatingip_id === r.id)
        .map((pf) => ({
          id: pf.id,
          internal_ip_address: pf.internal_ip_address,
          protocol: pf.protocol,
          internal_port: pf.internal_port,
          external_port: pf.external_port,
          internal_port_id: pf.internal_port_id,
        })),
      tags: tags.get(r.id) ?? [],
      created_at: r.created_at,
      updated_at: r.updated_at,
      revision_number: r.revision_number,
    };
  });
}

export async function findVisibleFloatingIp(
  cx: NetworkContext,
  caller: Caller,
  id: string,
): Promise<FloatingIpsTable> {
  const row = await cx.db
    .selectFrom('network_floatingips')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row || (!caller.isAdmin && row.project_id !== caller.projectId)) throw floatingIpNotFound(id);
  return row;
}

async function renderOne(cx: NetworkContext, ctx: RouteContext, id: string) {
  const row = await cx.db
    .selectFrom('network_floatingips')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw floatingIpNotFound(id);
  return view(ctx, floatingIpSpec, (await renderFloatingIps(cx.db, [row]))[0]!);
}

async function createFloatingIp(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const item = parseCreate(floatingIpSpec, caller, ctx.body).items[0]!;
  const v = item.values;
  const target = targetOf(v);
  ctx.authorize('create_floatingip', target);
  enforceAttrPolicies(ctx, floatingIpSpec, 'create', item, target);
  const net = await visibleNetwork(cx, caller, v['floating_network_id']);
  if (net.router_external !== 1)
    throw floatingIpBadRequest(`Network ${net.id} is not a valid external network`);
  if (!(await subnetRowsOfNetwork(cx.db, net.id)).some((s) => s.ip_version === 4))
    throw floatingIpBadRequest(`Network ${net.id} does not contain any IPv4 subnet`);
  if (v['port_id']) await visiblePort(cx, caller, v['port_id']);
  const id = cx.ids.uuid();
  const associated = await writeRetrying(cx, async (trx, record) => {
    await enforceQuota(cx, trx, v['project_id'], 'floatingip');
    const fixedIp = {
      ...(v['subnet_id'] ? { subnetId: v['subnet_id'] as string } : {}),
      ...(v['floating_ip_address'] ? { ipAddress: v['floating_ip_address'] as string } : {}),
    };
    const port = await createPortIn(
      cx,
      trx,
      {
        projectId: '',
        networkId: net.id,
        name: '',
        deviceId: id,
        deviceOwner: OWNER_FLOATINGIP,
        adminStateUp: true,
        ...(Object.keys(fixedIp).length > 0 ? { fixedIps: [fixedIp] } : {}),
      },
      record,
    );
    const v4 = port.fixedIps.find((ip) => ipVersion(ip.ipAddress) === 4);
    if (!v4) throw externalIpExhausted(net.id);
    const address = v4.ipAddress;
    const base = {
      id,
      project_id: v['project_id'] as string,
      floating_network_id: net.id,
      floating_ip_address: address,
      fixed_port_id: null,
      router_id: null,
    };
    const assoc = await resolveAssociation(
      trx,
      base,
      { port_id: v['port_id'], fixed_ip_address: v['fixed_ip_address'] },
      caller.isAdmin,
    );
    const now = cx.nowIso();
    await trx
      .insertInto('network_floatingips')
      .values({
        ...base,
        name: '',
        description: v['description'],
        created_at: now,
        updated_at: now,
        revision_number: 1,
        floating_port_id: port.id,
        fixed_port_id: assoc.portId,
        fixed_ip_address: assoc.fixedIp,
        router_id: assoc.routerId,
        last_known_router_id: null,
        status: assoc.portId ? 'ACTIVE' : 'DOWN',
      })
      .execute();
    record({ kind: 'floatingip', id, action: 'create', projectId: base.project_id });
    if (assoc.routerId) record({ kind: 'router', id: assoc.routerId, action: 'update' });
    return assoc.portId;
  });
  await notifyNetworkChanged(cx, [associated]);
  return { status: 201, body: { floatingip: await renderOne(cx, ctx, id) } };
}

/** Neutron's Nova notifier: a floating IP (dis)associated changes the addresses of the servers owning the ports. */
async function notifyNetworkChanged(
  cx: NetworkContext,
  portIds: (string | null | undefined)[],
): Promise<void> {
  const ids = [...new Set(portIds.filter((p): p is string => !!p))];
  if (!cx.notifier || ids.length === 0) return;
  const ports = await cx.db
    .selectFrom('network_ports')
    .select(['id', 'device_id', 'device_owner'])
    .where('id', 'in', ids)
    .execute();
  for (const p of ports)
    if (p.device_owner.startsWith('compute:') && p.device_id)
      cx.notifier.portEvent({
        name: 'network-changed',
        serverId: p.device_id,
        portId: p.id,
        status: 'completed',
      });
}

async function hasPortForwardings(trx: NetworkTrx, fipId: string): Promise<boolean> {
  return !!(await trx
    .selectFrom('network_port_forwardings')
    .select('id')
    .where('floatingip_id', '=', fipId)
    .executeTakeFirst());
}

async function updateFloatingIp(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const item = parseUpdate(floatingIpSpec, caller, ctx.body);
  const before = await findVisibleFloatingIp(cx, caller, ctx.params['id']!);
  const target = targetOf({ ...before, ...item.values });
  ctx.authorize('update_floatingip', target);
  const v = item.values;
  if (v['port_id']) await visiblePort(cx, caller, v['port_id']);
  const touched = await writeRetrying(cx, async (trx, record) => {
    const cur = await trx
      .selectFrom('network_floatingips')
      .selectAll()
      .where('id', '=', before.id)
      .executeTakeFirst();
    if (!cur) throw floatingIpNotFound(before.id);
    checkRevision(ctx, cur.revision_number);
    if (v['port_id'] && (await hasPortForwardings(trx, cur.id))) throw fipInUseByPortForwarding(cur.id);
    const req: AssociationRequest = {};
    if ('port_id' in v) req.port_id = v['port_id'];
    if ('fixed_ip_address' in v) req.fixed_ip_address = v['fixed_ip_address'];
    const assoc = await resolveAssociation(trx, cur, req, caller.isAdmin);
    await trx
      .updateTable('network_floatingips')
      .set({
        fixed_port_id: assoc.portId,
        fixed_ip_address: assoc.fixedIp,
        router_id: assoc.routerId,
        last_known_router_id: cur.router_id,
        status: assoc.portId || assoc.routerId ? 'ACTIVE' : 'DOWN',
        ...(v['description'] !== undefined ? { description: v['description'] } : {}),
        updated_at: cx.nowIso(),
        revision_number: cur.revision_number + 1,
      })
      .where('id', '=', cur.id)
      .execute();
    record({ kind: 'floatingip', id: cur.id, action: 'update', projectId: cur.project_id });
    for (const r of new Set([cur.router_id, assoc.routerId]))
      if (r) record({ kind: 'router', id: r, action: 'update' });
    return [cur.fixed_port_id, assoc.portId];
  });
  await notifyNetworkChanged(cx, touched);
  return { body: { floatingip: await renderOne(cx, ctx, before.id) } };
}

async function deleteFloatingIp(cx: NetworkContext, ctx: RouteContext) {
  const before = await findVisibleFloatingIp(cx, callerOf(ctx), ctx.params['id']!);
  ctx.authorize('delete_floatingip', targetOf({ ...before }));
  const released = await cx.write(async (trx, record) => {
    const cur = await trx
      .selectFrom('network_floatingips')
      .selectAll()
      .where('id', '=', before.id)
      .executeTakeFirst();
    if (!cur) throw floatingIpNotFound(before.id);
    checkRevision(ctx, cur.revision_number);
    if (await hasPortForwardings(trx, cur.id)) throw fipInUseByPortForwarding(cur.id);
    await trx.deleteFrom('network_floatingips').where('id', '=', cur.id).execute();
    await dropTags(trx, 'floatingips', cur.id);
    await deletePortIn(cx, trx, cur.floating_port_id, record);
    record({ kind: 'floatingip', id: cur.id, action: 'delete', projectId: cur.project_id });
    if (cur.router_id) record({ kind: 'router', id: cur.router_id, action: 'update' });
    return cur.fixed_port_id;
  });
  await notifyNetworkChanged(cx, [released]);
  return { status: 204 };
}

export function floatingIpRoutes(cx: NetworkContext): Route[] {
  return [
    { method: 'POST', path: '/network/v2.0/floatingips', handler: (ctx) => createFloatingIp(cx, ctx) },
    {
      method: 'GET',
      path: '/network/v2.0/floatingips',
      async handler(ctx) {
        const q = parseListQuery(ctx, floatingIpSpec);
        const caller = callerOf(ctx);
        let query = cx.db.selectFrom('network_floatingips').selectAll().orderBy('created_at').orderBy('id');
        if (!caller.isAdmin) query = query.where('project_id', '=', caller.projectId ?? '');
        return listBody(ctx, floatingIpSpec, await renderFloatingIps(cx.db, await query.execute()), q);
      },
    },
    {
      method: 'GET',
      path: '/network/v2.0/floatingips/:id',
      async handler(ctx) {
        const row = await findVisibleFloatingIp(cx, callerOf(ctx), ctx.params['id']!);
        return showBody(ctx, floatingIpSpec, (await renderFloatingIps(cx.db, [row]))[0]!);
      },
    },
    { method: 'PUT', path: '/network/v2.0/floatingips/:id', handler: (ctx) => updateFloatingIp(cx, ctx) },
    { method: 'DELETE', path: '/network/v2.0/floatingips/:id', handler: (ctx) => deleteFloatingIp(cx, ctx) },
  ];
}

export const floatingIpTaggable: TaggableResource = {
  collection: 'floatingips',
  async find(cx, ctx, id) {
    try {
      return { projectId: (await findVisibleFloatingIp(cx, callerOf(ctx), id)).project_id };
    } catch {
      return undefined;
    }
  },
  notFound: floatingIpNotFound,
  table: 'network_floatingips',
};
