// The security_group_rules attribute map (Neutron's securitygroup extension with standard attributes and
// normalized_cidr) and a rule's wire form, also as SQLite builds it for the rules of many groups at once.

import { sql } from 'kysely';
import type { NetworkContext } from '../context.ts';
import { normalizedCidr } from '../domain/sg-cidr.ts';
import {
  convertEthertype,
  convertPort,
  convertPrefix,
  convertProtocol,
  convertRemoteGroup,
} from '../domain/sg-rule-checks.ts';
import { rulesByGroup } from '../domain/sg-store.ts';
import type { SecurityGroupRulesTable } from '../store/tables-security.ts';
import { RawJson } from './raw-json.ts';
import { maxLen, oneOf, type ResourceSpec, standardAttrs } from './resource.ts';

const std = standardAttrs({ name: false });
delete std['tags'];

export const ruleSpec: ResourceSpec = {
  member: 'security_group_rule',
  collection: 'security_group_rules',
  bulk: true,
  attrs: {
    ...std,
    security_group_id: { post: true, put: false, validate: maxLen(36) },
    remote_group_id: { post: true, put: false, default: null, convert: convertRemoteGroup },
    direction: { post: true, put: false, validate: oneOf(['ingress', 'egress']) },
    protocol: { post: true, put: false, default: null, convert: convertProtocol },
    port_range_min: { post: true, put: false, default: null, convert: convertPort },
    port_range_max: { post: true, put: false, default: null, convert: convertPort },
    ethertype: { post: true, put: false, default: 'IPv4', convert: convertEthertype },
    remote_ip_prefix: { post: true, put: false, default: null, convert: convertPrefix },
    normalized_cidr: { post: false, put: false, convert: convertPrefix },
  },
};

export function renderRule(r: SecurityGroupRulesTable): Record<string, unknown> {
  return {
    id: r.id,
    tenant_id: r.project_id,
    security_group_id: r.security_group_id,
    ethertype: r.ethertype,
    direction: r.direction,
    protocol: r.protocol,
    port_range_min: r.port_range_min,
    port_range_max: r.port_range_max,
    remote_ip_prefix: r.remote_ip_prefix,
    normalized_cidr: r.remote_ip_prefix === null ? null : normalizedCidr(r.remote_ip_prefix),
    remote_group_id: r.remote_group_id,
    description: r.description,
    created_at: r.created_at,
    updated_at: r.updated_at,
    revision_number: r.revision_number,
    project_id: r.project_id,
  };
}

/** renderRule's object as SQLite's json_object (same keys, same order); normalized_cidr is completed in JS. */
const RULE_JSON = sql`json_object('id', id, 'tenant_id', project_id, 'security_group_id', security_group_id,
  'ethertype', ethertype, 'direction', direction, 'protocol', protocol, 'port_range_min', port_range_min,
  'port_range_max', port_range_max, 'remote_ip_prefix', remote_ip_prefix, 'normalized_cidr', null,
  'remote_group_id', remote_group_id, 'description', description, 'created_at', created_at,
  'updated_at', updated_at, 'revision_number', revision_number, 'project_id', project_id)`;

/** A group's rules in wire form: objects, or the JSON text of their list. */
export type RenderedRules = Record<string, unknown>[] | RawJson;

/**
 * The rules of these groups (all groups when more than 500) in wire form and creation order, by group. On SQLite the
 * database aggregates each group's rules into one JSON text (one string per group to read instead of fifteen per
 * rule), kept as text unless a rule needs its normalized_cidr computed; elsewhere the rows are rendered here.
 */
export async function renderedRulesByGroup(
  cx: NetworkContext,
  ids: readonly string[],
): Promise<Map<string, RenderedRules>> {
  const out = new Map<string, RenderedRules>();
  if (ids.length === 0) return out;
  if (cx.dialect !== 'sqlite') {
    for (const [g, rules] of await rulesByGroup(cx.db, ids)) out.set(g, rules.map(renderRule));
    return out;
  }
  const only = ids.length <= 500 ? sql`where security_group_id in (${sql.join([...ids])})` : sql``;
  const { rows } = await sql<{ g: string; rules: string; prefixed: number }>`select security_group_id as g,
      json_group_array(${RULE_JSON} order by created_at, id) as rules,
      max(remote_ip_prefix is not null) as prefixed
    from network_security_group_rules ${only} group by security_group_id`.execute(cx.db);
  for (const row of rows) {
    if (row.prefixed === 0) {
      out.set(row.g, new RawJson(row.rules));
      continue;
    }
    const rules = JSON.parse(row.rules) as Record<string, unknown>[];
    for (const r of rules)
      if (r['remote_ip_prefix'] !== null)
        r['normalized_cidr'] = normalizedCidr(r['remote_ip_prefix'] as string);
    out.set(row.g, rules);
  }
  return out;
}
