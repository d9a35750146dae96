// NetworkClient: the typed calls compute makes to Neutron's public API (/network/v2.0) over a Transport, as
// the user (their token: Neutron's visibility and policy apply) or as the compute service (admin).
import { ApiError } from '../platform/errors.ts';
import type { TokenSource, Transport, TransportResponse } from '../platform/transport.ts';

export interface NeutronNetwork {
  id: string;
  name: string;
  project_id: string;
  tenant_id?: string;
  shared: boolean;
  'router:external'?: boolean;
  status: string;
  admin_state_up: boolean;
  subnets: string[];
  mtu?: number;
  [attr: string]: unknown;
}

export interface NeutronSubnet {
  id: string;
  name: string;
  network_id: string;
  project_id: string;
  cidr: string;
  ip_version: number;
  gateway_ip: string | null;
  enable_dhcp: boolean;
  dns_nameservers: string[];
  host_routes: { destination: string; nexthop: string }[];
  ipv6_address_mode?: string | null;
  ipv6_ra_mode?: string | null;
  [attr: string]: unknown;
}

export interface NeutronFixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface NeutronPort {
  id: string;
  name: string;
  network_id: string;
  project_id: string;
  tenant_id?: string;
  mac_address: string;
  fixed_ips: NeutronFixedIp[];
  device_id: string;
  device_owner: string;
  status: string;
  admin_state_up: boolean;
  security_groups?: string[];
  port_security_enabled?: boolean;
  'binding:host_id'?: string;
  'binding:vif_type'?: string;
  'binding:vnic_type'?: string;
  [attr: string]: unknown;
}

export interface NeutronSecurityGroupRule {
  id: string;
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  project_id?: string;
  tenant_id?: string;
  description?: string;
  [attr: string]: unknown;
}

export interface NeutronSecurityGroup {
  id: string;
  name: string;
  description: string;
  project_id: string;
  tenant_id?: string;
  security_group_rules: NeutronSecurityGroupRule[];
  [attr: string]: unknown;
}

export interface NeutronFloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  router_id: string | null;
  project_id: string;
  tenant_id?: string;
  status: string;
  [attr: string]: unknown;
}

/** A query string: repeated keys for arrays (Neutron's list filters), absent values left out. */
export type NeutronQuery = Record<string, string | number | boolean | readonly string[] | undefined>;

/** A failed Neutron call: `code` is the NeutronError type (PortNotFound, OverQuota, …), `status` its HTTP status. */
export class NeutronError extends ApiError {
  constructor(status: number, type: string, message: string) {
    super(status, type, message);
    this.name = 'NeutronError';
  }
}

/** True when err is a Neutron failure of one of `types` (or of `status` when a number is given). */
export function isNeutronError(err: unknown, ...match: (string | number)[]): err is NeutronError {
  if (!(err instanceof NeutronError)) return false;
  return match.length === 0 || match.some((m) => (typeof m === 'number' ? err.status === m : err.code === m));
}

function queryString(q: NeutronQuery | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, String(x));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The calls made with one identity (a user's token, or the service's). */
export class NeutronSession {
  readonly #call: (method: Method, path: string, body?: unknown) => Promise<TransportResponse>;

  constructor(call: (method: Method, path: string, body?: unknown) => Promise<TransportResponse>) {
    this.#call = call;
  }

  async #ok<T>(method: Method, path: string, key: string | undefined, body?: unknown): Promise<T> {
    const res = await this.#call(method, path, body);
    if (res.status >= 300) {
      const e = (res.body as { NeutronError?: { type?: string; message?: string } } | undefined)
        ?.NeutronError;
      throw new NeutronError(
        res.status,
        e?.type ?? (res.status === 404 ? 'NotFound' : 'NeutronError'),
        e?.message ?? (res.text.slice(0, 300) || `HTTP ${res.status}`),
      );
    }
    return (key ? (res.body as Record<string, unknown>)[key] : undefined) as T;
  }

  // --- networks and subnets ---
  listNetworks(q?: NeutronQuery): Promise<NeutronNetwork[]> {
    return this.#ok('GET', `/networks${queryString(q)}`, 'networks');
  }
  showNetwork(id: string): Promise<NeutronNetwork> {
    return this.#ok('GET', `/networks/${encodeURIComponent(id)}`, 'network');
  }
  listSubnets(q?: NeutronQuery): Promise<NeutronSubnet[]> {
    return this.#ok('GET', `/subnets${queryString(q)}`, 'subnets');
  }

  // --- ports ---
  listPorts(q?: NeutronQuery): Promise<NeutronPort[]> {
    return this.#ok('GET', `/ports${queryString(q)}`, 'ports');
  }
  showPort(id: string): Promise<NeutronPort> {
    return this.#ok('GET', `/ports/${encodeURIComponent(id)}`, 'port');
  }
  createPort(port: Record<string, unknown>): Promise<NeutronPort> {
    return this.#ok('POST', '/ports', 'port', { port });
  }
  updatePort(id: string, port: Record<string, unknown>): Promise<NeutronPort> {
    return this.#ok('PUT', `/ports/${encodeURIComponent(id)}`, 'port', { port });
  }
  /** Deletes a port; an absent one is success. */
  async deletePort(id: string): Promise<void> {
    try {
      await this.#ok('DELETE', `/ports/${encodeURIComponent(id)}`, undefined);
    } catch (err) {
      if (!isNeutronError(err, 404)) throw err;
    }
  }

  // --- security groups ---
  listSecurityGroups(q?: NeutronQuery): Promise<NeutronSecurityGroup[]> {
    return this.#ok('GET', `/security-groups${queryString(q)}`, 'security_groups');
  }
  showSecurityGroup(id: string): Promise<NeutronSecurityGroup> {
    return this.#ok('GET', `/security-groups/${encodeURIComponent(id)}`, 'security_group');
  }
  createSecurityGroup(group: Record<string, unknown>): Promise<NeutronSecurityGroup> {
    return this.#ok('POST', '/security-groups', 'security_group', { security_group: group });
  }
  updateSecurityGroup(id: string, group: Record<string, unknown>): Promise<NeutronSecurityGroup> {
    return this.#ok('PUT', `/security-groups/${encodeURIComponent(id)}`, 'security_group', {
      security_group: group,
    });
  }
  deleteSecurityGroup(id: string): Promise<void> {
    return this.#ok('DELETE', `/security-groups/${encodeURIComponent(id)}`, undefined);
  }
  listSecurityGroupRules(q?: NeutronQuery): Promise<NeutronSecurityGroupRule[]> {
    return this.#ok('GET', `/security-group-rules${queryString(q)}`, 'security_group_rules');
  }
  createSecurityGroupRule(rule: Record<string, unknown>): Promise<NeutronSecurityGroupRule> {
    return this.#ok('POST', '/security-group-rules', 'security_group_rule', { security_group_rule: rule });
  }
  deleteSecurityGroupRule(id: string): Promise<void> {
    return this.#ok('DELETE', `/security-group-rules/${encodeURIComponent(id)}`, undefined);
  }

  // --- floating IPs ---
  listFloatingIps(q?: NeutronQuery): Promise<NeutronFloatingIp[]> {
    return this.#ok('GET', `/floatingips${queryString(q)}`, 'floatingips');
  }
  showFloatingIp(id: string): Promise<NeutronFloatingIp> {
    return this.#ok('GET', `/floatingips/${encodeURIComponent(id)}`, 'floatingip');
  }
  createFloatingIp(fip: Record<string, unknown>): Promise<NeutronFloatingIp> {
    return this.#ok('POST', '/floatingips', 'floatingip', { floatingip: fip });
  }
  updateFloatingIp(id: string, fip: Record<string, unknown>): Promise<NeutronFloatingIp> {
    return this.#ok('PUT', `/floatingips/${encodeURIComponent(id)}`, 'floatingip', { floatingip: fip });
  }
  deleteFloatingIp(id: string): Promise<void> {
    return this.#ok('DELETE', `/floatingips/${encodeURIComponent(id)}`, undefined);
  }

  // --- quotas ---
  /** A project's limits (GET /quotas/{project_id}). */
  showQuota(projectId: string): Promise<Record<string, number>> {
    return this.#ok('GET', `/quotas/${encodeURIComponent(projectId)}`, 'quota');
  }
  /** Limits with usage (GET /quotas/{project_id}/details): {resource: {limit, used, reserved}}. */
  showQuotaDetails(
    projectId: string,
  ): Promise<Record<string, { limit: number; used: number; reserved: number }>> {
    return this.#ok('GET', `/quotas/${encodeURIComponent(projectId)}/details`, 'quota');
  }
  updateQuota(projectId: string, quota: Record<string, number>): Promise<Record<string, number>> {
    return this.#ok('PUT', `/quotas/${encodeURIComponent(projectId)}`, 'quota', { quota });
  }
}

/** Neutron for compute: `user(token)` calls as the caller, `service()` as compute itself (Nova's admin client). */
export class NetworkClient {
  readonly #transport: Transport;
  readonly #serviceToken: TokenSource;
  readonly #prefix: string;

  constructor(transport: Transport, serviceToken: TokenSource, opts: { prefix?: string } = {}) {
    this.#transport = transport;
    this.#serviceToken = serviceToken;
    this.#prefix = `${opts.prefix ?? '/network'}/v2.0`;
  }

  #session(token: () => Promise<string>): NeutronSession {
    return new NeutronSession(async (method, path, body) =>
      this.#transport({
        method,
        path: `${this.#prefix}${path}`,
        headers: { 'x-auth-token': await token(), accept: 'application/json' },
        body,
      }),
    );
  }

  /** Calls with the user's token. */
  user(token: string): NeutronSession {
    return this.#session(async () => token);
  }

  /** Calls as the compute service (admin in the service project). */
  service(): NeutronSession {
    return this.#session(this.#serviceToken);
  }
}
