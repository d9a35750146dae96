// /v2.0/networks: create (tenant VXLAN or admin provider segments), list, show, update, delete.

import { isUniqueViolation } from '../../../platform/db/errors.ts';
import type { Change } from '../../../platform/db/writer.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { type NetworkAccess, networkAccess } from '../domain/network-access.ts';
import { enforceQuota } from '../domain/quota-check.ts';
import { networkCreatedSharing, networkSharingUpdate } from '../domain/rbac-policies.ts';
import {
  allocateVni,
  checkFlatFree,
  checkMtu,
  maxMtu,
  providerSegment,
  type Segment,
} from '../domain/segments.ts';
import { notFound } from '../errors.ts';
import { compiled } from '../store/compiled.ts';
import type { NetworksTable } from '../store/tables-core.ts';
import { bool, callerOf, json, targetOf } from './common.ts';
import { listBody, parseListQuery } from './listing.ts';
import {
  enforceAttrPolicies,
  maxLen,
  parseCreate,
  parseUpdate,
  type ResourceSpec,
  showBody,
  standardAttrs,
  toBoolean,
  toInt,
  view,
} from './resource.ts';
import { checkRevision, dropTags, loadTags } from './standard-attrs.ts';
import type { TaggableResource } from './tags.ts';

export const networkSpec: ResourceSpec = {
  member: 'network',
  collection: 'networks',
  bulk: true,
  attrs: {
    ...standardAttrs(),
    admin_state_up: { post: true, put: true, default: true, convert: toBoolean },
    status: { post: false, put: false },
    subnets: { post: false, put: false },
    shared: { post: true, put: true, default: false, convert: toBoolean, policy: true },
    'router:external': { post: true, put: true, default: false, convert: toBoolean, policy: true },
    mtu: {
      post: true,
      put: true,
      default: 0,
      convert: toInt,
      validate: (v: number) =>
        v < 68 && v !== 0 ? `'${v}' is too small - must be at least '68'` : undefined,
    },
    port_security_enabled: { post: true, put: true, default: true, convert: toBoolean },
    'provider:network_type': { post: true, put: true, default: undefined, policy: true },
    'provider:physical_network': { post: true, put: true, default: undefined, policy: true },
    'provider:segmentation_id': { post: true, put: true, default: undefined, policy: true },
    availability_zone_hints: {
      post: true,
      put: false,
      default: [],
      validate: (v: unknown) =>
        Array.isArray(v) && v.every((z) => typeof z === 'string')
          ? undefined
          : `'${String(v)}' is not a list`,
    },
    availability_zones: { post: false, put: false },
    ipv4_address_scope: { post: false, put: false },
    ipv6_address_scope: { post: false, put: false },
    l2_adjacency: { post: false, put: false },
    is_default: { post: true, put: true, default: false, convert: toBoolean, policy: true },
    dns_domain: { post: true, put: true, default: '', validate: maxLen(255) },
  },
};

/** Subnet ids per network, filled by the subnet area (registered to avoid a cycle). */
let subnetIds: (cx: NetworkContext, networkIds: string[]) => Promise<Map<string, string[]>> = async () =>
  new Map();
export function setSubnetIdsSource(fn: typeof subnetIds): void {
  subnetIds = fn;
}

/** What must happen (or be refused) before a network's row goes: subnets and ports go with it, or 409. */
let beforeDelete: (
  cx: NetworkContext,
  trx: NetworkTrx,
  network: NetworksTable,
  record: (c: Change) => void,
) => Promise<void> = async () => {};
export function setNetworkDeleteHook(fn: typeof beforeDelete): void {
  beforeDelete = fn;
}

export function renderNetwork(n: NetworksTable, subnets: string[], tags: string[]): Record<string, unknown> {
  return {
    id: n.id,
    name: n.name,
    tenant_id: n.project_id,
    project_id: n.project_id,
    admin_state_up: bool(n.admin_state_up),
    mtu: n.mtu,
    status: n.status,
    subnets,
    shared: bool(n.shared),
    availability_zone_hints: json<string[]>(n.availability_zone_hints, []),
    availability_zones: ['nova'],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    'router:external': bool(n.router_external),
    description: n.description,
    port_security_enabled: bool(n.port_security_enabled),
    is_default: bool(n.is_default),
    l2_adjacency: true,
    dns_domain: n.dns_domain,
    'provider:network_type': n.network_type,
    'provider:physical_network': n.physical_network === '' ? null : n.physical_network,
    'provider:segmentation_id': n.segmentation_id,
    tags,
    created_at: n.created_at,
    updated_at: n.updated_at,
    revision_number: n.revision_number,
  };
}

/** Wire dicts of networks; with the caller's access, `shared` says whether it is shared with the caller (RBAC). */
export async function renderNetworks(
  cx: NetworkContext,
  rows: NetworksTable[],
  access?: NetworkAccess,
): Promise<Record<string, unknown>[]> {
  const ids = rows.map((r) => r.id);
  const [subnets, tags] = await Promise.all([subnetIds(cx, ids), loadTags(cx.db, 'networks', ids)]);
  return rows.map((r) => {
    const n = renderNetwork(r, subnets.get(r.id) ?? [], tags.get(r.id) ?? []);
    if (access) n['shared'] = access.sharedWithCaller(r);
    return n;
  });
}

export function networkNotFound(id: string): Error {
  return notFound('NetworkNotFound', `Network ${id} could not be found.`);
}

/** A network the caller may see, or NetworkNotFound. */
const networkById = compiled(1, (db, id: string) =>
  db.selectFrom('network_networks').selectAll().where('id', '=', id),
);

export async function findVisibleNetwork(
  cx: NetworkContext,
  ctx: RouteContext,
  id: string,
): Promise<NetworksTable> {
  const [row] = await networkById(cx.db, id);
  if (!row) throw networkNotFound(id);
  const access = await networkAccess(cx, callerOf(ctx));
  if (!access.visible(row)) throw networkNotFound(id);
  return row;
}

async function chooseSegment(
  cx: NetworkContext,
  trx: NetworkTrx,
  v: Record<string, unknown>,
): Promise<Segment> {
  const given =
    v['provider:network_type'] !== undefined ||
    v['provider:physical_network'] !== undefined ||
    v['provider:segmentation_id'] !== undefined;
  if (!given) {
    const type = cx.config.tenant_network_type === 'local' ? 'local' : 'vxlan';
    return type === 'vxlan'
      ? { networkType: 'vxlan', physicalNetwork: '', segmentationId: await allocateVni(cx, trx) }
      : { networkType: 'local', physicalNetwork: '', segmentationId: null };
  }
  const seg = providerSegment(
    cx,
    v['provider:network_type'],
    v['provider:physical_network'],
    v['provider:segmentation_id'],
  );
  if (seg.networkType === 'flat') await checkFlatFree(trx, seg.physicalNetwork);
  if (seg.networkType === 'vxlan' && seg.segmentationId === null)
    seg.segmentationId = await allocateVni(cx, trx);
  return seg;
}

async function createNetworks(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const { items, bulk } = parseCreate(networkSpec, caller, ctx.body);
  for (const item of items) {
    ctx.authorize('create_network', targetOf(item.values));
    enforceAttrPolicies(ctx, networkSpec, 'create', item, targetOf(item.values));
  }
  const rows: NetworksTable[] = [];
  for (let attempt = 0; ; attempt++) {
    try {
      rows.length = 0;
      await cx.write(async (trx, record) => {
        for (const { values: v } of items) {
          await enforceQuota(cx, trx, v['project_id'], 'network');
          const seg = await chooseSegment(cx, trx, v);
          const mtu = v['mtu'] === 0 ? maxMtu(cx, seg.networkType) : (v['mtu'] as number);
          checkMtu(cx, seg.networkType, mtu);
          const now = cx.nowIso();
          const row: NetworksTable = {
            id: cx.ids.uuid(),
            project_id: v['project_id'],
            name: v['name'],
            description: v['description'],
            created_at: now,
            updated_at: now,
            revision_number: 1,
            admin_state_up: v['admin_state_up'] ? 1 : 0,
            status: 'ACTIVE',
            shared: v['shared'] ? 1 : 0,
            router_external: v['router:external'] ? 1 : 0,
            mtu,
            port_security_enabled: v['port_security_enabled'] ? 1 : 0,
            network_type: seg.networkType,
            physical_network: seg.physicalNetwork,
            segmentation_id: seg.segmentationId,
            availability_zone_hints: JSON.stringify(v['availability_zone_hints']),
            dns_domain: v['dns_domain'],
            is_default: v['is_default'] ? 1 : 0,
          };
          await trx.insertInto('network_networks').values(row).execute();
          await networkCreatedSharing(cx, trx, row);
          rows.push(row);
          record({ kind: 'network', id: row.id, action: 'create', projectId: row.project_id });
        }
      });
      break;
    } catch (e) {
      // Two creates picked the same free VNI: the loser retries with the next one.
      if (isUniqueViolation(e) && attempt < 5) continue;
      if (isUniqueViolation(e))
        throw notFound('SegmentationIdInUse', 'Unable to create the network. The segmentation id is in use.');
      throw e;
    }
  }
  const views = (await renderNetworks(cx, rows)).map((n) => view(ctx, networkSpec, n));
  return bulk ? { status: 201, body: { networks: views } } : { status: 201, body: { network: views[0] } };
}

export function networkRoutes(cx: NetworkContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/network/v2.0/networks',
      handler: (ctx) => createNetworks(cx, ctx),
    },
    {
      method: 'GET',
      path: '/network/v2.0/networks',
      async handler(ctx) {
        const q = parseListQuery(ctx, networkSpec);
        const access = await networkAccess(cx, callerOf(ctx));
        const rows = (
          await cx.db.selectFrom('network_networks').selectAll().orderBy('created_at').orderBy('id').execute()
        ).filter((r) => access.visible(r));
        return listBody(ctx, networkSpec, await renderNetworks(cx, rows, access), q);
      },
    },
    {
      method: 'GET',
      path: '/network/v2.0/networks/:id',
      async handler(ctx) {
        const row = await findVisibleNetwork(cx, ctx, ctx.params['id']!);
        const access = await networkAccess(cx, callerOf(ctx));
        return showBody(ctx, networkSpec, (await renderNetworks(cx, [row], access))[0]!);
      },
    },
    {
      method: 'PUT',
      path: '/network/v2.0/networks/:id',
      async handler(ctx) {
        const caller = callerOf(ctx);
        const item = parseUpdate(networkSpec, caller, ctx.body);
        const before = await findVisibleNetwork(cx, ctx, ctx.params['id']!);
        const target = targetOf({ ...renderNetwork(before, [], []), ...item.values });
        ctx.authorize('update_network', target);
        enforceAttrPolicies(ctx, networkSpec, 'update', item, target);
        checkRevision(ctx, before.revision_number);
        const v = item.values;
        const row = await cx.write(async (trx, record) => {
          const cur = await trx
            .selectFrom('network_networks')
            .selectAll()
            .where('id', '=', before.id)
            .executeTakeFirst();
          if (!cur) throw networkNotFound(before.id);
          if (v['shared'] !== undefined || v['router:external'] !== undefined)
            await networkSharingUpdate(cx, trx, cur, { shared: v['shared'], external: v['router:external'] });
          const set: Partial<NetworksTable> = {};
          if (v['name'] !== undefined) set.name = v['name'];
          if (v['description'] !== undefined) set.description = v['description'];
          if (v['admin_state_up'] !== undefined) set.admin_state_up = v['admin_state_up'] ? 1 : 0;
          if (v['shared'] !== undefined) set.shared = v['shared'] ? 1 : 0;
          if (v['router:external'] !== undefined) set.router_external = v['router:external'] ? 1 : 0;
          if (v['port_security_enabled'] !== undefined)
            set.port_security_enabled = v['port_security_enabled'] ? 1 : 0;
          if (v['is_default'] !== undefined) set.is_default = v['is_default'] ? 1 : 0;
          if (v['dns_domain'] !== undefined) set.dns_domain = v['dns_domain'];
          if (v['mtu'] !== undefined) {
            const mtu = v['mtu'] === 0 ? maxMtu(cx, cur.network_type as Segment['networkType']) : v['mtu'];
            checkMtu(cx, cur.network_type as Segment['networkType'], mtu);
            set.mtu = mtu;
          }
          const next = { ...cur, ...set, updated_at: cx.nowIso(), revision_number: cur.revision_number + 1 };
          await trx
            .updateTable('network_networks')
            .set({ ...set, updated_at: next.updated_at, revision_number: next.revision_number })
            .where('id', '=', cur.id)
            .execute();
          record({ kind: 'network', id: cur.id, action: 'update', projectId: cur.project_id });
          return next;
        });
        return { body: { network: view(ctx, networkSpec, (await renderNetworks(cx, [row]))[0]!) } };
      },
    },
    {
      method: 'DELETE',
      path: '/network/v2.0/networks/:id',
      async handler(ctx) {
        const row = await findVisibleNetwork(cx, ctx, ctx.params['id']!);
        ctx.authorize('delete_network', targetOf(renderNetwork(row, [], [])));
        checkRevision(ctx, row.revision_number);
        await cx.write(async (trx, record) => {
          await beforeDelete(cx, trx, row, record);
          await trx.deleteFrom('network_networks').where('id', '=', row.id).execute();
          await dropTags(trx, 'networks', row.id);
          record({ kind: 'network', id: row.id, action: 'delete', projectId: row.project_id });
        });
        return { status: 204 };
      },
    },
  ];
}

export const networkTaggable: TaggableResource = {
  collection: 'networks',
  async find(cx, ctx, id) {
    try {
      const n = await findVisibleNetwork(cx, ctx, id);
      return { projectId: n.project_id };
    } catch {
      return undefined;
    }
  },
  notFound: networkNotFound,
  table: 'network_networks',
};
