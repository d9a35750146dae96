// The subnet resource: Neutron's attribute map (with its validators), rendering and who may see a subnet.
import type { RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkDb, NetworkTrx } from '../context.ts';
import { canonicalIp, ipReason, parseCidr, subnetReason } from '../domain/cidr.ts';
import { networkAccess } from '../domain/network-access.ts';
import { notFound } from '../errors.ts';
import type { NetworksTable, SubnetsTable } from '../store/tables-core.ts';
import { bool, callerOf, json } from './common.ts';
import { ConvertError, isUuid, type ResourceSpec, standardAttrs, toBoolean, toInt } from './resource.ts';
import { loadTags } from './standard-attrs.ts';

const repr = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const IPV6_MODES = ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'];

function keysReason(expected: string[], d: unknown): string | undefined {
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return `'${repr(d)}' is not a dictionary`;
  const have = Object.keys(d);
  if (have.length !== expected.length || !expected.every((k) => have.includes(k)))
    return `Expected keys: [${expected.map((k) => `'${k}'`).join(', ')}], Provided keys: [${have.map((k) => `'${k}'`).join(', ')}]`;
  return undefined;
}

export function validatePools(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Invalid data format for IP pool: '${repr(v)}'`;
  for (const p of v) {
    const r = keysReason(['start', 'end'], p);
    if (r) return r;
    for (const k of ['start', 'end']) {
      const bad = ipReason((p as Record<string, unknown>)[k]);
      if (bad) return bad;
    }
  }
  return undefined;
}

function validateNameservers(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Invalid data format for nameserver: '${repr(v)}'`;
  const seen = new Set<string>();
  for (const h of v) {
    const bad = ipReason(h);
    if (bad) return `'${repr(h)}' is not a valid nameserver. ${bad}`;
    if (seen.has(h)) return `Duplicate nameserver '${h}'`;
    seen.add(h);
  }
  return undefined;
}

function validateHostRoutes(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Invalid data format for hostroute: '${repr(v)}'`;
  const seen = new Set<string>();
  for (const r of v) {
    const bad = keysReason(['destination', 'nexthop'], r);
    if (bad) return bad;
    const { destination, nexthop } = r as Record<string, unknown>;
    if (!parseCidr(destination)) return `'${repr(destination)}' is not a valid IP subnet`;
    const nh = ipReason(nexthop);
    if (nh) return nh;
    const key = `${destination}|${nexthop}`;
    if (seen.has(key)) return `Duplicate hostroute '${JSON.stringify(r)}'`;
    seen.add(key);
  }
  return undefined;
}

const validateMode = (v: unknown): string | undefined =>
  v === null || IPV6_MODES.includes(v as string)
    ? undefined
    : `${repr(v)} is not in [${IPV6_MODES.map((m) => `'${m}'`).join(', ')}]`;

const noneToEmpty = (v: unknown) => (v === null ? [] : v);

export const subnetSpec: ResourceSpec = {
  member: 'subnet',
  collection: 'subnets',
  bulk: true,
  attrs: {
    ...standardAttrs(),
    ip_version: {
      post: true,
      put: false,
      convert: toInt,
      validate: (v: number) => (v === 4 || v === 6 ? undefined : `${v} is not in [4, 6]`),
    },
    network_id: { post: true, put: false, validate: isUuid },
    subnetpool_id: {
      post: true,
      put: false,
      default: undefined,
      validate: (v: unknown) => (v === null ? undefined : isUuid(v)),
    },
    prefixlen: { post: true, put: false, default: undefined, convert: toInt, visible: false },
    use_default_subnetpool: { post: true, put: false, default: false, convert: toBoolean, visible: false },
    cidr: {
      post: true,
      put: false,
      default: undefined,
      validate: (v: unknown) => (v === null ? undefined : subnetReason(v)),
    },
    gateway_ip: {
      post: true,
      put: true,
      default: undefined,
      convert: (v: unknown) => (typeof v === 'string' ? canonicalIp(v) : v),
      validate: (v: unknown) => (v === null ? undefined : ipReason(v)),
    },
    allocation_pools: { post: true, put: true, default: undefined, validate: validatePools },
    dns_nameservers: {
      post: true,
      put: true,
      default: undefined,
      convert: noneToEmpty,
      validate: validateNameservers,
    },
    host_routes: {
      post: true,
      put: true,
      default: undefined,
      convert: noneToEmpty,
      validate: validateHostRoutes,
    },
    enable_dhcp: { post: true, put: true, default: true, convert: toBoolean },
    ipv6_ra_mode: {
      post: true,
      put: false,
      default: undefined,
      validate: validateMode,
    },
    ipv6_address_mode: {
      post: true,
      put: false,
      default: undefined,
      validate: validateMode,
    },
    service_types: {
      post: true,
      put: true,
      default: [],
      policy: true,
      convert: (v: unknown) => {
        if (!Array.isArray(v)) throw new ConvertError(`'${repr(v)}' is not a list`);
        return v;
      },
      validate: (v: unknown[]) =>
        v.every((t) => typeof t === 'string' && /^(network|compute):/.test(t) && t.length <= 255)
          ? undefined
          : `Invalid service type ${repr(v.find((t) => typeof t !== 'string' || !/^(network|compute):/.test(t)))}`,
    },
    segment_id: {
      post: true,
      put: true,
      default: null,
      policy: true,
      validate: (v: unknown) => (v === null ? undefined : isUuid(v)),
    },
  },
};

export function renderSubnet(s: SubnetsTable, tags: string[]): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    tenant_id: s.project_id,
    project_id: s.project_id,
    network_id: s.network_id,
    ip_version: s.ip_version,
    subnetpool_id: s.subnetpool_id,
    enable_dhcp: bool(s.enable_dhcp),
    ipv6_ra_mode: s.ipv6_ra_mode,
    ipv6_address_mode: s.ipv6_address_mode,
    gateway_ip: s.gateway_ip,
    cidr: s.cidr,
    allocation_pools: json(s.allocation_pools, []),
    host_routes: json(s.host_routes, []),
    dns_nameservers: json(s.dns_nameservers, []),
    description: s.description,
    service_types: json(s.service_types, []),
    segment_id: null,
    tags,
    created_at: s.created_at,
    updated_at: s.updated_at,
    revision_number: s.revision_number,
  };
}

export async function renderSubnets(
  db: NetworkDb | NetworkTrx,
  rows: SubnetsTable[],
): Promise<Record<string, unknown>[]> {
  const tags = await loadTags(
    db,
    'subnets',
    rows.map((r) => r.id),
  );
  return rows.map((r) => renderSubnet(r, tags.get(r.id) ?? []));
}

export function subnetNotFound(id: string): Error {
  return notFound('SubnetNotFound', `Subnet ${id} could not be found.`);
}

/** Which subnets the caller sees: its own, those on networks it owns, and those on networks shared with it. */
export async function subnetVisibility(
  cx: NetworkContext,
  ctx: RouteContext,
): Promise<(s: SubnetsTable, n: NetworksTable | undefined) => boolean> {
  const caller = callerOf(ctx);
  const access = await networkAccess(cx, caller);
  return (s, n) =>
    caller.isAdmin ||
    s.project_id === caller.projectId ||
    (n !== undefined && (n.project_id === caller.projectId || access.sharedWithCaller(n)));
}

export async function findVisibleSubnet(
  cx: NetworkContext,
  ctx: RouteContext,
  id: string,
): Promise<{ subnet: SubnetsTable; network: NetworksTable }> {
  const subnet = await cx.db
    .selectFrom('network_subnets')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!subnet) throw subnetNotFound(id);
  const network = await cx.db
    .selectFrom('network_networks')
    .selectAll()
    .where('id', '=', subnet.network_id)
    .executeTakeFirst();
  if (!network || !(await subnetVisibility(cx, ctx))(subnet, network)) throw subnetNotFound(id);
  return { subnet, network };
}

/** Subnet ids per network (the networks' `subnets` attribute). */
export async function subnetIdsOf(cx: NetworkContext, networkIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (networkIds.length === 0) return out;
  let q = cx.db.selectFrom('network_subnets').select(['id', 'network_id']);
  if (networkIds.length <= 500) q = q.where('network_id', 'in', networkIds);
  for (const r of await q.orderBy('created_at').orderBy('id').execute()) {
    const list = out.get(r.network_id) ?? [];
    list.push(r.id);
    out.set(r.network_id, list);
  }
  return out;
}
