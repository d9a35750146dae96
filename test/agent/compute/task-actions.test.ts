// Each Nova task_state the agent handles, end to end through the reconciler: the driver effect and the report.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FakeDriver } from '../../../src/agent/compute/drivers/fake/fake-driver.ts';
import { PowerStateCode } from '../../../src/agent/compute/hypervisor-driver.ts';
import { ServerReconciler } from '../../../src/agent/compute/server-reconciler.ts';
import {
  actionFor,
  faultOf,
  handledTaskStates,
  isTransient,
} from '../../../src/agent/compute/task-actions.ts';
import { MemoryControlPlane, type MemoryServer } from './memory-control-plane.ts';

const HOST = 'compute-1';
const { RUNNING, PAUSED, SHUTDOWN, SUSPENDED, NOSTATE } = PowerStateCode;

async function world() {
  const cp = new MemoryControlPlane();
  const driver = new FakeDriver({ hostname: HOST });
  const r = new ServerReconciler(cp, driver, { resyncMs: 3_600_000, heartbeatMs: 3_600_000 });
  stops.push(() => r.stop());
  await r.start();
  const built = cp.addServer(HOST);
  await r.idle();
  assert.equal(cp.get(built.id).vmState, 'active');
  /** Starts a task as the API would and waits for the agent; returns the last report. */
  const run = async (s: MemoryServer, taskState: string, extra: Partial<MemoryServer> = {}) => {
    cp.setTask(s.id, taskState, extra);
    await r.idle();
    const c = cp.completions.filter((x) => x.serverId === s.id).at(-1);
    assert.equal(c?.taskState, taskState);
    return c!;
  };
  const power = async (s: MemoryServer) => (await driver.findGuest(s.id))?.powerState;
  return { cp, driver, r, s: built, run, power };
}

const stops: (() => Promise<void>)[] = [];
after(async () => {
  for (const s of stops) await s();
});

describe('task actions', () => {
  it('power: off, on, pause, unpause, suspend, resume, reboots', async () => {
    const { s, run, power } = await world();
    const steps: [string, number, string][] = [
      ['powering-off', SHUTDOWN, 'shutdown'],
      ['powering-on', RUNNING, 'running'],
      ['pausing', PAUSED, 'paused'],
      ['unpausing', RUNNING, 'running'],
      ['suspending', SUSPENDED, 'suspended'],
      ['resuming', RUNNING, 'running'],
      ['rebooting', RUNNING, 'running'],
      ['reboot_started_hard', RUNNING, 'running'],
    ];
    for (const [task, code, observed] of steps) {
      const c = await run(s, task);
      assert.ok(c.outcome.ok, task);
      assert.equal(c.outcome.powerState, code, task);
      assert.equal(await power(s), observed, task);
    }
  });

  it('a soft reboot of a stopped guest falls back to a hard one', async () => {
    const { s, run, power } = await world();
    await run(s, 'powering-off');
    const c = await run(s, 'reboot_pending');
    assert.ok(c.outcome.ok);
    assert.equal(await power(s), 'running');
  });

  it('powering-on and hard reboot recreate a vanished guest; powering-off finds nothing to do', async () => {
    const { s, driver, run, power } = await world();
    await driver.simulate(s.id, 'vanish');
    assert.equal((await run(s, 'powering-off')).outcome.ok, true);
    assert.equal((await run(s, 'powering-on')).outcome.powerState, RUNNING);
    await driver.simulate(s.id, 'vanish');
    assert.equal((await run(s, 'rebooting_hard')).outcome.powerState, RUNNING);
    assert.equal(await power(s), 'running');
    assert.equal(driver.guestCount, 1);
  });

  it('a task the guest state forbids is reported as a fault', async () => {
    const { s, run } = await world();
    await run(s, 'powering-off');
    const c = await run(s, 'pausing');
    assert.ok(!c.outcome.ok);
    assert.equal(c.outcome.fault.code, 409);
    assert.match(c.outcome.fault.message, /Cannot pause/);
    assert.equal(c.outcome.powerState, SHUTDOWN);
  });

  it('resize applies the new flavor in place; revert restores it', async () => {
    const { s, driver, run } = await world();
    const original = structuredClone(s.guest);
    const bigger = { ...original, flavor: { ...original.flavor, vcpus: 4, memoryMb: 1024 } };
    for (const task of ['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish']) {
      assert.ok((await run(s, task, { guest: bigger })).outcome.ok, task);
    }
    assert.equal(driver.definition(s.id).flavor.vcpus, 4);
    assert.ok((await run(s, 'resize_reverting', { guest: original })).outcome.ok);
    assert.equal(driver.definition(s.id).flavor.vcpus, 1);
    assert.equal((await run(s, 'resize_confirming')).outcome.powerState, RUNNING);
  });

  it('rebuild swaps the image and keeps the guest running', async () => {
    const { s, driver, run } = await world();
    const original = structuredClone(s.guest);
    const c = await run(s, 'rebuilding', { guest: { ...original, imageId: 'image-debian' } });
    assert.ok(c.outcome.ok);
    assert.equal(c.outcome.powerState, RUNNING);
    assert.equal(driver.definition(s.id).imageId, 'image-debian');
    assert.ok((await run(s, 'rebuild_spawning', { guest: { ...original, imageId: 'image-b' } })).outcome.ok);
    assert.equal(driver.definition(s.id).imageId, 'image-b');
  });

  it('snapshot and backup upload a qcow2 image to the given image id', async () => {
    const { cp, s, run } = await world();
    for (const task of ['image_snapshot', 'image_snapshot_pending', 'image_uploading', 'image_backup']) {
      const c = await run(s, task, { snapshotImageId: `img-${task}` });
      assert.ok(c.outcome.ok, task);
    }
    assert.deepEqual(
      cp.uploads.map((u) => [u.imageId, u.diskFormat, u.containerFormat]),
      ['image_snapshot', 'image_snapshot_pending', 'image_uploading', 'image_backup'].map((t) => [
        `img-${t}`,
        'qcow2',
        'bare',
      ]),
    );
    assert.ok(cp.uploads.every((u) => Buffer.from(u.data.subarray(0, 4)).toString('latin1') === 'QFI\xfb'));
  });

  it('a snapshot task without an image id is a fault', async () => {
    const { s, run } = await world();
    const c = await run(s, 'image_snapshot');
    assert.ok(!c.outcome.ok);
    assert.equal(c.outcome.fault.code, 400);
  });

  it('shelve stops (and uploads), offload destroys, unshelve boots again', async () => {
    const { cp, s, driver, run, power } = await world();
    const c = await run(s, 'shelving', { snapshotImageId: 'img-shelved' });
    assert.equal(c.outcome.powerState, SHUTDOWN);
    assert.equal(await power(s), 'shutdown');
    assert.equal(cp.uploads.at(-1)?.imageId, 'img-shelved');
    assert.equal((await run(s, 'shelving_offloading')).outcome.powerState, NOSTATE);
    assert.equal(driver.guestCount, 0);
    assert.equal((await run(s, 'unshelving')).outcome.powerState, RUNNING);
    assert.equal(driver.guestCount, 1);
  });

  it('rescue and unrescue', async () => {
    const { s, driver, run } = await world();
    assert.ok((await run(s, 'rescuing', { rescueImageId: 'img-rescue' })).outcome.ok);
    assert.equal((await driver.findGuest(s.id))?.rescued, true);
    assert.match(await driver.consoleOutput(s.id), /rescue image img-rescue/);
    assert.ok((await run(s, 'unrescuing')).outcome.ok);
    assert.equal((await driver.findGuest(s.id))?.rescued, false);
  });

  it('deleting destroys the guest, and repeats harmlessly', async () => {
    const { cp, s, driver, run } = await world();
    const c = await run(s, 'deleting');
    assert.ok(c.outcome.ok);
    assert.equal(c.outcome.powerState, NOSTATE);
    assert.equal(driver.guestCount, 0);
    assert.equal(cp.get(s.id).deleted, true);
  });

  it('migrating within the host keeps the guest as it is', async () => {
    const { s, run, power } = await world();
    assert.equal((await run(s, 'migrating')).outcome.powerState, RUNNING);
    assert.equal(await power(s), 'running');
  });

  it('knows every task state of the brief and none of the control plane’s', () => {
    for (const t of [
      'spawning',
      'rebooting_hard',
      'reboot_pending_hard',
      'resize_finish',
      'image_pending_upload',
    ]) {
      assert.ok(actionFor(t), t);
    }
    for (const t of ['scheduling', 'networking', 'block_device_mapping'])
      assert.equal(actionFor(t), undefined, t);
    assert.ok(handledTaskStates().length >= 35);
  });

  it('classifies errors', () => {
    assert.equal(isTransient(Object.assign(new Error('x'), { code: 'ECONNRESET' })), true);
    assert.equal(isTransient(new Error('x')), false);
    assert.deepEqual((({ message, code }) => ({ message, code }))(faultOf(new TypeError('bad'))), {
      message: 'bad',
      code: 500,
    });
    assert.deepEqual(faultOf('text'), { message: 'text', code: 500 });
  });
});
