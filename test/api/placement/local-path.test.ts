// Placement's in-process local path against its HTTP API: the same allocation candidates and summaries (fast
// and general search), the same claim and delete outcomes, errors, generations, consumers and feed events, and
// racing claims for the last unit where exactly one wins.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type CandidateQuery, PlacementClient } from '../../../src/clients/placement.ts';
import { isApiError } from '../../../src/platform/errors.ts';
import { inProcessTransport } from '../../../src/platform/transport.ts';
import type { PlacementLocal } from '../../../src/services/placement/local.ts';
import { startTestCloud, type TestCloud, type TestResponse } from '../../support/cloud.ts';
import { skipFor, TEST_DIALECTS } from '../../support/databases.ts';
import { generationOf, makeProvider, type Pl, placement } from './helpers.ts';

let tc: TestCloud;
let pl: Pl;
let local: PlacementLocal;
let httpClient: PlacementClient;
let localClient: PlacementClient;

/** A query string as the HTTP layer hands it to handlers: a repeated key becomes an array. */
function queryMap(qs: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(qs)) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

type Outcome = { status: number; body?: unknown; code?: string; detail?: string };

function httpOutcome(res: TestResponse, ok: number): Outcome {
  if (res.status === ok) return ok === 204 ? { status: 204 } : { status: ok, body: res.body };
  const e = res.body?.errors?.[0];
  return { status: res.status, code: e?.code, detail: e?.detail };
}

async function localOutcome(fn: () => Promise<unknown>, ok: number): Promise<Outcome> {
  try {
    const body = await fn();
    return ok === 204 ? { status: 204 } : { status: ok, body };
  } catch (err) {
    if (!isApiError(err)) throw err;
    return { status: err.status, code: err.code, detail: err.message };
  }
}

/** GET /allocation_candidates over HTTP and locally: identical outcomes (key order included). */
async function sameCandidates(qs: string, mv = '1.39'): Promise<Outcome> {
  const http = httpOutcome(await pl('GET', `/allocation_candidates?${qs}`, { mv }), 200);
  const mine = await localOutcome(() => local.allocationCandidates(queryMap(qs), mv), 200);
  assert.deepEqual(mine, http, `${qs} at ${mv}`);
  assert.equal(JSON.stringify(mine), JSON.stringify(http), `${qs} at ${mv}: key order`);
  return mine;
}

const setTraits = async (rp: string, traits: string[]) => {
  const res = await pl('PUT', `/resource_providers/${rp}/traits`, {
    body: { traits, resource_provider_generation: await generationOf(pl, rp) },
  });
  assert.equal(res.status, 200, res.text);
};
const setAggs = async (rp: string, aggregates: string[]) => {
  const res = await pl('PUT', `/resource_providers/${rp}/aggregates`, {
    body: { aggregates, resource_provider_generation: await generationOf(pl, rp) },
  });
  assert.equal(res.status, 200, res.text);
};
const body = (rp: string, resources: Record<string, number>, generation: number | null = null) => ({
  allocations: { [rp]: { resources } },
  project_id: 'proj-local',
  user_id: 'user-local',
  consumer_generation: generation,
  consumer_type: 'INSTANCE',
});

const claimOf = (rp: string) => ({
  allocations: { [rp]: { resources: { VCPU: 3 } } },
  projectId: 'proj-local',
  userId: 'user-local',
});

for (const d of TEST_DIALECTS) {
  describe(`placement local path: ${d.name}`, { skip: skipFor(d) }, () => {
    before(async () => {
      tc = await startTestCloud({ database: { url: await d.freshUrl() } });
      pl = placement(tc);
      local = tc.cloud.placement.local;
      const transport = inProcessTransport(() => tc.cloud.app);
      httpClient = new PlacementClient(transport, async () => tc.adminToken);
      localClient = new PlacementClient(transport, async () => tc.adminToken, { local });
    });
    after(async () => {
      await tc?.close();
    });

    describe('allocation candidates', () => {
      const aggA = randomUUID();
      const aggB = randomUUID();
      let c1: string;
      let c3: string;
      const queries = (): string[] => [
        'resources=VCPU:1,MEMORY_MB:512',
        'resources=VCPU:1,MEMORY_MB:512,DISK_GB:10&limit=2',
        'resources=VCPU:2,MEMORY_MB:256&limit=1000',
        'resources=VCPU:7',
        'resources=VCPU:2&required=HW_CPU_X86_AVX2',
        'resources=VCPU:1&required=!COMPUTE_STATUS_DISABLED',
        'resources=VCPU:1&required=in:CUSTOM_LOCAL_PATH,COMPUTE_STATUS_DISABLED',
        `resources=VCPU:1&member_of=in:${aggA},${aggB}`,
        `resources=VCPU:1&member_of=${aggA}&member_of=!${aggB}`,
        `resources=VCPU:1&in_tree=${c3}`,
        'resources1=VCPU:1&resources2=MEMORY_MB:512&group_policy=isolate',
        'resources=MEMORY_MB:256&resources1=VCPU:1&group_policy=none',
        'resources=CUSTOM_LOCAL_RC:1',
        'resources=VCPU:1&root_required=CUSTOM_LOCAL_PATH',
        'resources=DISK_GB:20',
        // Errors: each path must give the same status, code and detail.
        'resources=NOT_A_CLASS:1',
        'resources=VCPU:0',
        'resources=VCPU:1&required=CUSTOM_NO_SUCH_TRAIT',
        'limit=3',
        'resources=VCPU:1&limit=0',
        'resources=VCPU:1&bogus=1',
        'resources1=VCPU:1&resources2=VCPU:1',
        'resources=',
      ];

      before(async () => {
        assert.equal((await pl('PUT', '/traits/CUSTOM_LOCAL_PATH')).status, 201);
        assert.equal((await pl('PUT', '/resource_classes/CUSTOM_LOCAL_RC')).status, 201);
        c1 = await makeProvider(pl, {
          inventory: {
            VCPU: { total: 8 },
            MEMORY_MB: { total: 4096, reserved: 512 },
            DISK_GB: { total: 100, max_unit: 50 },
            CUSTOM_LOCAL_RC: { total: 2 },
          },
        });
        const c2 = await makeProvider(pl, {
          inventory: {
            VCPU: { total: 4, allocation_ratio: 2 },
            MEMORY_MB: { total: 2048 },
            DISK_GB: { total: 40, step_size: 10 },
          },
        });
        c3 = await makeProvider(pl, { inventory: { VCPU: { total: 16 }, MEMORY_MB: { total: 8192 } } });
        await makeProvider(pl, { parent: c3, inventory: { VCPU: { total: 4 }, MEMORY_MB: { total: 1024 } } });
        const full = await makeProvider(pl, { inventory: { VCPU: { total: 1 }, MEMORY_MB: { total: 512 } } });
        await setTraits(c1, ['HW_CPU_X86_AVX2', 'CUSTOM_LOCAL_PATH']);
        await setTraits(c2, ['COMPUTE_STATUS_DISABLED']);
        await setAggs(c1, [aggA]);
        await setAggs(c2, [aggB]);
        await setAggs(c3, [aggA, aggB]);
        for (const [rp, r] of [
          [c1, { VCPU: 3, MEMORY_MB: 1024 }],
          [c2, { VCPU: 1, DISK_GB: 10 }],
          [full, { VCPU: 1 }],
        ] as const) {
          const res = await pl('PUT', `/allocations/${randomUUID()}`, { body: body(rp, r) });
          assert.equal(res.status, 204, res.text);
        }
      });

      it('gives the HTTP bodies and errors, single-provider trees on the fast path', async () => {
        const first = await sameCandidates(queries()[0]!);
        const found = (first.body as { allocation_requests: unknown[] }).allocation_requests;
        assert.ok(found.length >= 4, 'the comparison covers real candidates');
        for (const qs of queries()) await sameCandidates(qs);
        for (const mv of ['1.10', '1.12', '1.25', '1.29', '1.33']) {
          await sameCandidates('resources=VCPU:1,MEMORY_MB:512', mv);
          await sameCandidates('resources=VCPU:1&required=HW_CPU_X86_AVX2', mv);
        }
        // Below 1.10 the route does not exist; an unknown version is refused.
        assert.equal((await sameCandidates('resources=VCPU:1', '1.9')).status, 404);
        assert.equal((await sameCandidates('resources=VCPU:1', '1.99')).status, 406);
      });

      it('gives the HTTP bodies with a sharing provider (the general search)', async () => {
        const shared = await makeProvider(pl, { inventory: { DISK_GB: { total: 1000 } } });
        await setTraits(shared, ['MISC_SHARES_VIA_AGGREGATE']);
        await setAggs(shared, [aggA]);
        const res = await sameCandidates('resources=VCPU:1,DISK_GB:200');
        const rps = (res.body as { allocation_requests: { allocations: object }[] }).allocation_requests.map(
          (ar) => Object.keys(ar.allocations),
        );
        assert.ok(
          rps.some((x) => x.includes(shared)),
          'the shared disk is offered',
        );
        for (const qs of queries()) await sameCandidates(qs);
      });

      it('PlacementClient answers the same with and without the local path', async () => {
        const qs: CandidateQuery[] = [
          { resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 0 }, limit: 1000 },
          { resources: { VCPU: 1 }, required: ['HW_CPU_X86_AVX2'], forbidden: ['COMPUTE_STATUS_DISABLED'] },
          { resources: { VCPU: 1 }, memberOf: [[aggA, aggB], [aggA]], inTree: c1, limit: 5 },
        ];
        for (const q of qs) {
          assert.deepEqual(
            await localClient.getAllocationCandidates(q),
            await httpClient.getAllocationCandidates(q),
          );
        }
        await assert.rejects(
          localClient.getAllocationCandidates({ resources: { NOT_A_CLASS: 1 } }),
          (err: unknown) =>
            isApiError(err) &&
            err.status === 400 &&
            err.code === 'placement.undefined_code' &&
            err.message ===
              'Invalid resource class in resources parameter: No such resource class NOT_A_CLASS.',
        );
      });
    });

    describe('claims and deletes', () => {
      /** Two providers alike, one for each path. */
      const twin = async (inventory: Record<string, Record<string, number>>) =>
        [await makeProvider(pl, { inventory }), await makeProvider(pl, { inventory })] as const;
      const allocationsOf = async (consumer: string, rp: string) => {
        const res = await pl('GET', `/allocations/${consumer}`);
        assert.equal(res.status, 200);
        // The provider uuid aside, the two paths' consumers must read the same.
        return JSON.parse(JSON.stringify(res.body).replaceAll(rp, 'RP'));
      };
      const feedSince = async (rev: number) =>
        (await tc.cloud.feed.read(rev))
          .filter((e) => e.service === 'placement')
          .map(({ kind, action, projectId, data }) => ({ kind, action, projectId, data }));

      it('writes the same consumers, generations, usages and feed events as PUT and DELETE', async () => {
        const [x, y] = await twin({ VCPU: { total: 4 }, MEMORY_MB: { total: 1024 } });
        const [cx, cy] = [randomUUID(), randomUUID()];
        const [gx, gy] = [await generationOf(pl, x), await generationOf(pl, y)];

        let rev = await tc.cloud.feed.head();
        const res = await pl('PUT', `/allocations/${cx}`, { body: body(x, { VCPU: 2, MEMORY_MB: 256 }) });
        assert.equal(res.status, 204, res.text);
        const httpEvents = await feedSince(rev);
        rev = await tc.cloud.feed.head();
        await local.putAllocations(cy, body(y, { VCPU: 2, MEMORY_MB: 256 }), '1.39');
        assert.deepEqual(await feedSince(rev), httpEvents);
        assert.equal(httpEvents.length, 1);
        assert.deepEqual(await allocationsOf(cy, y), await allocationsOf(cx, x));
        assert.equal(await generationOf(pl, y), gy + 1);
        assert.equal(await generationOf(pl, x), gx + 1);

        // A second write needs the consumer's generation; both paths then replace the allocations.
        const update = (rp: string) => body(rp, { VCPU: 1 }, 1);
        assert.equal((await pl('PUT', `/allocations/${cx}`, { body: update(x) })).status, 204);
        await local.putAllocations(cy, update(y), '1.39');
        assert.deepEqual(await allocationsOf(cy, y), await allocationsOf(cx, x));
        const usages = async (rp: string) => (await pl('GET', `/resource_providers/${rp}/usages`)).body;
        assert.deepEqual(await usages(y), await usages(x));
        assert.deepEqual((await usages(y)).usages, { VCPU: 1, MEMORY_MB: 0 });

        rev = await tc.cloud.feed.head();
        assert.equal((await pl('DELETE', `/allocations/${cx}`)).status, 204);
        const httpDelete = await feedSince(rev);
        rev = await tc.cloud.feed.head();
        await local.deleteAllocations(cy, '1.39');
        assert.deepEqual(await feedSince(rev), httpDelete);
        assert.deepEqual(await allocationsOf(cy, y), await allocationsOf(cx, x));
        assert.equal(await generationOf(pl, y), (await generationOf(pl, x)) - (gx - gy));

        // Deleting what is gone: the same 404 on both paths; the client takes it as done.
        const gone = randomUUID();
        const http404 = httpOutcome(await pl('DELETE', `/allocations/${gone}`), 204);
        assert.deepEqual(await localOutcome(() => local.deleteAllocations(gone, '1.39'), 204), http404);
        assert.equal(http404.status, 404);
        await localClient.deleteAllocations(gone);
      });

      it('refuses what PUT refuses, with the same status, code and detail', async () => {
        const [x] = await twin({ VCPU: { total: 2, max_unit: 2 }, MEMORY_MB: { total: 512 } });
        const taken = randomUUID();
        await local.putAllocations(taken, body(x, { VCPU: 1 }), '1.39');
        const cases: [string, unknown][] = [
          ['not-a-uuid', body(x, { VCPU: 1 })],
          [randomUUID(), { ...body(x, { VCPU: 1 }), consumer_type: undefined }],
          [randomUUID(), { ...body(x, { VCPU: 1 }), project_id: 42 }],
          [randomUUID(), body(x, { VCPU: 0 })],
          [randomUUID(), body(randomUUID(), { VCPU: 1 })],
          [randomUUID(), body(x, { DISK_GB: 1 })],
          [randomUUID(), body(x, { VCPU: 2 })],
          [randomUUID(), body(x, { VCPU: 3 })],
          [taken, body(x, { VCPU: 1 })],
          [taken, body(x, { VCPU: 1 }, 7)],
          [randomUUID(), body(x, { VCPU: 1 }, 3)],
        ];
        for (const [consumer, b] of cases) {
          const wire = JSON.parse(JSON.stringify(b));
          const http = httpOutcome(await pl('PUT', `/allocations/${consumer}`, { body: wire }), 204);
          const mine = await localOutcome(() => local.putAllocations(consumer, b, '1.39'), 204);
          assert.deepEqual(mine, http, `${consumer} ${JSON.stringify(b)}`);
          assert.notEqual(http.status, 204, `${JSON.stringify(b)} should fail`);
        }
        // A claim over capacity is a 409: false on both clients.
        const over = { allocations: { [x]: { resources: { VCPU: 2 } } }, projectId: 'p', userId: 'u' };
        assert.equal(await httpClient.claim(randomUUID(), { ...over, consumerGeneration: null }), false);
        assert.equal(await localClient.claim(randomUUID(), { ...over, consumerGeneration: null }), false);
        assert.deepEqual((await pl('GET', `/resource_providers/${x}/usages`)).body.usages, {
          VCPU: 1,
          MEMORY_MB: 0,
        });
        // Other errors are thrown as the HTTP client throws them.
        const bad = {
          allocations: { [randomUUID()]: { resources: { VCPU: 1 } } },
          projectId: 'p',
          userId: 'u',
        };
        const seen: unknown[] = [];
        for (const client of [httpClient, localClient]) {
          await client.claim(randomUUID(), { ...bad, consumerGeneration: null }).catch((e) => seen.push(e));
        }
        assert.equal(seen.length, 2);
        const [h, l] = seen.map((e) => (isApiError(e) ? [e.status, e.code, e.message] : e));
        assert.deepEqual(l, h);
      });

      it('racing claims for the last unit: exactly one wins', async () => {
        const [x] = await twin({ VCPU: { total: 1 }, MEMORY_MB: { total: 1024 } });
        const claim = (client: PlacementClient) =>
          client.claim(randomUUID(), {
            allocations: { [x]: { resources: { VCPU: 1, MEMORY_MB: 64 } } },
            projectId: 'p',
            userId: 'u',
            consumerGeneration: null,
          });
        const results = await Promise.all([claim(localClient), claim(localClient), claim(httpClient)]);
        assert.deepEqual(
          results.filter((r) => r),
          [true],
        );
        assert.deepEqual((await pl('GET', `/resource_providers/${x}/usages`)).body.usages, {
          VCPU: 1,
          MEMORY_MB: 64,
        });
      });

      it('racing first claims of one consumer: one wins, the other is a concurrent update', async () => {
        const [x] = await twin({ VCPU: { total: 8 } });
        const consumer = randomUUID();
        const outcomes = await Promise.all([
          localOutcome(() => local.putAllocations(consumer, body(x, { VCPU: 1 }), '1.39'), 204),
          localOutcome(() => local.putAllocations(consumer, body(x, { VCPU: 2 }), '1.39'), 204),
        ]);
        assert.deepEqual(outcomes.map((o) => o.status).sort(), [204, 409]);
        const lost = outcomes.find((o) => o.status === 409)!;
        assert.equal(lost.code, 'placement.concurrent_update');
        // Serialised (SQLite) the loser sees the winner's consumer; racing inserts (PostgreSQL) collide.
        assert.match(lost.detail!, /^consumer generation conflict - expected (1|null) but got None$/);
        // A stale write afterwards: the same error as HTTP gives it.
        const http = httpOutcome(
          await pl('PUT', `/allocations/${consumer}`, { body: body(x, { VCPU: 1 }) }),
          204,
        );
        const stale = await localOutcome(
          () => local.putAllocations(consumer, body(x, { VCPU: 1 }), '1.39'),
          204,
        );
        assert.deepEqual(stale, http);
        assert.equal(http.status, 409);
        const got = await pl('GET', `/allocations/${consumer}`);
        assert.equal(got.body.consumer_generation, 1);
        assert.equal(await localClient.claim(consumer, { ...claimOf(x), consumerGeneration: null }), false);
        assert.equal(await localClient.claim(consumer, { ...claimOf(x), consumerGeneration: 1 }), true);
      });
    });
  });
}
