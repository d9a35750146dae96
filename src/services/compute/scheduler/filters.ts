// The scheduler's host filters, pure: (host, request) → undefined (passes) or the reason it does not.
// Nova's ComputeFilter, AvailabilityZoneFilter, ImagePropertiesFilter, AggregateMultiTenancyIsolation,
// ServerGroup(Anti)AffinityFilter, SameHostFilter and DifferentHostFilter, over placement's candidates.

export interface HostState {
  host: string;
  node: string;
  rpUuid: string;
  zone: string;
  enabled: boolean;
  up: boolean;
  hypervisorType: string;
  /** Metadata of every aggregate the host belongs to. */
  aggregates: Record<string, string>[];
  /** Free capacity from placement's provider summary (capacity - used). */
  free: { vcpu: number; ramMb: number; diskGb: number };
}

export interface SchedulingRequest {
  projectId: string;
  zone: string | null;
  forcedHost: string | null;
  forcedNode: string | null;
  image: Record<string, unknown>;
  /** Hosts already tried (retries) or to avoid. */
  ignoreHosts: string[];
  /** The server group's policy and the hosts its other members are on. */
  group?: { policy: string; hosts: Map<string, number>; maxPerHost: number };
  sameHosts: string[] | null;
  differentHosts: string[];
}

export type HostFilter = (h: HostState, r: SchedulingRequest) => string | undefined;

export const computeFilter: HostFilter = (h) =>
  !h.enabled ? 'compute service disabled' : !h.up ? 'compute service down' : undefined;

export const availabilityZoneFilter: HostFilter = (h, r) =>
  r.zone && h.zone !== r.zone ? `not in availability zone ${r.zone}` : undefined;

export const forcedHostFilter: HostFilter = (h, r) =>
  (r.forcedHost && h.host !== r.forcedHost) || (r.forcedNode && h.node !== r.forcedNode)
    ? 'not the forced host'
    : undefined;

export const ignoreHostsFilter: HostFilter = (h, r) =>
  r.ignoreHosts.includes(h.host) ? 'tried before' : undefined;

export const imagePropertiesFilter: HostFilter = (h, r) => {
  const want = r.image['image_img_hv_type'] ?? r.image['image_hypervisor_type'];
  if (typeof want === 'string' && want !== '' && want.toLowerCase() !== h.hypervisorType.toLowerCase())
    return `hypervisor type ${h.hypervisorType} is not ${want}`;
  return undefined;
};

/** Hosts in aggregates with filter_tenant_id only take those tenants' servers. */
export const tenancyIsolationFilter: HostFilter = (h, r) => {
  for (const md of h.aggregates) {
    const tenants = Object.entries(md)
      .filter(([k]) => k === 'filter_tenant_id' || k.startsWith('filter_tenant_id'))
      .flatMap(([, v]) => v.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    if (tenants.length > 0 && !tenants.includes(r.projectId)) return 'aggregate isolated to other tenants';
  }
  return undefined;
};

export const serverGroupFilter: HostFilter = (h, r) => {
  const g = r.group;
  if (!g) return undefined;
  const here = g.hosts.get(h.host) ?? 0;
  if (g.policy === 'affinity' && g.hosts.size > 0 && here === 0)
    return 'affinity: group members are elsewhere';
  if (g.policy === 'anti-affinity' && here >= g.maxPerHost) return 'anti-affinity: a group member is here';
  return undefined;
};

export const sameHostFilter: HostFilter = (h, r) =>
  r.sameHosts !== null && !r.sameHosts.includes(h.host) ? 'not with the same_host servers' : undefined;

export const differentHostFilter: HostFilter = (h, r) =>
  r.differentHosts.includes(h.host) ? 'hosts a different_host server' : undefined;

export const DEFAULT_FILTERS: readonly [string, HostFilter][] = [
  ['ComputeFilter', computeFilter],
  ['ForcedHost', forcedHostFilter],
  ['IgnoreHosts', ignoreHostsFilter],
  ['AvailabilityZoneFilter', availabilityZoneFilter],
  ['ImagePropertiesFilter', imagePropertiesFilter],
  ['AggregateMultiTenancyIsolation', tenancyIsolationFilter],
  ['ServerGroupFilter', serverGroupFilter],
  ['SameHostFilter', sameHostFilter],
  ['DifferentHostFilter', differentHostFilter],
];

/** Runs the filters; returns the passing hosts and, per filter, how many hosts it removed (for the fault). */
export function filterHosts(
  hosts: readonly HostState[],
  r: SchedulingRequest,
  filters: readonly [string, HostFilter][] = DEFAULT_FILTERS,
): { passed: HostState[]; removed: Record<string, number> } {
  let cur = [...hosts];
  const removed: Record<string, number> = {};
  for (const [name, f] of filters) {
    const next = cur.filter((h) => f(h, r) === undefined);
    if (next.length !== cur.length) removed[name] = cur.length - next.length;
    cur = next;
  }
  return { passed: cur, removed };
}
