// POST /servers/{id}/action: dispatch and validation, Nova's lock and state checks, the tasks each action starts,
// and whole flows on the fake driver (stop/start, reboot, snapshot, resize) through the agent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, insertServer, nova } from './compute-support.ts';

let tc: TestCloud;
let user: TestUser;
/** The flows' own project, so their servers do not meet the parked ones' instance quota. */
let flowUser: TestUser;
let imageId: string;

async function uploadImage(t: TestCloud): Promise<string> {
  const img = await t.request('POST', '/image/v2/images', {
    token: t.adminToken,
    body: { name: 'cirros', disk_format: 'qcow2', container_format: 'bare', visibility: 'public' },
  });
  assert.equal(img.status, 201, img.text);
  const put = await t.request('PUT', `/image/v2/images/${img.body.id}/file`, {
    token: t.adminToken,
    raw: 'QFI\xfbfake-image-bytes',
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(put.status, 204, put.text);
  return img.body.id;
}

/** A server row on a host no agent serves: tasks stay where the API put them. */
function parked(o: { vmState?: string; projectId?: string } = {}): Promise<string> {
  return insertServer(tc, {
    projectId: o.projectId ?? user.projectId,
    userId: user.id,
    host: 'parked-host',
    flavor: { vcpus: 1, memory_mb: 512, root_gb: 1 },
    ...(o.vmState ? { vmState: o.vmState } : {}),
  });
}

const act = (id: string, body: unknown, token = user.token, mv = '2.93') =>
  nova(tc, 'POST', `/servers/${id}/action`, { token, body, mv });
const actAs = (u: TestUser, id: string, body: unknown) => act(id, body, u.token);
const show = async (id: string, token = user.token) =>
  (await nova(tc, 'GET', `/servers/${id}`, { token, mv: '2.93' })).body.server;

/** Polls GET until the server reaches `status` (the scheduler and the fake agent run in-process). */
async function waitStatus(id: string, status: string, token = user.token): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    await tc.cloud.settle();
    last = await show(id, token);
    if (last['status'] === status) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`server ${id} is ${last['status']}/${last['OS-EXT-STS:task_state']}, wanted ${status}`);
}

async function createActive(token = user.token): Promise<string> {
  const r = await nova(tc, 'POST', '/servers', {
    token,
    mv: '2.93',
    body: { server: { name: 'act', flavorRef: '1', imageRef: imageId, networks: 'none' } },
  });
  assert.equal(r.status, 202, r.text);
  await waitStatus(r.body.server.id, 'ACTIVE', token);
  return r.body.server.id;
}

before(async () => {
  tc = await startTestCloud();
  user = await tc.makeUser();
  flowUser = await tc.makeUser();
  imageId = await uploadImage(tc);
});
after(async () => {
  await tc.close();
});

describe('action dispatch', () => {
  test('a body with two keys, an unknown action, or an action outside the microversion', async () => {
    const id = await parked();
    expectFault(await act(id, { pause: null, unpause: null }), 400, 'Malformed request body');
    expectFault(await act(id, { fly: null }), 400, 'There is no such action: fly');
    expectFault(await act(id, { trigger_crash_dump: null }, user.token, '2.16'), 404);
    expectFault(await act(id, { reboot: { type: 'GENTLE' } }), 400);
    expectFault(await act(crypto.randomUUID(), { pause: null }), 404);
  });

  test("another project's server is not found; a reader cannot act", async () => {
    const other = await tc.makeUser();
    const id = await parked();
    expectFault(await act(id, { pause: null }, other.token), 404);
  });
});

describe('state actions on a parked server', () => {
  test('os-stop starts powering-off; a second stop is a 409 naming the task', async () => {
    const id = await parked();
    assert.equal((await act(id, { 'os-stop': null })).status, 202);
    const s = await show(id);
    assert.equal(s['OS-EXT-STS:task_state'], 'powering-off');
    expectFault(
      await act(id, { 'os-stop': null }),
      409,
      `Cannot 'stop' instance ${id} while it is in task_state powering-off`,
    );
  });

  test('os-start on an active server is a 409 naming the vm_state', async () => {
    const id = await parked();
    expectFault(
      await act(id, { 'os-start': null }),
      409,
      `Cannot 'start' instance ${id} while it is in vm_state active`,
    );
  });

  test('reboot SOFT and HARD set their task states; HARD is allowed from stopped', async () => {
    const a = await parked();
    assert.equal((await act(a, { reboot: { type: 'SOFT' } })).status, 202);
    assert.equal((await show(a))['status'], 'REBOOT');
    const b = await parked({ vmState: 'stopped' });
    expectFault(
      await act(b, { reboot: { type: 'SOFT' } }),
      409,
      /Cannot 'reboot' instance .* vm_state stopped/,
    );
    assert.equal((await act(b, { reboot: { type: 'hard' } })).status, 202);
    assert.equal((await show(b))['OS-EXT-STS:task_state'], 'rebooting_hard');
  });

  test('pause, suspend, rescue and changePassword start their tasks', async () => {
    const cases: [unknown, string][] = [
      [{ pause: null }, 'pausing'],
      [{ suspend: null }, 'suspending'],
      [{ changePassword: { adminPass: 'new-secret' } }, 'updating_password'],
    ];
    for (const [body, task] of cases) {
      const id = await parked();
      const r = await act(id, body);
      assert.equal(r.status, 202, r.text);
      assert.equal((await show(id))['OS-EXT-STS:task_state'], task);
    }
    const id = await parked();
    const r = await act(id, { rescue: { adminPass: 'rescue-me' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { adminPass: 'rescue-me' });
    assert.equal((await show(id))['OS-EXT-STS:task_state'], 'rescuing');
  });

  test('unpause and resume need paused and suspended servers', async () => {
    const id = await parked();
    expectFault(await act(id, { unpause: null }), 409, /Cannot 'unpause' .* vm_state active/);
    expectFault(await act(id, { resume: null }), 409, /Cannot 'resume' .* vm_state active/);
    const p = await parked({ vmState: 'paused' });
    assert.equal((await act(p, { unpause: null })).status, 202);
  });

  test('os-resetState is admin only, clears the task and records the action', async () => {
    const id = await parked();
    await act(id, { 'os-stop': null });
    expectFault(await act(id, { 'os-resetState': { state: 'error' } }), 403);
    assert.equal((await act(id, { 'os-resetState': { state: 'error' } }, tc.adminToken)).status, 202);
    const s = await show(id);
    assert.equal(s['status'], 'ERROR');
    assert.equal(s['OS-EXT-STS:task_state'], null);
    const actions = await nova(tc, 'GET', `/servers/${id}/os-instance-actions`, { token: user.token });
    assert.deepEqual(
      actions.body.instanceActions.map((x: { action: string }) => x.action),
      ['resetState', 'stop'],
    );
  });

  test('restore is a 409 (soft delete is off); forceDelete deletes', async () => {
    const id = await parked();
    expectFault(
      await act(id, { restore: null }),
      409,
      `Cannot 'restore' instance ${id} while it is in vm_state active`,
    );
    assert.equal((await act(id, { forceDelete: null })).status, 202);
    // Its host is not a live compute host: the delete finishes at once (Nova's local delete), never stuck.
    assert.equal((await nova(tc, 'GET', `/servers/${id}`, { token: user.token })).status, 404);
  });

  test('trigger_crash_dump (2.17) is accepted on an active server and recorded', async () => {
    const id = await parked();
    assert.equal((await act(id, { trigger_crash_dump: null }, user.token, '2.17')).status, 202);
    const list = await nova(tc, 'GET', `/servers/${id}/os-instance-actions`, { token: user.token });
    assert.equal(list.body.instanceActions[0].action, 'trigger_crash_dump');
  });
});

describe('lock and unlock', () => {
  test('a locked server refuses its owner; the owner unlocks its own lock', async () => {
    const id = await parked();
    assert.equal((await act(id, { lock: { locked_reason: 'maintenance' } }, user.token, '2.73')).status, 202);
    const s = await show(id);
    assert.equal(s['locked'], true);
    assert.equal(s['locked_reason'], 'maintenance');
    expectFault(await act(id, { pause: null }), 409, `Instance ${id} is locked`);
    expectFault(
      await nova(tc, 'POST', `/servers/${id}/metadata`, {
        token: user.token,
        body: { metadata: { a: 'b' } },
      }),
      409,
    );
    assert.equal((await act(id, { unlock: null })).status, 202);
    assert.equal((await show(id))['locked'], false);
    assert.equal((await act(id, { pause: null })).status, 202);
  });

  test('an admin lock cannot be removed by the owner; admins act on locked servers', async () => {
    const id = await parked();
    assert.equal((await act(id, { lock: null }, tc.adminToken)).status, 202);
    expectFault(await act(id, { unlock: null }), 403);
    assert.equal((await act(id, { pause: null }, tc.adminToken)).status, 202);
    assert.equal((await act(id, { unlock: null }, tc.adminToken)).status, 202);
    const actions = await nova(tc, 'GET', `/servers/${id}/os-instance-actions`, { token: user.token });
    assert.deepEqual(
      actions.body.instanceActions.map((x: { action: string }) => x.action),
      ['unlock', 'pause', 'lock'],
    );
  });
});

describe('moves on a parked server', () => {
  test('resize: unknown flavor, same flavor, then resize_prep with a migration', async () => {
    const id = await parked();
    expectFault(await act(id, { resize: { flavorRef: 'nope' } }), 400, 'Flavor nope could not be found.');
    expectFault(
      await act(id, { resize: { flavorRef: '1' } }),
      400,
      'When resizing, instances must change flavor!',
    );
    const r = await act(id, { resize: { flavorRef: '2' } });
    assert.equal(r.status, 202, r.text);
    const s = await show(id);
    assert.equal(s['status'], 'RESIZE');
    // The scheduler may already have placed it (resize_finish) by the time the show runs.
    assert.ok(
      ['resize_prep', 'resize_finish'].includes(s['OS-EXT-STS:task_state']),
      s['OS-EXT-STS:task_state'],
    );
    const migs = await nova(tc, 'GET', `/os-migrations?instance_uuid=${id}`, {
      token: tc.adminToken,
      mv: '2.23',
    });
    assert.equal(migs.status, 200, migs.text);
    assert.equal(migs.body.migrations.length, 1);
    assert.equal(migs.body.migrations[0].migration_type, 'resize');
    assert.ok(
      ['pre-migrating', 'migrating'].includes(migs.body.migrations[0].status),
      migs.body.migrations[0].status,
    );
  });

  test('resize beyond the ram quota is a 403 with the upsize delta', async () => {
    const other = await tc.makeUser();
    const put = await nova(tc, 'PUT', `/os-quota-sets/${other.projectId}`, {
      token: tc.adminToken,
      body: { quota_set: { ram: 1024 } },
    });
    assert.equal(put.status, 200, put.text);
    const id = await insertServer(tc, {
      projectId: other.projectId,
      userId: other.id,
      host: 'parked-host',
      flavor: { vcpus: 1, memory_mb: 512, root_gb: 1 },
    });
    expectFault(
      await act(id, { resize: { flavorRef: '2' } }, other.token),
      403,
      'Quota exceeded for ram: Requested 1536, but already used 512 of 1024 ram',
    );
  });

  test('confirmResize and revertResize need a resized server with a finished migration', async () => {
    const id = await parked();
    expectFault(await act(id, { confirmResize: null }), 409, /Cannot 'confirmResize' .* vm_state active/);
    const r = await parked({ vmState: 'resized' });
    expectFault(await act(r, { confirmResize: null }), 400, 'Instance has not been resized.');
    expectFault(await act(r, { revertResize: null }), 400, 'Instance has not been resized.');
  });

  test('migrate, live migration and evacuate are admin actions with Nova host checks', async () => {
    const id = await parked();
    expectFault(await act(id, { migrate: null }), 403);
    expectFault(
      await act(id, { migrate: { host: 'no-such-host' } }, tc.adminToken),
      400,
      'Compute host no-such-host could not be found.',
    );
    expectFault(
      await act(id, { 'os-migrateLive': { host: 'no-such-host', block_migration: 'auto' } }, tc.adminToken),
      400,
    );
    expectFault(
      await act(id, { evacuate: { host: 'no-such-host' } }, tc.adminToken),
      404,
      'Compute host no-such-host not found.',
    );
    const live = await act(id, { 'os-migrateLive': { host: null, block_migration: 'auto' } }, tc.adminToken);
    assert.equal(live.status, 202, live.text);
    assert.equal((await show(id, tc.adminToken))['status'], 'MIGRATING');
  });
});

describe('other actions', () => {
  test('console output comes from the host of the guest and honours length; no agent or no host is 409', async () => {
    const id = await createActive(flowUser.token);
    const all = await actAs(flowUser, id, { 'os-getConsoleOutput': {} });
    assert.equal(all.status, 200, all.text);
    assert.ok(all.body.output.split('\n').length > 3, all.body.output);
    const three = await actAs(flowUser, id, { 'os-getConsoleOutput': { length: 3 } });
    assert.equal(three.body.output.split('\n').length, 3);
    const away = await parked();
    expectFault(
      await act(away, { 'os-getConsoleOutput': {} }),
      409,
      'Compute service of parked-host is unavailable at this time.',
    );
    const homeless = await insertServer(tc, { projectId: user.projectId, host: null });
    expectFault(await act(homeless, { 'os-getConsoleOutput': {} }), 409, `Instance ${homeless} is not ready`);
  });

  test('remote consoles: the fake guest has none; xvpvnc invalid, spice unavailable', async () => {
    const id = await createActive(flowUser.token);
    expectFault(
      await act(id, { 'os-getVNCConsole': { type: 'novnc' } }, flowUser.token, '2.5'),
      400,
      'Unavailable console type vnc.',
    );
    expectFault(
      await act(id, { 'os-getVNCConsole': { type: 'xvpvnc' } }, flowUser.token, '2.5'),
      400,
      'Invalid console type xvpvnc',
    );
    expectFault(await act(id, { 'os-getSPICEConsole': { type: 'spice-html5' } }, flowUser.token, '2.5'), 400);
    expectFault(await act(id, { 'os-getVNCConsole': { type: 'novnc' } }, flowUser.token, '2.6'), 404);
    const rc = await nova(tc, 'POST', `/servers/${id}/remote-consoles`, {
      token: flowUser.token,
      mv: '2.6',
      body: { remote_console: { protocol: 'serial', type: 'serial' } },
    });
    expectFault(rc, 400, 'Unavailable console type serial.');
    expectFault(
      await act(await parked(), { 'os-getVNCConsole': { type: 'novnc' } }, user.token, '2.5'),
      409,
      'Compute service of parked-host is unavailable at this time.',
    );
  });

  // With networking the groups live on the server's ports (security-groups-proxy.test.ts covers add/list/remove).
  test('security groups: a group Neutron does not know is 404; a blank name 400', async () => {
    const id = await parked();
    const r = await act(id, { addSecurityGroup: { name: 'no-such-group' } });
    assert.equal(r.status, 404, r.text);
    expectFault(await act(id, { addSecurityGroup: { name: ' ' } }), 400);
  });

  test('createImage creates a queued snapshot image and starts image_snapshot', async () => {
    const id = await parked();
    const r = await act(
      id,
      { createImage: { name: 'snap', metadata: { purpose: 'test' } } },
      user.token,
      '2.45',
    );
    assert.equal(r.status, 202, r.text);
    const img = await tc.request('GET', `/image/v2/images/${r.body.image_id}`, { token: user.token });
    assert.equal(img.status, 200, img.text);
    assert.equal(img.body.image_type, 'snapshot');
    assert.equal(img.body.instance_uuid, id);
    assert.equal(img.body.purpose, 'test');
    assert.equal((await show(id))['OS-EXT-STS:task_state'], 'image_snapshot');
    const old = await act(await parked(), { createImage: { name: 'snap2' } }, user.token, '2.44');
    assert.equal(old.status, 202);
    assert.match(String(old.headers['location']), /\/images\/[0-9a-f-]{36}$/);
  });

  test('rebuild: unknown image is a 400; otherwise 202 with the server and adminPass', async () => {
    const id = await parked();
    expectFault(
      await act(id, { rebuild: { imageRef: crypto.randomUUID() } }),
      400,
      'Cannot find image for rebuild',
    );
    const r = await act(id, {
      rebuild: { imageRef: imageId, name: 'renamed', metadata: { k: 'v' }, adminPass: 'pw' },
    });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.body.server.status, 'REBUILD');
    assert.equal(r.body.server.name, 'renamed');
    assert.equal(r.body.server.adminPass, 'pw');
    assert.deepEqual(r.body.server.metadata, { k: 'v' });
  });

  test('shelve snapshots to "<name>-shelved"; unshelve needs a shelved server', async () => {
    const id = await parked();
    expectFault(await act(id, { unshelve: null }), 409, /Cannot 'unshelve' .* vm_state active/);
    assert.equal((await act(id, { shelve: null })).status, 202);
    const s = await show(id);
    assert.equal(s['OS-EXT-STS:task_state'], 'shelving');
    const imgs = await tc.request(
      'GET',
      `/image/v2/images?name=${encodeURIComponent(`${s['name']}-shelved`)}`,
      {
        token: user.token,
      },
    );
    assert.equal(imgs.body.images.length, 1);
    const off = await parked({ vmState: 'shelved_offloaded' });
    assert.equal((await act(off, { unshelve: null })).status, 202);
    assert.equal((await show(off))['OS-EXT-STS:task_state'], 'unshelving');
  });
});

// Flows through the scheduler and the fake agent (need the build flow and lifecycle wired in the test cloud).
describe('flows on the fake driver', () => {
  test('stop, start, hard reboot, pause/unpause reach their states', async () => {
    const id = await createActive(flowUser.token);
    assert.equal((await actAs(flowUser, id, { 'os-stop': null })).status, 202);
    await waitStatus(id, 'SHUTOFF', flowUser.token);
    assert.equal((await actAs(flowUser, id, { 'os-start': null })).status, 202);
    await waitStatus(id, 'ACTIVE', flowUser.token);
    assert.equal((await actAs(flowUser, id, { reboot: { type: 'HARD' } })).status, 202);
    await waitStatus(id, 'ACTIVE', flowUser.token);
    assert.equal((await actAs(flowUser, id, { pause: null })).status, 202);
    await waitStatus(id, 'PAUSED', flowUser.token);
    assert.equal((await actAs(flowUser, id, { unpause: null })).status, 202);
    const s = await waitStatus(id, 'ACTIVE', flowUser.token);
    assert.equal(s['OS-EXT-STS:power_state'], 1);
  });

  test('shelve offloads at once (shelved_offload_time 0): no host, no allocations; unshelve comes back', async () => {
    const id = await createActive(flowUser.token);
    assert.equal((await actAs(flowUser, id, { shelve: null })).status, 202);
    const s = await waitStatus(id, 'SHELVED_OFFLOADED', flowUser.token);
    assert.equal(s['OS-EXT-STS:task_state'], null);
    const admin = await nova(tc, 'GET', `/servers/${id}`, { token: tc.adminToken });
    assert.equal(admin.body.server['OS-EXT-SRV-ATTR:host'], null);
    const alloc = await tc.request('GET', `/placement/allocations/${id}`, { token: tc.adminToken });
    assert.deepEqual(alloc.body.allocations, {});
    const shelvedName = `${s['name']}-shelved`;
    const before = await tc.request('GET', `/image/v2/images?name=${encodeURIComponent(shelvedName)}`, {
      token: flowUser.token,
    });
    assert.equal(before.body.images.length, 1, 'the shelved snapshot exists while shelved');
    assert.equal((await actAs(flowUser, id, { unshelve: null })).status, 202);
    await waitStatus(id, 'ACTIVE', flowUser.token);
    // As Nova: the shelved snapshot is deleted once the server is back.
    const gone = await tc.request('GET', `/image/v2/images?name=${encodeURIComponent(shelvedName)}`, {
      token: flowUser.token,
    });
    assert.equal(gone.body.images.length, 0);
  });

  test('createImage uploads a snapshot and the server returns to ACTIVE', async () => {
    const id = await createActive(flowUser.token);
    const r = await actAs(flowUser, id, { createImage: { name: 'flow-snap' } });
    assert.equal(r.status, 202, r.text);
    await waitStatus(id, 'ACTIVE', flowUser.token);
    const img = await tc.request('GET', `/image/v2/images/${r.body.image_id}`, { token: flowUser.token });
    assert.equal(img.body.status, 'active');
  });

  test('resize to VERIFY_RESIZE, then confirm back to ACTIVE with the new flavor', async () => {
    const id = await createActive(flowUser.token);
    assert.equal((await actAs(flowUser, id, { resize: { flavorRef: '2' } })).status, 202);
    // The resize wakes the scheduler at once (no wait for its periodic resync).
    await tc.cloud.settle();
    const resized = await nova(tc, 'GET', `/servers/${id}`, { token: flowUser.token });
    assert.equal(resized.body.server.status, 'VERIFY_RESIZE');
    const c = await actAs(flowUser, id, { confirmResize: null });
    assert.equal(c.status, 204, c.text);
    const s = await waitStatus(id, 'ACTIVE', flowUser.token);
    assert.equal((s['flavor'] as Record<string, unknown>)['original_name'], 'm1.small');
    // Placement holds the new flavor for the server and nothing for the finished migration.
    const alloc = await tc.request('GET', `/placement/allocations/${id}`, { token: tc.adminToken });
    const resources = Object.values(
      alloc.body.allocations as Record<string, { resources: Record<string, number> }>,
    );
    assert.equal(resources.length, 1);
    assert.equal(resources[0]!.resources['MEMORY_MB'], 2048);
  });

  test('rebuild ends ACTIVE from ERROR (as Nova), SHUTOFF from SHUTOFF', async () => {
    const id = await createActive(flowUser.token);
    const reset = await act(id, { 'os-resetState': { state: 'error' } }, tc.adminToken);
    assert.equal(reset.status, 202, reset.text);
    assert.equal((await show(id, flowUser.token))['status'], 'ERROR');
    const r = await actAs(flowUser, id, { rebuild: { imageRef: imageId } });
    assert.equal(r.status, 202, r.text);
    const s = await waitStatus(id, 'ACTIVE', flowUser.token);
    assert.equal(s['OS-EXT-STS:power_state'], 1);
    assert.equal((await actAs(flowUser, id, { 'os-stop': null })).status, 202);
    await waitStatus(id, 'SHUTOFF', flowUser.token);
    assert.equal((await actAs(flowUser, id, { rebuild: { imageRef: imageId } })).status, 202);
    const off = await waitStatus(id, 'SHUTOFF', flowUser.token);
    assert.equal(off['OS-EXT-STS:task_state'], null);
    assert.equal(off['OS-EXT-STS:power_state'], 4);
  });

  test('resize then revert returns to the old flavor and its allocation', async () => {
    const id = await createActive(flowUser.token);
    assert.equal((await actAs(flowUser, id, { resize: { flavorRef: '2' } })).status, 202);
    await waitStatus(id, 'VERIFY_RESIZE', flowUser.token);
    const r = await actAs(flowUser, id, { revertResize: null });
    assert.equal(r.status, 202, r.text);
    const s = await waitStatus(id, 'ACTIVE', flowUser.token);
    assert.equal((s['flavor'] as Record<string, unknown>)['original_name'], 'm1.tiny');
    const alloc = await tc.request('GET', `/placement/allocations/${id}`, { token: tc.adminToken });
    const resources = Object.values(
      alloc.body.allocations as Record<string, { resources: Record<string, number> }>,
    );
    assert.equal(resources.length, 1);
    assert.equal(resources[0]!.resources['MEMORY_MB'], 512);
  });
});
