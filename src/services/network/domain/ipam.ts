// IP address management: which subnets a port's addresses come from, the lowest free address of the pools (probed
// from the subnet's low-water mark, domain/ipam-marks.ts), requested addresses, EUI-64 SLAAC addresses; rows in
// network_ip_allocations whose primary key (network_id, ip_address) makes handing one address out twice impossible
// (a losing racer retries).
import { ApiError } from '../../../platform/errors.ts';
import type { NetworkDb, NetworkTrx } from '../context.ts';
import { conflict, invalidInput, notFound } from '../errors.ts';
import { compiled, compiledInsert } from '../store/compiled.ts';
import { contains, eui64, formatIp, type Ip, parseIp } from './cidr.ts';
import { advanceMark, readMark } from './ipam-marks.ts';
import {
  candidateSubnets,
  isAutoAddress,
  ROUTER_INTERFACE_OWNERS,
  ROUTER_PORT_OWNERS,
  type SubnetInfo,
} from './subnet-rows.ts';

export interface FixedIpRequest {
  subnetId?: string;
  ipAddress?: string;
}

export interface Allocation {
  subnetId: string;
  ipAddress: string;
}

export type Plan =
  | { kind: 'specific'; subnet: SubnetInfo; ip: Ip }
  | { kind: 'any'; subnets: SubnetInfo[] }
  | { kind: 'eui64'; subnet: SubnetInfo };

const ROUTER_SNAT_OWNERS = [...ROUTER_INTERFACE_OWNERS, 'network:router_centralized_snat'];

export function ipGenerationFailure(networkId: string): ApiError {
  return conflict('IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`);
}

export function ipAlreadyAllocated(ip: string, subnetId: string): ApiError {
  return conflict('IpAddressAlreadyAllocated', `IP address ${ip} already allocated in subnet ${subnetId}`);
}

/** ipam utils' check_subnet_ip: inside the subnet, not its network (nor v4 broadcast) address. */
export function validIpForSubnet(s: SubnetInfo, ip: Ip, owner: string): boolean {
  if (!contains(s.net, ip)) return false;
  if (s.net.version === 6)
    return ROUTER_PORT_OWNERS.includes(owner) || owner === '' || ip.value !== s.net.network;
  const last = s.net.network | ((1n << BigInt(32 - s.net.prefixlen)) - 1n);
  return ip.value !== s.net.network && ip.value !== last;
}

/** One requested fixed IP resolved to its subnet (Neutron's _get_subnet_for_fixed_ip), or the 400/404. */
async function subnetFor(
  trx: NetworkTrx,
  networkId: string,
  subnets: SubnetInfo[],
  f: FixedIpRequest,
  owner: string,
): Promise<{ subnet: SubnetInfo; ip?: Ip }> {
  if (subnets.length === 0) throw invalidInput('IP allocation requires subnets for network');
  const ip = f.ipAddress !== undefined ? parseIp(f.ipAddress) : undefined;
  if (f.subnetId !== undefined) {
    const subnet = subnets.find((s) => s.row.id === f.subnetId);
    if (!subnet) {
      const exists = await trx
        .selectFrom('network_subnets')
        .select('id')
        .where('id', '=', f.subnetId)
        .executeTakeFirst();
      if (!exists) throw notFound('SubnetNotFound', `Subnet ${f.subnetId} could not be found.`);
      throw invalidInput(
        `Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${f.subnetId}`,
      );
    }
    if (f.ipAddress !== undefined && (!ip || !validIpForSubnet(subnet, ip, owner)))
      throw new ApiError(
        400,
        'InvalidIpForSubnet',
        `IP address ${f.ipAddress} is not a valid IP for the specified subnet.`,
      );
    return ip ? { subnet, ip } : { subnet };
  }
  if (f.ipAddress === undefined) throw invalidInput('IP allocation requires subnet_id or ip_address');
  const subnet = ip ? subnets.find((s) => validIpForSubnet(s, ip, owner)) : undefined;
  if (!subnet || !ip)
    throw new ApiError(
      400,
      'InvalidIpForNetwork',
      `IP address ${f.ipAddress} is not a valid IP for any of the subnets on the specified network.`,
    );
  return { subnet, ip };
}

/**
 * What a new port's addresses will be: the requested ones (specific addresses first), or one address of the
 * IPv4 subnets and one of the stateful IPv6 subnets; plus an EUI-64 address on every SLAAC/DHCPv6-stateless
 * subnet (not for router interfaces).
 */
export async function planAddresses(
  trx: NetworkTrx,
  networkId: string,
  all: SubnetInfo[],
  owner: string,
  requested: FixedIpRequest[] | undefined,
): Promise<Plan[]> {
  const subnets = candidateSubnets(all, owner);
  const plans: Plan[] = [];
  const routerSnat = ROUTER_SNAT_OWNERS.includes(owner);
  if (requested !== undefined) {
    for (const f of requested) {
      const { subnet, ip } = await subnetFor(trx, networkId, all, f, owner);
      const auto = isAutoAddress(subnet.row);
      if (ip) {
        if (auto && !ROUTER_INTERFACE_OWNERS.includes(owner))
          throw new ApiError(
            400,
            'AllocationOnAutoAddressSubnet',
            `IPv6 address ${f.ipAddress} cannot be directly assigned to a port on subnet ${subnet.row.id} as the subnet is configured for automatic addresses`,
          );
        plans.push({ kind: 'specific', subnet, ip });
      } else if (routerSnat || !auto) plans.push({ kind: 'any', subnets: [subnet] });
    }
  } else {
    const v4 = subnets.filter((s) => s.row.ip_version === 4);
    const v6 = subnets.filter((s) => s.row.ip_version === 6 && !isAutoAddress(s.row));
    if (v4.length > 0) plans.push({ kind: 'any', subnets: v4 });
    if (v6.length > 0) plans.push({ kind: 'any', subnets: v6 });
  }
  if (!routerSnat) {
    const covered = new Set(plans.flatMap((p) => (p.kind === 'specific' ? [p.subnet.row.id] : [])));
    for (const s of subnets)
      if (isAutoAddress(s.row) && !covered.has(s.row.id)) plans.push({ kind: 'eui64', subnet: s });
  }
  return plans.sort((a, b) => Number(a.kind !== 'specific') - Number(b.kind !== 'specific'));
}

const insertAllocation = compiledInsert('network_ip_allocations');

/** The allocation lookup for `n` addresses at once, compiled once per n (the probe batches: 8, 64, 512, 4096). */
const takenStatements = new Map<
  number,
  (trx: NetworkTrx, ...args: string[]) => Promise<{ ip_address: string }[]>
>();
function takenStatement(n: number) {
  let st = takenStatements.get(n);
  if (!st) {
    st = compiled(n + 1, (db, networkId: string, ...texts: string[]) =>
      db
        .selectFrom('network_ip_allocations')
        .select('ip_address')
        .where('network_id', '=', networkId)
        .where('ip_address', 'in', texts),
    );
    takenStatements.set(n, st);
  }
  return st;
}

/** Which of these addresses the network has allocated already (one indexed lookup per address). */
async function takenAmong(trx: NetworkTrx, networkId: string, texts: string[]): Promise<Set<string>> {
  if (texts.length === 0) return new Set();
  // Padded with its last address to the next batch size, so a short last batch reuses a compiled statement.
  let size = 8;
  while (size < texts.length) size *= 8;
  const padded = texts.concat(Array<string>(size - texts.length).fill(texts.at(-1)!));
  const rows = await takenStatement(size)(trx, networkId, ...padded);
  return new Set(rows.map((r) => r.ip_address));
}

/** Pools in ascending, non-overlapping order: pool order is address order, so a low-water mark applies. */
function ascending(s: SubnetInfo): boolean {
  for (let i = 1; i < s.pools.length; i++) if (s.pools[i]!.first <= s.pools[i - 1]!.last) return false;
  return true;
}

/** The subnet's pool addresses in pool order, from `from` on (undefined: all). */
function* poolAddresses(s: SubnetInfo, from: bigint | undefined): Generator<bigint> {
  for (const r of s.pools)
    for (let v = from !== undefined && from > r.first ? from : r.first; v <= r.last; v++) yield v;
}

/**
 * The first `want` free addresses of a subnet's pools in pool order, from `from` on: candidates are checked against
 * the allocations in growing batches (a mark usually points at a free address, so one small batch answers).
 */
async function freeAddresses(
  trx: NetworkTrx,
  networkId: string,
  s: SubnetInfo,
  from: bigint | undefined,
  local: Set<string>,
  want: number,
): Promise<{ value: bigint; text: string }[]> {
  const out: { value: bigint; text: string }[] = [];
  const addresses = poolAddresses(s, from);
  for (let batch = 8; out.length < want; batch = Math.min(batch * 8, 4096)) {
    const candidates: { value: bigint; text: string }[] = [];
    for (let next = addresses.next(); !next.done; next = addresses.next()) {
      const text = formatIp({ version: s.net.version, value: next.value });
      if (!local.has(text)) candidates.push({ value: next.value, text });
      if (candidates.length >= batch) break;
    }
    if (candidates.length === 0) break;
    const taken = await takenAmong(
      trx,
      networkId,
      candidates.map((c) => c.text),
    );
    for (const c of candidates) if (!taken.has(c.text) && out.length < want) out.push(c);
  }
  return out;
}

/** A mark is moved once it lags this many addresses behind (the first probe batch still reaches past it). */
const MARK_LAG = 4n;

/**
 * One address of the first subnet with a free one (the lowest, or on a retry one of the first few), moving that
 * subnet's mark up to what is now known allocated once it lags behind. `moved`: subnets whose mark this allocation
 * moved already (their marks read with the subnets are stale).
 */
async function allocateAny(
  trx: NetworkTrx,
  networkId: string,
  subnets: SubnetInfo[],
  local: Set<string>,
  spread: number,
  moved: Set<string>,
): Promise<Allocation | undefined> {
  for (const s of subnets) {
    const marked = ascending(s);
    const mark = !marked
      ? undefined
      : s.mark && !moved.has(s.row.id)
        ? s.mark
        : await readMark(trx, s.row.id);
    let free = await freeAddresses(trx, networkId, s, mark?.next, local, spread);
    // Nothing above the mark: look from the start before calling the pools exhausted.
    if (free.length === 0 && mark?.next !== undefined)
      free = await freeAddresses(trx, networkId, s, undefined, local, spread);
    if (free.length === 0) continue;
    const chosen = free[Math.floor(Math.random() * free.length)]!;
    if (mark) {
      const next = chosen === free[0] ? chosen.value + 1n : free[0]!.value;
      const base = mark.next ?? s.pools[0]!.first;
      if (next < base || next - base >= MARK_LAG) {
        await advanceMark(trx, s.row.id, mark, next);
        moved.add(s.row.id);
      }
    }
    return { subnetId: s.row.id, ipAddress: chosen.text };
  }
  return undefined;
}

/**
 * Allocates the plans' addresses to a port and stores them. `attempt` > 0 (a retry after losing a race on
 * PostgreSQL) picks among the first few free addresses instead of the lowest, so racers spread out.
 */
export async function allocate(
  trx: NetworkTrx,
  port: { id: string; networkId: string; mac: string },
  plans: Plan[],
  attempt = 0,
): Promise<Allocation[]> {
  const fixed = plans.flatMap((p) =>
    p.kind === 'specific'
      ? [formatIp(p.ip)]
      : p.kind === 'eui64'
        ? [formatIp(eui64(p.subnet.net, port.mac))]
        : [],
  );
  const taken = await takenAmong(trx, port.networkId, fixed);
  const local = new Set<string>();
  const moved = new Set<string>();
  const out: Allocation[] = [];
  for (const p of plans) {
    let chosen: Allocation | undefined;
    if (p.kind === 'specific' || p.kind === 'eui64') {
      const ip = p.kind === 'specific' ? p.ip : eui64(p.subnet.net, port.mac);
      const text = formatIp(ip);
      if (taken.has(text) || local.has(text)) throw ipAlreadyAllocated(text, p.subnet.row.id);
      chosen = { subnetId: p.subnet.row.id, ipAddress: text };
    } else {
      const spread = attempt === 0 ? 1 : Math.min(4 * attempt, 64);
      chosen = await allocateAny(trx, port.networkId, p.subnets, local, spread, moved);
      if (!chosen) throw ipGenerationFailure(port.networkId);
    }
    local.add(chosen.ipAddress);
    out.push(chosen);
  }
  const rows = out.map((a) => ({
    network_id: port.networkId,
    ip_address: a.ipAddress,
    subnet_id: a.subnetId,
    port_id: port.id,
  }));
  if (rows.length === 1) await insertAllocation(trx, rows[0]!);
  else if (rows.length > 1) await trx.insertInto('network_ip_allocations').values(rows).execute();
  return out;
}

/** The addresses of many ports, each list sorted by address text (as Neutron's allocation table orders). */
export async function allocationsOf(
  db: NetworkTrx | NetworkDb,
  portIds: readonly string[],
): Promise<Map<string, Allocation[]>> {
  const out = new Map<string, Allocation[]>();
  if (portIds.length === 0) return out;
  let q = db.selectFrom('network_ip_allocations').selectAll();
  if (portIds.length <= 500) q = q.where('port_id', 'in', [...portIds]);
  const rows = await q.orderBy('ip_address').execute();
  const wanted = new Set(portIds);
  for (const r of rows) {
    if (!wanted.has(r.port_id)) continue;
    const list = out.get(r.port_id) ?? [];
    list.push({ subnetId: r.subnet_id, ipAddress: r.ip_address });
    out.set(r.port_id, list);
  }
  return out;
}
