// Tests for Keystone's default identity policy: every rule parses, and who may do what.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyEngine } from '../../platform/policy/engine.ts';
import { parseCheckString } from '../../platform/policy/parser.ts';
import type { Credentials } from '../../platform/policy/types.ts';
import { identityPolicies, identityPolicyByName } from './policy.ts';

/** A project-scoped token in the default domain, carrying the rendered token as Keystone does. */
function projectToken(userId: string, projectId: string, roles: string[]): Credentials {
  return {
    user_id: userId,
    user_domain_id: 'default',
    project_id: projectId,
    project_domain_id: 'default',
    domain_id: null,
    system_scope: null,
    roles,
    token: { user: { id: userId }, project: { id: projectId, domain: { id: 'default' } } },
  };
}

const admin = projectToken('u-admin', 'p-admin', ['admin', 'member', 'reader']);
const member = projectToken('u-member', 'p-demo', ['member', 'reader']);
const service = projectToken('u-nova', 'p-service', ['service']);
const domainReader: Credentials = {
  user_id: 'u-dr',
  user_domain_id: 'd1',
  domain_id: 'd1',
  roles: ['reader'],
  token: { user: { id: 'u-dr' }, domain: { id: 'd1' } },
};
const systemReader: Credentials = {
  user_id: 'u-sr',
  user_domain_id: 'default',
  system_scope: 'all',
  roles: ['reader'],
};

const engine = new PolicyEngine(identityPolicies);
const can = (rule: string, creds: Credentials, target: Record<string, unknown> = {}): boolean =>
  engine.enforce(rule, target, creds);
const userTarget = (id: string, domainId: string) => ({
  user_id: id,
  'target.user.id': id,
  'target.user.domain_id': domainId,
});

describe('identityPolicies', () => {
  it('registers unique, parseable rules with operations for every identity: rule', () => {
    assert.equal(identityPolicyByName.size, identityPolicies.length);
    assert.ok(identityPolicies.length >= 200);
    for (const r of identityPolicies) {
      assert.doesNotThrow(() => parseCheckString(r.checkStr), r.name);
      if (r.name.startsWith('identity:')) assert.ok((r.operations?.length ?? 0) > 0, r.name);
    }
  });

  it('lets a project-scoped admin manage users, and no one else', () => {
    const newUser = { 'target.user.domain_id': 'default', 'target.user.name': 'x' };
    assert.equal(can('identity:create_user', admin, newUser), true);
    assert.equal(can('identity:create_user', { ...member, roles: ['ADMIN'] }, newUser), true);
    assert.equal(can('identity:create_user', member, newUser), false);
    assert.equal(can('identity:create_user', systemReader, newUser), false);
  });

  it('lets users read themselves but not each other', () => {
    assert.equal(can('identity:get_user', member, userTarget('u-member', 'default')), true);
    assert.equal(can('identity:get_user', member, userTarget('u-other', 'default')), false);
    assert.equal(can('identity:list_user_projects', member, userTarget('u-member', 'default')), true);
    assert.equal(can('identity:list_groups_for_user', member, userTarget('u-other', 'default')), false);
    assert.equal(engine.has('identity:change_password'), false, 'Keystone leaves password change unenforced');
  });

  it('confines readers to their domain, or lets system readers see all', () => {
    assert.equal(can('identity:get_user', domainReader, userTarget('u-x', 'd1')), true);
    assert.equal(can('identity:get_user', domainReader, userTarget('u-x', 'd2')), false);
    assert.equal(can('identity:list_users', domainReader, { 'target.domain_id': 'd1' }), true);
    assert.equal(can('identity:list_users', domainReader, { 'target.domain_id': 'd2' }), false);
    assert.equal(can('identity:list_users', member), false);
    assert.equal(can('identity:list_users', systemReader), true);
  });

  it('lets a project member see its own project and its domain', () => {
    assert.equal(can('identity:get_domain', member, { 'target.domain.id': 'default' }), true);
    assert.equal(can('identity:get_domain', member, { 'target.domain.id': 'd2' }), false);
    assert.equal(can('identity:get_project', member, { 'target.project.id': 'p-demo' }), true);
    assert.equal(can('identity:get_project', member, { 'target.project.id': 'p-admin' }), false);
    assert.equal(can('identity:get_project', admin, { 'target.project.id': 'p-demo' }), true);
    assert.equal(can('identity:list_projects', member), false);
    assert.equal(can('identity:list_regions', member), true);
  });

  it('lets token owners and services validate tokens', () => {
    assert.equal(can('identity:validate_token', member, { 'target.token.user_id': 'u-member' }), true);
    assert.equal(can('identity:validate_token', member, { 'target.token.user_id': 'u-admin' }), false);
    assert.equal(can('identity:validate_token', service, { 'target.token.user_id': 'u-admin' }), true);
  });

  it('guards grants and role-assignment listings', () => {
    const grant = { 'target.user.domain_id': 'default', 'target.project.domain_id': 'default' };
    assert.equal(can('identity:create_grant', admin, { ...grant, 'target.role.domain_id': null }), true);
    assert.equal(can('identity:create_grant', member, { ...grant, 'target.role.domain_id': null }), false);
    // A project-scoped reader has domain_id None; a null target domain must not match it (the "None" guard).
    assert.equal(can('identity:list_role_assignments_for_tree', member, { 'target.domain_id': null }), false);
    assert.equal(can('identity:list_role_assignments', domainReader, { 'target.domain_id': 'd1' }), true);
  });
});
