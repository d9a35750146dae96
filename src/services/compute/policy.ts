// Nova's default policy for every compute API rule (nova/policies/*.py, Zed), as Zed enforces it out of the box.
//
// Zed runs with enforce_new_defaults=False and enforce_scope=False, so oslo.policy ORs each rule's new
// default with the deprecated rule it replaced. Nova's base rules carry the legacy "admin or owner" check
// (`is_admin:True or project_id:%(project_id)s`) that way, which is why, by default, any role on the
// server's project (even reader alone) may act on it, while admin-only rules need the admin role.
// `is_admin` is a credential Nova computes per request from `context_is_admin`; see computeCredentials().
// Nova's targets are flat: `{project_id, user_id}` of the resource (or of the caller when there is none).

import type { Credentials, PolicyOperation, PolicyRule } from '../../platform/policy/types.ts';

/** The new defaults of nova/policies/base.py, by the rule names Nova gives them. */
export const ADMIN = 'rule:context_is_admin';
export const MEMBER = 'rule:project_member_or_admin';
export const READER = 'rule:project_reader_or_admin';
export const PROJECT_READER = 'rule:project_reader_api';
export const ANY = '@';
export const NOBODY = '!';
/** Keypairs belong to users, not projects: the admin or the keypair's own user. */
export const ADMIN_OR_KEYPAIR_OWNER = '(rule:context_is_admin) or user_id:%(user_id)s';
/** The legacy check strings Zed ORs into a renamed rule's new default (its deprecated_rule). */
const OWNER = 'rule:admin_or_owner';
const ADMIN_API = 'rule:admin_api';

const LEGACY_OWNER = 'is_admin:True or project_id:%(project_id)s';
const P: readonly string[] = Object.freeze(['project']);
const S = '/servers/{server_id}';
const PREFIX = 'os_compute_api:';

/** The check oslo.policy enforces for a default with a deprecated rule while enforce_new_defaults is off. */
export function withDeprecated(checkStr: string, deprecated: string | undefined): string {
  return deprecated === undefined || deprecated === checkStr ? checkStr : `(${checkStr}) or (${deprecated})`;
}

/** A server action as Nova documents it: the POST to /action naming the action key. */
function act(action: string): string {
  return `POST ${S}/action (${action})`;
}

function describe(name: string): string {
  const parts = name.replace(PREFIX, '').split(':');
  const what = parts.shift() ?? name;
  const rest = parts.map((p) => p.replaceAll('_', ' ')).join(', ');
  return rest ? `Compute API ${what}: ${rest}.` : `Compute API ${what}.`;
}

function operations(ops: string | readonly string[]): PolicyOperation[] {
  return (typeof ops === 'string' ? [ops] : ops).map((spec) => {
    const at = spec.indexOf(' ');
    return { method: spec.slice(0, at), path: spec.slice(at + 1) };
  });
}

/**
 * One rule. Names are relative to `os_compute_api:` unless they start with `=` (Nova's few rules named
 * `compute:...` or `network:...`). `deprecated` is the legacy check string Zed ORs in.
 */
function r(name: string, checkStr: string, ops: string | readonly string[], deprecated?: string): PolicyRule {
  const full = name.startsWith('=') ? name.slice(1) : `${PREFIX}${name}`;
  return Object.freeze({
    name: full,
    checkStr: withDeprecated(checkStr, deprecated),
    description: describe(full),
    operations: operations(ops),
    scopeTypes: P,
  });
}

function base(name: string, checkStr: string, description: string, deprecated?: string): PolicyRule {
  return Object.freeze({ name, checkStr: withDeprecated(checkStr, deprecated), description });
}

/** nova/policies/base.py: the rules every API rule refers to. */
export const computeBasePolicies: readonly PolicyRule[] = Object.freeze([
  base('context_is_admin', 'role:admin', 'Who passes the is_admin:True check.', 'is_admin:True'),
  base('admin_or_owner', LEGACY_OWNER, 'Legacy default of project-level APIs (deprecated).'),
  base('admin_api', 'is_admin:True', 'Legacy default of admin APIs (deprecated).'),
  base('project_member_api', 'role:member and project_id:%(project_id)s', 'Project members.', LEGACY_OWNER),
  base('project_reader_api', 'role:reader and project_id:%(project_id)s', 'Project readers.', LEGACY_OWNER),
  base(
    'project_member_or_admin',
    'rule:project_member_api or rule:context_is_admin',
    'Project members or the admin.',
    LEGACY_OWNER,
  ),
  base(
    'project_reader_or_admin',
    'rule:project_reader_api or rule:context_is_admin',
    'Project readers or the admin.',
    LEGACY_OWNER,
  ),
]);

export const computeApiPolicies: readonly PolicyRule[] = Object.freeze([
  // admin-actions
  r('os-admin-actions:reset_state', ADMIN, act('os-resetState')),
  r('os-admin-actions:inject_network_info', ADMIN, act('injectNetworkInfo')),
  r('os-admin-password', MEMBER, act('changePassword')),
  // aggregates
  r('os-aggregates:set_metadata', ADMIN, 'POST /os-aggregates/{aggregate_id}/action (set_metadata)'),
  r('os-aggregates:add_host', ADMIN, 'POST /os-aggregates/{aggregate_id}/action (add_host)'),
  r('os-aggregates:create', ADMIN, 'POST /os-aggregates'),
  r('os-aggregates:remove_host', ADMIN, 'POST /os-aggregates/{aggregate_id}/action (remove_host)'),
  r('os-aggregates:update', ADMIN, 'PUT /os-aggregates/{aggregate_id}'),
  r('os-aggregates:index', ADMIN, 'GET /os-aggregates'),
  r('os-aggregates:delete', ADMIN, 'DELETE /os-aggregates/{aggregate_id}'),
  r('os-aggregates:show', ADMIN, 'GET /os-aggregates/{aggregate_id}'),
  r('=compute:aggregates:images', ADMIN, 'POST /os-aggregates/{aggregate_id}/images'),
  // assisted-volume-snapshots
  r('os-assisted-volume-snapshots:create', ADMIN, 'POST /os-assisted-volume-snapshots'),
  r('os-assisted-volume-snapshots:delete', ADMIN, 'DELETE /os-assisted-volume-snapshots/{snapshot_id}'),
  // attach-interfaces
  r('os-attach-interfaces:list', READER, `GET ${S}/os-interface`, OWNER),
  r('os-attach-interfaces:show', READER, `GET ${S}/os-interface/{port_id}`, OWNER),
  r('os-attach-interfaces:create', MEMBER, `POST ${S}/os-interface`, OWNER),
  r('os-attach-interfaces:delete', MEMBER, `DELETE ${S}/os-interface/{port_id}`, OWNER),
  // availability-zone
  r('os-availability-zone:list', ANY, 'GET /os-availability-zone'),
  r('os-availability-zone:detail', ADMIN, 'GET /os-availability-zone/detail'),
  // baremetal-nodes
  r('os-baremetal-nodes:list', ADMIN, 'GET /os-baremetal-nodes', ADMIN_API),
  r('os-baremetal-nodes:show', ADMIN, 'GET /os-baremetal-nodes/{node_id}', ADMIN_API),
  r('os-console-auth-tokens', ADMIN, 'GET /os-console-auth-tokens/{console_token}'),
  r('os-console-output', MEMBER, act('os-getConsoleOutput')),
  r('os-create-backup', MEMBER, act('createBackup')),
  // deferred-delete
  r('os-deferred-delete:restore', MEMBER, act('restore'), OWNER),
  r('os-deferred-delete:force', MEMBER, act('forceDelete'), OWNER),
  r('os-evacuate', ADMIN, act('evacuate')),
  // extended-server-attributes
  r('os-extended-server-attributes', ADMIN, [
    'GET /servers/{id}',
    'GET /servers/detail',
    `PUT ${S}`,
    act('rebuild'),
  ]),
  r('extensions', ANY, ['GET /extensions', 'GET /extensions/{alias}']),
  // flavor-access
  r('os-flavor-access:add_tenant_access', ADMIN, 'POST /flavors/{flavor_id}/action (addTenantAccess)'),
  r('os-flavor-access:remove_tenant_access', ADMIN, 'POST /flavors/{flavor_id}/action (removeTenantAccess)'),
  r('os-flavor-access', ADMIN, 'GET /flavors/{flavor_id}/os-flavor-access', OWNER),
  // flavor-extra-specs
  r('os-flavor-extra-specs:show', READER, 'GET /flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}'),
  r('os-flavor-extra-specs:create', ADMIN, 'POST /flavors/{flavor_id}/os-extra_specs/'),
  r('os-flavor-extra-specs:update', ADMIN, 'PUT /flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}'),
  r(
    'os-flavor-extra-specs:delete',
    ADMIN,
    'DELETE /flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}',
  ),
  r('os-flavor-extra-specs:index', READER, [
    'GET /flavors/{flavor_id}/os-extra_specs/',
    'POST /flavors',
    'GET /flavors/detail',
    'GET /flavors/{flavor_id}',
    'PUT /flavors/{flavor_id}',
  ]),
  // flavor-manage
  r('os-flavor-manage:create', ADMIN, 'POST /flavors'),
  r('os-flavor-manage:update', ADMIN, 'PUT /flavors/{flavor_id}'),
  r('os-flavor-manage:delete', ADMIN, 'DELETE /flavors/{flavor_id}'),
  r('os-floating-ip-pools', ANY, 'GET /os-floating-ip-pools'),
  // floating-ips
  r('os-floating-ips:add', MEMBER, act('addFloatingIp'), OWNER),
  r('os-floating-ips:remove', MEMBER, act('removeFloatingIp'), OWNER),
  r('os-floating-ips:list', READER, 'GET /os-floating-ips', OWNER),
  r('os-floating-ips:create', MEMBER, 'POST /os-floating-ips', OWNER),
  r('os-floating-ips:show', READER, 'GET /os-floating-ips/{floating_ip_id}', OWNER),
  r('os-floating-ips:delete', MEMBER, 'DELETE /os-floating-ips/{floating_ip_id}', OWNER),
  // hosts
  r('os-hosts:list', ADMIN, 'GET /os-hosts', ADMIN_API),
  r('os-hosts:show', ADMIN, 'GET /os-hosts/{host_name}', ADMIN_API),
  r('os-hosts:update', ADMIN, 'PUT /os-hosts/{host_name}', ADMIN_API),
  r('os-hosts:reboot', ADMIN, 'GET /os-hosts/{host_name}/reboot', ADMIN_API),
  r('os-hosts:shutdown', ADMIN, 'GET /os-hosts/{host_name}/shutdown', ADMIN_API),
  r('os-hosts:start', ADMIN, 'GET /os-hosts/{host_name}/startup', ADMIN_API),
  // hypervisors
  r('os-hypervisors:list', ADMIN, 'GET /os-hypervisors', ADMIN_API),
  r('os-hypervisors:list-detail', ADMIN, 'GET /os-hypervisors/details', ADMIN_API),
  r('os-hypervisors:statistics', ADMIN, 'GET /os-hypervisors/statistics', ADMIN_API),
  r('os-hypervisors:show', ADMIN, 'GET /os-hypervisors/{hypervisor_id}', ADMIN_API),
  r('os-hypervisors:uptime', ADMIN, 'GET /os-hypervisors/{hypervisor_id}/uptime', ADMIN_API),
  r('os-hypervisors:search', ADMIN, 'GET /os-hypervisors/{hypervisor_hostname_pattern}/search', ADMIN_API),
  r('os-hypervisors:servers', ADMIN, 'GET /os-hypervisors/{hypervisor_hostname_pattern}/servers', ADMIN_API),
  // instance-actions
  r('os-instance-actions:events:details', ADMIN, `GET ${S}/os-instance-actions/{request_id}`),
  r('os-instance-actions:events', ADMIN, `GET ${S}/os-instance-actions/{request_id}`),
  r('os-instance-actions:list', READER, `GET ${S}/os-instance-actions`, OWNER),
  r('os-instance-actions:show', READER, `GET ${S}/os-instance-actions/{request_id}`, OWNER),
  // instance-usage-audit-log
  r('os-instance-usage-audit-log:list', ADMIN, 'GET /os-instance_usage_audit_log', ADMIN_API),
  r(
    'os-instance-usage-audit-log:show',
    ADMIN,
    'GET /os-instance_usage_audit_log/{before_timestamp}',
    ADMIN_API,
  ),
  // ips
  r('ips:show', READER, `GET ${S}/ips/{network_label}`),
  r('ips:index', READER, `GET ${S}/ips`),
  // keypairs
  r('os-keypairs:index', ADMIN_OR_KEYPAIR_OWNER, 'GET /os-keypairs'),
  r('os-keypairs:create', ADMIN_OR_KEYPAIR_OWNER, 'POST /os-keypairs'),
  r('os-keypairs:delete', ADMIN_OR_KEYPAIR_OWNER, 'DELETE /os-keypairs/{keypair_name}'),
  r('os-keypairs:show', ADMIN_OR_KEYPAIR_OWNER, 'GET /os-keypairs/{keypair_name}'),
  // limits
  r('limits', ANY, 'GET /limits'),
  r('limits:other_project', ADMIN, 'GET /limits', ADMIN_API),
  // lock-server
  r('os-lock-server:lock', MEMBER, act('lock')),
  r('os-lock-server:unlock', MEMBER, act('unlock')),
  r('os-lock-server:unlock:unlock_override', ADMIN, act('unlock')),
  // migrate-server
  r('os-migrate-server:migrate', ADMIN, act('migrate')),
  r('os-migrate-server:migrate_live', ADMIN, act('os-migrateLive')),
  r('os-migrations:index', ADMIN, 'GET /os-migrations'),
  // multinic
  r('os-multinic:add', MEMBER, act('addFixedIp'), OWNER),
  r('os-multinic:remove', MEMBER, act('removeFixedIp'), OWNER),
  // networks
  r('os-networks:list', READER, 'GET /os-networks', OWNER),
  r('os-networks:show', READER, 'GET /os-networks/{network_id}', OWNER),
  // pause-server
  r('os-pause-server:pause', MEMBER, act('pause')),
  r('os-pause-server:unpause', MEMBER, act('unpause')),
  // quota-class-sets
  r('os-quota-class-sets:show', ADMIN, 'GET /os-quota-class-sets/{quota_class}'),
  r('os-quota-class-sets:update', ADMIN, 'PUT /os-quota-class-sets/{quota_class}'),
  // quota-sets
  r('os-quota-sets:update', ADMIN, 'PUT /os-quota-sets/{tenant_id}'),
  r('os-quota-sets:defaults', ANY, 'GET /os-quota-sets/{tenant_id}/defaults'),
  r('os-quota-sets:show', READER, 'GET /os-quota-sets/{tenant_id}'),
  r('os-quota-sets:delete', ADMIN, 'DELETE /os-quota-sets/{tenant_id}'),
  r('os-quota-sets:detail', READER, 'GET /os-quota-sets/{tenant_id}/detail'),
  // remote-consoles
  r('os-remote-consoles', MEMBER, [
    act('os-getRDPConsole'),
    act('os-getSerialConsole'),
    act('os-getSPICEConsole'),
    act('os-getVNCConsole'),
    `POST ${S}/remote-consoles`,
  ]),
  // rescue
  r('os-rescue', MEMBER, act('rescue')),
  r('os-unrescue', MEMBER, act('unrescue'), OWNER),
  // security-groups
  r('os-security-groups:get', READER, 'GET /os-security-groups', OWNER),
  r('os-security-groups:show', READER, 'GET /os-security-groups/{security_group_id}', OWNER),
  r('os-security-groups:create', MEMBER, 'POST /os-security-groups', OWNER),
  r('os-security-groups:update', MEMBER, 'PUT /os-security-groups/{security_group_id}', OWNER),
  r('os-security-groups:delete', MEMBER, 'DELETE /os-security-groups/{security_group_id}', OWNER),
  r('os-security-groups:rule:create', MEMBER, 'POST /os-security-group-rules', OWNER),
  r('os-security-groups:rule:delete', MEMBER, 'DELETE /os-security-group-rules/{security_group_id}', OWNER),
  r('os-security-groups:list', READER, `GET ${S}/os-security-groups`, OWNER),
  r('os-security-groups:add', MEMBER, act('addSecurityGroup'), OWNER),
  r('os-security-groups:remove', MEMBER, act('removeSecurityGroup'), OWNER),
  r('os-server-diagnostics', ADMIN, `GET ${S}/diagnostics`),
  r('os-server-external-events:create', ADMIN, 'POST /os-server-external-events'),
  // server-groups
  r('os-server-groups:create', MEMBER, 'POST /os-server-groups'),
  r('os-server-groups:delete', MEMBER, 'DELETE /os-server-groups/{server_group_id}'),
  r('os-server-groups:index', READER, 'GET /os-server-groups'),
  r('os-server-groups:index:all_projects', ADMIN, 'GET /os-server-groups'),
  r('os-server-groups:show', READER, 'GET /os-server-groups/{server_group_id}'),
  // server-metadata
  r('server-metadata:index', READER, `GET ${S}/metadata`),
  r('server-metadata:show', READER, `GET ${S}/metadata/{key}`),
  r('server-metadata:create', MEMBER, `POST ${S}/metadata`),
  r('server-metadata:update_all', MEMBER, `PUT ${S}/metadata`),
  r('server-metadata:update', MEMBER, `PUT ${S}/metadata/{key}`),
  r('server-metadata:delete', MEMBER, `DELETE ${S}/metadata/{key}`),
  // server-password
  r('os-server-password:show', READER, `GET ${S}/os-server-password`, OWNER),
  r('os-server-password:clear', MEMBER, `DELETE ${S}/os-server-password`, OWNER),
  // server-tags
  r('os-server-tags:delete_all', MEMBER, `DELETE ${S}/tags`),
  r('os-server-tags:index', READER, `GET ${S}/tags`),
  r('os-server-tags:update_all', MEMBER, `PUT ${S}/tags`),
  r('os-server-tags:delete', MEMBER, `DELETE ${S}/tags/{tag}`),
  r('os-server-tags:update', MEMBER, `PUT ${S}/tags/{tag}`),
  r('os-server-tags:show', READER, `GET ${S}/tags/{tag}`),
  // server-topology
  r('=compute:server:topology:index', READER, `GET ${S}/topology`),
  r('=compute:server:topology:host:index', ADMIN, `GET ${S}/topology`),
  // servers
  r('servers:index', READER, 'GET /servers'),
  r('servers:detail', READER, 'GET /servers/detail'),
  r('servers:index:get_all_tenants', ADMIN, 'GET /servers'),
  r('servers:detail:get_all_tenants', ADMIN, 'GET /servers/detail'),
  r('servers:allow_all_filters', ADMIN, ['GET /servers', 'GET /servers/detail']),
  r('servers:show', READER, `GET ${S}`),
  r(
    'servers:show:flavor-extra-specs',
    READER,
    ['GET /servers/detail', `GET ${S}`, `PUT ${S}`, act('rebuild')],
    OWNER,
  ),
  r('servers:show:host_status', ADMIN, [`GET ${S}`, 'GET /servers/detail', `PUT ${S}`, act('rebuild')]),
  r('servers:show:host_status:unknown-only', ADMIN, [
    `GET ${S}`,
    'GET /servers/detail',
    `PUT ${S}`,
    act('rebuild'),
  ]),
  r('servers:create', MEMBER, 'POST /servers'),
  r('servers:create:forced_host', ADMIN, 'POST /servers'),
  r('=compute:servers:create:requested_destination', ADMIN, 'POST /servers'),
  r('servers:create:attach_volume', MEMBER, 'POST /servers'),
  r('servers:create:attach_network', MEMBER, 'POST /servers'),
  r('servers:create:trusted_certs', MEMBER, 'POST /servers'),
  r('servers:create:zero_disk_flavor', ADMIN, 'POST /servers'),
  r('=network:attach_external_network', ADMIN, ['POST /servers', `POST ${S}/os-interface`]),
  r('servers:delete', MEMBER, `DELETE ${S}`),
  r('servers:update', MEMBER, `PUT ${S}`),
  r('servers:confirm_resize', MEMBER, act('confirmResize')),
  r('servers:revert_resize', MEMBER, act('revertResize')),
  r('servers:reboot', MEMBER, act('reboot')),
  r('servers:resize', MEMBER, act('resize')),
  r('=compute:servers:resize:cross_cell', NOBODY, act('resize')),
  r('servers:rebuild', MEMBER, act('rebuild')),
  r('servers:rebuild:trusted_certs', MEMBER, act('rebuild')),
  r('servers:create_image', MEMBER, act('createImage')),
  r('servers:create_image:allow_volume_backed', MEMBER, act('createImage')),
  r('servers:start', MEMBER, act('os-start')),
  r('servers:stop', MEMBER, act('os-stop')),
  r('servers:trigger_crash_dump', MEMBER, act('trigger_crash_dump')),
  // servers-migrations
  r('servers:migrations:show', ADMIN, `GET ${S}/migrations/{migration_id}`),
  r(
    'servers:migrations:force_complete',
    ADMIN,
    `POST ${S}/migrations/{migration_id}/action (force_complete)`,
  ),
  r('servers:migrations:delete', ADMIN, `DELETE ${S}/migrations/{migration_id}`),
  r('servers:migrations:index', ADMIN, `GET ${S}/migrations`),
  // services
  r('os-services:list', ADMIN, 'GET /os-services', ADMIN_API),
  r('os-services:update', ADMIN, 'PUT /os-services/{service_id}', ADMIN_API),
  r('os-services:delete', ADMIN, 'DELETE /os-services/{service_id}', ADMIN_API),
  // shelve
  r('os-shelve:shelve', MEMBER, act('shelve')),
  r('os-shelve:unshelve', MEMBER, act('unshelve')),
  r('os-shelve:unshelve_to_host', ADMIN, act('unshelve')),
  r('os-shelve:shelve_offload', ADMIN, act('shelveOffload')),
  // simple-tenant-usage
  r('os-simple-tenant-usage:show', READER, 'GET /os-simple-tenant-usage/{tenant_id}'),
  r('os-simple-tenant-usage:list', ADMIN, 'GET /os-simple-tenant-usage'),
  // suspend-server
  r('os-suspend-server:resume', MEMBER, act('resume')),
  r('os-suspend-server:suspend', MEMBER, act('suspend')),
  // tenant-networks
  r('os-tenant-networks:list', PROJECT_READER, 'GET /os-tenant-networks', OWNER),
  r('os-tenant-networks:show', PROJECT_READER, 'GET /os-tenant-networks/{network_id}', OWNER),
  // volumes
  r('os-volumes:list', READER, 'GET /os-volumes', OWNER),
  r('os-volumes:create', MEMBER, 'POST /os-volumes', OWNER),
  r('os-volumes:detail', READER, 'GET /os-volumes/detail', OWNER),
  r('os-volumes:show', READER, 'GET /os-volumes/{volume_id}', OWNER),
  r('os-volumes:delete', MEMBER, 'DELETE /os-volumes/{volume_id}', OWNER),
  r('os-volumes:snapshots:list', READER, 'GET /os-snapshots', OWNER),
  r('os-volumes:snapshots:create', MEMBER, 'POST /os-snapshots', OWNER),
  r('os-volumes:snapshots:detail', READER, 'GET /os-snapshots/detail', OWNER),
  r('os-volumes:snapshots:show', READER, 'GET /os-snapshots/{snapshot_id}', OWNER),
  r('os-volumes:snapshots:delete', MEMBER, 'DELETE /os-snapshots/{snapshot_id}', OWNER),
  // volumes-attachments
  r('os-volumes-attachments:index', READER, `GET ${S}/os-volume_attachments`),
  r('os-volumes-attachments:create', MEMBER, `POST ${S}/os-volume_attachments`),
  r('os-volumes-attachments:show', READER, `GET ${S}/os-volume_attachments/{volume_id}`),
  r('os-volumes-attachments:update', MEMBER, `PUT ${S}/os-volume_attachments/{volume_id}`),
  r('os-volumes-attachments:swap', ADMIN, `PUT ${S}/os-volume_attachments/{volume_id}`),
  r('os-volumes-attachments:delete', MEMBER, `DELETE ${S}/os-volume_attachments/{volume_id}`),
]);

/** Every default Nova registers: the base rules, then each API's. */
export const computePolicies: readonly PolicyRule[] = Object.freeze([
  ...computeBasePolicies,
  ...computeApiPolicies,
]);

interface RuleEnforcer {
  enforce(rule: string, target: Record<string, unknown>, creds: Credentials): boolean;
}

/**
 * Nova's policy credentials: the caller's values plus `is_admin`, which nova.context computes once per
 * request by enforcing `context_is_admin` against the caller's own project and user (before is_admin is
 * known, so only its `role:admin` half can pass).
 */
export function computeCredentials(engine: RuleEnforcer, creds: Credentials): Credentials {
  if (typeof creds.is_admin === 'boolean') return creds;
  const self = { project_id: creds.project_id ?? null, user_id: creds.user_id ?? null };
  const isAdmin = engine.enforce('context_is_admin', self, creds);
  return { ...creds, is_admin: isAdmin };
}

/** Wraps an engine so every check sees Nova's credentials (for ServiceHttp.policy). */
export function computePolicyEnforcer(engine: RuleEnforcer): RuleEnforcer {
  return {
    enforce: (rule, target, creds) => engine.enforce(rule, target, computeCredentials(engine, creds)),
  };
}

/** The target of an action on a project-owned resource (a server: its project and user), flat as Nova's. */
export function ownerTarget(projectId: string | null, userId: string | null = null): Record<string, unknown> {
  return { project_id: projectId, user_id: userId };
}
