// /v2.0/quotas: defaults, per-project overrides (admin writes, owners read), details with usage, the caller's
// project, Neutron's validation and errors, and enforcement (OverQuota) from the overrides.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectNeutronError, neutron } from './network-support.ts';

const RESOURCES = [
  'network',
  'subnet',
  'subnetpool',
  'port',
  'router',
  'floatingip',
  'security_group',
  'security_group_rule',
  'rbac_policy',
];

let tc: TestCloud;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  tc = await startTestCloud({ network: { quotas: { network: 7, port: 11 } } } as never);
  alice = await tc.makeUser();
  bob = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

describe('network quotas', () => {
  test('a project reads its own limits and the defaults; every registered resource is there', async () => {
    const own = await neutron(tc, 'GET', `/quotas/${alice.projectId}`, { token: alice.token });
    assert.equal(own.status, 200, own.text);
    assert.deepEqual(Object.keys(own.body.quota).sort(), [...RESOURCES].sort());
    assert.equal(own.body.quota.network, 7);
    assert.equal(own.body.quota.port, 11);
    assert.equal(own.body.quota.subnetpool, -1);
    const def = await neutron(tc, 'GET', `/quotas/${alice.projectId}/default`, { token: alice.token });
    assert.equal(def.status, 200, def.text);
    assert.deepEqual(def.body.quota, own.body.quota);
  });

  test('quotas/tenant and quotas/project name the caller project', async () => {
    const t = await neutron(tc, 'GET', '/quotas/tenant', { token: alice.token });
    assert.deepEqual(t.body, { tenant: { tenant_id: alice.projectId } });
    const p = await neutron(tc, 'GET', '/quotas/project', { token: alice.token });
    assert.deepEqual(p.body, { project: { project_id: alice.projectId } });
  });

  test("another project's quotas, the list and writes need admin", async () => {
    expectNeutronError(
      await neutron(tc, 'GET', `/quotas/${bob.projectId}`, { token: alice.token }),
      403,
      'PolicyNotAuthorized',
      '(rule:get_quota) is disallowed by policy',
    );
    expectNeutronError(
      await neutron(tc, 'GET', '/quotas', { token: alice.token }),
      403,
      'PolicyNotAuthorized',
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/quotas/${alice.projectId}`, {
        token: alice.token,
        body: { quota: { network: 100 } },
      }),
      403,
      'PolicyNotAuthorized',
      '(rule:update_quota) is disallowed by policy',
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/quotas/${alice.projectId}`, { token: alice.token }),
      403,
      'PolicyNotAuthorized',
      '(rule:delete_quota) is disallowed by policy',
    );
    expectNeutronError(
      await neutron(tc, 'GET', `/quotas/${bob.projectId}/details`, { token: alice.token }),
      403,
      'AdminRequired',
      'User does not have admin privileges: Only admin is authorized to access quotas for another project.',
    );
  });

  test('update, list of overridden projects, show, reset (tempest test_quotas)', async () => {
    const project = await tc.makeProject();
    const put = await neutron(tc, 'PUT', `/quotas/${project}`, {
      token: tc.adminToken,
      body: { quota: { network: 0, port: '0' } },
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.quota.network, 0);
    assert.equal(put.body.quota.port, 0);
    assert.equal(put.body.quota.router, 10);

    const list = await neutron(tc, 'GET', '/quotas', { token: tc.adminToken });
    assert.equal(list.status, 200, list.text);
    const mine = list.body.quotas.find((q: { project_id: string }) => q.project_id === project);
    assert.ok(mine, list.text);
    assert.equal(mine.tenant_id, project);
    assert.equal(mine.network, 0);
    assert.equal(mine.subnet, 100);

    const show = await neutron(tc, 'GET', `/quotas/${project}`, { token: tc.adminToken });
    assert.equal(show.body.quota.network, 0);

    const del = await neutron(tc, 'DELETE', `/quotas/${project}`, { token: tc.adminToken });
    assert.equal(del.status, 204, del.text);
    const again = await neutron(tc, 'GET', '/quotas', { token: tc.adminToken });
    assert.ok(!again.body.quotas.some((q: { project_id: string }) => q.project_id === project));
    const reset = await neutron(tc, 'GET', `/quotas/${project}`, { token: tc.adminToken });
    const defaults = await neutron(tc, 'GET', `/quotas/${project}/default`, { token: tc.adminToken });
    assert.deepEqual(reset.body.quota, defaults.body.quota);
    expectNeutronError(
      await neutron(tc, 'DELETE', `/quotas/${project}`, { token: tc.adminToken }),
      404,
      'TenantQuotaNotFound',
      `Quota for tenant ${project} could not be found.`,
    );
  });

  test('bad limits: unknown resource, below -1, not an integer, no body', async () => {
    const put = (quota: unknown) =>
      neutron(tc, 'PUT', `/quotas/${bob.projectId}`, { token: tc.adminToken, body: { quota } });
    expectNeutronError(await put({ foo: 1 }), 400, 'HTTPBadRequest', "Unrecognized attribute(s) 'foo'");
    expectNeutronError(
      await put({ network: -2 }),
      400,
      'HTTPBadRequest',
      "Invalid input for network. Reason: '-2' is too small - must be at least '-1'.",
    );
    expectNeutronError(
      await put({ network: 'many' }),
      400,
      'InvalidInput',
      "Invalid input for operation: 'many' is not an integer.",
    );
    expectNeutronError(
      await put({ network: 2147483648 }),
      400,
      'HTTPBadRequest',
      "Invalid input for network. Reason: '2147483648' is too large - must be no larger than '2147483647'.",
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/quotas/${bob.projectId}`, { token: tc.adminToken, body: { nope: {} } }),
      400,
      'HTTPBadRequest',
      "Unable to find 'quota' in request body",
    );
    // -1 (unlimited) is fine, and force is an option, not a limit.
    const ok = await put({ network: -1, force: true });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.quota.network, -1);
  });

  test('details: limit, used (counted from the rows), reserved 0; enforcement answers OverQuota', async () => {
    const user = await tc.makeUser();
    const set = await neutron(tc, 'PUT', `/quotas/${user.projectId}`, {
      token: tc.adminToken,
      body: { quota: { network: 2 } },
    });
    assert.equal(set.status, 200, set.text);
    for (const name of ['a', 'b']) {
      const r = await neutron(tc, 'POST', '/networks', { token: user.token, body: { network: { name } } });
      assert.equal(r.status, 201, r.text);
    }
    expectNeutronError(
      await neutron(tc, 'POST', '/networks', { token: user.token, body: { network: { name: 'c' } } }),
      409,
      'OverQuota',
      "Quota exceeded for resources: ['network'].",
    );
    const details = await neutron(tc, 'GET', `/quotas/${user.projectId}/details`, { token: user.token });
    assert.equal(details.status, 200, details.text);
    assert.deepEqual(details.body.quota.network, { limit: 2, used: 2, reserved: 0 });
    for (const r of RESOURCES)
      assert.deepEqual(Object.keys(details.body.quota[r]).sort(), ['limit', 'reserved', 'used']);
    const admin = await neutron(tc, 'GET', `/quotas/${user.projectId}/details`, { token: tc.adminToken });
    assert.equal(admin.body.quota.network.used, 2);
    // Tempest's client asks with Neutron's format suffix.
    const suffixed = await neutron(tc, 'GET', `/quotas/${user.projectId}/details.json`, {
      token: tc.adminToken,
    });
    assert.deepEqual(suffixed.body, admin.body);

    // check_limit refuses a limit below what is used; without it the limit is set.
    expectNeutronError(
      await neutron(tc, 'PUT', `/quotas/${user.projectId}`, {
        token: tc.adminToken,
        body: { quota: { network: 1, check_limit: true } },
      }),
      400,
      'HTTPBadRequest',
      'Quota limit 1 for network must be greater than or equal to already used 2',
    );
    const lower = await neutron(tc, 'PUT', `/quotas/${user.projectId}`, {
      token: tc.adminToken,
      body: { quota: { network: 1 } },
    });
    assert.equal(lower.status, 200, lower.text);
    assert.equal(lower.body.quota.network, 1);
  });

  test('POST /quotas is not implemented; the extensions are listed', async () => {
    expectNeutronError(
      await neutron(tc, 'POST', '/quotas', { token: tc.adminToken, body: { quota: {} } }),
      501,
      'HTTPNotImplemented',
    );
    const ext = await neutron(tc, 'GET', '/extensions', { token: alice.token });
    const aliases = ext.body.extensions.map((e: { alias: string }) => e.alias);
    for (const a of ['quotas', 'quota_details', 'quota-check-limit'])
      assert.ok(aliases.includes(a), `${a} in ${aliases}`);
  });
});
