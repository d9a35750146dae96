// Keystone's default rules for roles, implied roles, grants and role-assignment listings.

import type { PolicyRule } from '../../platform/policy/types.ts';
import { ADMIN, ADMIN_OR_SYSTEM_READER as READ, rule, SDP, SP, SYSTEM_READER } from './policy-checks.ts';

/** `role` held in the domain owning both the actor (user or group) and the target (project or domain). */
function grantScopes(role: string): string {
  const pairs = [
    ['user.domain_id', 'project.domain_id'],
    ['user.domain_id', 'domain.id'],
    ['group.domain_id', 'project.domain_id'],
    ['group.domain_id', 'domain.id'],
  ];
  return pairs
    .map(([actor, on]) => `(role:${role} and domain_id:%(target.${actor})s and domain_id:%(target.${on})s)`)
    .join(' or ');
}

/** The role granted is global (domain_id None) or belongs to the caller's domain. */
const ROLE_VISIBLE = '(domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s)';
const CHECK_GRANT = `(${ADMIN}) or ((${SYSTEM_READER}) or (${grantScopes('reader')}) and ${ROLE_VISIBLE})`;
const LIST_GRANTS = `(${ADMIN}) or ((${SYSTEM_READER}) or ${grantScopes('reader')})`;
const CHANGE_GRANT = `(${ADMIN}) or (${grantScopes('admin')}) and ${ROLE_VISIBLE}`;
const ASSIGNMENT_READER =
  `(${ADMIN}) or (${SYSTEM_READER})` +
  ' or (role:reader and domain_id:%(target.domain_id)s and not None:%(target.domain_id)s)';

const ACTORS = ['/v3/projects/{project_id}/users/{user_id}', '/v3/projects/{project_id}/groups/{group_id}'];
const DOMAIN_ACTORS = [
  '/v3/domains/{domain_id}/users/{user_id}',
  '/v3/domains/{domain_id}/groups/{group_id}',
];
const INHERITED = [...ACTORS, ...DOMAIN_ACTORS].map((p) => `/v3/OS-INHERIT${p.slice(3)}`);
/** The eight grant paths for one role: direct on projects and domains, then OS-INHERIT. */
const grantOps = (methods: string): string[] => [
  ...[...ACTORS, ...DOMAIN_ACTORS].map((p) => `${methods} ${p}/roles/{role_id}`),
  ...INHERITED.map((p) => `${methods} ${p}/roles/{role_id}/inherited_to_projects`),
];

export const assignmentPolicies: readonly PolicyRule[] = [
  rule('identity:get_role', READ, SP, 'GET,HEAD /v3/roles/{role_id}'),
  rule('identity:list_roles', READ, SP, 'GET,HEAD /v3/roles'),
  rule('identity:create_role', ADMIN, SP, 'POST /v3/roles'),
  rule('identity:update_role', ADMIN, SP, 'PATCH /v3/roles/{role_id}'),
  rule('identity:delete_role', ADMIN, SP, 'DELETE /v3/roles/{role_id}'),
  // Domain-specific roles share the /v3/roles routes; Keystone picks these names when domain_id is set.
  rule('identity:get_domain_role', READ, SP, 'GET,HEAD /v3/roles/{role_id}'),
  rule('identity:list_domain_roles', READ, SP, 'GET,HEAD /v3/roles?domain_id={domain_id}'),
  rule('identity:create_domain_role', ADMIN, SP, 'POST /v3/roles'),
  rule('identity:update_domain_role', ADMIN, SP, 'PATCH /v3/roles/{role_id}'),
  rule('identity:delete_domain_role', ADMIN, SP, 'DELETE /v3/roles/{role_id}'),
  rule('identity:get_implied_role', READ, SP, 'GET /v3/roles/{prior_role_id}/implies/{implied_role_id}'),
  rule('identity:list_implied_roles', READ, SP, 'GET,HEAD /v3/roles/{prior_role_id}/implies'),
  rule('identity:create_implied_role', ADMIN, SP, 'PUT /v3/roles/{prior_role_id}/implies/{implied_role_id}'),
  rule(
    'identity:delete_implied_role',
    ADMIN,
    SP,
    'DELETE /v3/roles/{prior_role_id}/implies/{implied_role_id}',
  ),
  rule('identity:list_role_inference_rules', READ, SP, 'GET,HEAD /v3/role_inferences'),
  rule('identity:check_implied_role', READ, SP, 'HEAD /v3/roles/{prior_role_id}/implies/{implied_role_id}'),
  // Grants on projects and domains, direct and inherited.
  rule('identity:check_grant', CHECK_GRANT, SDP, ...grantOps('HEAD,GET')),
  rule(
    'identity:list_grants',
    LIST_GRANTS,
    SDP,
    ...[...ACTORS, ...DOMAIN_ACTORS].map((p) => `GET,HEAD ${p}/roles`),
    'GET /v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/inherited_to_projects',
    'GET /v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/inherited_to_projects',
  ),
  rule('identity:create_grant', CHANGE_GRANT, SDP, ...grantOps('PUT')),
  rule('identity:revoke_grant', CHANGE_GRANT, SDP, ...grantOps('DELETE')),
  // System role assignments.
  rule('identity:list_system_grants_for_user', READ, SP, 'HEAD,GET /v3/system/users/{user_id}/roles'),
  rule(
    'identity:check_system_grant_for_user',
    READ,
    SP,
    'HEAD,GET /v3/system/users/{user_id}/roles/{role_id}',
  ),
  rule('identity:create_system_grant_for_user', ADMIN, SP, 'PUT /v3/system/users/{user_id}/roles/{role_id}'),
  rule(
    'identity:revoke_system_grant_for_user',
    ADMIN,
    SP,
    'DELETE /v3/system/users/{user_id}/roles/{role_id}',
  ),
  rule('identity:list_system_grants_for_group', READ, SP, 'HEAD,GET /v3/system/groups/{group_id}/roles'),
  rule(
    'identity:check_system_grant_for_group',
    READ,
    SP,
    'HEAD,GET /v3/system/groups/{group_id}/roles/{role_id}',
  ),
  rule(
    'identity:create_system_grant_for_group',
    ADMIN,
    SP,
    'PUT /v3/system/groups/{group_id}/roles/{role_id}',
  ),
  rule(
    'identity:revoke_system_grant_for_group',
    ADMIN,
    SP,
    'DELETE /v3/system/groups/{group_id}/roles/{role_id}',
  ),
  // GET /v3/role_assignments; with include_subtree Keystone enforces the _for_tree rule.
  rule('identity:list_role_assignments', ASSIGNMENT_READER, SDP, 'GET,HEAD /v3/role_assignments'),
  rule(
    'identity:list_role_assignments_for_tree',
    ASSIGNMENT_READER,
    SDP,
    'GET,HEAD /v3/role_assignments?include_subtree',
  ),
];
