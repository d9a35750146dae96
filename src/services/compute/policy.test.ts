// Tests for Nova's default compute policy: the rule set parses, and who may do what under Zed's defaults.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyEngine } from '../../platform/policy/engine.ts';
import { parseCheckString } from '../../platform/policy/parser.ts';
import type { Credentials } from '../../platform/policy/types.ts';
import {
  computeCredentials,
  computePolicies,
  computePolicyEnforcer,
  ownerTarget,
  withDeprecated,
} from './policy.ts';

/** Credentials as the HTTP layer builds them (policyCredentials): no is_admin of their own. */
function token(userId: string, projectId: string, roles: string[]): Credentials {
  return {
    user_id: userId,
    user_domain_id: 'default',
    project_id: projectId,
    project_domain_id: 'default',
    domain_id: null,
    system_scope: null,
    roles,
  };
}

const admin = token('u-admin', 'p-admin', ['admin', 'member', 'reader']);
const member = token('u-1', 'p-1', ['member', 'reader']);
const reader = token('u-2', 'p-1', ['reader']);
const anyRole = token('u-3', 'p-1', ['heat_stack_owner']);
const stranger = token('u-9', 'p-2', ['member', 'reader']);

const engine = new PolicyEngine(computePolicies);
const policy = computePolicyEnforcer(engine);
const own = ownerTarget('p-1', 'u-1');
const foreign = ownerTarget('p-3', 'u-3');
const can = (rule: string, creds: Credentials, target: Record<string, unknown> = own): boolean =>
  policy.enforce(rule, target, creds);

describe('computePolicies', () => {
  it('registers every rule once, each parseable, with operations on every API rule', () => {
    const names = computePolicies.map((r) => r.name);
    assert.equal(new Set(names).size, names.length);
    assert.equal(computePolicies.length, 201);
    for (const r of computePolicies) {
      assert.doesNotThrow(() => parseCheckString(r.checkStr), r.name);
      if (r.name.includes(':')) assert.ok((r.operations?.length ?? 0) > 0, r.name);
    }
    for (const name of [
      'os_compute_api:servers:create',
      'os_compute_api:os-hypervisors:list',
      'os_compute_api:os-services:update',
      'os_compute_api:os-migrations:index',
      'os_compute_api:os-keypairs:create',
      'os_compute_api:os-shelve:unshelve_to_host',
      'compute:servers:create:requested_destination',
      'network:attach_external_network',
    ])
      assert.ok(engine.has(name), name);
  });

  it('ORs the deprecated rule into the new default, as oslo.policy does without enforce_new_defaults', () => {
    assert.equal(withDeprecated('rule:a', undefined), 'rule:a');
    assert.equal(withDeprecated('rule:a', 'rule:a'), 'rule:a');
    assert.equal(withDeprecated('rule:a', 'rule:b'), '(rule:a) or (rule:b)');
    const hosts = computePolicies.find((r) => r.name === 'os_compute_api:os-hosts:list');
    assert.equal(hosts?.checkStr, '(rule:context_is_admin) or (rule:admin_api)');
  });

  it('derives is_admin from context_is_admin, as nova.context does', () => {
    assert.equal(computeCredentials(engine, admin).is_admin, true);
    assert.equal(computeCredentials(engine, { ...member, roles: ['Admin'] }).is_admin, true);
    assert.equal(computeCredentials(engine, member).is_admin, false);
    assert.equal(computeCredentials(engine, { ...member, is_admin: true }).is_admin, true);
  });

  it('lets a project member create, show and act on its own servers only', () => {
    for (const rule of [
      'servers:create',
      'servers:show',
      'servers:delete',
      'servers:reboot',
      'os-shelve:shelve',
    ])
      assert.equal(can(`os_compute_api:${rule}`, member), true, rule);
    for (const rule of ['servers:show', 'servers:delete', 'servers:update', 'server-metadata:index'])
      assert.equal(can(`os_compute_api:${rule}`, stranger), false, rule);
    assert.equal(can('os_compute_api:servers:show', member, foreign), false);
  });

  it('lets any role on the project act on its servers, as Zed legacy admin_or_owner does', () => {
    assert.equal(can('os_compute_api:servers:show', reader), true);
    assert.equal(can('os_compute_api:servers:create', reader), true);
    assert.equal(can('os_compute_api:servers:delete', anyRole), true);
    assert.equal(can('os_compute_api:os-tenant-networks:list', anyRole), true);
    assert.equal(can('os_compute_api:servers:create', anyRole, foreign), false);
  });

  it('keeps admin-only rules to the admin role', () => {
    const adminOnly = [
      'os_compute_api:os-hypervisors:list',
      'os_compute_api:os-hypervisors:statistics',
      'os_compute_api:os-services:list',
      'os_compute_api:os-services:update',
      'os_compute_api:os-aggregates:create',
      'os_compute_api:os-aggregates:add_host',
      'os_compute_api:os-migrations:index',
      'os_compute_api:os-migrate-server:migrate_live',
      'os_compute_api:os-evacuate',
      'os_compute_api:os-admin-actions:reset_state',
      'os_compute_api:servers:index:get_all_tenants',
      'os_compute_api:servers:create:forced_host',
      'os_compute_api:os-flavor-manage:create',
      'os_compute_api:os-quota-sets:update',
      'os_compute_api:os-server-external-events:create',
      'os_compute_api:os-shelve:shelve_offload',
    ];
    for (const rule of adminOnly) {
      assert.equal(can(rule, admin, foreign), true, rule);
      assert.equal(can(rule, member), false, rule);
      assert.equal(can(rule, { ...member, roles: ['ADMIN'] }), true, `${rule} ignores role case`);
    }
  });

  it('lets the admin act on any project while owners are confined to theirs', () => {
    assert.equal(can('os_compute_api:os-deferred-delete:force', admin, foreign), true);
    assert.equal(can('os_compute_api:os-deferred-delete:force', stranger, own), false);
    assert.equal(can('os_compute_api:os-deferred-delete:force', member, own), true);
    assert.equal(can('os_compute_api:servers:delete', admin, foreign), true);
  });

  it('guards keypairs by user, not project', () => {
    const mine = { user_id: 'u-1' };
    assert.equal(can('os_compute_api:os-keypairs:create', member, mine), true);
    assert.equal(can('os_compute_api:os-keypairs:show', reader, mine), false);
    assert.equal(can('os_compute_api:os-keypairs:show', admin, mine), true);
  });

  it('opens the always-allowed rules and closes the never-allowed one', () => {
    for (const rule of [
      'os_compute_api:limits',
      'os_compute_api:os-availability-zone:list',
      'os_compute_api:extensions',
    ])
      assert.equal(can(rule, stranger, {}), true, rule);
    assert.equal(can('compute:servers:resize:cross_cell', admin), false);
    assert.equal(can('os_compute_api:limits:other_project', member), false);
    assert.equal(can('os_compute_api:os-availability-zone:detail', member), false);
  });

  it('lets an operator override replace a default', () => {
    const strict = computePolicyEnforcer(
      new PolicyEngine(computePolicies, {
        'os_compute_api:servers:create': 'rule:project_member_api',
        project_member_api: 'role:member and project_id:%(project_id)s',
      }),
    );
    assert.equal(strict.enforce('os_compute_api:servers:create', own, member), true);
    assert.equal(strict.enforce('os_compute_api:servers:create', own, reader), false);
  });
});
