// Placement allocations: every body format by microversion, consumer generations, capacity and unit checks,
// moving allocations between consumers with POST /allocations, provider allocations, delete, reshaper.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';
import { claim, errorCode, errorDetail, generationOf, makeProvider, type Pl, placement } from './helpers.ts';

let tc: TestCloud;
let pl: Pl;
before(async () => {
  tc = await startTestCloud();
  pl = placement(tc);
});
after(async () => {
  await tc.close();
});

describe('allocation formats', () => {
  it('accepts the list form before 1.12 and shows project/user from 1.12', async () => {
    const rp = await makeProvider(pl, { inventory: { VCPU: { total: 8 } } });
    const c = randomUUID();
    const put = await pl('PUT', `/allocations/${c}`, {
      mv: '1.8',
      body: {
        allocations: [{ resource_provider: { uuid: rp }, resources: { VCPU: 2 } }],
        project_id: 'p-old',
        user_id: 'u-old',
      },
    });
    assert.equal(put.status, 204, put.text);
    const v10 = await pl('GET', `/allocations/${c}`, { mv: '1.0' });
    assert.deepEqual(v10.body, {
      allocations: { [rp]: { generation: await generationOf(pl, rp), resources: { VCPU: 2 } } },
    });
    const v12 = await pl('GET', `/allocations/${c}`, { mv: '1.12' });
    assert.equal(v12.body.project_id, 'p-old');
    assert.equal(v12.body.user_id, 'u-old');
    assert.equal(v12.body.consumer_generation, undefined);
    const v28 = await pl('GET', `/allocations/${c}`, { mv: '1.28' });
    assert.equal(v28.body.consumer_generation, 1);
    const v38 = await pl('GET', `/allocations/${c}`, { mv: '1.38' });
    assert.equal(v38.body.consumer_type, 'unknown');
  });

  it('returns an empty allocations object for an unknown consumer', async () => {
    const res = await pl('GET', `/allocations/${randomUUID()}`);
    assert.deepEqual(res.body, { allocations: {} });
  });

  it('requires consumer_type at 1.38 and rejects malformed consumer uuids', async () => {
    const rp = await makeProvider(pl, { inventory: { VCPU: { total: 8 } } });
    const body = {
      allocations: { [rp]: { resources: { VCPU: 1 } } },
      project_id: 'p',
      user_id: 'u',
      consumer_generation: null,
    };
    const noType = await pl('PUT', `/allocations/${randomUUID()}`, { body, mv: '1.38' });
    assert.equal(noType.status, 400);
    assert.match(errorDetail(noType), /'consumer_type' is a required property/);
    const bad = await pl('PUT', '/allocations/not-a-uuid', { body, mv: '1.36' });
    assert.equal(bad.status, 400);
    assert.equal(errorDetail(bad), 'Malformed consumer_uuid: not-a-uuid');
  });
});

describe('consumer generations', () => {
  it('checks the generation from 1.28 and frees allocations with an empty PUT', async () => {
    const rp = await makeProvider(pl, { inventory: { VCPU: { total: 8 } } });
    const c = randomUUID();
    assert.equal((await claim(pl, c, { [rp]: { VCPU: 1 } })).status, 204);
    const again = await claim(pl, c, { [rp]: { VCPU: 2 } }, { generation: null });
    assert.equal(again.status, 409);
    assert.equal(errorCode(again), 'placement.concurrent_update');
    assert.equal(errorDetail(again), 'consumer generation conflict - expected 1 but got None');
    assert.equal((await claim(pl, c, { [rp]: { VCPU: 2 } }, { generation: 1 })).status, 204);
    const got = await pl('GET', `/allocations/${c}`);
    assert.equal(got.body.consumer_generation, 2);
    assert.deepEqual(got.body.allocations[rp].resources, { VCPU: 2 });
    const wrongNew = await claim(pl, randomUUID(), { [rp]: { VCPU: 1 } }, { generation: 3 });
    assert.equal(wrongNew.status, 409);
    assert.equal(errorDetail(wrongNew), 'consumer generation conflict - expected null but got 3');
    const empty = await pl('PUT', `/allocations/${c}`, {
      body: { allocations: {}, project_id: 'p1', user_id: 'u1', consumer_generation: 2 },
      mv: '1.28',
    });
    assert.equal(empty.status, 204);
    assert.deepEqual((await pl('GET', `/allocations/${c}`)).body, { allocations: {} });
  });
});

describe('capacity', () => {
  it('enforces (total - reserved) * ratio, min_unit, max_unit and step_size', async () => {
    const rp = await makeProvider(pl, {
      inventory: {
        VCPU: { total: 4, reserved: 1, allocation_ratio: 2 },
        DISK_GB: { total: 100, min_unit: 10, max_unit: 50, step_size: 5 },
      },
    });
    assert.equal((await claim(pl, randomUUID(), { [rp]: { VCPU: 6 } })).status, 204);
    const over = await claim(pl, randomUUID(), { [rp]: { VCPU: 1 } });
    assert.equal(over.status, 409);
    assert.match(errorDetail(over), /The requested amount would exceed the capacity\./);
    for (const amount of [5, 55, 12]) {
      const res = await claim(pl, randomUUID(), { [rp]: { DISK_GB: amount } });
      assert.equal(res.status, 409, `DISK_GB:${amount}`);
      assert.match(errorDetail(res), /would violate inventory constraints/);
    }
    assert.equal((await claim(pl, randomUUID(), { [rp]: { DISK_GB: 15 } })).status, 204);
    const noInv = await claim(pl, randomUUID(), { [rp]: { MEMORY_MB: 1 } });
    assert.equal(noInv.status, 409);
    const noRp = await claim(pl, randomUUID(), { [randomUUID()]: { VCPU: 1 } });
    assert.equal(noRp.status, 400);
    assert.match(errorDetail(noRp), /Allocation for resource provider '.*' that does not exist\./);
  });

  it('bumps the provider generation on every allocation write', async () => {
    const rp = await makeProvider(pl, { inventory: { VCPU: { total: 4 } } });
    const before = await generationOf(pl, rp);
    await claim(pl, randomUUID(), { [rp]: { VCPU: 1 } });
    assert.equal(await generationOf(pl, rp), before + 1);
  });
});

describe('POST /allocations', () => {
  it('moves allocations from an instance to a migration consumer atomically', async () => {
    const src = await makeProvider(pl, { inventory: { VCPU: { total: 4 } } });
    const instance = randomUUID();
    const migration = randomUUID();
    await claim(pl, instance, { [src]: { VCPU: 4 } });
    const res = await pl('POST', '/allocations', {
      mv: '1.28',
      body: {
        [migration]: {
          allocations: { [src]: { resources: { VCPU: 4 } } },
          project_id: 'p1',
          user_id: 'u1',
          consumer_generation: null,
        },
        [instance]: { allocations: {}, project_id: 'p1', user_id: 'u1', consumer_generation: 1 },
      },
    });
    assert.equal(res.status, 204, res.text);
    assert.deepEqual((await pl('GET', `/allocations/${instance}`)).body.allocations, {});
    assert.deepEqual((await pl('GET', `/allocations/${migration}`)).body.allocations[src].resources, {
      VCPU: 4,
    });
    const byRp = await pl('GET', `/resource_providers/${src}/allocations`);
    assert.deepEqual(Object.keys(byRp.body.allocations), [migration]);
    assert.equal(byRp.body.allocations[migration].consumer_generation, 1);
    assert.equal((await pl('POST', '/allocations', { mv: '1.12', body: {} })).status, 404);
  });

  it('rolls back every consumer when one fails', async () => {
    const rp = await makeProvider(pl, { inventory: { VCPU: { total: 2 } } });
    const a = randomUUID();
    const res = await pl('POST', '/allocations', {
      mv: '1.28',
      body: {
        [a]: {
          allocations: { [rp]: { resources: { VCPU: 1 } } },
          project_id: 'p',
          user_id: 'u',
          consumer_generation: null,
        },
        [randomUUID()]: {
          allocations: { [rp]: { resources: { VCPU: 2 } } },
          project_id: 'p',
          user_id: 'u',
          consumer_generation: null,
        },
      },
    });
    assert.equal(res.status, 409);
    assert.deepEqual((await pl('GET', `/allocations/${a}`)).body.allocations, {});
  });
});

describe('DELETE /allocations', () => {
  it('deletes and 404s when there is nothing', async () => {
    const rp = await makeProvider(pl, { inventory: { VCPU: { total: 2 } } });
    const c = randomUUID();
    await claim(pl, c, { [rp]: { VCPU: 1 } });
    assert.equal((await pl('DELETE', `/allocations/${c}`)).status, 204);
    const again = await pl('DELETE', `/allocations/${c}`);
    assert.equal(again.status, 404);
    assert.equal(errorDetail(again), `No allocations for consumer '${c}'`);
  });
});

describe('reshaper', () => {
  it('moves inventory and allocations to a child provider in one call', async () => {
    const root = await makeProvider(pl, { inventory: { VCPU: { total: 4 }, SRIOV_NET_VF: { total: 2 } } });
    const child = await makeProvider(pl, { parent: root });
    const c = randomUUID();
    await claim(pl, c, { [root]: { VCPU: 1, SRIOV_NET_VF: 1 } });
    const res = await pl('POST', '/reshaper', {
      mv: '1.30',
      body: {
        inventories: {
          [root]: {
            resource_provider_generation: await generationOf(pl, root),
            inventories: { VCPU: { total: 4 } },
          },
          [child]: {
            resource_provider_generation: await generationOf(pl, child),
            inventories: { SRIOV_NET_VF: { total: 2 } },
          },
        },
        allocations: {
          [c]: {
            allocations: { [root]: { resources: { VCPU: 1 } }, [child]: { resources: { SRIOV_NET_VF: 1 } } },
            project_id: 'p1',
            user_id: 'u1',
            consumer_generation: 1,
          },
        },
      },
    });
    assert.equal(res.status, 204, res.text);
    const rootInv = await pl('GET', `/resource_providers/${root}/inventories`);
    assert.deepEqual(Object.keys(rootInv.body.inventories), ['VCPU']);
    const got = await pl('GET', `/allocations/${c}`);
    assert.deepEqual(got.body.allocations[child].resources, { SRIOV_NET_VF: 1 });
    assert.equal((await pl('POST', '/reshaper', { mv: '1.29', body: {} })).status, 404);
  });
});
