// Network quotas under concurrency on every database dialect: 20 creates racing for the last 3 networks of a
// project's quota yield exactly 3, and the usage in quota details counts the networks that exist.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';
import { skipFor, TEST_DIALECTS } from '../../support/databases.ts';
import { neutron } from './network-support.ts';

for (const d of TEST_DIALECTS) {
  describe(`network quota races: ${d.name}`, { skip: skipFor(d) }, () => {
    let tc: TestCloud;
    before(async () => {
      tc = await startTestCloud({ database: { url: await d.freshUrl() } });
    });
    after(async () => {
      await tc?.close();
    });

    test('20 concurrent network creates racing for the last 3 of quota yield exactly 3', async () => {
      const user = await tc.makeUser();
      for (const name of ['first', 'second']) {
        const r = await neutron(tc, 'POST', '/networks', { token: user.token, body: { network: { name } } });
        assert.equal(r.status, 201, r.text);
      }
      const set = await neutron(tc, 'PUT', `/quotas/${user.projectId}`, {
        token: tc.adminToken,
        body: { quota: { network: 5 } },
      });
      assert.equal(set.status, 200, set.text);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          neutron(tc, 'POST', '/networks', { token: user.token, body: { network: { name: `race-${i}` } } }),
        ),
      );
      const ok = results.filter((r) => r.status === 201);
      const refused = results.filter((r) => r.status === 409);
      assert.equal(ok.length, 3, results.map((r) => `${r.status} ${r.text}`).join('\n'));
      assert.equal(refused.length, 17);
      for (const r of refused) assert.equal(r.body.NeutronError.type, 'OverQuota');

      const details = await neutron(tc, 'GET', `/quotas/${user.projectId}/details`, { token: user.token });
      assert.deepEqual(details.body.quota.network, { limit: 5, used: 5, reserved: 0 });
      const list = await neutron(tc, 'GET', `/networks?project_id=${user.projectId}`, {
        token: tc.adminToken,
      });
      assert.equal(list.body.networks.length, 5);
    });

    test('20 concurrent RBAC policy creates racing for the last 3 of rbac_policy quota yield exactly 3', async () => {
      const owner = await tc.makeUser();
      const net = await neutron(tc, 'POST', '/networks', {
        token: owner.token,
        body: { network: { name: 'n' } },
      });
      assert.equal(net.status, 201, net.text);
      await neutron(tc, 'PUT', `/quotas/${owner.projectId}`, {
        token: tc.adminToken,
        body: { quota: { rbac_policy: 3 } },
      });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          neutron(tc, 'POST', '/rbac-policies', {
            token: owner.token,
            body: {
              rbac_policy: {
                object_type: 'network',
                object_id: net.body.network.id,
                action: 'access_as_shared',
                target_tenant: `project-${i}`,
              },
            },
          }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 201).length, 3, results.map((r) => r.text).join('\n'));
      assert.equal(results.filter((r) => r.status === 409).length, 17);
    });
  });
}
