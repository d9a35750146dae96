// /v2.0/network-ip-availabilities[/<network_id>]: per network and subnet, how many addresses exist (allocation
// pools, or the whole CIDR without pools) and how many are allocated (admin only, as Neutron's plugin).
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext } from '../context.ts';
import { parseCidr, parseIp } from '../domain/cidr.ts';
import { allows } from '../domain/rbac-rules.ts';
import { notFound, resourceNotFound } from '../errors.ts';
import { json } from './common.ts';
import { type ListQuery, listBody, parseListQuery } from './listing.ts';
import { type ResourceSpec, showBody, toInt } from './resource.ts';

const shown = { post: false, put: false } as const;

export const ipAvailabilitySpec: ResourceSpec = {
  member: 'network_ip_availability',
  collection: 'network_ip_availabilities',
  attrs: {
    network_id: shown,
    network_name: shown,
    tenant_id: shown,
    project_id: shown,
    total_ips: { post: false, put: false, filter: false, sort: false },
    used_ips: { post: false, put: false, filter: false },
    subnet_ip_availability: { post: false, put: false, filter: false, sort: false },
    /** Internal: the listing pages by it; never shown. */
    id: { post: false, put: false, visible: false },
  },
};

/** The ip_version filter applies to subnets (a network without such subnets drops out). */
const LIST_OPTIONS = { custom: { ip_version: () => true } };

/** Addresses in a subnet's pools, or in its whole CIDR when it has none (Neutron's total_ips). */
function totalIps(cidr: string, pools: { start: string; end: string }[]): bigint {
  let total = 0n;
  for (const p of pools) {
    const a = parseIp(p.start);
    const b = parseIp(p.end);
    if (a && b && b.value >= a.value) total += b.value - a.value + 1n;
  }
  if (pools.length > 0) return total;
  const c = parseCidr(cidr);
  return c ? 1n << BigInt((c.net.version === 4 ? 32 : 128) - c.net.prefixlen) : 0n;
}

/** Serialises a body whose counts may exceed 2^53 (IPv6 subnets) exactly, as Python's integers print. */
function exactJson(body: unknown): string {
  return JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? `\u0000big:${v.toString()}` : v)).replace(
    /"\\u0000big:(\d+)"/g,
    '$1',
  );
}

async function availabilities(
  cx: NetworkContext,
  networkIds: string[] | undefined,
  ipVersions: number[] | undefined,
): Promise<Record<string, unknown>[]> {
  let nq = cx.db.selectFrom('network_networks').select(['id', 'name', 'project_id']).orderBy('id');
  if (networkIds) nq = nq.where('id', 'in', networkIds.length > 0 ? networkIds : ['']);
  const networks = await nq.execute();
  if (networks.length === 0) return [];
  const ids = networks.map((n) => n.id);
  let sq = cx.db
    .selectFrom('network_subnets')
    .select(['id', 'name', 'network_id', 'cidr', 'ip_version', 'allocation_pools'])
    .where('network_id', 'in', ids)
    .orderBy('created_at')
    .orderBy('id');
  if (ipVersions) sq = sq.where('ip_version', 'in', ipVersions.length > 0 ? ipVersions : [0]);
  const subnets = await sq.execute();
  const used = new Map<string, number>();
  if (subnets.length > 0) {
    const counts = await cx.db
      .selectFrom('network_ip_allocations')
      .select(['subnet_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('network_id', 'in', ids)
      .groupBy('subnet_id')
      .execute();
    for (const c of counts) used.set(c.subnet_id, Number(c.n));
  }
  const bySubnetNetwork = new Map<string, Record<string, unknown>[]>();
  for (const s of subnets) {
    const list = bySubnetNetwork.get(s.network_id) ?? [];
    list.push({
      subnet_id: s.id,
      ip_version: s.ip_version,
      cidr: s.cidr,
      subnet_name: s.name,
      used_ips: used.get(s.id) ?? 0,
      total_ips: totalIps(s.cidr, json<{ start: string; end: string }[]>(s.allocation_pools, [])),
    });
    bySubnetNetwork.set(s.network_id, list);
  }
  const out: Record<string, unknown>[] = [];
  for (const n of networks) {
    const list = bySubnetNetwork.get(n.id) ?? [];
    if (ipVersions && list.length === 0) continue;
    out.push({
      id: n.id,
      network_id: n.id,
      network_name: n.name,
      tenant_id: n.project_id,
      project_id: n.project_id,
      subnet_ip_availability: list,
      used_ips: list.reduce((sum, s) => sum + (s['used_ips'] as number), 0),
      total_ips: list.reduce((sum, s) => sum + (s['total_ips'] as bigint), 0n),
    });
  }
  return out;
}

function ipVersionsOf(q: ListQuery): number[] | undefined {
  const v = q.custom.get('ip_version');
  return v ? v.map((x) => toInt(x)) : undefined;
}

function mayRead(ctx: RouteContext, item: Record<string, unknown>): boolean {
  return allows(ctx, 'get_network_ip_availability', item, 'admin_only');
}

export function ipAvailabilityRoutes(cx: NetworkContext): Route[] {
  const base = '/network/v2.0/network-ip-availabilities';
  return [
    {
      method: 'GET',
      path: base,
      async handler(ctx) {
        ctx.requireAuth();
        const q = parseListQuery(ctx, ipAvailabilitySpec, LIST_OPTIONS);
        const items = (await availabilities(cx, undefined, ipVersionsOf(q))).filter((i) => mayRead(ctx, i));
        const res = listBody(ctx, ipAvailabilitySpec, items, q, LIST_OPTIONS);
        return { status: 200, json: exactJson(res.body) };
      },
    },
    {
      method: 'GET',
      path: `${base}/:id`,
      async handler(ctx) {
        ctx.requireAuth();
        const id = ctx.params['id']!;
        const [item] = await availabilities(cx, [id], undefined);
        if (!item) throw notFound('NetworkNotFound', `Network ${id} could not be found.`);
        if (!mayRead(ctx, item)) throw resourceNotFound();
        return { status: 200, json: exactJson(showBody(ctx, ipAvailabilitySpec, item).body) };
      },
    },
  ];
}
