// Tests for check evaluation: roles, generic checks, substitutions, literals and missing keys.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCheck } from './compile.ts';
import type { CompiledCheck, Credentials, PolicyTarget } from './types.ts';

const creds: Credentials = {
  user_id: 'u1',
  user_domain_id: 'default',
  project_id: 'p1',
  project_domain_id: 'default',
  domain_id: null,
  system_scope: null,
  roles: ['Member', 'Reader'],
  is_admin: true,
  token: { user: { id: 'u1' }, project: { id: 'p1', domain: { id: 'default' } } },
  groups: [{ id: 'g1' }, { id: 'g2' }],
};

function run(check: string, target: PolicyTarget = {}, c: Credentials = creds, rules = {}): boolean {
  const table = new Map<string, CompiledCheck>(Object.entries(rules));
  return compileCheck(check)({ target, creds: c, rule: (n) => table.get(n), lowerRoles: undefined });
}

describe('compileCheck', () => {
  it('evaluates the constants', () => {
    assert.equal(run('@'), true);
    assert.equal(run('!'), false);
    assert.equal(run(''), true);
  });

  it('matches role names case-insensitively', () => {
    assert.equal(run('role:member'), true);
    assert.equal(run('role:MEMBER'), true);
    assert.equal(run('role:reader and role:member'), true);
    assert.equal(run('role:admin'), false);
    assert.equal(run('role:%(role)s', { role: 'READER' }), true);
    assert.equal(run('role:%(role)s', {}), false);
  });

  it('compares credentials against literals with Python spelling', () => {
    assert.equal(run('is_admin:True'), true);
    assert.equal(run('is_admin:true'), false);
    assert.equal(run('is_admin:1'), false, 'str(True) is "True", not "1"');
    assert.equal(run('is_admin:1', {}, { ...creds, is_admin: undefined, admin_level: 1 }), false);
    assert.equal(run('admin_level:1', {}, { ...creds, admin_level: 1 }), true);
    assert.equal(run('project_id:p1'), true);
    assert.equal(run('system_scope:all'), false);
    assert.equal(run('system_scope:all', {}, { ...creds, system_scope: 'all' }), true);
  });

  it('substitutes flat and nested target keys', () => {
    assert.equal(run('project_id:%(project_id)s', { project_id: 'p1' }), true);
    assert.equal(run('project_id:%(project_id)s', { project_id: 'p2' }), false);
    assert.equal(run('user_id:%(target.token.user_id)s', { 'target.token.user_id': 'u1' }), true);
    assert.equal(run('user_id:%(target.token.user_id)s', { target: { token: { user_id: 'u1' } } }), true);
    assert.equal(run('user_id:%(target.token.user_id)s', { 'target.token': { user_id: 'u1' } }), true);
    assert.equal(run('domain_id:%(target.user.domain_id)s', { target: { user: { domain_id: 'd' } } }), false);
    assert.equal(run('project_id:p%(n)s', { n: 1 }), true, 'partial substitution with a number');
  });

  it('prefers the whole dotted key over walking', () => {
    const target = { 'target.user.id': 'u1', target: { user: { id: 'other' } } };
    assert.equal(run('user_id:%(target.user.id)s', target), true);
  });

  it('walks dotted credential paths and lists', () => {
    assert.equal(
      run('token.project.domain.id:%(target.domain.id)s', { 'target.domain.id': 'default' }),
      true,
    );
    assert.equal(run('token.project.domain.id:%(target.domain.id)s', { 'target.domain.id': 'd2' }), false);
    assert.equal(run('token.domain.id:%(target.domain.id)s', { 'target.domain.id': 'default' }), false);
    assert.equal(run('groups.id:g2'), true);
    assert.equal(run('groups.id:g3'), false);
    assert.equal(run('roles:Member'), true, 'a list at the end matches any element, case-sensitively');
    assert.equal(run('roles:member'), false);
    assert.equal(run('user_id.x:u1'), false, 'walking into a string fails rather than throwing');
  });

  it('returns false, without throwing, when a target key is missing', () => {
    assert.equal(run('project_id:%(project_id)s', {}), false);
    assert.equal(run('user_id:%(target.user.id)s', { target: { user: {} } }), false);
    assert.equal(run('user_id:%(target.user.id)s', { target: 'flat' }), false);
    assert.equal(run('not project_id:%(project_id)s', {}), true);
    assert.equal(run('user_id:%(constructor)s', {}), false, 'inherited properties are not keys');
  });

  it('treats null as Python None, both in targets and in credentials', () => {
    assert.equal(run('None:%(target.domain_id)s', { 'target.domain_id': null }), true);
    assert.equal(run('None:%(target.domain_id)s', { 'target.domain_id': 'd1' }), false);
    assert.equal(run('None:%(target.domain_id)s', {}), false);
    assert.equal(run('domain_id:%(target.domain_id)s', { 'target.domain_id': null }), true);
    assert.equal(run('True:%(enabled)s', { enabled: true }), true);
    assert.equal(run("'Member':%(role.name)s", { 'role.name': 'Member' }), true);
    assert.equal(run('"Member":%(role.name)s', { role: { name: 'member' } }), false);
    assert.equal(run('42:%(n)s', { n: 42 }), true);
  });

  it('resolves rule references at call time, unknown ones to false', () => {
    const rules = { yes: compileCheck('@'), member: compileCheck('role:member') };
    assert.equal(run('rule:yes'), false);
    assert.equal(run('rule:yes', {}, creds, rules), true);
    assert.equal(run('rule:member and not rule:nope', {}, creds, rules), true);
    assert.equal(run('rule:nope or rule:member', {}, creds, rules), true);
  });

  it('applies precedence when evaluating', () => {
    assert.equal(run('role:admin and role:member or role:reader'), true);
    assert.equal(run('role:admin and (role:member or role:reader)'), false);
    assert.equal(run('not role:admin and role:member'), true);
    assert.equal(run('not (role:admin or role:member)'), false);
    assert.equal(run('role:reader or role:admin and role:nobody'), true);
  });
});
