// GET /allocation_candidates: resources, traits (required, forbidden, any-of), member_of, in_tree, granular
// groups with group_policy, limit, nested trees by version, sharing providers, and response shapes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';
import { claim, errorDetail, generationOf, makeProvider, type Pl, placement } from './helpers.ts';

let tc: TestCloud;
let pl: Pl;
before(async () => {
  tc = await startTestCloud();
  pl = placement(tc);
});
after(async () => {
  await tc.close();
});

const setTraits = async (rp: string, traits: string[]) =>
  pl('PUT', `/resource_providers/${rp}/traits`, {
    body: { traits, resource_provider_generation: await generationOf(pl, rp) },
  });
const setAggs = async (rp: string, aggregates: string[]) =>
  pl('PUT', `/resource_providers/${rp}/aggregates`, {
    body: { aggregates, resource_provider_generation: await generationOf(pl, rp) },
  });
/** The providers of each allocation request, restricted to `among`. */
async function candidates(qs: string, among: string[], mv?: string): Promise<string[][]> {
  const res = await pl('GET', `/allocation_candidates?${qs}`, mv ? { mv } : {});
  assert.equal(res.status, 200, res.text);
  return res.body.allocation_requests
    .map((ar: { allocations: Record<string, unknown> }) => Object.keys(ar.allocations).sort())
    .filter((rps: string[]) => rps.every((r) => among.includes(r)));
}

describe('allocation candidates', () => {
  it('finds providers with capacity and summarises them', async () => {
    await pl('PUT', '/resource_classes/CUSTOM_AC1');
    const a = await makeProvider(pl, { inventory: { CUSTOM_AC1: { total: 4 }, MEMORY_MB: { total: 1024 } } });
    const b = await makeProvider(pl, { inventory: { CUSTOM_AC1: { total: 1 } } });
    await claim(pl, randomUUID(), { [a]: { CUSTOM_AC1: 1 } });
    const res = await pl('GET', '/allocation_candidates?resources=CUSTOM_AC1:2');
    assert.deepEqual(res.body.allocation_requests, [
      { allocations: { [a]: { resources: { CUSTOM_AC1: 2 } } }, mappings: { '': [a] } },
    ]);
    assert.deepEqual(res.body.provider_summaries[a], {
      resources: { CUSTOM_AC1: { capacity: 4, used: 1 }, MEMORY_MB: { capacity: 1024, used: 0 } },
      traits: [],
      parent_provider_uuid: null,
      root_provider_uuid: a,
    });
    assert.equal(res.body.provider_summaries[b], undefined);
    // Before 1.27 only requested classes are summarised; before 1.12 requests are lists.
    const v25 = await pl('GET', '/allocation_candidates?resources=CUSTOM_AC1:2', { mv: '1.25' });
    assert.deepEqual(Object.keys(v25.body.provider_summaries[a].resources), ['CUSTOM_AC1']);
    const v10 = await pl('GET', '/allocation_candidates?resources=CUSTOM_AC1:2', { mv: '1.10' });
    assert.deepEqual(v10.body.allocation_requests, [
      { allocations: [{ resource_provider: { uuid: a }, resources: { CUSTOM_AC1: 2 } }] },
    ]);
    assert.equal(v10.body.provider_summaries[a].traits, undefined);
    assert.equal(
      (await pl('GET', '/allocation_candidates?resources=CUSTOM_AC1:2', { mv: '1.9' })).status,
      404,
    );
  });

  it('filters by required, forbidden and any-of traits', async () => {
    await pl('PUT', '/resource_classes/CUSTOM_AC2');
    const fast = await makeProvider(pl, { inventory: { CUSTOM_AC2: { total: 4 } } });
    const slow = await makeProvider(pl, { inventory: { CUSTOM_AC2: { total: 4 } } });
    await setTraits(fast, ['HW_CPU_X86_AVX2']);
    await setTraits(slow, ['HW_CPU_X86_SSE']);
    const among = [fast, slow];
    assert.deepEqual(await candidates('resources=CUSTOM_AC2:1&required=HW_CPU_X86_AVX2', among), [[fast]]);
    assert.deepEqual(await candidates('resources=CUSTOM_AC2:1&required=!HW_CPU_X86_AVX2', among), [[slow]]);
    const any = await candidates('resources=CUSTOM_AC2:1&required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE', among);
    assert.equal(any.length, 2);
    const early = await pl(
      'GET',
      '/allocation_candidates?resources=CUSTOM_AC2:1&required=in:HW_CPU_X86_AVX2',
      { mv: '1.38' },
    );
    assert.equal(early.status, 400);
    const conflict = await pl(
      'GET',
      '/allocation_candidates?resources=CUSTOM_AC2:1&required=HW_CPU_X86_AVX2,!HW_CPU_X86_AVX2',
    );
    assert.equal(conflict.status, 400);
    assert.match(errorDetail(conflict), /Conflicting required and forbidden traits/);
    const unknown = await pl('GET', '/allocation_candidates?resources=CUSTOM_AC2:1&required=CUSTOM_NOPE');
    assert.equal(unknown.status, 400);
    assert.equal(errorDetail(unknown), 'No such trait(s): CUSTOM_NOPE.');
  });

  it('filters by member_of (in:, !) and in_tree', async () => {
    await pl('PUT', '/resource_classes/CUSTOM_AC3');
    const agg = randomUUID();
    const a = await makeProvider(pl, { inventory: { CUSTOM_AC3: { total: 4 } } });
    const b = await makeProvider(pl, { inventory: { CUSTOM_AC3: { total: 4 } } });
    await setAggs(a, [agg]);
    assert.deepEqual(await candidates(`resources=CUSTOM_AC3:1&member_of=${agg}`, [a, b]), [[a]]);
    assert.deepEqual(await candidates(`resources=CUSTOM_AC3:1&member_of=in:${agg},${randomUUID()}`, [a, b]), [
      [a],
    ]);
    assert.deepEqual(await candidates(`resources=CUSTOM_AC3:1&member_of=!${agg}`, [a, b]), [[b]]);
    assert.deepEqual(await candidates(`resources=CUSTOM_AC3:1&in_tree=${b}`, [a, b]), [[b]]);
  });

  it('spreads the unnumbered group over a tree from 1.29 and not before', async () => {
    await pl('PUT', '/resource_classes/CUSTOM_AC4');
    const root = await makeProvider(pl, { inventory: { CUSTOM_AC4: { total: 4 } } });
    const child = await makeProvider(pl, { parent: root, inventory: { SRIOV_NET_VF: { total: 8 } } });
    const qs = 'resources=CUSTOM_AC4:1,SRIOV_NET_VF:1';
    assert.deepEqual(await candidates(qs, [root, child]), [[child, root].sort()]);
    assert.deepEqual(await candidates(qs, [root, child], '1.28'), []);
    const res = await pl('GET', `/allocation_candidates?${qs}`);
    assert.equal(res.body.provider_summaries[child].parent_provider_uuid, root);
  });

  it('satisfies granular groups with group_policy isolate/none and maps suffixes', async () => {
    await pl('PUT', '/resource_classes/CUSTOM_AC5');
    const root = await makeProvider(pl, { inventory: { CUSTOM_AC5: { total: 4 } } });
    const pf1 = await makeProvider(pl, { parent: root, inventory: { SRIOV_NET_VF: { total: 4 } } });
    const pf2 = await makeProvider(pl, { parent: root, inventory: { SRIOV_NET_VF: { total: 4 } } });
    await pl('PUT', '/traits/CUSTOM_PHYSNET_A');
    await setTraits(pf1, ['CUSTOM_PHYSNET_A']);
    const among = [root, pf1, pf2];
    const base = 'resources=CUSTOM_AC5:1&resources_NET1=SRIOV_NET_VF:1&resources_NET2=SRIOV_NET_VF:1';
    const missing = await pl('GET', `/allocation_candidates?${base}`);
    assert.equal(missing.status, 400);
    assert.match(errorDetail(missing), /"group_policy" parameter is required/);
    const isolate = await candidates(`${base}&group_policy=isolate`, among);
    assert.equal(isolate.length, 2);
    for (const rps of isolate) assert.deepEqual(rps, [root, pf1, pf2].sort());
    const none = await candidates(`${base}&group_policy=none`, among);
    assert.equal(none.length, 4);
    const res = await pl(
      'GET',
      `/allocation_candidates?resources=CUSTOM_AC5:1&resources1=SRIOV_NET_VF:1&required1=CUSTOM_PHYSNET_A`,
    );
    const mine = res.body.allocation_requests.filter(
      (ar: { allocations: Record<string, unknown> }) => root in ar.allocations,
    );
    assert.equal(mine.length, 1);
    assert.deepEqual(mine[0].mappings, { '': [root], '1': [pf1] });
  });

  it('uses a sharing provider in the same aggregate', async () => {
    await pl('PUT', '/resource_classes/CUSTOM_AC6');
    await pl('PUT', '/resource_classes/CUSTOM_SHARED_DISK');
    const agg = randomUUID();
    const compute = await makeProvider(pl, { inventory: { CUSTOM_AC6: { total: 4 } } });
    const storage = await makeProvider(pl, { inventory: { CUSTOM_SHARED_DISK: { total: 100 } } });
    await setAggs(compute, [agg]);
    await setAggs(storage, [agg]);
    await setTraits(storage, ['MISC_SHARES_VIA_AGGREGATE']);
    const found = await candidates('resources=CUSTOM_AC6:1,CUSTOM_SHARED_DISK:10', [compute, storage]);
    assert.deepEqual(found, [[compute, storage].sort()]);
  });

  it('honours limit and validates the query', async () => {
    await pl('PUT', '/resource_classes/CUSTOM_AC7');
    for (let i = 0; i < 3; i++) await makeProvider(pl, { inventory: { CUSTOM_AC7: { total: 1 } } });
    const res = await pl('GET', '/allocation_candidates?resources=CUSTOM_AC7:1&limit=2');
    assert.equal(res.body.allocation_requests.length, 2);
    assert.equal(Object.keys(res.body.provider_summaries).length, 2);
    assert.equal((await pl('GET', '/allocation_candidates?resources=CUSTOM_AC7:1&limit=0')).status, 400);
    assert.equal((await pl('GET', '/allocation_candidates?resources=VCPU:0')).status, 400);
    assert.equal((await pl('GET', '/allocation_candidates?resources=NOPE:1')).status, 400);
    const none = await pl('GET', '/allocation_candidates', { mv: '1.24' });
    assert.equal(none.status, 400);
    assert.match(errorDetail(none), /'resources' is a required property/);
  });

  it('answers with 100 providers (the scheduler case) with every fitting host', async () => {
    await pl('PUT', '/resource_classes/CUSTOM_AC8');
    const made: string[] = [];
    for (let i = 0; i < 100; i++) {
      made.push(
        await makeProvider(pl, { inventory: { CUSTOM_AC8: { total: 16 }, CUSTOM_AC7: { total: 1 } } }),
      );
    }
    for (let i = 0; i < 20; i++) {
      const res = await pl('GET', '/allocation_candidates?resources=CUSTOM_AC8:2&limit=1000');
      assert.equal(res.status, 200);
      assert.equal(res.body.allocation_requests.length, 100);
    }
  });
});
