// /os-simple-tenant-usage: hours from launched_at/terminated_at overlapping the window (deleted servers
// included), totals per project, detailed, 2.40 paging, and who may read what.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, expectKeys, insertServer, nova } from './compute-support.ts';

let tc: TestCloud;
let member: TestUser;
let other: TestUser;
const ids: string[] = [];

const H = 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString();
/** A window well in the past, so "now" never cuts it. */
const T0 = Date.parse('2024-01-01T00:00:00Z');
const fmt = (ms: number) => iso(ms).slice(0, 19);

before(async () => {
  tc = await startTestCloud();
  member = await tc.makeUser();
  other = await tc.makeUser();
  const flavor = { name: 'm1.small', vcpus: 2, memory_mb: 1024, root_gb: 10, ephemeral_gb: 5 };
  // Runs through the whole window (10 h).
  ids.push(await insertServer(tc, { projectId: member.projectId, flavor, launchedAt: iso(T0 - 5 * H) }));
  // Deleted after 3 h inside the window.
  ids.push(
    await insertServer(tc, {
      projectId: member.projectId,
      flavor,
      launchedAt: iso(T0 + H),
      terminatedAt: iso(T0 + 4 * H),
      deleted: true,
    }),
  );
  // Ended before the window: not counted.
  await insertServer(tc, {
    projectId: member.projectId,
    flavor,
    launchedAt: iso(T0 - 9 * H),
    terminatedAt: iso(T0 - 8 * H),
    deleted: true,
  });
  // Another project, 2 h in the window.
  ids.push(await insertServer(tc, { projectId: other.projectId, flavor, launchedAt: iso(T0 + 8 * H) }));
});
after(async () => {
  await tc.close();
});

const window = `start=${fmt(T0)}&end=${fmt(T0 + 10 * H)}`;

describe('simple tenant usage', () => {
  test("show: one project's totals and server usages", async () => {
    const res = await nova(tc, 'GET', `/os-simple-tenant-usage/${member.projectId}?${window}`, {
      token: member.token,
    });
    assert.equal(res.status, 200, res.text);
    const u = res.body.tenant_usage;
    expectKeys(u, [
      'tenant_id',
      'server_usages',
      'total_local_gb_usage',
      'total_vcpus_usage',
      'total_memory_mb_usage',
      'total_hours',
      'start',
      'stop',
    ]);
    assert.equal(u.total_hours, 13);
    assert.equal(u.total_vcpus_usage, 26);
    assert.equal(u.total_memory_mb_usage, 13 * 1024);
    assert.equal(u.total_local_gb_usage, 13 * 15);
    assert.equal(u.start, '2024-01-01T00:00:00.000000');
    assert.equal(u.server_usages.length, 2);
    const ended = u.server_usages.find((s: { instance_id: string }) => s.instance_id === ids[1]);
    expectKeys(ended, [
      'hours',
      'flavor',
      'instance_id',
      'name',
      'tenant_id',
      'memory_mb',
      'local_gb',
      'vcpus',
      'started_at',
      'ended_at',
      'state',
      'uptime',
    ]);
    assert.equal(ended.state, 'terminated');
    assert.equal(ended.hours, 3);
    assert.equal(ended.uptime, 3 * 3600);
    assert.equal(ended.flavor, 'm1.small');
  });

  test('index: all projects for admins, detailed only on request', async () => {
    const res = await nova(tc, 'GET', `/os-simple-tenant-usage?${window}`, { token: tc.adminToken });
    assert.equal(res.status, 200);
    const byTenant = Object.fromEntries(
      res.body.tenant_usages.map((u: { tenant_id: string; total_hours: number }) => [u.tenant_id, u]),
    );
    assert.equal(byTenant[member.projectId].total_hours, 13);
    assert.equal(byTenant[other.projectId].total_hours, 2);
    assert.equal(byTenant[member.projectId].server_usages, undefined);
    const detailed = await nova(tc, 'GET', `/os-simple-tenant-usage?${window}&detailed=1`, {
      token: tc.adminToken,
    });
    assert.ok(Array.isArray(detailed.body.tenant_usages[0].server_usages));
    expectFault(await nova(tc, 'GET', `/os-simple-tenant-usage?${window}`, { token: member.token }), 403);
    expectFault(
      await nova(tc, 'GET', `/os-simple-tenant-usage/${member.projectId}?${window}`, { token: other.token }),
      403,
    );
  });

  test('empty window, bad times', async () => {
    const none = await nova(
      tc,
      'GET',
      `/os-simple-tenant-usage/${member.projectId}?start=2000-01-01T00:00:00&end=2000-01-02T00:00:00`,
      {
        token: member.token,
      },
    );
    assert.deepEqual(none.body, { tenant_usage: {} });
    expectFault(
      await nova(
        tc,
        'GET',
        `/os-simple-tenant-usage/${member.projectId}?start=${fmt(T0 + H)}&end=${fmt(T0)}`,
        { token: member.token },
      ),
      400,
      'Invalid start time. The start time cannot occur after the end time.',
    );
    expectFault(
      await nova(tc, 'GET', `/os-simple-tenant-usage/${member.projectId}?start=yesterday`, {
        token: member.token,
      }),
      400,
    );
  });

  test('an empty tenant ("/os-simple-tenant-usage/") is not found', async () => {
    const q = `?start=${fmt(T0)}&end=${fmt(T0 + H)}`;
    expectFault(await nova(tc, 'GET', `/os-simple-tenant-usage/${q}`, { token: tc.adminToken }), 404);
    expectFault(await nova(tc, 'GET', '/os-simple-tenant-usage/', { token: tc.adminToken }), 404);
    assert.equal(
      (await nova(tc, 'GET', `/os-simple-tenant-usage${q}`, { token: tc.adminToken })).status,
      200,
    );
  });

  test('2.40 paging over servers with links', async () => {
    const p1 = await nova(tc, 'GET', `/os-simple-tenant-usage?${window}&detailed=1&limit=1`, {
      token: tc.adminToken,
      mv: '2.40',
    });
    assert.equal(p1.status, 200, p1.text);
    assert.equal(p1.body.tenant_usages.length, 1);
    assert.equal(p1.body.tenant_usages[0].server_usages.length, 1);
    const marker = p1.body.tenant_usages[0].server_usages[0].instance_id;
    assert.match(p1.body.tenant_usages_links[0].href, new RegExp(`marker=${marker}`));
    const p2 = await nova(
      tc,
      'GET',
      `/os-simple-tenant-usage?${window}&detailed=1&limit=5&marker=${marker}`,
      {
        token: tc.adminToken,
        mv: '2.40',
      },
    );
    const seen = p2.body.tenant_usages.flatMap((u: { server_usages: { instance_id: string }[] }) =>
      u.server_usages.map((s) => s.instance_id),
    );
    assert.ok(!seen.includes(marker));
    assert.equal(seen.length, 2);
    expectFault(
      await nova(tc, 'GET', `/os-simple-tenant-usage?${window}&marker=nope`, {
        token: tc.adminToken,
        mv: '2.40',
      }),
      400,
    );
  });
});
