// Racing claims on every database dialect: concurrent PUT /allocations for the last units of a provider must
// never oversubscribe it (exactly the capacity succeeds), and racing generation-guarded writes admit one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';
import { skipFor, TEST_DIALECTS } from '../../support/databases.ts';
import { claim, errorCode, makeProvider, type Pl, placement } from './helpers.ts';

for (const d of TEST_DIALECTS) {
  describe(`placement claim races: ${d.name}`, { skip: skipFor(d) }, () => {
    let tc: TestCloud;
    let pl: Pl;
    before(async () => {
      tc = await startTestCloud({ database: { url: await d.freshUrl() } });
      pl = placement(tc);
    });
    after(async () => {
      await tc?.close();
    });

    it('20 concurrent claims of 1 VCPU on a 5 VCPU provider: exactly 5 succeed', async () => {
      const rp = await makeProvider(pl, { inventory: { VCPU: { total: 5 }, MEMORY_MB: { total: 4096 } } });
      const results = await Promise.all(
        Array.from({ length: 20 }, () => claim(pl, randomUUID(), { [rp]: { VCPU: 1, MEMORY_MB: 64 } })),
      );
      const statuses = results.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 204).length, 5, JSON.stringify(statuses));
      assert.equal(statuses.filter((s) => s === 409).length, 15, JSON.stringify(statuses));
      const usages = await pl('GET', `/resource_providers/${rp}/usages`);
      assert.deepEqual(usages.body.usages, { VCPU: 5, MEMORY_MB: 320 });
      const allocs = await pl('GET', `/resource_providers/${rp}/allocations`);
      assert.equal(Object.keys(allocs.body.allocations).length, 5);
    });

    it('claims racing across two providers never oversubscribe either', async () => {
      const a = await makeProvider(pl, { inventory: { VCPU: { total: 3 } } });
      const b = await makeProvider(pl, { inventory: { VCPU: { total: 3 } } });
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          claim(
            pl,
            randomUUID(),
            i % 2 === 0 ? { [a]: { VCPU: 1 }, [b]: { VCPU: 1 } } : { [b]: { VCPU: 1 } },
          ),
        ),
      );
      assert.ok(results.every((r) => r.status === 204 || r.status === 409));
      for (const rp of [a, b]) {
        const u = await pl('GET', `/resource_providers/${rp}/usages`);
        assert.ok(u.body.usages.VCPU <= 3, `${rp} used ${u.body.usages.VCPU}`);
      }
      const ub = await pl('GET', `/resource_providers/${b}/usages`);
      assert.equal(ub.body.usages.VCPU, 3);
    });

    it('racing inventory writes with the same generation: one wins, the rest get concurrent_update', async () => {
      const rp = await makeProvider(pl);
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          pl('PUT', `/resource_providers/${rp}/inventories`, {
            body: { resource_provider_generation: 0, inventories: { VCPU: { total: i + 1 } } },
          }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      for (const r of results.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 409);
        assert.equal(errorCode(r), 'placement.concurrent_update');
      }
    });
  });
}
