// Subnet allocation from subnet pools: prefix sets as ranges, compaction, the best-fitting free prefix.

import { ApiError } from '../../../platform/errors.ts';
import type { NetworkTrx } from '../context.ts';
import { bits, formatCidr, type IpRange, type IpVersion, lastOf, type Net, parseCidr } from './cidr.ts';

export const netRange = (n: Net): IpRange => ({ first: n.network, last: lastOf(n) });

/** Sorted, merged ranges. */
export function mergeRanges(ranges: IpRange[]): IpRange[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: IpRange[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev && r.first <= prev.last + 1n) {
      if (r.last > prev.last) prev.last = r.last;
    } else out.push({ ...r });
  }
  return out;
}

/** The fewest CIDRs covering a range exactly. */
export function rangeToNets(r: IpRange, version: IpVersion): Net[] {
  const total = bits(version);
  const out: Net[] = [];
  let cur = r.first;
  while (cur <= r.last) {
    let size = 0;
    while (size < total) {
      const next = size + 1;
      const block = 1n << BigInt(next);
      if (cur % block !== 0n || cur + block - 1n > r.last) break;
      size = next;
    }
    out.push({ version, network: cur, prefixlen: total - size });
    cur += 1n << BigInt(size);
  }
  return out;
}

/** Neutron's prefix list compaction (IPSet.compact → CIDRs). */
export function compactPrefixes(prefixes: Net[]): Net[] {
  if (prefixes.length === 0) return [];
  const v = prefixes[0]!.version;
  return mergeRanges(prefixes.map(netRange)).flatMap((r) => rangeToNets(r, v));
}

export function subtract(ranges: IpRange[], cut: IpRange[]): IpRange[] {
  let cur = mergeRanges(ranges);
  for (const c of cut) {
    const next: IpRange[] = [];
    for (const r of cur) {
      if (c.last < r.first || c.first > r.last) next.push(r);
      else {
        if (r.first < c.first) next.push({ first: r.first, last: c.first - 1n });
        if (c.last < r.last) next.push({ first: c.last + 1n, last: r.last });
      }
    }
    cur = next;
  }
  return cur;
}

export interface PoolView {
  id: string;
  ip_version: number;
  prefixes: string;
  default_quota: number | null;
  project_id: string;
}

/** The pool's free prefixes, most specific first (Neutron's best fit order). */
async function availableNets(trx: NetworkTrx, pool: PoolView): Promise<Net[]> {
  const version = pool.ip_version as IpVersion;
  const prefixes = (JSON.parse(pool.prefixes) as string[]).map((p) => parseCidr(p)!.net);
  const used = (
    await trx.selectFrom('network_subnets').select('cidr').where('subnetpool_id', '=', pool.id).execute()
  ).map((r) => netRange(parseCidr(r.cidr)!.net));
  const free = subtract(prefixes.map(netRange), used).flatMap((r) => rangeToNets(r, version));
  return free.sort((a, b) => b.prefixlen - a.prefixlen || (a.network < b.network ? -1 : 1));
}

function allocationError(reason: string): ApiError {
  return new ApiError(500, 'SubnetAllocationError', `Failed to allocate subnet: ${reason}.`);
}

/** Per-project quota of a pool in address units (default_quota), as Neutron's subnet allocator. */
async function checkPoolQuota(trx: NetworkTrx, pool: PoolView, projectId: string, prefixlen: number) {
  if (!pool.default_quota) return;
  const unit = pool.ip_version === 4 ? 32 : 64;
  const rows = await trx
    .selectFrom('network_subnets')
    .select('cidr')
    .where('subnetpool_id', '=', pool.id)
    .where('project_id', '=', projectId)
    .execute();
  const units = (len: number) => 2 ** (unit - len);
  const used = rows.reduce((acc, r) => acc + units(parseCidr(r.cidr)!.net.prefixlen), 0);
  if (used + units(prefixlen) > pool.default_quota)
    throw new ApiError(409, 'SubnetPoolQuotaExceeded', 'Per-tenant subnet pool prefix quota exceeded.');
}

/** The next free prefix of `prefixlen` in the pool. */
export async function allocateAnyPrefix(
  trx: NetworkTrx,
  pool: PoolView,
  projectId: string,
  prefixlen: number,
): Promise<Net> {
  await checkPoolQuota(trx, pool, projectId, prefixlen);
  for (const n of await availableNets(trx, pool)) {
    if (prefixlen >= n.prefixlen) return { version: n.version, network: n.network, prefixlen };
  }
  throw allocationError(`Insufficient prefix space to allocate subnet size /${prefixlen}`);
}

/** Checks a specific CIDR lies inside one free prefix of the pool. */
export async function allocateSpecificPrefix(
  trx: NetworkTrx,
  pool: PoolView,
  projectId: string,
  net: Net,
): Promise<Net> {
  await checkPoolQuota(trx, pool, projectId, net.prefixlen);
  const fits = (await availableNets(trx, pool)).some(
    (a) => a.prefixlen <= net.prefixlen && net.network >= a.network && lastOf(net) <= lastOf(a),
  );
  if (!fits) throw allocationError('Cannot allocate requested subnet from the available set of prefixes');
  return net;
}

export const netsToStrings = (nets: Net[]): string[] => nets.map(formatCidr);
