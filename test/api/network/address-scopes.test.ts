// /v2.0/address-scopes: CRUD, admin-only sharing, pools joining a scope (version and unique prefixes), in use.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  tc = await startTestCloud();
  alice = await tc.makeUser();
  bob = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

const scope = (token: string, body: Record<string, unknown>) =>
  neutron(tc, 'POST', '/address-scopes', { token, body: { address_scope: body } });

describe('address scopes', () => {
  test('create, show, update, delete; others see a 404; sharing is admin-only', async () => {
    const res = await scope(alice.token, { name: 'as1', ip_version: 4 });
    assert.equal(res.status, 201, res.text);
    const s = res.body.address_scope;
    assert.deepEqual(Object.keys(s).sort(), [
      'id',
      'ip_version',
      'name',
      'project_id',
      'shared',
      'tenant_id',
    ]);
    assert.equal(s.shared, false);
    expectNeutronError(
      await neutron(tc, 'GET', `/address-scopes/${s.id}`, { token: bob.token }),
      404,
      'AddressScopeNotFound',
      `Address scope ${s.id} could not be found.`,
    );
    expectNeutronError(
      await scope(alice.token, { name: 'x', ip_version: 4, shared: true }),
      403,
      'PolicyNotAuthorized',
    );
    expectNeutronError(await scope(alice.token, { name: 'x', ip_version: 5 }), 400, 'HTTPBadRequest');
    const upd = await neutron(tc, 'PUT', `/address-scopes/${s.id}`, {
      token: alice.token,
      body: { address_scope: { name: 'as2' } },
    });
    assert.equal(upd.body.address_scope.name, 'as2');
    assert.equal(
      (await neutron(tc, 'DELETE', `/address-scopes/${s.id}`, { token: alice.token })).status,
      204,
    );
    assert.equal((await neutron(tc, 'GET', `/address-scopes/${s.id}`, { token: alice.token })).status, 404);
  });

  test('pools in a scope: version must match, prefixes must be unique, the scope is in use while they exist', async () => {
    const s = (await scope(alice.token, { name: 'scoped', ip_version: 4 })).body.address_scope;
    const pool = (body: Record<string, unknown>) =>
      neutron(tc, 'POST', '/subnetpools', {
        token: alice.token,
        body: { subnetpool: { address_scope_id: s.id, ...body } },
      });
    const p1 = await pool({ name: 'p1', prefixes: ['10.0.0.0/16'] });
    assert.equal(p1.status, 201, p1.text);
    assert.equal(p1.body.subnetpool.address_scope_id, s.id);
    expectNeutronError(
      await pool({ name: 'p2', prefixes: ['10.0.128.0/17'] }),
      409,
      'AddressScopePrefixConflict',
    );
    expectNeutronError(
      await pool({ name: 'p3', prefixes: ['2001:db8::/48'] }),
      400,
      'IllegalSubnetPoolIpVersionAssociationToAddressScope',
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/address-scopes/${s.id}`, { token: alice.token }),
      409,
      'AddressScopeInUse',
      `Unable to complete operation on address scope ${s.id}. There are one or more subnet pools in use on the address scope.`,
    );
    const theirs = (await scope(bob.token, { name: 'bob', ip_version: 4 })).body.address_scope;
    expectNeutronError(
      await neutron(tc, 'POST', '/subnetpools', {
        token: alice.token,
        body: { subnetpool: { name: 'p4', prefixes: ['10.9.0.0/16'], address_scope_id: theirs.id } },
      }),
      400,
      'IllegalSubnetPoolAssociationToAddressScope',
    );
  });
});
