// /v2.0/rbac-policies: sharing a network with one project or everyone, as shared or as external, with Neutron's
// checks (owner or admin, '*' needs admin, duplicates, actions and types), visibility that follows the policies,
// withdrawing access a project's ports still use (RbacPolicyInUse), the rbac_policy quota, and cleanup with the network.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hooks } from '../../../src/services/network/domain/hooks.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;

before(async () => {
  tc = await startTestCloud();
  alice = await tc.makeUser();
  bob = await tc.makeUser();
  carol = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

async function network(user: TestUser | string, body: Record<string, unknown> = {}): Promise<string> {
  const token = typeof user === 'string' ? user : user.token;
  const r = await neutron(tc, 'POST', '/networks', {
    token,
    body: { network: { name: 'rbac-net', ...body } },
  });
  assert.equal(r.status, 201, r.text);
  return r.body.network.id as string;
}

function policy(token: string, p: Record<string, unknown>) {
  return neutron(tc, 'POST', '/rbac-policies', {
    token,
    body: { rbac_policy: { object_type: 'network', action: 'access_as_shared', ...p } },
  });
}

async function sees(user: TestUser, networkId: string): Promise<boolean> {
  const show = await neutron(tc, 'GET', `/networks/${networkId}`, { token: user.token });
  const list = await neutron(tc, 'GET', '/networks', { token: user.token });
  const listed = list.body.networks.some((n: { id: string }) => n.id === networkId);
  assert.equal(show.status === 200, listed, 'show and list agree');
  return listed;
}

describe('network RBAC policies', () => {
  test('an owner shares its network with one project: created, shown, listed, visible to that project only', async () => {
    const net = await network(alice);
    assert.equal(await sees(bob, net), false);
    const res = await policy(alice.token, { object_id: net, target_tenant: bob.projectId });
    assert.equal(res.status, 201, res.text);
    const p = res.body.rbac_policy;
    assert.deepEqual(
      { ...p, id: undefined },
      {
        id: undefined,
        project_id: alice.projectId,
        tenant_id: alice.projectId,
        object_type: 'network',
        object_id: net,
        action: 'access_as_shared',
        target_tenant: bob.projectId,
      },
    );
    assert.equal(await sees(bob, net), true);
    assert.equal(await sees(carol, net), false);

    const shown = await neutron(tc, 'GET', `/rbac-policies/${p.id}`, { token: alice.token });
    assert.deepEqual(shown.body.rbac_policy, p);
    const listed = await neutron(tc, 'GET', `/rbac-policies?object_id=${net}`, { token: alice.token });
    assert.deepEqual(listed.body.rbac_policies, [p]);
    // The target project does not own the policy: it neither lists nor shows it.
    const theirs = await neutron(tc, 'GET', '/rbac-policies', { token: bob.token });
    assert.deepEqual(theirs.body.rbac_policies, []);
    expectNeutronError(
      await neutron(tc, 'GET', `/rbac-policies/${p.id}`, { token: bob.token }),
      404,
      'RbacPolicyNotFound',
      `RBAC policy of type unknown with ID ${p.id} not found`,
    );
    const fields = await neutron(tc, 'GET', `/rbac-policies/${p.id}?fields=target_tenant`, {
      token: alice.token,
    });
    assert.deepEqual(fields.body.rbac_policy, { target_tenant: bob.projectId });

    // The same entry twice is a conflict.
    expectNeutronError(
      await policy(alice.token, { object_id: net, target_tenant: bob.projectId }),
      409,
      'DuplicateRbacPolicy',
      'An RBAC policy already exists with those values.',
    );
  });

  test("bad requests: type, action, missing attributes, another project's network, '*' without admin", async () => {
    const net = await network(alice);
    expectNeutronError(
      await policy(alice.token, { object_id: net, target_tenant: bob.projectId, object_type: 'router' }),
      400,
      'InvalidInput',
      "Invalid input for operation: 'router' is not a valid RBAC object type.",
    );
    expectNeutronError(
      await policy(alice.token, { object_id: net, target_tenant: bob.projectId, action: 'access_as_owner' }),
      400,
      'InvalidActionForType',
      "Invalid action 'access_as_owner' for object type 'network'. Valid actions: ('access_as_shared', 'access_as_external')",
    );
    expectNeutronError(
      await policy(alice.token, { object_id: net }),
      400,
      'HTTPBadRequest',
      "Failed to parse request. Required attribute 'target_tenant' not specified",
    );
    expectNeutronError(
      await policy(alice.token, { object_id: 'nope', target_tenant: bob.projectId }),
      400,
      'HTTPBadRequest',
      "Invalid input for object_id. Reason: 'nope' is not a valid UUID.",
    );
    expectNeutronError(
      await policy(alice.token, { object_id: net, target_tenant: '*' }),
      403,
      'PolicyNotAuthorized',
      '(rule:create_rbac_policy:target_tenant) is disallowed by policy',
    );
    // Bob cannot see Alice's network; once shared with him he sees it but still does not own it.
    const hidden = await policy(bob.token, { object_id: net, target_tenant: carol.projectId });
    expectNeutronError(hidden, 400, 'InvalidInput', new RegExp(`Network ${net} could not be found`));
    assert.equal((await policy(alice.token, { object_id: net, target_tenant: bob.projectId })).status, 201);
    expectNeutronError(
      await policy(bob.token, { object_id: net, target_tenant: carol.projectId }),
      400,
      'InvalidInput',
      /Only admins can manipulate policies on networks they do not own\./,
    );
  });

  test("admin's '*' access_as_shared makes the network shared; deleting it unshares", async () => {
    const net = await network(alice);
    const res = await policy(tc.adminToken, {
      object_id: net,
      target_tenant: '*',
      project_id: alice.projectId,
    });
    assert.equal(res.status, 201, res.text);
    const shown = await neutron(tc, 'GET', `/networks/${net}`, { token: tc.adminToken });
    assert.equal(shown.body.network.shared, true);
    assert.ok(shown.body.network.revision_number >= 2, 'the policy bumps the network revision');
    assert.equal(await sees(carol, net), true);
    // Alice owns the '*' policy and may withdraw it.
    const del = await neutron(tc, 'DELETE', `/rbac-policies/${res.body.rbac_policy.id}`, {
      token: alice.token,
    });
    assert.equal(del.status, 204, del.text);
    const after = await neutron(tc, 'GET', `/networks/${net}`, { token: tc.adminToken });
    assert.equal(after.body.network.shared, false);
    assert.equal(await sees(carol, net), false);
  });

  test('access_as_external makes the network external for the named project only', async () => {
    const net = await network(tc.adminToken);
    const res = await policy(tc.adminToken, {
      object_id: net,
      target_tenant: bob.projectId,
      action: 'access_as_external',
    });
    assert.equal(res.status, 201, res.text);
    const shown = await neutron(tc, 'GET', `/networks/${net}`, { token: tc.adminToken });
    assert.equal(shown.body.network['router:external'], true);
    assert.equal(await sees(bob, net), true);
    assert.equal(await sees(carol, net), false, 'external only for the projects its policies name');
    const filtered = await neutron(tc, 'GET', `/rbac-policies?action=access_as_external&object_id=${net}`, {
      token: tc.adminToken,
    });
    assert.equal(filtered.body.rbac_policies.length, 1);
    // The last external entry gone, the network is internal again.
    const del = await neutron(tc, 'DELETE', `/rbac-policies/${res.body.rbac_policy.id}`, {
      token: tc.adminToken,
    });
    assert.equal(del.status, 204, del.text);
    const after = await neutron(tc, 'GET', `/networks/${net}`, { token: tc.adminToken });
    assert.equal(after.body.network['router:external'], false);
    assert.equal(await sees(bob, net), false);
  });

  test('update retargets a policy; access still used by ports cannot be withdrawn (RbacPolicyInUse)', async () => {
    const net = await network(alice);
    const res = await policy(alice.token, { object_id: net, target_tenant: bob.projectId });
    const id = res.body.rbac_policy.id as string;
    const moved = await neutron(tc, 'PUT', `/rbac-policies/${id}`, {
      token: alice.token,
      body: { rbac_policy: { target_tenant: carol.projectId } },
    });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body.rbac_policy.target_tenant, carol.projectId);
    assert.equal(await sees(bob, net), false);
    assert.equal(await sees(carol, net), true);
    expectNeutronError(
      await neutron(tc, 'PUT', `/rbac-policies/${id}`, {
        token: alice.token,
        body: { rbac_policy: { action: 'access_as_external' } },
      }),
      400,
      'HTTPBadRequest',
      'Cannot update read-only attribute action',
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/rbac-policies/${id}`, {
        token: alice.token,
        body: { rbac_policy: { target_tenant: '*' } },
      }),
      403,
      'PolicyNotAuthorized',
      '(rule:update_rbac_policy:target_tenant) is disallowed by policy',
    );

    // Carol uses the network shared with her: a port through the port API.
    const port = await neutron(tc, 'POST', '/ports', {
      token: carol.token,
      body: { port: { network_id: net } },
    });
    assert.equal(port.status, 201, port.text);
    const del = await neutron(tc, 'DELETE', `/rbac-policies/${id}`, { token: alice.token });
    expectNeutronError(
      del,
      409,
      'RbacPolicyInUse',
      new RegExp(
        `^RBAC policy on object ${net} cannot be removed because other objects depend on it\\.\\nDetails: .*Unable to reconfigure sharing settings for network ${net}\\. Multiple tenants are using it\\.`,
      ),
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/rbac-policies/${id}`, {
        token: alice.token,
        body: { rbac_policy: { target_tenant: bob.projectId } },
      }),
      409,
      'RbacPolicyInUse',
    );
    // A '*' entry covers Carol's port: then her own entry may go.
    const star = await policy(tc.adminToken, {
      object_id: net,
      target_tenant: '*',
      project_id: alice.projectId,
    });
    assert.equal(star.status, 201, star.text);
    assert.equal((await neutron(tc, 'DELETE', `/rbac-policies/${id}`, { token: alice.token })).status, 204);
    // …but now the '*' entry is what Carol depends on.
    expectNeutronError(
      await neutron(tc, 'DELETE', `/rbac-policies/${star.body.rbac_policy.id}`, { token: tc.adminToken }),
      409,
      'RbacPolicyInUse',
    );
  });

  test("others' policies are 404s for update and delete; unknown ids too", async () => {
    const net = await network(alice);
    const res = await policy(alice.token, { object_id: net, target_tenant: bob.projectId });
    const id = res.body.rbac_policy.id as string;
    expectNeutronError(
      await neutron(tc, 'DELETE', `/rbac-policies/${id}`, { token: bob.token }),
      404,
      'RbacPolicyNotFound',
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/rbac-policies/${id}`, {
        token: carol.token,
        body: { rbac_policy: { target_tenant: carol.projectId } },
      }),
      404,
      'RbacPolicyNotFound',
    );
    const missing = '9d0d3d7a-1f7e-4a3e-9a51-6b6c1a1b2c3d';
    expectNeutronError(
      await neutron(tc, 'GET', `/rbac-policies/${missing}`, { token: tc.adminToken }),
      404,
      'RbacPolicyNotFound',
      `RBAC policy of type unknown with ID ${missing} not found`,
    );
    const all = await neutron(tc, 'GET', '/rbac-policies', { token: tc.adminToken });
    assert.ok(
      all.body.rbac_policies.some((p: { id: string }) => p.id === id),
      'admin lists every policy',
    );
  });

  test('the rbac_policy quota limits how many policies a project owns', async () => {
    const owner = await tc.makeUser();
    const net = await network(owner);
    await neutron(tc, 'PUT', `/quotas/${owner.projectId}`, {
      token: tc.adminToken,
      body: { quota: { rbac_policy: 1 } },
    });
    assert.equal((await policy(owner.token, { object_id: net, target_tenant: bob.projectId })).status, 201);
    expectNeutronError(
      await policy(owner.token, { object_id: net, target_tenant: carol.projectId }),
      409,
      'OverQuota',
      "Quota exceeded for resources: ['rbac_policy'].",
    );
    const details = await neutron(tc, 'GET', `/quotas/${owner.projectId}/details`, { token: owner.token });
    assert.deepEqual(details.body.quota.rbac_policy, { limit: 1, used: 1, reserved: 0 });
  });

  test("a deleted network's policies go with it (networkDeleted hook)", async () => {
    const net = await network(alice);
    await policy(alice.token, { object_id: net, target_tenant: bob.projectId });
    const cx = tc.cloud.network.context;
    await cx.write(async (trx) => {
      for (const h of hooks.networkDeleted) await h(cx, trx, { id: net, project_id: alice.projectId });
    });
    const left = await neutron(tc, 'GET', `/rbac-policies?object_id=${net}`, { token: tc.adminToken });
    assert.deepEqual(left.body.rbac_policies, []);
  });

  test('the rbac-policies extension is listed', async () => {
    const ext = await neutron(tc, 'GET', '/extensions/rbac-policies', { token: alice.token });
    assert.equal(ext.status, 200, ext.text);
    assert.equal(ext.body.extension.name, 'RBAC Policies');
  });
});
