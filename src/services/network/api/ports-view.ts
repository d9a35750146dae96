// The port resource: Neutron's attribute map (core, binding, allowed address pairs, extra DHCP options, port
// security), rendering, visibility, and the fixed_ips list filter.
import { ApiError } from '../../../platform/errors.ts';
import type { RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkDb, NetworkTrx } from '../context.ts';
import { canonicalIp, ipReason, subnetReason } from '../domain/cidr.ts';
import { type Allocation, allocationsOf } from '../domain/ipam.ts';
import { isValidMac, normalizeMac } from '../domain/mac.ts';
import { portSecurityGroups } from '../domain/port-security-groups.ts';
import { badRequest, notFound } from '../errors.ts';
import type { NetworksTable, PortsTable } from '../store/tables-core.ts';
import { bool, callerOf, json } from './common.ts';
import type { CustomFilter } from './listing.ts';
import { ConvertError, isUuid, maxLen, type ResourceSpec, standardAttrs, toBoolean } from './resource.ts';
import { loadTags } from './standard-attrs.ts';

const repr = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const MAX_ADDRESS_PAIRS = 10;
const VNIC_TYPES = [
  'normal',
  'direct',
  'macvtap',
  'baremetal',
  'direct-physical',
  'virtio-forwarder',
  'smart-nic',
  'vdpa',
  'remote-managed',
  'accelerator-direct',
  'accelerator-direct-physical',
];

function validateFixedIps(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Invalid data format for fixed IP: '${repr(v)}'`;
  const ips: string[] = [];
  for (const f of v) {
    if (f === null || typeof f !== 'object' || Array.isArray(f))
      return `Invalid data format for fixed IP: '${repr(f)}'`;
    const { ip_address: ip, subnet_id: sid } = f as Record<string, unknown>;
    if (ip !== undefined) {
      if (ips.includes(ip as string)) return `Duplicate IP address '${ip}'`;
      const bad = ipReason(ip);
      if (bad) return bad;
      ips.push(ip as string);
    }
    if (sid !== undefined) {
      const bad = isUuid(sid);
      if (bad) return bad;
    }
  }
  return undefined;
}

/** allowed_address_pairs as neutron-lib's validator (its own exceptions for the count, missing IP, duplicates). */
function convertPairs(v: unknown): unknown {
  if (!Array.isArray(v)) throw badRequest('Allowed address pairs must be a list.');
  if (v.length > MAX_ADDRESS_PAIRS)
    throw new ApiError(
      400,
      'AllowedAddressPairExhausted',
      `The number of allowed address pair exceeds the maximum ${MAX_ADDRESS_PAIRS}.`,
    );
  const seen = new Set<string>();
  return v.map((p) => {
    if (p === null || typeof p !== 'object' || Array.isArray(p))
      throw badRequest(`'${repr(p)}' is not a dictionary`);
    const pair = p as Record<string, unknown>;
    if (pair['mac_address'] !== undefined && !isValidMac(pair['mac_address']))
      throw badRequest(`'${repr(pair['mac_address'])}' is not a valid MAC address`);
    if (pair['ip_address'] === undefined)
      throw new ApiError(400, 'AllowedAddressPairsMissingIP', 'AllowedAddressPair must contain ip_address');
    const key = `${pair['mac_address'] ?? 'None'}|${pair['ip_address']}`;
    if (seen.has(key))
      throw new ApiError(
        400,
        'DuplicateAddressPairInRequest',
        `Request contains duplicate address pair: mac_address ${pair['mac_address'] ?? 'None'} ip_address ${pair['ip_address']}.`,
      );
    seen.add(key);
    const extra = Object.keys(pair).filter((k) => k !== 'mac_address' && k !== 'ip_address');
    if (extra.length > 0) throw badRequest(`Unrecognized attribute(s) '${extra.join(', ')}'`);
    const ip = String(pair['ip_address']);
    const bad = ip.includes('/') ? subnetReason(ip) : ipReason(ip);
    if (bad) throw badRequest(bad);
    return {
      ip_address: ip,
      ...(pair['mac_address'] !== undefined
        ? { mac_address: normalizeMac(pair['mac_address'] as string) }
        : {}),
    };
  });
}

function validateDhcpOpts(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `'${repr(v)}' is not a list`;
  for (const o of v) {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return `'${repr(o)}' is not a dictionary`;
    const { opt_name: name, opt_value: value, ip_version: ver } = o as Record<string, unknown>;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 64 || /[\r\n]/.test(name))
      return `'${repr(name)}' is not a valid opt_name`;
    if (value !== null && (typeof value !== 'string' || value.length > 255 || /[\r\n]/.test(value)))
      return `'${repr(value)}' is not a valid opt_value`;
    if (value === '' && !['router', 'classless-static-route'].includes(name))
      return `'${value}' Blank strings are not permitted`;
    if (ver !== undefined && Number(ver) !== 4 && Number(ver) !== 6) return `${repr(ver)} is not in [4, 6]`;
  }
  return undefined;
}

export const portSpec: ResourceSpec = {
  member: 'port',
  collection: 'ports',
  bulk: true,
  attrs: {
    ...standardAttrs(),
    network_id: { post: true, put: false, validate: isUuid },
    admin_state_up: { post: true, put: true, default: true, convert: toBoolean },
    mac_address: {
      post: true,
      put: true,
      default: undefined,
      policy: true,
      convert: (v) => (isValidMac(v) ? normalizeMac(v) : v),
      validate: (v: unknown) => (isValidMac(v) ? undefined : `'${repr(v)}' is not a valid MAC address`),
    },
    fixed_ips: { post: true, put: true, default: undefined, validate: validateFixedIps },
    device_id: { post: true, put: true, default: '', validate: maxLen(255) },
    device_owner: { post: true, put: true, default: '', validate: maxLen(255), policy: true },
    status: { post: false, put: false },
    security_groups: {
      post: true,
      put: true,
      default: undefined,
      convert: (v) => {
        if (v === null) return [];
        if (!Array.isArray(v)) throw new ConvertError(`'${repr(v)}' is not a list`);
        return [...new Set(v)];
      },
      validate: (v: unknown[]) => v.map(isUuid).find((r) => r !== undefined),
    },
    port_security_enabled: { post: true, put: true, default: undefined, convert: toBoolean, policy: true },
    allowed_address_pairs: { post: true, put: true, default: undefined, convert: convertPairs, policy: true },
    extra_dhcp_opts: { post: true, put: true, default: undefined, validate: validateDhcpOpts },
    'binding:host_id': { post: true, put: true, default: '', policy: true, validate: maxLen(255) },
    'binding:vnic_type': {
      post: true,
      put: true,
      default: 'normal',
      policy: true,
      validate: (v: unknown) =>
        VNIC_TYPES.includes(v as string)
          ? undefined
          : `${repr(v)} is not in [${VNIC_TYPES.map((t) => `'${t}'`).join(', ')}]`,
    },
    'binding:profile': {
      post: true,
      put: true,
      default: {},
      policy: true,
      convert: (v) => (v === null ? {} : v),
      validate: (v: unknown) =>
        typeof v === 'object' && !Array.isArray(v) ? undefined : `'${repr(v)}' is not a dictionary`,
    },
    'binding:vif_type': { post: false, put: false, policy: true },
    'binding:vif_details': { post: false, put: false, policy: true },
    ip_allocation: { post: false, put: false },
    resource_request: { post: false, put: false, policy: true },
  },
};

/** The fixed_ips filter: `ip_address=…`, `subnet_id=…`, `ip_address_substr=…` (all must hold for one address). */
export const fixedIpsFilter: CustomFilter = (item, values) => {
  const want: Record<string, string[]> = {};
  for (const v of values) {
    const at = v.indexOf('=');
    if (at < 0)
      throw badRequest(`Invalid input for fixed_ips. Reason: '${v}' is not of the form <key>=[value].`);
    const key = v.slice(0, at);
    if (!['ip_address', 'subnet_id', 'ip_address_substr'].includes(key))
      throw badRequest(`Invalid input for fixed_ips. Reason: '${key}' is not a valid fixed_ips filter.`);
    const list = want[key] ?? [];
    list.push(key === 'ip_address' ? canonicalIp(v.slice(at + 1)) : v.slice(at + 1));
    want[key] = list;
  }
  const ips = item['fixed_ips'] as { subnet_id: string; ip_address: string }[];
  return ips.some(
    (a) =>
      (!want['ip_address'] || want['ip_address'].includes(a.ip_address)) &&
      (!want['subnet_id'] || want['subnet_id'].includes(a.subnet_id)) &&
      (!want['ip_address_substr'] || want['ip_address_substr'].some((s) => a.ip_address.includes(s))),
  );
};

/** What a port create knows of the ports it made: their addresses and groups (and no tags yet). */
export type KnownPorts = ReadonlyMap<string, { ips: readonly Allocation[]; groups: readonly string[] }>;

/**
 * Ports in their wire form. `known`: ports just created, rendered without reading their addresses, groups and tags
 * back (addresses are read back only for a port with several, whose order the database decides).
 */
export async function renderPorts(
  cx: NetworkContext,
  db: NetworkDb | NetworkTrx,
  rows: PortsTable[],
  known?: KnownPorts,
): Promise<Record<string, unknown>[]> {
  const unknown = known ? rows.filter((r) => !known.has(r.id)) : rows;
  const ids = unknown.map((r) => r.id);
  const multi = rows.filter((r) => (known?.get(r.id)?.ips.length ?? 0) > 1).map((r) => r.id);
  const [ips, groups, tags] = await Promise.all([
    allocationsOf(db, [...ids, ...multi]),
    portSecurityGroups().groupsOf(cx, db, ids),
    loadTags(db, 'ports', ids),
  ]);
  if (known)
    for (const [id, k] of known) {
      if (k.ips.length <= 1) ips.set(id, [...k.ips]);
      groups.set(
        id,
        [...k.groups].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
  return rows.map((p) => ({
    id: p.id,
    name: p.name,
    network_id: p.network_id,
    tenant_id: p.project_id,
    project_id: p.project_id,
    mac_address: p.mac_address,
    admin_state_up: bool(p.admin_state_up),
    status: p.status,
    device_id: p.device_id,
    device_owner: p.device_owner,
    fixed_ips: (ips.get(p.id) ?? []).map((a) => ({ subnet_id: a.subnetId, ip_address: a.ipAddress })),
    allowed_address_pairs: json(p.allowed_address_pairs, []),
    extra_dhcp_opts: json(p.extra_dhcp_opts, []),
    security_groups: groups.get(p.id) ?? [],
    port_security_enabled: bool(p.port_security_enabled),
    'binding:host_id': p.host_id,
    'binding:vif_type': p.host_id ? 'tap' : 'unbound',
    'binding:vif_details': p.host_id ? { port_filter: true } : {},
    'binding:vnic_type': p.vnic_type,
    'binding:profile': json(p.binding_profile, {}),
    ip_allocation: 'immediate',
    resource_request: null,
    description: p.description,
    tags: tags.get(p.id) ?? [],
    created_at: p.created_at,
    updated_at: p.updated_at,
    revision_number: p.revision_number,
  }));
}

export function portNotFound(id: string): Error {
  return notFound('PortNotFound', `Port ${id} could not be found.`);
}

/** Neutron's port filter: admins see all; others their own ports and the ports of networks they own. */
export function portVisibility(ctx: RouteContext): (p: PortsTable, n: NetworksTable | undefined) => boolean {
  const caller = callerOf(ctx);
  return (p, n) => caller.isAdmin || p.project_id === caller.projectId || n?.project_id === caller.projectId;
}

export async function findVisiblePort(
  cx: NetworkContext,
  ctx: RouteContext,
  id: string,
): Promise<{ port: PortsTable; network: NetworksTable }> {
  const port = await cx.db.selectFrom('network_ports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!port) throw portNotFound(id);
  const network = await cx.db
    .selectFrom('network_networks')
    .selectAll()
    .where('id', '=', port.network_id)
    .executeTakeFirst();
  if (!network || !portVisibility(ctx)(port, network)) throw portNotFound(id);
  return { port, network };
}
