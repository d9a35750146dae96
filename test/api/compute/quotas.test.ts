// /os-quota-sets, /os-quota-class-sets and /limits: keys per microversion, the defaults < class < project <
// user precedence, usage counted from servers, updates below usage, and who may do what.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, expectKeys, insertServer, nova } from './compute-support.ts';

let tc: TestCloud;
let admin: string;
let member: TestUser;
let reader: TestUser;
let other: TestUser;

const BASE = [
  'instances',
  'cores',
  'ram',
  'metadata_items',
  'key_pairs',
  'server_groups',
  'server_group_members',
];
const INJECTED = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];
const NETWORK = ['fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules'];

before(async () => {
  tc = await startTestCloud();
  admin = tc.adminToken;
  member = await tc.makeUser();
  reader = await tc.makeUser({ projectId: member.projectId, role: 'reader' });
  other = await tc.makeUser();
  await insertServer(tc, {
    projectId: member.projectId,
    userId: member.id,
    flavor: { vcpus: 2, memory_mb: 2048, root_gb: 20 },
  });
  await insertServer(tc, {
    projectId: member.projectId,
    userId: member.id,
    flavor: { vcpus: 1, memory_mb: 512, root_gb: 1 },
  });
  await insertServer(tc, {
    projectId: member.projectId,
    deleted: true,
    flavor: { vcpus: 8, memory_mb: 8192, root_gb: 1 },
  });
});
after(async () => {
  await tc.close();
});

describe('os-quota-sets', () => {
  test('show: keys per microversion (2.36 network, 2.57 injected files)', async () => {
    const p = member.projectId;
    let res = await nova(tc, 'GET', `/os-quota-sets/${p}`, { token: member.token });
    assert.equal(res.status, 200, res.text);
    expectKeys(res.body.quota_set, ['id', ...BASE, ...INJECTED, ...NETWORK]);
    assert.equal(res.body.quota_set.id, p);
    assert.equal(res.body.quota_set.instances, 10);
    assert.equal(res.body.quota_set.floating_ips, -1);
    res = await nova(tc, 'GET', `/os-quota-sets/${p}`, { token: member.token, mv: '2.36' });
    expectKeys(res.body.quota_set, ['id', ...BASE, ...INJECTED]);
    res = await nova(tc, 'GET', `/os-quota-sets/${p}`, { token: member.token, mv: '2.57' });
    expectKeys(res.body.quota_set, ['id', ...BASE]);
    res = await nova(tc, 'GET', `/os-quota-sets/${p}/defaults`, { token: other.token, mv: '2.57' });
    expectKeys(res.body.quota_set, ['id', ...BASE]);
  });

  test('detail counts non-deleted servers, cores and ram', async () => {
    const res = await nova(tc, 'GET', `/os-quota-sets/${member.projectId}/detail`, {
      token: reader.token,
      mv: '2.57',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.quota_set.instances, { in_use: 2, limit: 10, reserved: 0 });
    assert.deepEqual(res.body.quota_set.cores, { in_use: 3, limit: 20, reserved: 0 });
    assert.equal(res.body.quota_set.ram.in_use, 2560);
  });

  test('policy: another project may not read; only admins update or delete', async () => {
    expectFault(await nova(tc, 'GET', `/os-quota-sets/${member.projectId}`, { token: other.token }), 403);
    expectFault(
      await nova(tc, 'GET', `/os-quota-sets/${member.projectId}/detail`, { token: other.token }),
      403,
    );
    expectFault(
      await nova(tc, 'PUT', `/os-quota-sets/${member.projectId}`, {
        token: member.token,
        body: { quota_set: { instances: 5 } },
      }),
      403,
    );
    expectFault(await nova(tc, 'DELETE', `/os-quota-sets/${member.projectId}`, { token: member.token }), 403);
  });

  test('update: below usage refused unless forced; networks refused; per-user limits; delete resets', async () => {
    const p = member.projectId;
    const put = (quota_set: Record<string, unknown>, q = '', mv?: string) =>
      nova(tc, 'PUT', `/os-quota-sets/${p}${q}`, { token: admin, mv, body: { quota_set } });
    expectFault(
      await put({ instances: 1 }),
      400,
      'Quota limit 1 for instances must be greater than or equal to already used and reserved 2.',
    );
    let res = await put({ instances: 1, force: true });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.quota_set.instances, 1);
    assert.equal(res.body.quota_set.id, undefined);
    res = await put({ instances: '12', cores: -1 });
    assert.equal(res.body.quota_set.instances, 12);
    assert.equal(res.body.quota_set.cores, -1);
    expectFault(await put({ networks: 3 }), 400, 'The networks quota has been removed');
    expectFault(await put({ floating_ips: 3 }, '', '2.36'), 400);
    expectFault(await put({ instances: -2 }), 400);
    expectFault(await put({ bogus: 1 }), 400);
    // A user's limit: at most the project's.
    expectFault(
      await put({ instances: 20 }, `?user_id=${member.id}`),
      400,
      'Quota limit 20 for instances must be less than or equal to 12.',
    );
    res = await put({ instances: 4 }, `?user_id=${member.id}`);
    assert.equal(res.body.quota_set.instances, 4);
    const mine = await nova(tc, 'GET', `/os-quota-sets/${p}?user_id=${member.id}`, { token: admin });
    assert.equal(mine.body.quota_set.instances, 4);
    const project = await nova(tc, 'GET', `/os-quota-sets/${p}`, { token: admin });
    assert.equal(project.body.quota_set.instances, 12);
    assert.equal((await nova(tc, 'DELETE', `/os-quota-sets/${p}`, { token: admin })).status, 202);
    const reset = await nova(tc, 'GET', `/os-quota-sets/${p}`, { token: admin });
    assert.equal(reset.body.quota_set.instances, 10);
    assert.equal(reset.body.quota_set.cores, 20);
  });
});

describe('os-quota-class-sets', () => {
  test('show per microversion; update of "default" changes every project\'s defaults', async () => {
    let res = await nova(tc, 'GET', '/os-quota-class-sets/default', { token: admin });
    assert.equal(res.status, 200);
    expectKeys(res.body.quota_class_set, [
      'id',
      ...BASE.filter((k) => !k.startsWith('server_group')),
      ...INJECTED,
      ...NETWORK,
    ]);
    res = await nova(tc, 'GET', '/os-quota-class-sets/default', { token: admin, mv: '2.50' });
    expectKeys(res.body.quota_class_set, ['id', ...BASE, ...INJECTED]);
    res = await nova(tc, 'GET', '/os-quota-class-sets/default', { token: admin, mv: '2.57' });
    expectKeys(res.body.quota_class_set, ['id', ...BASE]);
    expectFault(await nova(tc, 'GET', '/os-quota-class-sets/default', { token: member.token }), 403);

    const up = await nova(tc, 'PUT', '/os-quota-class-sets/default', {
      token: admin,
      mv: '2.57',
      body: { quota_class_set: { instances: 15 } },
    });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.quota_class_set.instances, 15);
    assert.equal(up.body.quota_class_set.id, undefined);
    const defaults = await nova(tc, 'GET', `/os-quota-sets/${other.projectId}/defaults`, {
      token: other.token,
    });
    assert.equal(defaults.body.quota_set.instances, 15);
    const shown = await nova(tc, 'GET', `/os-quota-sets/${other.projectId}`, { token: other.token });
    assert.equal(shown.body.quota_set.instances, 15);
    expectFault(
      await nova(tc, 'PUT', '/os-quota-class-sets/default', {
        token: admin,
        mv: '2.57',
        body: { quota_class_set: { injected_files: 1 } },
      }),
      400,
    );
    await nova(tc, 'PUT', '/os-quota-class-sets/default', {
      token: admin,
      body: { quota_class_set: { instances: 10 } },
    });
  });
});

describe('limits', () => {
  test('absolute limits and usage, keys per microversion, other projects for admins', async () => {
    let res = await nova(tc, 'GET', '/limits', { token: member.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.limits.rate, []);
    const abs = res.body.limits.absolute;
    expectKeys(abs, [
      'maxTotalRAMSize',
      'maxTotalInstances',
      'maxTotalCores',
      'maxTotalKeypairs',
      'maxTotalFloatingIps',
      'maxServerMeta',
      'maxImageMeta',
      'maxPersonality',
      'maxPersonalitySize',
      'maxSecurityGroups',
      'maxSecurityGroupRules',
      'maxServerGroups',
      'maxServerGroupMembers',
      'totalRAMUsed',
      'totalCoresUsed',
      'totalInstancesUsed',
      'totalFloatingIpsUsed',
      'totalSecurityGroupsUsed',
      'totalServerGroupsUsed',
    ]);
    assert.equal(abs.totalInstancesUsed, 2);
    assert.equal(abs.totalCoresUsed, 3);
    assert.equal(abs.totalRAMUsed, 2560);
    res = await nova(tc, 'GET', '/limits', { token: member.token, mv: '2.36' });
    assert.equal(res.body.limits.absolute.maxTotalFloatingIps, undefined);
    assert.equal(res.body.limits.absolute.maxImageMeta, 128);
    res = await nova(tc, 'GET', '/limits', { token: member.token, mv: '2.39' });
    assert.equal(res.body.limits.absolute.maxImageMeta, undefined);
    res = await nova(tc, 'GET', '/limits', { token: member.token, mv: '2.57' });
    expectKeys(res.body.limits.absolute, [
      'maxTotalRAMSize',
      'maxTotalInstances',
      'maxTotalCores',
      'maxTotalKeypairs',
      'maxServerMeta',
      'maxServerGroups',
      'maxServerGroupMembers',
      'totalRAMUsed',
      'totalCoresUsed',
      'totalInstancesUsed',
      'totalServerGroupsUsed',
    ]);
    const forOther = await nova(tc, 'GET', `/limits?tenant_id=${member.projectId}`, { token: admin });
    assert.equal(forOther.body.limits.absolute.totalInstancesUsed, 2);
    expectFault(await nova(tc, 'GET', `/limits?tenant_id=${member.projectId}`, { token: other.token }), 403);
  });
});
