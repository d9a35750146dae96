// /v2.0/subnets: list, show, update (gateway, pools, DNS, routes, DHCP, name), delete (SubnetInUse) and tags.
import type { Change } from '../../../platform/db/writer.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { hooks } from '../domain/hooks.ts';
import { dropMark, resetMark } from '../domain/ipam-marks.ts';
import { deletePort, touchPort } from '../domain/port-create.ts';
import { syncDhcpPort } from '../domain/port-dhcp.ts';
import { writeRetrying } from '../domain/port-write.ts';
import { countQuotaIn } from '../domain/quota-check.ts';
import {
  AUTO_DELETE_PORT_OWNERS,
  isAutoAddress,
  ROUTER_INTERFACE_OWNERS,
  ROUTER_PORT_OWNERS,
  subnetInfo,
} from '../domain/subnet-rows.ts';
import {
  checkGatewayOutOfPools,
  checkPools,
  poolsJson,
  validateIpv6DhcpUpdate,
  validateSubnet,
} from '../domain/subnet-validate.ts';
import { conflict } from '../errors.ts';
import type { SubnetsTable } from '../store/tables-core.ts';
import { callerOf, targetOf } from './common.ts';
import { listBody, parseListQuery } from './listing.ts';
import { enforceAttrPolicies, parseUpdate, showBody, view } from './resource.ts';
import { checkRevision, dropTags } from './standard-attrs.ts';
import { createSubnets } from './subnets-create.ts';
import {
  findVisibleSubnet,
  renderSubnet,
  renderSubnets,
  subnetNotFound,
  subnetSpec,
  subnetVisibility,
} from './subnets-spec.ts';
import type { TaggableResource } from './tags.ts';

countQuotaIn('subnet', 'network_subnets');

function subnetInUse(id: string, reason = 'One or more ports have an IP allocation from this subnet'): Error {
  return conflict('SubnetInUse', `Unable to complete operation on subnet ${id}: ${reason}.`);
}

/** Deletes a subnet inside a write: hooks, in-use checks, its addresses (DHCP and SLAAC), then the DHCP port. */
export async function removeSubnet(
  cx: NetworkContext,
  trx: NetworkTrx,
  record: (c: Change) => void,
  subnet: SubnetsTable,
  opts: { syncDhcp: boolean } = { syncDhcp: true },
): Promise<void> {
  for (const h of hooks.subnetDeleteChecks) await h(cx, trx, subnet);
  const allocs = await trx
    .selectFrom('network_ip_allocations')
    .innerJoin('network_ports', 'network_ports.id', 'network_ip_allocations.port_id')
    .select(['network_ports.id', 'network_ports.project_id', 'network_ports.device_owner'])
    .where('network_ip_allocations.subnet_id', '=', subnet.id)
    .execute();
  if (allocs.some((a) => ROUTER_INTERFACE_OWNERS.includes(a.device_owner))) throw subnetInUse(subnet.id);
  if (!isAutoAddress(subnet) && allocs.some((a) => !AUTO_DELETE_PORT_OWNERS.includes(a.device_owner)))
    throw subnetInUse(subnet.id);
  await trx.deleteFrom('network_ip_allocations').where('subnet_id', '=', subnet.id).execute();
  await dropMark(trx, subnet.id);
  for (const a of allocs) await touchPort(cx, trx, { id: a.id, project_id: a.project_id }, record);
  await trx.deleteFrom('network_subnets').where('id', '=', subnet.id).execute();
  await dropTags(trx, 'subnets', subnet.id);
  record({ kind: 'subnet', id: subnet.id, action: 'delete', projectId: subnet.project_id });
  if (opts.syncDhcp) await syncDhcpPort(cx, trx, subnet.network_id, record);
}

async function updateSubnet(cx: NetworkContext, ctx: RouteContext) {
  const item = parseUpdate(subnetSpec, callerOf(ctx), ctx.body);
  const { subnet: before, network } = await findVisibleSubnet(cx, ctx, ctx.params['id']!);
  const target = targetOf(renderSubnet(before, []), { 'network:tenant_id': network.project_id });
  ctx.authorize('update_subnet', target);
  enforceAttrPolicies(ctx, subnetSpec, 'update', item, target);
  checkRevision(ctx, before.revision_number);
  const v = item.values;
  const row = await writeRetrying(cx, async (trx, record, attempt) => {
    const cur = await trx
      .selectFrom('network_subnets')
      .selectAll()
      .where('id', '=', before.id)
      .executeTakeFirst();
    if (!cur) throw subnetNotFound(before.id);
    const info = subnetInfo(cur);
    const version = cur.ip_version as 4 | 6;
    validateSubnet(
      {
        id: cur.id,
        ipVersion: version,
        net: info.net,
        cidrText: cur.cidr,
        gateway: v['gateway_ip'],
        ...(v['dns_nameservers'] !== undefined ? { dns: v['dns_nameservers'] } : {}),
        ...(v['host_routes'] !== undefined ? { routes: v['host_routes'] } : {}),
        ...(v['enable_dhcp'] !== undefined ? { enableDhcp: v['enable_dhcp'] } : {}),
      },
      cur.enable_dhcp === 1,
    );
    if (version === 6)
      validateIpv6DhcpUpdate(v['enable_dhcp'], { ra: cur.ipv6_ra_mode, am: cur.ipv6_address_mode });
    const set: Partial<SubnetsTable> = {};
    const gateway = v['gateway_ip'] !== undefined ? (v['gateway_ip'] as string | null) : cur.gateway_ip;
    if (v['gateway_ip'] !== undefined && gateway !== cur.gateway_ip && cur.gateway_ip) {
      const holder = await trx
        .selectFrom('network_ip_allocations')
        .innerJoin('network_ports', 'network_ports.id', 'network_ip_allocations.port_id')
        .select('network_ports.id')
        .where('network_ip_allocations.subnet_id', '=', cur.id)
        .where('network_ip_allocations.ip_address', '=', cur.gateway_ip)
        .where('network_ports.device_owner', 'in', ROUTER_PORT_OWNERS)
        .executeTakeFirst();
      if (holder)
        throw conflict(
          'GatewayIpInUse',
          `Current gateway ip ${cur.gateway_ip} already in use by port ${holder.id}. Unable to update.`,
        );
    }
    if (v['allocation_pools'] !== undefined) {
      const ranges = checkPools(v['allocation_pools'], info.net, null);
      if (gateway) checkGatewayOutOfPools(gateway, ranges, version);
      set.allocation_pools = poolsJson(ranges, version);
      await resetMark(trx, cur.id);
    } else if (v['gateway_ip'] !== undefined && gateway) checkGatewayOutOfPools(gateway, info.pools, version);
    if (v['gateway_ip'] !== undefined) set.gateway_ip = gateway === null ? null : gateway;
    if (v['name'] !== undefined) set.name = v['name'];
    if (v['description'] !== undefined) set.description = v['description'];
    if (v['dns_nameservers'] !== undefined) set.dns_nameservers = JSON.stringify(v['dns_nameservers']);
    if (v['host_routes'] !== undefined) set.host_routes = JSON.stringify(v['host_routes']);
    if (v['enable_dhcp'] !== undefined) set.enable_dhcp = v['enable_dhcp'] ? 1 : 0;
    if (v['service_types'] !== undefined) set.service_types = JSON.stringify(v['service_types']);
    const next = { ...cur, ...set, updated_at: cx.nowIso(), revision_number: cur.revision_number + 1 };
    await trx
      .updateTable('network_subnets')
      .set({ ...set, updated_at: next.updated_at, revision_number: next.revision_number })
      .where('id', '=', cur.id)
      .execute();
    record({ kind: 'subnet', id: cur.id, action: 'update', projectId: cur.project_id });
    if (set.enable_dhcp !== undefined && set.enable_dhcp !== cur.enable_dhcp)
      await syncDhcpPort(cx, trx, cur.network_id, record, attempt);
    return next;
  });
  return { body: { subnet: view(ctx, subnetSpec, (await renderSubnets(cx.db, [row]))[0]!) } };
}

export function subnetRoutes(cx: NetworkContext): Route[] {
  return [
    { method: 'POST', path: '/network/v2.0/subnets', handler: (ctx) => createSubnets(cx, ctx) },
    {
      method: 'GET',
      path: '/network/v2.0/subnets',
      async handler(ctx) {
        const q = parseListQuery(ctx, subnetSpec, { ignore: ['shared'] });
        const visible = await subnetVisibility(cx, ctx);
        const [rows, nets] = await Promise.all([
          cx.db.selectFrom('network_subnets').selectAll().orderBy('created_at').orderBy('id').execute(),
          cx.db.selectFrom('network_networks').selectAll().execute(),
        ]);
        const byId = new Map(nets.map((n) => [n.id, n]));
        const seen = rows.filter((r) => visible(r, byId.get(r.network_id)));
        return listBody(ctx, subnetSpec, await renderSubnets(cx.db, seen), q);
      },
    },
    {
      method: 'GET',
      path: '/network/v2.0/subnets/:id',
      async handler(ctx) {
        const { subnet } = await findVisibleSubnet(cx, ctx, ctx.params['id']!);
        return showBody(ctx, subnetSpec, (await renderSubnets(cx.db, [subnet]))[0]!);
      },
    },
    { method: 'PUT', path: '/network/v2.0/subnets/:id', handler: (ctx) => updateSubnet(cx, ctx) },
    {
      method: 'DELETE',
      path: '/network/v2.0/subnets/:id',
      async handler(ctx) {
        const { subnet, network } = await findVisibleSubnet(cx, ctx, ctx.params['id']!);
        ctx.authorize(
          'delete_subnet',
          targetOf(renderSubnet(subnet, []), { 'network:tenant_id': network.project_id }),
        );
        checkRevision(ctx, subnet.revision_number);
        await writeRetrying(cx, async (trx, record) => {
          const cur = await trx
            .selectFrom('network_subnets')
            .selectAll()
            .where('id', '=', subnet.id)
            .executeTakeFirst();
          if (!cur) throw subnetNotFound(subnet.id);
          await removeSubnet(cx, trx, record, cur);
        });
        return { status: 204 };
      },
    },
  ];
}

export const subnetTaggable: TaggableResource = {
  collection: 'subnets',
  async find(cx, ctx, id) {
    try {
      const { subnet } = await findVisibleSubnet(cx, ctx, id);
      return { projectId: subnet.project_id };
    } catch {
      return undefined;
    }
  },
  notFound: subnetNotFound,
  table: 'network_subnets',
};

/** Network delete: refuses (NetworkInUse) while non-DHCP ports exist, else removes DHCP ports and subnets. */
export async function cascadeNetworkDelete(
  cx: NetworkContext,
  trx: NetworkTrx,
  network: { id: string; project_id: string },
  record: (c: Change) => void,
): Promise<void> {
  for (const h of hooks.networkDeleteChecks) await h(cx, trx, network);
  const ports = await trx
    .selectFrom('network_ports')
    .select(['id', 'device_owner'])
    .where('network_id', '=', network.id)
    .execute();
  if (ports.some((p) => !AUTO_DELETE_PORT_OWNERS.includes(p.device_owner)))
    throw conflict(
      'NetworkInUse',
      `Unable to complete operation on network ${network.id}. There are one or more ports still in use on the network.`,
    );
  for (const p of ports) await deletePort(cx, trx, p.id, record);
  const subnets = await trx
    .selectFrom('network_subnets')
    .selectAll()
    .where('network_id', '=', network.id)
    .execute();
  for (const s of subnets) await removeSubnet(cx, trx, record, s, { syncDhcp: false });
  for (const h of hooks.networkDeleted) await h(cx, trx, network);
}
