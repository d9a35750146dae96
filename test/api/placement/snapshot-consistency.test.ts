// The in-memory snapshot placement searches is patched after each allocation write instead of reloaded: after a
// storm of concurrent claims, replacements and deletes, what allocation candidates report as used must equal the
// usages counted in the database.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';
import { skipFor, TEST_DIALECTS } from '../../support/databases.ts';
import { makeProvider, type Pl, placement } from './helpers.ts';

for (const d of TEST_DIALECTS) {
  describe(`placement snapshot stays consistent under concurrent writes: ${d.name}`, {
    skip: skipFor(d),
  }, () => {
    let tc: TestCloud;
    let pl: Pl;
    before(async () => {
      tc = await startTestCloud({ database: { url: await d.freshUrl() } });
      pl = placement(tc);
    });
    after(async () => {
      await tc?.close();
    });

    it('candidates report the database usages after 120 racing claims, moves and deletes', async () => {
      const rps: string[] = [];
      for (let i = 0; i < 4; i++)
        rps.push(
          await makeProvider(pl, { inventory: { VCPU: { total: 1000 }, MEMORY_MB: { total: 100000 } } }),
        );
      // Warm the snapshot so later writes patch it rather than load it fresh.
      assert.equal((await pl('GET', '/allocation_candidates?resources=VCPU:1')).status, 200);
      const consumers = Array.from({ length: 40 }, () => randomUUID());
      let seed = 7;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      // 40 consumers, each with a chain of 3 writes (claim, replace or delete); the chains run concurrently.
      const step = (c: string, kind: number) => {
        if (kind === 2) return pl('DELETE', `/allocations/${c}`);
        const rp = rps[rand(rps.length)]!;
        const resources = { VCPU: 1 + rand(3), MEMORY_MB: 64 * (1 + rand(4)) };
        // 1.27: no consumer generations, so a claim for a consumer with allocations replaces them.
        return pl('PUT', `/allocations/${c}`, {
          mv: '1.27',
          body: { allocations: { [rp]: { resources } }, project_id: 'p1', user_id: 'u1' },
        });
      };
      const plans = consumers.map((c, i) => ({ c, kinds: [i % 4 === 0 ? 2 : 0, rand(3), rand(3)] }));
      const statuses = (
        await Promise.all(
          plans.map(async ({ c, kinds }) => {
            const out: number[] = [];
            for (const k of kinds) out.push((await step(c, k)).status);
            return out;
          }),
        )
      ).flat();
      const done = statuses.filter((st) => st === 204).length;
      assert.ok(done >= 60, `most writes succeed (${done} of 120: ${statuses.join(' ')})`);
      assert.ok(
        statuses.every((st) => st === 204 || st === 404),
        statuses.join(' '),
      );

      const cands = await pl('GET', '/allocation_candidates?resources=VCPU:1', { mv: '1.39' });
      const listed = await pl('GET', '/resource_providers?resources=VCPU:1');
      assert.equal(listed.status, 200);
      assert.equal(cands.status, 200, JSON.stringify(cands.body));
      for (const rp of rps) {
        const usages = await pl('GET', `/resource_providers/${rp}/usages`);
        const summary = cands.body.provider_summaries[rp];
        assert.ok(summary, `provider ${rp} is a candidate`);
        assert.equal(summary.resources.VCPU.used, usages.body.usages.VCPU ?? 0, `VCPU used on ${rp}`);
        assert.equal(
          summary.resources.MEMORY_MB.used,
          usages.body.usages.MEMORY_MB ?? 0,
          `RAM used on ${rp}`,
        );
        const shown = await pl('GET', `/resource_providers/${rp}`);
        const inList = listed.body.resource_providers.find((p: { uuid: string }) => p.uuid === rp);
        if (inList) assert.equal(inList.generation, shown.body.generation, `generation of ${rp}`);
      }
    });
  });
}
