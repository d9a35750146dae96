// Quota under concurrency on every database dialect: 50 creates racing for the last 5 instances yield exactly 5,
// and usage (instances, cores, ram) is counted from the servers that exist.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';
import { skipFor, TEST_DIALECTS } from '../../support/databases.ts';
import { uploadTestImage, waitForStatus } from './compute-support.ts';

for (const d of TEST_DIALECTS) {
  describe(`compute quota races: ${d.name}`, { skip: skipFor(d) }, () => {
    let tc: TestCloud;
    let imageId: string;
    before(async () => {
      tc = await startTestCloud({ database: { url: await d.freshUrl() } });
      imageId = await uploadTestImage(tc);
    });
    after(async () => {
      await tc?.close();
    });

    test('50 concurrent creates racing for the last 5 instances of quota yield exactly 5', async () => {
      const user = await tc.makeUser();
      const set = await tc.request('PUT', `/compute/v2.1/os-quota-sets/${user.projectId}`, {
        token: tc.adminToken,
        body: { quota_set: { instances: 5 } },
      });
      assert.equal(set.status, 200, set.text);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          tc.request('POST', '/compute/v2.1/servers', {
            token: user.token,
            body: { server: { name: `race-${i}`, flavorRef: '42', imageRef: imageId } },
          }),
        ),
      );
      const ok = results.filter((r) => r.status === 202);
      const refused = results.filter((r) => r.status === 403);
      assert.equal(ok.length, 5);
      assert.equal(refused.length, 45);
      assert.match(refused[0]!.body.forbidden.message, /Quota exceeded for instances/);
      for (const r of ok) await waitForStatus(tc, r.body.server.id, user.token, 'ACTIVE');

      // Flavor 42 is m1.nano: 1 vCPU, 128 MiB; usage is summed from the five servers.
      const detail = await tc.request('GET', `/compute/v2.1/os-quota-sets/${user.projectId}/detail`, {
        token: tc.adminToken,
      });
      assert.equal(detail.status, 200, detail.text);
      assert.equal(detail.body.quota_set.instances.in_use, 5);
      assert.equal(detail.body.quota_set.cores.in_use, 5);
      assert.equal(detail.body.quota_set.ram.in_use, 5 * 128);

      for (const r of ok)
        await tc.request('DELETE', `/compute/v2.1/servers/${r.body.server.id}`, { token: user.token });
      for (const r of ok) await waitForStatus(tc, r.body.server.id, user.token, 'DELETED');
      const after = await tc.request('GET', `/compute/v2.1/os-quota-sets/${user.projectId}/detail`, {
        token: tc.adminToken,
      });
      assert.equal(after.body.quota_set.instances.in_use, 0);
      assert.equal(after.body.quota_set.ram.in_use, 0);
    });
  });
}
