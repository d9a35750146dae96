// Neutron's subnet checks: CIDR/IP version, DHCP-compatible prefixes, gateway, DNS servers, host routes, IPv6
// modes, allocation pools (inside the CIDR, not overlapping, not holding the gateway) and overlapping subnets.
import { ApiError } from '../../../platform/errors.ts';
import { badResourceRequest, conflict, invalidInput } from '../errors.ts';
import {
  contains,
  formatCidr,
  formatIp,
  type Ip,
  type IpRange,
  isLoopback,
  isMulticast,
  lastOf,
  type Net,
  overlaps,
  parseCidr,
  parseIp,
} from './cidr.ts';

export const MAX_DNS_NAMESERVERS = 5;
export const MAX_HOST_ROUTES = 20;

export interface HostRoute {
  destination: string;
  nexthop: string;
}

export interface SubnetSpec {
  id?: string;
  ipVersion: 4 | 6;
  net: Net;
  cidrText: string;
  /** undefined: not given in this request; null: no gateway. */
  gateway: string | null | undefined;
  dns?: string[];
  routes?: HostRoute[];
  enableDhcp?: boolean;
  raMode?: string | null;
  addressMode?: string | null;
}

/** Python's repr of a flat str dict, as Neutron's messages print them. */
export function pyDict(d: Record<string, unknown>): string {
  return `{${Object.entries(d)
    .map(([k, v]) => `'${k}': ${typeof v === 'string' ? `'${v}'` : String(v)}`)
    .join(', ')}}`;
}

function versionOf(addr: string): 4 | 6 | undefined {
  return (parseIp(addr) ?? parseCidr(addr)?.net)?.version;
}

function checkVersion(ipVersion: number, addr: string, name: string): void {
  if (versionOf(addr) !== ipVersion)
    throw invalidInput(`${name} '${addr}' does not match the ip_version '${ipVersion}'`);
}

/** neutron's _validate_subnet for a create (`dhcpWasEnabled` false) or an update. */
export function validateSubnet(s: SubnetSpec, dhcpWasEnabled = false): void {
  if (s.net.version !== s.ipVersion) checkVersion(s.ipVersion, s.cidrText, 'cidr');
  if (s.enableDhcp && !dhcpWasEnabled) {
    if ((s.ipVersion === 4 && s.net.prefixlen > 30) || (s.ipVersion === 6 && s.net.prefixlen > 126))
      throw invalidInput('Subnet has a prefix length that is incompatible with DHCP service enabled');
    if (isMulticast(s.net)) throw invalidInput('Multicast IP subnet is not supported if enable_dhcp is True');
    if (isLoopback(s.net)) throw invalidInput('Loopback IP subnet is not supported if enable_dhcp is True');
    if (s.ipVersion === 4 && s.net.network === 0n)
      throw invalidInput("First IP '0.0.0.0' of network is not supported if enable_dhcp is True.");
  }
  if (typeof s.gateway === 'string') {
    checkVersion(s.ipVersion, s.gateway, 'gateway_ip');
    const gw = parseIp(s.gateway)!;
    if (
      contains(s.net, gw) &&
      s.ipVersion === 4 &&
      (gw.value === s.net.network || gw.value === lastOf(s.net))
    )
      throw invalidInput('Gateway is not valid on subnet');
  }
  if (s.dns) {
    if (s.dns.length > MAX_DNS_NAMESERVERS)
      throw new ApiError(
        400,
        'DNSNameServersExhausted',
        `Unable to complete operation for ${s.id ?? 'new subnet'}. The number of DNS nameservers exceeds the limit ${MAX_DNS_NAMESERVERS}.`,
      );
    for (const d of s.dns) checkVersion(s.ipVersion, d, 'dns_nameserver');
  }
  if (s.routes) {
    if (s.routes.length > MAX_HOST_ROUTES)
      throw new ApiError(
        400,
        'HostRoutesExhausted',
        `Unable to complete operation for ${s.id ?? 'new subnet'}. The number of host routes exceeds the limit ${MAX_HOST_ROUTES}.`,
      );
    for (const r of s.routes) {
      if (!parseCidr(r.destination) || !parseIp(r.nexthop))
        throw invalidInput(`Invalid route: ${pyDict({ ...r })}`);
      checkVersion(s.ipVersion, r.nexthop, 'nexthop');
      checkVersion(s.ipVersion, r.destination, 'destination');
    }
  }
  if (s.ipVersion === 4) {
    if (s.raMode) throw invalidInput('ipv6_ra_mode is not valid when ip_version is 4');
    if (s.addressMode) throw invalidInput('ipv6_address_mode is not valid when ip_version is 4');
  }
}

/** The IPv6 mode checks of a create. */
export function validateIpv6Modes(s: SubnetSpec): void {
  if (s.ipVersion !== 6) return;
  const ra = s.raMode ?? undefined;
  const am = s.addressMode ?? undefined;
  if ((ra || am) && !s.enableDhcp)
    throw invalidInput('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False');
  if (ra && am && ra !== am)
    throw invalidInput(
      `ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${am}' is not valid. If both attributes are set, they must be the same value`,
    );
  const auto = ['slaac', 'dhcpv6-stateless'];
  if ((auto.includes(am ?? '') || auto.includes(ra ?? '')) && s.net.prefixlen !== 64)
    throw invalidInput(
      `Invalid CIDR ${s.cidrText} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`,
    );
}

/** Disabling DHCP on a subnet with IPv6 modes is refused. */
export function validateIpv6DhcpUpdate(
  enableDhcp: boolean | undefined,
  cur: { ra: string | null; am: string | null },
) {
  if (enableDhcp === false && (cur.ra || cur.am))
    throw invalidInput('Cannot disable enable_dhcp with ipv6 attributes set');
}

/** New subnets on a network may not overlap its others; /0 is refused. */
export function checkOverlap(net: Net, cidrText: string, networkId: string, others: Net[]): void {
  if (net.prefixlen === 0) throw invalidInput('0 is not allowed as CIDR prefix length');
  if (others.some((o) => overlaps(o, net)))
    throw invalidInput(
      `Requested subnet with cidr: ${cidrText} for network: ${networkId} overlaps with another subnet`,
    );
}

export const rangeText = (r: IpRange, v: 4 | 6): string =>
  `${formatIp({ version: v, value: r.first })}-${formatIp({ version: v, value: r.last })}`;

/** Neutron's default pools: every host address (v4 without network/broadcast on /30 and larger) minus the gateway. */
export function generatePools(net: Net, gateway: string | null): IpRange[] {
  const first = net.network;
  const last = lastOf(net);
  if (first === last) return [{ first, last }];
  let lo = first;
  let hi = last;
  if (net.version === 4) {
    if (net.prefixlen <= 30) {
      lo = first + 1n;
      hi = last - 1n;
    }
  } else lo = first + 1n;
  const gw = gateway ? parseIp(gateway) : undefined;
  const out: IpRange[] = [];
  if (gw && gw.version === net.version && gw.value >= lo && gw.value <= hi) {
    if (lo < gw.value) out.push({ first: lo, last: gw.value - 1n });
    if (gw.value < hi) out.push({ first: gw.value + 1n, last: hi });
  } else out.push({ first: lo, last: hi });
  return out;
}

/** Given pools parsed and checked against the CIDR and each other (and the gateway when set). */
export function checkPools(
  pools: { start: string; end: string }[],
  net: Net,
  gateway: string | null,
): IpRange[] {
  const v = net.version;
  const ranges: IpRange[] = [];
  for (const p of pools) {
    const s = parseIp(p.start);
    const e = parseIp(p.end);
    if (!s || !e || s.version !== e.version || s.value > e.value)
      throw new ApiError(400, 'InvalidAllocationPool', `The allocation pool ${pyDict(p)} is not valid.`);
    if (s.version !== v)
      throw new ApiError(
        400,
        'InvalidAllocationPool',
        `The allocation pool ${rangeText({ first: s.value, last: e.value }, s.version)} is not valid.`,
      );
    ranges.push({ first: s.value, last: e.value });
  }
  const lo = v === 4 && net.prefixlen > 30 ? net.network : net.network + 1n;
  const hi = v === 4 && net.prefixlen <= 30 ? lastOf(net) - 1n : lastOf(net);
  for (const r of ranges)
    if (r.first < lo || r.last > hi)
      throw new ApiError(
        400,
        'OutOfBoundsAllocationPool',
        `The allocation pool ${rangeText(r, v)} spans beyond the subnet cidr ${formatCidr(net)}.`,
      );
  for (let i = 0; i < ranges.length; i++)
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i]!;
      const b = ranges[j]!;
      if (a.first <= b.last && b.first <= a.last)
        throw conflict(
          'OverlappingAllocationPools',
          `Found overlapping allocation pools: ${rangeText(a, v)} ${rangeText(b, v)} for subnet ${formatCidr(net)}.`,
        );
    }
  if (gateway) checkGatewayOutOfPools(gateway, ranges, v);
  return ranges;
}

export function checkGatewayOutOfPools(gateway: string, ranges: IpRange[], v: 4 | 6): void {
  const gw: Ip | undefined = parseIp(gateway);
  if (!gw) return;
  for (const r of ranges)
    if (gw.value >= r.first && gw.value <= r.last)
      throw conflict(
        'GatewayConflictWithAllocationPools',
        `Gateway ip ${gateway} conflicts with allocation pool ${rangeText(r, v)}.`,
      );
}

export const poolsJson = (ranges: IpRange[], v: 4 | 6): string =>
  JSON.stringify(
    ranges.map((r) => ({
      start: formatIp({ version: v, value: r.first }),
      end: formatIp({ version: v, value: r.last }),
    })),
  );

export function subnetsBadRequest(msg: string): ApiError {
  return badResourceRequest('subnets', msg);
}
