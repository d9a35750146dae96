// The router resource's attribute map (l3, ext-gw-mode, extraroute, router_availability_zone, dvr/l3-ha flags) and
// the validators of its dict and list attributes, in Neutron's words.
import type { RouteContext } from '../../../platform/http/types.ts';
import { ipAddressError, routeCidrError } from '../domain/l3-ip.ts';
import { isUuid, maxLen, type ResourceSpec, standardAttrs, toBoolean } from './resource.ts';

const repr = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const isDict = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const pySet = (keys: Iterable<string>): string => {
  const list = [...keys].sort();
  return list.length === 0 ? 'set()' : `{${list.map((k) => `'${k}'`).join(', ')}}`;
};

/** validate_fixed_ips. */
export function fixedIpsError(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Invalid data format for fixed IP: '${repr(v)}'`;
  const seen: string[] = [];
  for (const ip of v) {
    if (!isDict(ip)) return `Invalid data format for fixed IP: '${repr(ip)}'`;
    if ('ip_address' in ip) {
      const a = ip['ip_address'];
      if (typeof a === 'string' && seen.includes(a)) return `Duplicate IP address '${a}'`;
      const e = ipAddressError(a);
      if (e) return e;
      seen.push(a as string);
    }
    if ('subnet_id' in ip) {
      const e = isUuid(ip['subnet_id']);
      if (e) return e;
    }
  }
  return undefined;
}

const GW_KEYS = ['network_id', 'enable_snat', 'external_fixed_ips'];

/** type:dict_or_nodata with ext-gw-mode's keys. */
export function gatewayInfoError(v: unknown): string | undefined {
  if (v === null || v === undefined || v === '' || v === false) return undefined;
  if (!isDict(v)) return `'${repr(v)}' is not a dictionary`;
  if (Object.keys(v).length === 0) return undefined;
  if (!('network_id' in v))
    return `Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: ${pySet(Object.keys(v))}`;
  const unexpected = Object.keys(v).filter((k) => !GW_KEYS.includes(k));
  if (unexpected.length > 0) return `Unexpected keys supplied: ${unexpected.join(', ')}`;
  const idError = isUuid(v['network_id']);
  if (idError) return idError;
  if ('external_fixed_ips' in v) return fixedIpsError(v['external_fixed_ips']);
  return undefined;
}

/** Converts enable_snat inside the gateway dict (its convert_to). */
export function convertGatewayInfo(v: unknown): unknown {
  if (!isDict(v) || !('enable_snat' in v)) return v;
  return { ...v, enable_snat: toBoolean(v['enable_snat']) };
}

/** validate_hostroutes (routes). */
export function routesError(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `Invalid data format for hostroute: '${repr(v)}'`;
  const seen: string[] = [];
  for (const r of v) {
    if (!isDict(r))
      return `Invalid input. '${repr(r)}' must be a dictionary with keys: ['destination', 'nexthop']`;
    const keys = Object.keys(r);
    if (keys.length !== 2 || !keys.includes('destination') || !keys.includes('nexthop'))
      return `Validation of dictionary's keys failed. Expected keys: {'destination', 'nexthop'} Provided keys: ${pySet(keys)}`;
    const e = routeCidrError(r['destination']) ?? ipAddressError(r['nexthop']);
    if (e) return e;
    const k = `${String(r['destination'])} ${String(r['nexthop'])}`;
    if (seen.includes(k))
      return `Duplicate hostroute '{'destination': '${String(r['destination'])}', 'nexthop': '${String(r['nexthop'])}'}'`;
    seen.push(k);
  }
  return undefined;
}

function azHintsError(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `'${repr(v)}' is not a list`;
  for (const z of v) {
    const e = maxLen(255)(z);
    if (e) return e;
  }
  if (new Set(v).size !== v.length) return `Duplicate items in the list: '${v.join(', ')}'`;
  return undefined;
}

export const routerSpec: ResourceSpec = {
  member: 'router',
  collection: 'routers',
  attrs: {
    ...standardAttrs(),
    admin_state_up: { post: true, put: true, default: true, convert: toBoolean },
    status: { post: false, put: false, filter: false },
    external_gateway_info: {
      post: true,
      put: true,
      default: null,
      convert: convertGatewayInfo,
      validate: gatewayInfoError,
      policy: true,
      filter: false,
      sort: false,
    },
    routes: {
      post: false,
      put: true,
      convert: (v) => (v === null ? [] : v),
      validate: routesError,
      filter: false,
      sort: false,
    },
    availability_zone_hints: {
      post: true,
      put: false,
      default: [],
      validate: azHintsError,
      filter: false,
      sort: false,
    },
    availability_zones: { post: false, put: false, filter: false, sort: false },
    // dvr and l3-ha are not offered: the flags read false and only admins see them, as in Neutron.
    distributed: { post: false, put: false, policy: true, convert: toBoolean },
    ha: { post: false, put: false, policy: true, convert: toBoolean },
    flavor_id: { post: false, put: false },
  },
};

/** external_gateway_info after validation. */
export interface RequestedGateway {
  network_id: string;
  enable_snat?: boolean;
  external_fixed_ips?: { subnet_id?: string; ip_address?: string }[];
}

/** The request's gateway, with {} and null meaning "no gateway". */
export function gatewayOf(v: unknown): RequestedGateway | null {
  if (!isDict(v) || Object.keys(v).length === 0) return null;
  return v as unknown as RequestedGateway;
}

/** Neutron's sub-attribute policies of external_gateway_info: each key given needs `<action>_router:…:<key>`. */
export function enforceGatewayPolicies(
  ctx: RouteContext,
  action: 'create' | 'update',
  info: unknown,
  target: Record<string, unknown>,
): void {
  if (!isDict(info)) return;
  for (const key of GW_KEYS) {
    if (key in info) ctx.authorize(`${action}_router:external_gateway_info:${key}`, target);
  }
}
