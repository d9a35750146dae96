// PlacementClient against the in-process cloud: providers, inventory with generation retries, traits,
// aggregates, allocation candidates, claims (true/false), moves, deletes and usages.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PlacementClient } from '../../../src/clients/placement.ts';
import { isApiError } from '../../../src/platform/errors.ts';
import { inProcessTransport } from '../../../src/platform/transport.ts';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';

let tc: TestCloud;
let client: PlacementClient;
before(async () => {
  tc = await startTestCloud();
  client = new PlacementClient(
    inProcessTransport(() => tc.cloud.app),
    async () => tc.adminToken,
  );
});
after(async () => {
  await tc.close();
});

describe('PlacementClient', () => {
  it('ensures providers idempotently and sets inventory, traits and aggregates', async () => {
    const uuid = randomUUID();
    const rp = await client.ensureProvider({ uuid, name: `node-${uuid}` });
    assert.equal(rp.uuid, uuid);
    assert.equal((await client.ensureProvider({ uuid, name: `node-${uuid}` })).uuid, uuid);
    const child = randomUUID();
    const c = await client.ensureProvider({ uuid: child, name: `numa-${child}`, parentUuid: uuid });
    assert.equal(c.root_provider_uuid, uuid);
    await client.setInventory(uuid, { VCPU: { total: 4, allocation_ratio: 2 }, MEMORY_MB: { total: 2048 } });
    await client.setInventory(uuid, { VCPU: { total: 8 }, MEMORY_MB: { total: 2048 } });
    await client.setTraits(uuid, ['COMPUTE_STATUS_DISABLED', 'CUSTOM_CLIENT_TRAIT']);
    const agg = randomUUID();
    await client.setAggregates(uuid, [agg]);
    const got = await client.getProvider(uuid);
    assert.ok(got && got.generation >= 4);
    assert.equal(await client.getProvider(randomUUID()), undefined);

    const cands = await client.getAllocationCandidates({
      resources: { VCPU: 2, MEMORY_MB: 512 },
      required: ['CUSTOM_CLIENT_TRAIT'],
      forbidden: ['HW_CPU_X86_AVX512F'],
      memberOf: [[agg]],
      inTree: uuid,
      limit: 5,
    });
    assert.equal(cands.allocationRequests.length, 1);
    assert.deepEqual(cands.allocationRequests[0]!.allocations[uuid]!.resources, { VCPU: 2, MEMORY_MB: 512 });
    assert.equal(cands.providerSummaries[uuid]!.resources['VCPU']!.capacity, 8);
    await client.deleteProvider(child);
    await client.deleteProvider(child);
  });

  it('claims, refuses an oversubscribing claim, moves, reports usages and deletes', async () => {
    const uuid = randomUUID();
    await client.ensureProvider({ uuid, name: `node-${uuid}` });
    await client.setInventory(uuid, { VCPU: { total: 2 } });
    const project = `proj-${randomUUID()}`;
    const instance = randomUUID();
    const claim = (consumer: string, vcpus: number) =>
      client.claim(consumer, {
        allocations: { [uuid]: { resources: { VCPU: vcpus } } },
        projectId: project,
        userId: 'u',
        consumerGeneration: null,
      });
    assert.equal(await claim(instance, 2), true);
    assert.equal(await claim(randomUUID(), 1), false);
    assert.deepEqual(await client.usages(project), { VCPU: 2 });
    const migration = randomUUID();
    assert.equal(await client.moveAllocations(instance, migration), true);
    assert.deepEqual((await client.getAllocations(instance)).allocations, {});
    const moved = await client.getAllocations(migration);
    assert.deepEqual(moved.allocations[uuid]!.resources, { VCPU: 2 });
    assert.equal(moved.consumer_type, 'MIGRATION');
    assert.equal(await client.moveAllocations(instance, migration), false);
    await client.deleteAllocations(migration);
    await client.deleteAllocations(migration);
    assert.deepEqual(await client.usages(project), {});
  });

  it('throws ApiError with Placement’s status and detail', async () => {
    await assert.rejects(
      client.setInventory(randomUUID(), { VCPU: { total: 1 } }),
      (err: unknown) => isApiError(err) && err.status === 404 && /No resource provider/.test(err.message),
    );
    const uuid = randomUUID();
    await client.ensureProvider({ uuid, name: `node-${uuid}` });
    await assert.rejects(
      client.setInventory(uuid, { NOT_A_CLASS: { total: 1 } }),
      (err: unknown) =>
        isApiError(err) && err.status === 400 && /No such resource class NOT_A_CLASS/.test(err.message),
    );
  });

  it('deletes a provider with its consumers’ allocations (cascade)', async () => {
    const uuid = randomUUID();
    await client.ensureProvider({ uuid, name: `node-${uuid}` });
    await client.setInventory(uuid, { VCPU: { total: 2 } });
    const consumer = randomUUID();
    await client.claim(consumer, {
      allocations: { [uuid]: { resources: { VCPU: 1 } } },
      projectId: 'p',
      userId: 'u',
      consumerGeneration: null,
    });
    await client.deleteResourceProvider(uuid);
    assert.equal(await client.getProvider(uuid), undefined);
    assert.deepEqual((await client.getAllocations(consumer)).allocations, {});
  });
});
