// Placement inventories, usages, resource classes, traits and aggregates: generation guards, validation,
// in-use conflicts and the version-dependent shapes.
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

describe('inventories', () => {
  it('replaces all inventory with defaults and bumps the generation', async () => {
    const rp = await makeProvider(pl);
    const res = await pl('PUT', `/resource_providers/${rp}/inventories`, {
      body: { resource_provider_generation: 0, inventories: { VCPU: { total: 8, allocation_ratio: 16 } } },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.resource_provider_generation, 1);
    assert.deepEqual(res.body.inventories.VCPU, {
      total: 8,
      reserved: 0,
      min_unit: 1,
      max_unit: 2147483647,
      step_size: 1,
      allocation_ratio: 16,
    });
    const stale = await pl('PUT', `/resource_providers/${rp}/inventories`, {
      body: { resource_provider_generation: 0, inventories: {} },
    });
    assert.equal(stale.status, 409);
    assert.equal(errorCode(stale), 'placement.concurrent_update');
  });

  it('creates, shows, updates and deletes one class', async () => {
    const rp = await makeProvider(pl);
    const created = await pl('POST', `/resource_providers/${rp}/inventories`, {
      body: { resource_class: 'DISK_GB', total: 100, reserved: 10 },
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers['location'], `/placement/resource_providers/${rp}/inventories/DISK_GB`);
    assert.equal(created.body.resource_provider_generation, 1);
    const shown = await pl('GET', `/resource_providers/${rp}/inventories/DISK_GB`);
    assert.equal(shown.body.reserved, 10);
    const upd = await pl('PUT', `/resource_providers/${rp}/inventories/DISK_GB`, {
      body: { resource_provider_generation: 1, total: 200 },
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.total, 200);
    assert.equal(upd.body.reserved, 0);
    const missing = await pl('GET', `/resource_providers/${rp}/inventories/VCPU`);
    assert.equal(missing.status, 404);
    assert.equal(errorDetail(missing), `No inventory of class VCPU for ${rp}`);
    assert.equal((await pl('DELETE', `/resource_providers/${rp}/inventories/DISK_GB`)).status, 204);
    const list = await pl('GET', `/resource_providers/${rp}/inventories`);
    assert.deepEqual(list.body, { resource_provider_generation: 3, inventories: {} });
  });

  it('validates totals, reserved (equal to total from 1.26) and classes', async () => {
    const rp = await makeProvider(pl);
    const zero = await pl('PUT', `/resource_providers/${rp}/inventories`, {
      body: { resource_provider_generation: 0, inventories: { VCPU: { total: 0 } } },
    });
    assert.equal(zero.status, 400);
    assert.match(errorDetail(zero), /^JSON does not validate/);
    const reservedAll = (mv: string) =>
      pl('PUT', `/resource_providers/${rp}/inventories`, {
        body: { resource_provider_generation: 0, inventories: { VCPU: { total: 4, reserved: 4 } } },
        mv,
      });
    const early = await reservedAll('1.25');
    assert.equal(early.status, 400);
    assert.match(errorDetail(early), /The reserved value is greater than or equal to total\./);
    assert.equal((await reservedAll('1.26')).status, 200);
    const unknown = await pl('PUT', `/resource_providers/${rp}/inventories`, {
      body: { resource_provider_generation: 1, inventories: { CUSTOM_NOPE: { total: 1 } } },
    });
    assert.equal(unknown.status, 400);
    assert.match(errorDetail(unknown), /No such resource class CUSTOM_NOPE\./);
  });

  it('refuses to remove a class in use (placement.inventory.inuse) and DELETE all is 405 before 1.5', async () => {
    const rp = await makeProvider(pl, { inventory: { VCPU: { total: 4 }, MEMORY_MB: { total: 1024 } } });
    assert.equal((await claim(pl, randomUUID(), { [rp]: { VCPU: 2 } })).status, 204);
    const gen = await generationOf(pl, rp);
    const drop = await pl('PUT', `/resource_providers/${rp}/inventories`, {
      body: { resource_provider_generation: gen, inventories: { MEMORY_MB: { total: 1024 } } },
    });
    assert.equal(drop.status, 409);
    assert.equal(errorCode(drop), 'placement.inventory.inuse');
    const all = await pl('DELETE', `/resource_providers/${rp}/inventories`);
    assert.equal(all.status, 409);
    assert.equal(errorCode(all), 'placement.inventory.inuse');
    assert.equal((await pl('DELETE', `/resource_providers/${rp}/inventories`, { mv: '1.4' })).status, 405);
    // Placement lets an inventory shrink below current usage (it only logs).
    const shrink = await pl('PUT', `/resource_providers/${rp}/inventories`, {
      body: {
        resource_provider_generation: gen,
        inventories: { VCPU: { total: 1 }, MEMORY_MB: { total: 1024 } },
      },
    });
    assert.equal(shrink.status, 200);
  });
});

describe('usages', () => {
  it('reports provider usages and project totals, by consumer type at 1.38', async () => {
    const rp = await makeProvider(pl, { inventory: { VCPU: { total: 8 }, MEMORY_MB: { total: 4096 } } });
    const project = `proj-${randomUUID()}`;
    await claim(
      pl,
      randomUUID(),
      { [rp]: { VCPU: 2, MEMORY_MB: 512 } },
      { project, mv: '1.38', type: 'INSTANCE' },
    );
    await claim(pl, randomUUID(), { [rp]: { VCPU: 1 } }, { project, mv: '1.38', type: 'MIGRATION' });
    const u = await pl('GET', `/resource_providers/${rp}/usages`);
    assert.deepEqual(u.body.usages, { VCPU: 3, MEMORY_MB: 512 });
    const total = await pl('GET', `/usages?project_id=${project}`, { mv: '1.9' });
    assert.deepEqual(total.body, { usages: { VCPU: 3, MEMORY_MB: 512 } });
    const typed = await pl('GET', `/usages?project_id=${project}`, { mv: '1.38' });
    assert.deepEqual(typed.body.usages, {
      INSTANCE: { VCPU: 2, MEMORY_MB: 512, consumer_count: 1 },
      MIGRATION: { VCPU: 1, consumer_count: 1 },
    });
    const all = await pl('GET', `/usages?project_id=${project}&consumer_type=all`, { mv: '1.38' });
    assert.deepEqual(all.body.usages, { all: { VCPU: 3, MEMORY_MB: 512, consumer_count: 2 } });
    const missing = await pl('GET', '/usages', { mv: '1.9' });
    assert.equal(missing.status, 400);
    assert.equal((await pl('GET', `/usages?project_id=${project}`, { mv: '1.8' })).status, 404);
  });
});

describe('resource classes', () => {
  it('lists standard classes and manages custom ones', async () => {
    const list = await pl('GET', '/resource_classes');
    const names = list.body.resource_classes.map((r: { name: string }) => r.name);
    for (const n of ['VCPU', 'MEMORY_MB', 'DISK_GB', 'PCI_DEVICE', 'SRIOV_NET_VF', 'PCPU'])
      assert.ok(names.includes(n), n);
    const created = await pl('POST', '/resource_classes', { body: { name: 'CUSTOM_GOLD' } });
    assert.equal(created.status, 201);
    assert.equal(created.headers['location'], '/placement/resource_classes/CUSTOM_GOLD');
    assert.equal((await pl('POST', '/resource_classes', { body: { name: 'CUSTOM_GOLD' } })).status, 409);
    assert.equal((await pl('POST', '/resource_classes', { body: { name: 'GOLD' } })).status, 400);
    assert.equal((await pl('PUT', '/resource_classes/CUSTOM_SILVER')).status, 201);
    assert.equal((await pl('PUT', '/resource_classes/CUSTOM_SILVER')).status, 204);
    const std = await pl('DELETE', '/resource_classes/VCPU');
    assert.equal(std.status, 400);
    assert.match(errorDetail(std), /Cannot delete standard resource class VCPU/);
    const rp = await makeProvider(pl, { inventory: { CUSTOM_GOLD: { total: 1 } } });
    const busy = await pl('DELETE', '/resource_classes/CUSTOM_GOLD');
    assert.equal(busy.status, 409);
    await pl('DELETE', `/resource_providers/${rp}`);
    assert.equal((await pl('DELETE', '/resource_classes/CUSTOM_GOLD')).status, 204);
    assert.equal((await pl('GET', '/resource_classes/CUSTOM_GOLD')).status, 404);
  });
});

describe('traits', () => {
  it('lists standard traits, creates custom ones, and sets provider traits with the generation', async () => {
    const list = await pl('GET', '/traits?name=startswith:COMPUTE_');
    assert.ok(list.body.traits.includes('COMPUTE_VOLUME_MULTI_ATTACH'));
    assert.ok((await pl('GET', '/traits')).body.traits.includes('HW_CPU_X86_AVX2'));
    assert.equal((await pl('PUT', '/traits/CUSTOM_FAST')).status, 201);
    assert.equal((await pl('PUT', '/traits/CUSTOM_FAST')).status, 204);
    assert.equal((await pl('PUT', '/traits/FAST')).status, 400);
    assert.equal((await pl('GET', '/traits/CUSTOM_FAST')).status, 204);
    assert.equal((await pl('DELETE', '/traits/HW_CPU_X86_AVX2')).status, 400);
    const rp = await makeProvider(pl);
    const set = await pl('PUT', `/resource_providers/${rp}/traits`, {
      body: { traits: ['CUSTOM_FAST', 'HW_CPU_X86_AVX2'], resource_provider_generation: 0 },
    });
    assert.equal(set.status, 200);
    assert.deepEqual(set.body, {
      traits: ['CUSTOM_FAST', 'HW_CPU_X86_AVX2'],
      resource_provider_generation: 1,
    });
    const stale = await pl('PUT', `/resource_providers/${rp}/traits`, {
      body: { traits: [], resource_provider_generation: 0 },
    });
    assert.equal(stale.status, 409);
    assert.equal(errorCode(stale), 'placement.concurrent_update');
    const unknown = await pl('PUT', `/resource_providers/${rp}/traits`, {
      body: { traits: ['CUSTOM_NOPE'], resource_provider_generation: 1 },
    });
    assert.equal(unknown.status, 400);
    assert.equal((await pl('DELETE', '/traits/CUSTOM_FAST')).status, 409);
    // Other providers (the cloud's own compute node) may carry traits too.
    const assoc = await pl('GET', '/traits?associated=true');
    assert.ok(assoc.body.traits.includes('CUSTOM_FAST') && assoc.body.traits.includes('HW_CPU_X86_AVX2'));
    const unassoc = await pl('GET', '/traits?associated=false');
    assert.ok(!unassoc.body.traits.includes('CUSTOM_FAST'));
    assert.ok(unassoc.body.traits.includes('HW_CPU_X86_AVX512F'));
    assert.equal((await pl('DELETE', `/resource_providers/${rp}/traits`)).status, 204);
    assert.equal((await pl('DELETE', '/traits/CUSTOM_FAST')).status, 204);
  });
});

describe('aggregates', () => {
  it('uses a plain list before 1.19 and the generation from 1.19', async () => {
    const rp = await makeProvider(pl);
    const agg = randomUUID();
    const old = await pl('PUT', `/resource_providers/${rp}/aggregates`, { body: [agg], mv: '1.1' });
    assert.equal(old.status, 200);
    assert.deepEqual(old.body, { aggregates: [agg] });
    assert.equal(await generationOf(pl, rp), 0);
    const agg2 = randomUUID();
    const res = await pl('PUT', `/resource_providers/${rp}/aggregates`, {
      body: { aggregates: [agg, agg2], resource_provider_generation: 0 },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.resource_provider_generation, 1);
    const stale = await pl('PUT', `/resource_providers/${rp}/aggregates`, {
      body: { aggregates: [], resource_provider_generation: 0 },
    });
    assert.equal(stale.status, 409);
    assert.equal(errorCode(stale), 'placement.concurrent_update');
    const got = await pl('GET', `/resource_providers/${rp}/aggregates`);
    assert.deepEqual(new Set(got.body.aggregates), new Set([agg, agg2]));
    assert.equal((await pl('GET', `/resource_providers/${rp}/aggregates`, { mv: '1.0' })).status, 404);
  });
});
