// Keystone's default rules for domains, domain configuration, projects, project tags, users and groups.

import type { PolicyRule } from '../../platform/policy/types.ts';
import { ADMIN, ADMIN_OR_SYSTEM_READER, ALWAYS, rule, SDP, SP, SYSTEM_READER } from './policy-checks.ts';

const ADMIN_OR_SYSTEM_READER_P = `(${ADMIN}) or (${SYSTEM_READER})`;
/** A reader in the domain that owns the object named by `field` (e.g. `target.group.domain_id`). */
const domainReader = (field: string): string => `(role:reader and domain_id:%(${field})s)`;
const PROJECT_READER =
  `${ADMIN_OR_SYSTEM_READER_P} or ${domainReader('target.project.domain_id')}` +
  ' or project_id:%(target.project.id)s';
const GROUP_READER = `${ADMIN_OR_SYSTEM_READER_P} or ${domainReader('target.group.domain_id')}`;
const LIST_READER = `${ADMIN_OR_SYSTEM_READER_P} or ${domainReader('target.domain_id')}`;
const CONFIG = '/v3/domains/{domain_id}/config';
const configOps = (methods: string): string[] =>
  [CONFIG, `${CONFIG}/{group}`, `${CONFIG}/{group}/{option}`].map((path) => `${methods} ${path}`);

export const resourcePolicies: readonly PolicyRule[] = [
  // Domains: a project-scoped token may read its own project's domain (token.project.domain.id).
  rule(
    'identity:get_domain',
    `${ADMIN_OR_SYSTEM_READER} or token.domain.id:%(target.domain.id)s` +
      ' or token.project.domain.id:%(target.domain.id)s',
    SDP,
    'GET /v3/domains/{domain_id}',
  ),
  rule('identity:list_domains', ADMIN_OR_SYSTEM_READER, SP, 'GET /v3/domains'),
  rule('identity:create_domain', ADMIN, SP, 'POST /v3/domains'),
  rule('identity:update_domain', ADMIN, SP, 'PATCH /v3/domains/{domain_id}'),
  rule('identity:delete_domain', ADMIN, SP, 'DELETE /v3/domains/{domain_id}'),
  rule('identity:create_domain_config', ADMIN, SP, `PUT ${CONFIG}`),
  rule('identity:get_domain_config', ADMIN_OR_SYSTEM_READER, SP, ...configOps('GET,HEAD')),
  rule(
    'identity:get_security_compliance_domain_config',
    ALWAYS,
    SDP,
    `GET,HEAD ${CONFIG}/security_compliance`,
    `GET,HEAD ${CONFIG}/security_compliance/{option}`,
  ),
  rule('identity:update_domain_config', ADMIN, SP, ...configOps('PATCH')),
  rule('identity:delete_domain_config', ADMIN, SP, ...configOps('DELETE')),
  rule(
    'identity:get_domain_config_default',
    ADMIN_OR_SYSTEM_READER,
    SP,
    'GET,HEAD /v3/domains/config/default',
    'GET,HEAD /v3/domains/config/{group}/default',
    'GET,HEAD /v3/domains/config/{group}/{option}/default',
  ),
  // Projects: members read their own project; Zed's new default drops admin, the legacy rule restores it.
  rule(
    'identity:get_project',
    `(${SYSTEM_READER}) or ${domainReader('target.project.domain_id')} or project_id:%(target.project.id)s` +
      ` or ${ADMIN}`,
    SDP,
    'GET /v3/projects/{project_id}',
  ),
  rule('identity:list_projects', LIST_READER, SDP, 'GET /v3/projects'),
  rule(
    'identity:list_user_projects',
    `${ADMIN_OR_SYSTEM_READER_P} or ${domainReader('target.user.domain_id')} or user_id:%(target.user.id)s` +
      ' or rule:owner',
    SDP,
    'GET /v3/users/{user_id}/projects',
  ),
  rule('identity:create_project', ADMIN, SDP, 'POST /v3/projects'),
  rule('identity:update_project', ADMIN, SDP, 'PATCH /v3/projects/{project_id}'),
  rule('identity:delete_project', ADMIN, SDP, 'DELETE /v3/projects/{project_id}'),
  rule('identity:list_project_tags', PROJECT_READER, SDP, 'GET,HEAD /v3/projects/{project_id}/tags'),
  rule('identity:get_project_tag', PROJECT_READER, SDP, 'GET,HEAD /v3/projects/{project_id}/tags/{value}'),
  rule('identity:update_project_tags', ADMIN, SDP, 'PUT /v3/projects/{project_id}/tags'),
  rule('identity:create_project_tag', ADMIN, SDP, 'PUT /v3/projects/{project_id}/tags/{value}'),
  rule('identity:delete_project_tags', ADMIN, SDP, 'DELETE /v3/projects/{project_id}/tags'),
  rule('identity:delete_project_tag', ADMIN, SDP, 'DELETE /v3/projects/{project_id}/tags/{value}'),
  // Users (POST /v3/users/{user_id}/password is unenforced in Keystone: the old password is the proof).
  rule(
    'identity:get_user',
    `${ADMIN_OR_SYSTEM_READER_P} or (role:reader and token.domain.id:%(target.user.domain_id)s)` +
      ' or user_id:%(target.user.id)s or rule:owner',
    SDP,
    'GET,HEAD /v3/users/{user_id}',
  ),
  rule('identity:list_users', LIST_READER, SDP, 'GET,HEAD /v3/users'),
  rule('identity:create_user', ADMIN, SDP, 'POST /v3/users'),
  rule('identity:update_user', ADMIN, SDP, 'PATCH /v3/users/{user_id}'),
  rule('identity:delete_user', ADMIN, SDP, 'DELETE /v3/users/{user_id}'),
  // Groups and membership.
  rule('identity:get_group', GROUP_READER, SDP, 'GET,HEAD /v3/groups/{group_id}'),
  rule('identity:list_groups', GROUP_READER, SDP, 'GET,HEAD /v3/groups'),
  rule(
    'identity:list_groups_for_user',
    `${ADMIN_OR_SYSTEM_READER_P} or ${domainReader('target.user.domain_id')} or user_id:%(user_id)s`,
    SDP,
    'GET,HEAD /v3/users/{user_id}/groups',
  ),
  rule('identity:create_group', ADMIN, SDP, 'POST /v3/groups'),
  rule('identity:update_group', ADMIN, SDP, 'PATCH /v3/groups/{group_id}'),
  rule('identity:delete_group', ADMIN, SDP, 'DELETE /v3/groups/{group_id}'),
  rule('identity:list_users_in_group', GROUP_READER, SDP, 'GET,HEAD /v3/groups/{group_id}/users'),
  rule('identity:remove_user_from_group', ADMIN, SDP, 'DELETE /v3/groups/{group_id}/users/{user_id}'),
  rule(
    'identity:check_user_in_group',
    `${ADMIN_OR_SYSTEM_READER_P} or (role:reader and domain_id:%(target.group.domain_id)s` +
      ' and domain_id:%(target.user.domain_id)s)',
    SDP,
    'HEAD,GET /v3/groups/{group_id}/users/{user_id}',
  ),
  rule('identity:add_user_to_group', ADMIN, SDP, 'PUT /v3/groups/{group_id}/users/{user_id}'),
];
