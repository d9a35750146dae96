// The security_groups attribute map (Neutron's securitygroup and stateful-security-group extensions with standard
// attributes) and a group's wire form with its rules.
import { sgErrors } from '../domain/sg-errors.ts';
import type { SecurityGroupRulesTable, SecurityGroupsTable } from '../store/tables-security.ts';
import { bool } from './common.ts';
import { maxLen, type ResourceSpec, standardAttrs, toBoolean } from './resource.ts';
import { type RenderedRules, renderRule } from './security-group-rules-spec.ts';

const nameLen = maxLen(255);

/** Neutron's name_not_default: no group but the project's own default may be called "default" (any case). */
function nameNotDefault(v: unknown): string | undefined {
  const reason = nameLen(v);
  if (reason !== undefined) return reason;
  if ((v as string).toLowerCase() === 'default') throw sgErrors.defaultExists();
  return undefined;
}

const std = standardAttrs();

export const groupSpec: ResourceSpec = {
  member: 'security_group',
  collection: 'security_groups',
  bulk: true,
  attrs: {
    ...std,
    name: { ...std['name']!, validate: nameNotDefault },
    stateful: { post: true, put: true, default: true, convert: toBoolean, filter: false },
    security_group_rules: { post: false, put: false, filter: false, sort: false },
  },
};

export function renderGroup(
  g: SecurityGroupsTable,
  rules: SecurityGroupRulesTable[],
  tags: string[],
): Record<string, unknown> {
  return renderGroupWith(g, rules.map(renderRule), tags);
}

/** A group's wire form with its rules already in theirs. */
export function renderGroupWith(
  g: SecurityGroupsTable,
  rules: RenderedRules,
  tags: string[],
): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    stateful: bool(g.stateful),
    tenant_id: g.project_id,
    description: g.description,
    security_group_rules: rules,
    tags,
    created_at: g.created_at,
    updated_at: g.updated_at,
    revision_number: g.revision_number,
    project_id: g.project_id,
  };
}
