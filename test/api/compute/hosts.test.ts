// /os-hosts (until 2.42): hosts of the enabled services with a zone filter, a compute host's resources summed
// from its servers, and the driver's answers to enable/maintenance/power actions (fake echoes, QEMU 501).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, expectKeys, insertServer, nova } from './compute-support.ts';

let tc: TestCloud;
let admin: string;
let member: TestUser;
let computes: string[];

interface HostEntry {
  host_name: string;
  service: string;
  zone: string;
}

before(async () => {
  tc = await startTestCloud({ compute: { fake: { hosts: 2 } } } as never);
  admin = tc.adminToken;
  member = await tc.makeUser();
  const res = await nova(tc, 'GET', '/os-services?binary=nova-compute', { token: admin });
  computes = res.body.services.map((s: { host: string }) => s.host).sort();
  assert.equal(computes.length, 2);
});
after(async () => {
  await tc.close();
});

async function hosts(query = ''): Promise<HostEntry[]> {
  const res = await nova(tc, 'GET', `/os-hosts${query}`, { token: admin });
  assert.equal(res.status, 200, res.text);
  return res.body.hosts;
}

/** Makes a compute host look like another driver's (Nova's libvirt implements none of the host actions). */
async function setDriver(host: string, type: string): Promise<void> {
  await tc.cloud.compute.context.write(async (trx) => {
    await trx.updateTable('compute_hosts').set({ hypervisor_type: type }).where('host', '=', host).execute();
  });
}

describe('os-hosts', () => {
  test('lists the hosts of enabled services with their topic and zone; zone filter; disabled ones hidden', async () => {
    const all = await hosts();
    for (const h of all) expectKeys(h as never, ['host_name', 'service', 'zone']);
    assert.deepEqual(all.map((h) => h.service).sort(), ['compute', 'compute', 'conductor', 'scheduler']);
    assert.deepEqual(
      all.filter((h) => h.service === 'compute').map((h) => [h.host_name, h.zone]),
      computes.map((c) => [c, 'nova']),
    );
    assert.ok(all.filter((h) => h.service !== 'compute').every((h) => h.zone === 'internal'));
    assert.deepEqual(
      (await hosts('?zone=nova')).map((h) => h.host_name),
      computes,
    );
    assert.equal((await hosts('?zone=internal')).length, 2);
    assert.deepEqual(await hosts('?zone=xxx'), []);
    assert.equal((await hosts('?zone=')).length, 4);
    // A repeated zone counts by its last value.
    assert.equal((await hosts('?zone=xxx&zone=nova')).length, 2);

    const off = await nova(tc, 'PUT', '/os-services/disable', {
      token: admin,
      body: { host: computes[0], binary: 'nova-compute' },
    });
    assert.equal(off.status, 200, off.text);
    assert.ok(!(await hosts()).some((h) => h.host_name === computes[0]));
    await nova(tc, 'PUT', '/os-services/enable', {
      token: admin,
      body: { host: computes[0], binary: 'nova-compute' },
    });
    assert.ok((await hosts()).some((h) => h.host_name === computes[0]));
  });

  test('shows total, used now, used by servers and per-project resources of a compute host', async () => {
    const host = computes[1]!;
    const flavor = { vcpus: 2, memory_mb: 1024, root_gb: 10, ephemeral_gb: 5 };
    await insertServer(tc, { projectId: 'proj-a', host, flavor });
    await insertServer(tc, { projectId: 'proj-a', host, flavor: { ...flavor, vcpus: 1 } });
    await insertServer(tc, { projectId: 'proj-b', host, flavor });
    await insertServer(tc, { projectId: 'proj-c', host, flavor, deleted: true });
    const res = await nova(tc, 'GET', `/os-hosts/${host}`, { token: admin });
    assert.equal(res.status, 200, res.text);
    const rows = res.body.host.map((r: { resource: Record<string, unknown> }) => r.resource);
    for (const r of rows) expectKeys(r, ['host', 'project', 'cpu', 'memory_mb', 'disk_gb']);
    // Projects come in the order their servers are met (servers made in one millisecond have none).
    rows.splice(
      3,
      2,
      ...rows
        .slice(3)
        .sort((x: { project: string }, y: { project: string }) => x.project.localeCompare(y.project)),
    );
    assert.deepEqual(
      rows.map((r: { project: string }) => r.project),
      ['(total)', '(used_now)', '(used_max)', 'proj-a', 'proj-b'],
    );
    assert.ok(rows.every((r: { host: string }) => r.host === host));
    const hyp = await nova(tc, 'GET', '/os-hypervisors/detail', { token: admin });
    const node = hyp.body.hypervisors.find((h: { service: { host: string } }) => h.service.host === host);
    assert.deepEqual(rows[0], {
      host,
      project: '(total)',
      cpu: node.vcpus,
      memory_mb: node.memory_mb,
      disk_gb: node.local_gb,
    });
    assert.deepEqual(rows[1], {
      host,
      project: '(used_now)',
      cpu: node.vcpus_used,
      memory_mb: node.memory_mb_used,
      disk_gb: node.local_gb_used,
    });
    assert.deepEqual(rows[2], { host, project: '(used_max)', cpu: 5, memory_mb: 3072, disk_gb: 45 });
    assert.deepEqual(rows[3], { host, project: 'proj-a', cpu: 3, memory_mb: 2048, disk_gb: 30 });
    assert.deepEqual(rows[4], { host, project: 'proj-b', cpu: 2, memory_mb: 1024, disk_gb: 15 });
    expectFault(
      await nova(tc, 'GET', '/os-hosts/nonexistent_hostname', { token: admin }),
      404,
      "Host 'nonexistent_hostname' is not mapped to any cell",
    );
  });

  test('update answers what the fake driver does; validation, unknown host, and a driver without it', async () => {
    const host = computes[0]!;
    const put = (body: unknown, name = host) => nova(tc, 'PUT', `/os-hosts/${name}`, { token: admin, body });
    const both = await put({ status: 'enable', maintenance_mode: 'Disable' });
    assert.equal(both.status, 200, both.text);
    assert.deepEqual(both.body, { host, status: 'enabled', maintenance_mode: 'off_maintenance' });
    assert.deepEqual((await put({ status: 'DISABLE' })).body, { host, status: 'disabled' });
    assert.deepEqual((await put({ maintenance_mode: 'enable' })).body, {
      host,
      maintenance_mode: 'on_maintenance',
    });
    // Nova's schema requires neither: an empty body names only the host.
    assert.deepEqual((await put({})).body, { host });
    expectFault(await put({ status: 'invalid', maintenance_mode: 'enable' }), 400);
    expectFault(await put({ status: 'enable', maintenance_mode: 'invalid' }), 400);
    expectFault(await put({ status: null, maintenance_mode: null }), 400);
    expectFault(await put({ status: 'enable', other: 1 }), 400);
    expectFault(
      await put({ status: 'enable', maintenance_mode: 'enable' }, 'nonexistent_hostname'),
      404,
      "Host 'nonexistent_hostname' is not mapped to any cell",
    );
    // The host's service is not touched by the driver's answer.
    const svc = await nova(tc, 'GET', `/os-services?host=${host}`, { token: admin });
    assert.equal(svc.body.services[0].status, 'enabled');
    await setDriver(host, 'QEMU');
    try {
      const r = await put({ status: 'enable' });
      assert.equal(r.status, 501, r.text);
      assert.equal(r.body.notImplemented.message, 'The requested functionality is not supported.');
    } finally {
      await setDriver(host, 'fake');
    }
  });

  test('power actions echo on the fake driver, 404 for an unknown host, 501 elsewhere', async () => {
    const host = computes[0]!;
    for (const action of ['startup', 'shutdown', 'reboot']) {
      const r = await nova(tc, 'GET', `/os-hosts/${host}/${action}`, { token: admin });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { host, power_action: action });
      expectFault(await nova(tc, 'GET', `/os-hosts/nonexistent_hostname/${action}`, { token: admin }), 404);
    }
    await setDriver(host, 'QEMU');
    try {
      assert.equal((await nova(tc, 'GET', `/os-hosts/${host}/reboot`, { token: admin })).status, 501);
    } finally {
      await setDriver(host, 'fake');
    }
  });

  test('admin only, and gone from 2.43', async () => {
    const host = computes[0]!;
    const token = member.token;
    expectFault(await nova(tc, 'GET', '/os-hosts', { token }), 403);
    expectFault(await nova(tc, 'GET', `/os-hosts/${host}`, { token }), 403);
    expectFault(
      await nova(tc, 'PUT', `/os-hosts/${host}`, {
        token,
        body: { status: 'enable', maintenance_mode: 'enable' },
      }),
      403,
    );
    for (const action of ['startup', 'shutdown', 'reboot'])
      expectFault(await nova(tc, 'GET', `/os-hosts/${host}/${action}`, { token }), 403);
    assert.equal((await nova(tc, 'GET', '/os-hosts', { token: admin, mv: '2.42' })).status, 200);
    expectFault(await nova(tc, 'GET', '/os-hosts', { token: admin, mv: '2.43' }), 404);
    expectFault(await nova(tc, 'GET', `/os-hosts/${host}/reboot`, { token: admin, mv: '2.43' }), 404);
  });
});
