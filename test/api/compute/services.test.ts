// /os-services and /os-hypervisors: the control plane's and each host's services, enable/disable/force-down
// before and after 2.53, delete, and hypervisor figures with usage from the servers on a host.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, expectKeys, insertServer, nova } from './compute-support.ts';

let tc: TestCloud;
let admin: string;
let member: TestUser;

interface Svc {
  id: number | string;
  binary: string;
  host: string;
  status: string;
  state: string;
  zone: string;
  disabled_reason: string | null;
  forced_down?: boolean;
}

before(async () => {
  tc = await startTestCloud({ compute: { fake: { hosts: 3 } } } as never);
  admin = tc.adminToken;
  member = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

async function services(mv?: string, query = ''): Promise<Svc[]> {
  const res = await nova(tc, 'GET', `/os-services${query}`, { token: admin, mv });
  assert.equal(res.status, 200, res.text);
  return res.body.services;
}

describe('os-services', () => {
  test('lists scheduler, conductor and one nova-compute per host; filters; 2.11 forced_down; 2.53 uuids', async () => {
    const all = await services();
    const binaries = all.map((s) => s.binary);
    assert.ok(binaries.includes('nova-scheduler') && binaries.includes('nova-conductor'));
    const computes = all.filter((s) => s.binary === 'nova-compute');
    assert.equal(computes.length, 3);
    expectKeys(all[0] as never, [
      'binary',
      'host',
      'id',
      'zone',
      'status',
      'state',
      'updated_at',
      'disabled_reason',
    ]);
    assert.equal(typeof all[0]!.id, 'number');
    assert.equal(new Set(all.map((s) => s.id)).size, all.length);
    assert.equal(all.find((s) => s.binary === 'nova-scheduler')!.zone, 'internal');
    assert.equal(computes[0]!.zone, 'nova');
    assert.ok(computes.every((s) => s.state === 'up' && s.status === 'enabled'));
    const one = await services(undefined, `?host=${computes[0]!.host}`);
    assert.deepEqual(
      one.map((s) => s.binary),
      ['nova-compute'],
    );
    const sched = await services(undefined, '?binary=nova-scheduler');
    assert.equal(sched.length, 1);
    assert.equal((await services('2.11'))[0]!.forced_down, false);
    const v253 = await services('2.53');
    assert.match(String(v253[0]!.id), /^[0-9a-f-]{36}$/);
    // The control plane's uuids are stable across requests.
    assert.deepEqual(
      (await services('2.53')).map((s) => s.id),
      v253.map((s) => s.id),
    );
    expectFault(await nova(tc, 'GET', '/os-services', { token: member.token }), 403);
    expectFault(await nova(tc, 'GET', '/os-services?foo=1', { token: admin, mv: '2.75' }), 400);
  });

  test('before 2.53: disable, disable-log-reason, enable, force-down', async () => {
    const host = (await services()).find((s) => s.binary === 'nova-compute')!.host;
    const put = (action: string, body: unknown, mv?: string) =>
      nova(tc, 'PUT', `/os-services/${action}`, { token: admin, mv, body });
    let res = await put('disable', { host, binary: 'nova-compute' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { service: { host, binary: 'nova-compute', status: 'disabled' } });
    res = await put('disable-log-reason', { host, binary: 'nova-compute', disabled_reason: 'maintenance' });
    assert.deepEqual(res.body.service, {
      host,
      binary: 'nova-compute',
      status: 'disabled',
      disabled_reason: 'maintenance',
    });
    let svc = (await services(undefined, `?host=${host}`))[0]!;
    assert.equal(svc.status, 'disabled');
    assert.equal(svc.disabled_reason, 'maintenance');
    expectFault(
      await put('disable-log-reason', { host, binary: 'nova-compute' }),
      400,
      'Missing disabled reason field',
    );
    res = await put('enable', { host, binary: 'nova-compute' });
    assert.deepEqual(res.body.service, { host, binary: 'nova-compute', status: 'enabled' });
    svc = (await services(undefined, `?host=${host}`))[0]!;
    assert.equal(svc.disabled_reason, null);
    // force-down only from 2.11
    expectFault(await put('force-down', { host, binary: 'nova-compute', forced_down: true }), 400);
    res = await put('force-down', { host, binary: 'nova-compute', forced_down: true }, '2.11');
    assert.deepEqual(res.body.service, { host, binary: 'nova-compute', forced_down: true });
    svc = (await services('2.11', `?host=${host}`))[0]!;
    assert.equal(svc.state, 'down');
    assert.equal(svc.forced_down, true);
    await put('force-down', { host, binary: 'nova-compute', forced_down: false }, '2.11');
    expectFault(await put('bogus', { host, binary: 'nova-compute' }), 404, 'Unknown action');
    expectFault(
      await put('disable', { host, binary: 'nova-scheduler' }),
      400,
      'Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.',
    );
    expectFault(
      await put('disable', { host: 'nohost', binary: 'nova-compute' }),
      404,
      'Could not find binary nova-compute on host nohost.',
    );
    expectFault(await put('disable', { host }), 400);
    expectFault(
      await nova(tc, 'PUT', '/os-services/disable', {
        token: member.token,
        body: { host, binary: 'nova-compute' },
      }),
      403,
    );
  });

  test('2.53: update by uuid', async () => {
    const svc = (await services('2.53')).find((s) => s.binary === 'nova-compute')!;
    const put = (id: string, body: unknown) =>
      nova(tc, 'PUT', `/os-services/${id}`, { token: admin, mv: '2.53', body });
    let res = await put(String(svc.id), { status: 'disabled', disabled_reason: 'why' });
    assert.equal(res.status, 200, res.text);
    expectKeys(res.body.service, [
      'binary',
      'host',
      'id',
      'zone',
      'status',
      'state',
      'updated_at',
      'disabled_reason',
      'forced_down',
    ]);
    assert.equal(res.body.service.status, 'disabled');
    assert.equal(res.body.service.disabled_reason, 'why');
    expectFault(
      await put(String(svc.id), { status: 'enabled', disabled_reason: 'x' }),
      400,
      "Specifying 'disabled_reason' with status 'enabled' is invalid.",
    );
    res = await put(String(svc.id), { status: 'enabled' });
    assert.equal(res.body.service.disabled_reason, null);
    expectFault(
      await put(String(svc.id), {}),
      400,
      "No updates were requested. Fields 'status' or 'forced_down' should be specified.",
    );
    expectFault(await put('not-a-uuid', { status: 'enabled' }), 400, 'Invalid uuid not-a-uuid');
    expectFault(await put('00000000-0000-0000-0000-000000000000', { status: 'enabled' }), 404);
    const sched = (await services('2.53')).find((s) => s.binary === 'nova-scheduler')!;
    expectFault(await put(String(sched.id), { status: 'disabled' }), 400);
  });

  test('a stale heartbeat makes a service down', async () => {
    const host = (await services()).filter((s) => s.binary === 'nova-compute')[2]!.host;
    await tc.cloud.compute.context.write(async (trx) => {
      await trx
        .updateTable('compute_hosts')
        .set({ heartbeat_at: '2000-01-01T00:00:00Z' })
        .where('host', '=', host)
        .execute();
    });
    const svc = (await services(undefined, `?host=${host}`))[0]!;
    // The agent may heartbeat again in between; either way the answer follows the stored heartbeat.
    const row = await tc.cloud.compute.context.db
      .selectFrom('compute_hosts')
      .select('heartbeat_at')
      .where('host', '=', host)
      .executeTakeFirstOrThrow();
    assert.equal(svc.state, row.heartbeat_at?.startsWith('2000') ? 'down' : 'up');
  });

  test('delete: refused with servers (409), bad ids, control plane refused', async () => {
    const computes = (await services()).filter((s) => s.binary === 'nova-compute');
    const busy = computes[1]!;
    await insertServer(tc, {
      projectId: member.projectId,
      host: busy.host,
      flavor: { vcpus: 1, memory_mb: 64, root_gb: 1 },
    });
    expectFault(
      await nova(tc, 'DELETE', `/os-services/${busy.id}`, { token: admin }),
      409,
      'Unable to delete compute service that is hosting instances. Migrate or delete the instances first.',
    );
    expectFault(await nova(tc, 'DELETE', '/os-services/abc', { token: admin }), 400);
    expectFault(
      await nova(tc, 'DELETE', '/os-services/abc', { token: admin, mv: '2.53' }),
      400,
      'Invalid uuid abc',
    );
    expectFault(
      await nova(tc, 'DELETE', '/os-services/9999', { token: admin }),
      404,
      'Service 9999 not found.',
    );
    expectFault(await nova(tc, 'DELETE', `/os-services/${busy.id}`, { token: member.token }), 403);
    const sched = (await services()).find((s) => s.binary === 'nova-scheduler')!;
    expectFault(await nova(tc, 'DELETE', `/os-services/${sched.id}`, { token: admin }), 409);
  });
});

describe('os-hypervisors', () => {
  test('list, detail per microversion, usage from servers on the host', async () => {
    const list = await nova(tc, 'GET', '/os-hypervisors', { token: admin });
    assert.equal(list.status, 200);
    expectKeys(list.body.hypervisors[0], ['id', 'hypervisor_hostname', 'state', 'status']);
    assert.equal(typeof list.body.hypervisors[0].id, 'number');
    const detail = await nova(tc, 'GET', '/os-hypervisors/detail', { token: admin });
    const h = detail.body.hypervisors[1];
    expectKeys(h, [
      'id',
      'hypervisor_hostname',
      'state',
      'status',
      'hypervisor_type',
      'hypervisor_version',
      'host_ip',
      'service',
      'vcpus',
      'memory_mb',
      'local_gb',
      'vcpus_used',
      'memory_mb_used',
      'local_gb_used',
      'free_ram_mb',
      'free_disk_gb',
      'current_workload',
      'running_vms',
      'disk_available_least',
      'cpu_info',
    ]);
    assert.equal(typeof h.cpu_info, 'string');
    // The busy host carries the server inserted by the delete test: 1 vcpu, 64 MB, 1 GB.
    const busy = detail.body.hypervisors.find((x: { running_vms: number }) => x.running_vms > 0);
    assert.ok(busy, 'a hypervisor with a server');
    assert.equal(busy.vcpus_used, 1);
    assert.equal(busy.local_gb_used, 1);
    assert.equal(busy.free_ram_mb, busy.memory_mb - busy.memory_mb_used);
    const v228 = await nova(tc, 'GET', '/os-hypervisors/detail', { token: admin, mv: '2.28' });
    assert.equal(typeof v228.body.hypervisors[0].cpu_info, 'object');
    const v288 = await nova(tc, 'GET', '/os-hypervisors/detail', { token: admin, mv: '2.88' });
    expectKeys(v288.body.hypervisors[0], [
      'id',
      'hypervisor_hostname',
      'state',
      'status',
      'hypervisor_type',
      'hypervisor_version',
      'host_ip',
      'service',
      'uptime',
    ]);
    expectFault(await nova(tc, 'GET', '/os-hypervisors', { token: member.token }), 403);
  });

  test('show, uptime, statistics, search and servers by version', async () => {
    const list = (await nova(tc, 'GET', '/os-hypervisors', { token: admin })).body.hypervisors;
    const id = list[0].id;
    const show = await nova(tc, 'GET', `/os-hypervisors/${id}`, { token: admin });
    assert.equal(show.status, 200);
    assert.equal(show.body.hypervisor.id, id);
    expectFault(
      await nova(tc, 'GET', '/os-hypervisors/abc', { token: admin }),
      404,
      "Hypervisor with ID 'abc' could not be found.",
    );
    expectFault(
      await nova(tc, 'GET', '/os-hypervisors/abc', { token: admin, mv: '2.53' }),
      400,
      'Invalid uuid abc',
    );
    const up = await nova(tc, 'GET', `/os-hypervisors/${id}/uptime`, { token: admin });
    assert.equal(up.status, 200);
    assert.equal(typeof up.body.hypervisor.uptime, 'string');
    const stats = await nova(tc, 'GET', '/os-hypervisors/statistics', { token: admin });
    assert.equal(stats.body.hypervisor_statistics.count, 3);
    assert.equal(stats.body.hypervisor_statistics.running_vms, 1);
    expectFault(await nova(tc, 'GET', '/os-hypervisors/statistics', { token: admin, mv: '2.88' }), 404);
    const name = list[0].hypervisor_hostname as string;
    const found = await nova(tc, 'GET', `/os-hypervisors/${name}/search`, { token: admin });
    assert.equal(found.body.hypervisors[0].hypervisor_hostname, name);
    expectFault(
      await nova(tc, 'GET', '/os-hypervisors/zzz-none/search', { token: admin }),
      404,
      "No hypervisor matching 'zzz-none' could be found.",
    );
    expectFault(await nova(tc, 'GET', `/os-hypervisors/${name}/search`, { token: admin, mv: '2.53' }), 404);
    const withServers = await nova(tc, 'GET', '/os-hypervisors/detail?with_servers=true', {
      token: admin,
      mv: '2.53',
    });
    const hosting = withServers.body.hypervisors.find((x: { servers?: unknown[] }) => x.servers);
    expectKeys(hosting.servers[0], ['name', 'uuid']);
    const pattern = await nova(tc, 'GET', `/os-hypervisors?hypervisor_hostname_pattern=${name}`, {
      token: admin,
      mv: '2.53',
    });
    assert.equal(pattern.body.hypervisors.length, 1);
    expectFault(
      await nova(tc, 'GET', `/os-hypervisors?hypervisor_hostname_pattern=${name}&limit=1`, {
        token: admin,
        mv: '2.53',
      }),
      400,
    );
  });

  test('2.33 pagination with links', async () => {
    const p1 = await nova(tc, 'GET', '/os-hypervisors?limit=2', { token: admin, mv: '2.33' });
    assert.equal(p1.body.hypervisors.length, 2);
    assert.match(p1.body.hypervisors_links[0].href, new RegExp(`marker=${p1.body.hypervisors[1].id}`));
    const p2 = await nova(tc, 'GET', `/os-hypervisors?limit=2&marker=${p1.body.hypervisors[1].id}`, {
      token: admin,
      mv: '2.33',
    });
    assert.equal(p2.body.hypervisors.length, 1);
    expectFault(
      await nova(tc, 'GET', '/os-hypervisors?marker=999', { token: admin, mv: '2.33' }),
      400,
      'marker [999] not found',
    );
  });
});
