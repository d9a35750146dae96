// os-security-groups and os-security-group-rules (deprecated, ≤2.35) as Nova serves them from Neutron: Nova's
// body shapes, checks and messages over the caller's Neutron security groups.
import {
  isNeutronError,
  type NeutronSecurityGroup,
  type NeutronSecurityGroupRule,
  type NeutronSession,
} from '../../../clients/network.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { userNeutron } from './network-proxy-common.ts';
import { isAdmin, isUuidLike } from './resource-common.ts';

const bad = (m: string) => new ApiError(400, 'BadRequest', m);
const notFound = (m: string) => new ApiError(404, 'SecurityGroupNotFound', m);

export interface NovaRule {
  id: string;
  parent_group_id: string;
  protocol: string | null;
  from_port: number | null;
  to_port: number | null;
  group_id: string | null;
  cidr: string;
}

export interface NovaGroup {
  id: string;
  description: string;
  name: string;
  project_id: string;
  rules: NovaRule[];
}

/** Neutron's rule as Nova's (ports default to the whole range, no prefix means 0.0.0.0/0). */
export function novaRule(r: NeutronSecurityGroupRule): NovaRule {
  let from = r.port_range_min;
  let to = r.port_range_max;
  if (r.protocol && from === null && to === null) {
    const tcpUdp = ['TCP', 'UDP'].includes(r.protocol.toUpperCase());
    from = tcpUdp ? 1 : -1;
    to = tcpUdp ? 65535 : -1;
  }
  return {
    id: r.id,
    parent_group_id: r.security_group_id,
    protocol: r.protocol,
    from_port: from,
    to_port: to,
    group_id: r.remote_group_id,
    cidr: r.remote_ip_prefix || '0.0.0.0/0',
  };
}

/** Neutron's group as Nova's: only ingress rules. */
export function novaGroup(g: NeutronSecurityGroup): NovaGroup {
  return {
    id: g.id,
    description: g.description,
    name: g.name,
    project_id: g.project_id ?? g.tenant_id ?? '',
    rules: (g.security_group_rules ?? []).filter((r) => r.direction === 'ingress').map(novaRule),
  };
}

type GroupRef = { name: string; tenant_id: string } | null;

/** The rule body clients read; `source` names a remote group (null: the group is gone, the rule is hidden). */
export function formatRule(r: NovaRule, source?: GroupRef): Record<string, unknown> {
  return {
    id: r.id,
    parent_group_id: r.parent_group_id,
    ip_protocol: r.protocol,
    from_port: r.from_port,
    to_port: r.to_port,
    group: r.group_id && source ? source : {},
    ip_range: r.group_id ? {} : { cidr: r.cidr },
  };
}

/** Looks up the remote groups the rules name (as the caller), for the rules' "group" member. */
async function remoteGroups(neutron: NeutronSession, groups: NovaGroup[]): Promise<Map<string, GroupRef>> {
  const refs = new Map<string, GroupRef>();
  for (const g of groups) refs.set(g.id, { name: g.name, tenant_id: g.project_id });
  for (const g of groups)
    for (const r of g.rules)
      if (r.group_id && !refs.has(r.group_id)) {
        try {
          const src = await neutron.showSecurityGroup(r.group_id);
          refs.set(r.group_id, { name: src.name, tenant_id: src.project_id ?? src.tenant_id ?? '' });
        } catch (err) {
          if (!isNeutronError(err, 404)) throw err;
          refs.set(r.group_id, null);
        }
      }
  return refs;
}

export async function formatGroups(
  neutron: NeutronSession,
  groups: NovaGroup[],
): Promise<Record<string, unknown>[]> {
  const refs = await remoteGroups(neutron, groups);
  return groups.map((g) => ({
    id: g.id,
    description: g.description,
    name: g.name,
    tenant_id: g.project_id,
    rules: g.rules
      .filter((r) => !r.group_id || refs.get(r.group_id))
      .map((r) => formatRule(r, refs.get(r.group_id ?? ''))),
  }));
}

export function sortGroups(list: Record<string, unknown>[]): Record<string, unknown>[] {
  const key = (g: Record<string, unknown>) => `${g['tenant_id']}\u0000${g['name']}`;
  return list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function validateId(id: unknown): string {
  if (typeof id !== 'string' || !isUuidLike(id)) throw bad('Security group id should be uuid');
  return id;
}

async function getGroup(neutron: NeutronSession, id: string): Promise<NovaGroup> {
  try {
    return novaGroup(await neutron.showSecurityGroup(id));
  } catch (err) {
    if (isNeutronError(err, 404)) throw notFound(err.message);
    throw err;
  }
}

function fromBody(body: unknown, key: string): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Object.keys(body).length === 0)
    throw bad("The request body can't be empty");
  const v = (body as Record<string, unknown>)[key];
  if (v === undefined || v === null) throw bad(`Missing parameter ${key}`);
  return v as Record<string, unknown>;
}

/** oslo's check_string_length(0..255) as Nova applies it to names and descriptions. */
function checkProperty(value: unknown, name: string): string {
  if (typeof value !== 'string') throw bad(`${name} is not a string or unicode`);
  if (value.length > 255) throw bad(`${name} has ${value.length} characters, more than 255.`);
  return value;
}

function isCidr(s: string): boolean {
  const [addr, len, extra] = s.split('/');
  if (extra !== undefined || !addr) return false;
  if (addr.includes(':')) {
    if (!/^[0-9a-f:.]+$/i.test(addr) || (addr.match(/::/g)?.length ?? 0) > 1) return false;
    return len === undefined || (/^\d+$/.test(len) && Number(len) <= 128);
  }
  const parts = addr.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d+$/.test(p) || Number(p) > 255)) return false;
  return len === undefined || (/^\d+$/.test(len) && Number(len) <= 32);
}

/** Nova's _new_ingress_rule: the rule the body asks for, or null when it is not enough for one. */
function newIngressRule(
  b: Record<string, unknown>,
  groupId: string | undefined,
): { protocol?: string; from_port?: number; to_port?: number; cidr?: string; group_id?: string } | null {
  const proto = b['ip_protocol'] === undefined || b['ip_protocol'] === null ? '' : String(b['ip_protocol']);
  let from = b['from_port'] as unknown;
  let to = b['to_port'] as unknown;
  const values: {
    protocol?: string;
    from_port?: number;
    to_port?: number;
    cidr?: string;
    group_id?: string;
  } = {};
  let cidr: string | undefined;
  if (groupId) {
    values.group_id = groupId;
    const up = proto.toUpperCase();
    if (up === 'ICMP' && from == null && to == null) {
      from = -1;
      to = -1;
    } else if ((up === 'TCP' || up === 'UDP') && from == null && to == null) {
      from = 1;
      to = 65535;
    }
  } else {
    const raw = b['cidr'];
    cidr = raw === undefined || raw === null || raw === '' ? '0.0.0.0/0' : decodeURIComponent(String(raw));
    if (!isCidr(cidr)) throw bad(`${cidr} is not a valid IP network.`);
    values.cidr = cidr;
  }
  if (proto && from != null && to != null) {
    const toInt = (v: unknown) =>
      typeof v === 'number' || /^\s*-?\d+\s*$/.test(String(v)) ? Math.trunc(Number(v)) : NaN;
    const f = toInt(from);
    const t = toInt(to);
    const up = proto.toUpperCase();
    if (Number.isNaN(f) || Number.isNaN(t))
      throw bad(
        up === 'ICMP'
          ? 'Invalid input received: Type and Code must be integers for ICMP protocol type'
          : 'Invalid input received: To and From ports must be integers',
      );
    if (!['TCP', 'UDP', 'ICMP'].includes(up)) throw bad(`Invalid IP protocol ${proto}.`);
    if ((up === 'TCP' || up === 'UDP') && f > t)
      throw bad(`Invalid port range ${f}:${t}. Former value cannot be greater than the later`);
    if ((up === 'TCP' || up === 'UDP') && (f < 1 || t > 65535))
      throw bad(`Invalid port range ${f}:${t}. Valid ${up} ports should be between 1-65535`);
    if (up === 'ICMP' && (f < -1 || f > 255 || t < -1 || t > 255))
      throw bad(`Invalid port range ${f}:${t}. For ICMP, the type:code must be valid`);
    values.protocol = proto;
    values.from_port = f;
    values.to_port = t;
  } else if (cidr) return null;
  return values;
}

function neutronFailure(err: unknown, limit = true): never {
  if (isNeutronError(err, 404)) throw notFound(err.message);
  if (isNeutronError(err, 409))
    throw limit ? new ApiError(403, 'SecurityGroupLimitExceeded', err.message) : bad(err.message);
  if (isNeutronError(err, 400)) throw bad(err.message);
  throw err;
}

export function securityGroupProxyRoutes(cx: ComputeContext): Route[] {
  const guard = (ctx: RouteContext): NeutronSession => userNeutron(cx, ctx);
  const target = (ctx: RouteContext) => ({ project_id: ctx.auth?.projectId ?? null });
  const G = '/compute/v2.1/os-security-groups';
  const R = '/compute/v2.1/os-security-group-rules';
  const one = async (neutron: NeutronSession, g: NovaGroup): Promise<RouteResult> => ({
    body: { security_group: (await formatGroups(neutron, [g]))[0] },
  });
  return [
    {
      method: 'GET',
      path: G,
      async handler(ctx) {
        const neutron = guard(ctx);
        ctx.authorize('os_compute_api:os-security-groups:get', target(ctx));
        const all = isAdmin(ctx) && ctx.query['all_tenants'] !== undefined;
        const raw = await neutron.listSecurityGroups(all ? {} : { tenant_id: ctx.auth?.projectId ?? '' });
        const offset = Number(ctx.query['offset'] ?? 0) || 0;
        const limit = ctx.query['limit'] === undefined ? 1000 : Number(ctx.query['limit']);
        const page = raw.map(novaGroup).slice(offset, offset + Math.min(limit, 1000));
        return { body: { security_groups: sortGroups(await formatGroups(neutron, page)) } };
      },
    },
    {
      method: 'GET',
      path: `${G}/:id`,
      async handler(ctx) {
        const neutron = guard(ctx);
        ctx.authorize('os_compute_api:os-security-groups:show', target(ctx));
        return one(neutron, await getGroup(neutron, validateId(ctx.params['id'])));
      },
    },
    {
      method: 'POST',
      path: G,
      async handler(ctx) {
        const neutron = guard(ctx);
        ctx.authorize('os_compute_api:os-security-groups:create', target(ctx));
        const b = fromBody(ctx.body, 'security_group');
        const name = checkProperty(b['name'], 'name');
        const description = checkProperty(b['description'], 'description');
        let g: NeutronSecurityGroup;
        try {
          g = await neutron.createSecurityGroup({ name, description });
        } catch (err) {
          neutronFailure(err);
        }
        return one(neutron, novaGroup(g));
      },
    },
    {
      method: 'PUT',
      path: `${G}/:id`,
      async handler(ctx) {
        const neutron = guard(ctx);
        ctx.authorize('os_compute_api:os-security-groups:update', target(ctx));
        const id = validateId(ctx.params['id']);
        await getGroup(neutron, id);
        const b = fromBody(ctx.body, 'security_group');
        const name = checkProperty(b['name'], 'name');
        const description = checkProperty(b['description'], 'description');
        let g: NeutronSecurityGroup;
        try {
          g = await neutron.updateSecurityGroup(id, { name, description });
        } catch (err) {
          neutronFailure(err, false);
        }
        return one(neutron, novaGroup(g));
      },
    },
    {
      method: 'DELETE',
      path: `${G}/:id`,
      async handler(ctx) {
        const neutron = guard(ctx);
        ctx.authorize('os_compute_api:os-security-groups:delete', target(ctx));
        const id = validateId(ctx.params['id']);
        await getGroup(neutron, id);
        try {
          await neutron.deleteSecurityGroup(id);
        } catch (err) {
          neutronFailure(err, false);
        }
        return { status: 202 };
      },
    },
    {
      method: 'POST',
      path: R,
      async handler(ctx) {
        const neutron = guard(ctx);
        ctx.authorize('os_compute_api:os-security-groups:rule:create', target(ctx));
        const b = fromBody(ctx.body, 'security_group_rule');
        const parent = await getGroup(neutron, validateId(b['parent_group_id']));
        let source: NovaGroup | undefined;
        let groupId: string | undefined;
        if (b['group_id'] !== undefined && b['group_id'] !== null) {
          groupId = validateId(b['group_id']);
          source = await getGroup(neutron, groupId);
        }
        const rule = newIngressRule(b, groupId);
        if (!rule) throw bad('Not enough parameters to build a valid rule.');
        if (rule.cidr) {
          const [net, len] = rule.cidr.split('/');
          if (net !== '0.0.0.0' && net !== '::' && len === '0')
            throw bad(`Bad prefix for network in cidr ${rule.cidr}`);
        }
        const exists = parent.rules.some(
          (r) =>
            (r.group_id ?? undefined) === rule.group_id &&
            (r.group_id ? undefined : r.cidr) === rule.cidr &&
            (r.from_port ?? undefined) === rule.from_port &&
            (r.to_port ?? undefined) === rule.to_port &&
            (r.protocol ?? undefined) === rule.protocol,
        );
        if (exists) throw bad(`This rule already exists in group ${parent.id}`);
        const body: Record<string, unknown> = {
          direction: 'ingress',
          protocol: rule.protocol ?? null,
          ethertype: rule.cidr?.includes(':') ? 'IPv6' : 'IPv4',
          remote_ip_prefix: rule.cidr ?? null,
          security_group_id: parent.id,
          remote_group_id: rule.group_id ?? null,
        };
        if (rule.from_port !== undefined && rule.from_port !== -1) body['port_range_min'] = rule.from_port;
        if (rule.to_port !== undefined && rule.to_port !== -1) body['port_range_max'] = rule.to_port;
        let created: NeutronSecurityGroupRule;
        try {
          created = await neutron.createSecurityGroupRule(body);
        } catch (err) {
          neutronFailure(err);
        }
        const ref = source ? { name: source.name, tenant_id: source.project_id } : null;
        return { body: { security_group_rule: formatRule(novaRule(created), ref) } };
      },
    },
    {
      method: 'DELETE',
      path: `${R}/:id`,
      async handler(ctx) {
        const neutron = guard(ctx);
        ctx.authorize('os_compute_api:os-security-groups:rule:delete', target(ctx));
        const id = validateId(ctx.params['id']);
        try {
          await neutron.deleteSecurityGroupRule(id);
        } catch (err) {
          neutronFailure(err, false);
        }
        return { status: 202 };
      },
    },
  ];
}
