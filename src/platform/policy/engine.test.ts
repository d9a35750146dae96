// Tests for PolicyEngine: registration, overrides, authorize(), errors and rule cycles.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyEngine, PolicyNotAuthorized } from './engine.ts';
import { PolicyParseError } from './parser.ts';
import type { Credentials, PolicyRule } from './types.ts';

const defaults: PolicyRule[] = [
  { name: 'admin_required', checkStr: 'role:admin or is_admin:1', description: 'Admin.' },
  { name: 'owner', checkStr: 'user_id:%(user_id)s', description: 'Owner.' },
  { name: 'admin_or_owner', checkStr: 'rule:admin_required or rule:owner', description: 'Either.' },
  {
    name: 'svc:get_thing',
    checkStr: 'rule:admin_or_owner',
    description: 'Show a thing.',
    operations: [{ method: 'GET', path: '/things/{user_id}' }],
    scopeTypes: ['project'],
  },
  { name: 'svc:delete_thing', checkStr: 'rule:admin_required', description: 'Delete a thing.' },
];

const member: Credentials = { user_id: 'u1', user_domain_id: 'default', project_id: 'p1', roles: ['member'] };
const admin: Credentials = { ...member, user_id: 'u0', roles: ['Admin', 'member'] };

describe('PolicyEngine', () => {
  it('enforces defaults through rule references', () => {
    const engine = new PolicyEngine(defaults);
    assert.equal(engine.enforce('svc:get_thing', { user_id: 'u1' }, member), true);
    assert.equal(engine.enforce('svc:get_thing', { user_id: 'u2' }, member), false);
    assert.equal(engine.enforce('svc:get_thing', { user_id: 'u2' }, admin), true);
    assert.equal(engine.enforce('svc:delete_thing', {}, member), false);
  });

  it('authorize() throws PolicyNotAuthorized naming the rule', () => {
    const engine = new PolicyEngine(defaults);
    assert.doesNotThrow(() => engine.authorize('svc:delete_thing', {}, admin));
    assert.throws(
      () => engine.authorize('svc:delete_thing', {}, member),
      (e: unknown) => e instanceof PolicyNotAuthorized && e.rule === 'svc:delete_thing' && e.status === 403,
    );
  });

  it('throws on an unregistered rule name but not on an unknown rule: reference', () => {
    const engine = new PolicyEngine([...defaults, { name: 'x', checkStr: 'rule:ghost', description: 'x' }]);
    assert.throws(() => engine.enforce('svc:nope', {}, admin), /not registered/);
    assert.equal(engine.enforce('x', {}, admin), false);
    assert.equal(engine.has('svc:get_thing'), true);
    assert.equal(engine.has('svc:nope'), false);
  });

  it('lets overrides replace check strings and add operator rules', () => {
    const engine = new PolicyEngine(defaults, {
      'svc:delete_thing': 'rule:owner_or_member',
      owner_or_member: 'rule:owner or role:member',
    });
    assert.equal(engine.enforce('svc:delete_thing', {}, member), true);
    assert.equal(engine.enforce('owner_or_member', {}, member), true);
    const byName = new Map(engine.rules().map((r) => [r.name, r]));
    assert.equal(byName.get('svc:delete_thing')?.checkStr, 'rule:owner_or_member');
    assert.equal(byName.get('svc:delete_thing')?.defaultCheckStr, 'rule:admin_required');
    assert.equal(byName.get('svc:delete_thing')?.overridden, true);
    assert.equal(byName.get('svc:get_thing')?.overridden, false);
    assert.deepEqual(byName.get('svc:get_thing')?.scopeTypes, ['project']);
    assert.equal(byName.get('owner_or_member')?.defaultCheckStr, undefined);
  });

  it('overrides can open a rule to everyone with "" or "@" and close it with "!"', () => {
    assert.equal(
      new PolicyEngine(defaults, { 'svc:delete_thing': '' }).enforce('svc:delete_thing', {}, member),
      true,
    );
    assert.equal(
      new PolicyEngine(defaults, { 'svc:delete_thing': '@' }).enforce('svc:delete_thing', {}, member),
      true,
    );
    assert.equal(
      new PolicyEngine(defaults, { 'svc:get_thing': '!' }).enforce('svc:get_thing', {}, admin),
      false,
    );
  });

  it('fails a malformed override closed and reports it', () => {
    const engine = new PolicyEngine(defaults, { 'svc:get_thing': 'role:admin or' });
    assert.equal(engine.enforce('svc:get_thing', { user_id: 'u0' }, admin), false);
    assert.equal(engine.overrideErrors().length, 1);
    assert.equal(engine.overrideErrors()[0]?.name, 'svc:get_thing');
  });

  it('rejects malformed defaults, duplicates and rule cycles', () => {
    assert.throws(
      () => new PolicyEngine([{ name: 'a', checkStr: 'role:x and', description: '' }]),
      PolicyParseError,
    );
    assert.throws(() => new PolicyEngine([defaults[0]!, defaults[0]!]), /registered twice/);
    assert.throws(() => new PolicyEngine(defaults, { owner: 'rule:admin_or_owner' }), /cycle/);
  });

  it('copes with creds that lack optional keys', () => {
    const engine = new PolicyEngine([
      { name: 'sys', checkStr: 'role:reader and system_scope:all', description: '' },
      { name: 'dom', checkStr: 'domain_id:%(target.domain_id)s', description: '' },
    ]);
    const bare: Credentials = { user_id: 'u', user_domain_id: 'd', roles: ['reader'] };
    assert.equal(engine.enforce('sys', {}, bare), false);
    assert.equal(engine.enforce('dom', { 'target.domain_id': 'd' }, bare), false);
    assert.equal(engine.enforce('sys', {}, { ...bare, system_scope: 'all' }), true);
  });
});
