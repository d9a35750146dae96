// The server reconciler against the fake driver and an in-memory control plane: tasks, faults, drift, restarts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeDriver, type FakeDriverOptions } from '../../../src/agent/compute/drivers/fake/fake-driver.ts';
import { DriverError, PowerStateCode } from '../../../src/agent/compute/hypervisor-driver.ts';
import {
  ServerReconciler,
  type ServerReconcilerOptions,
} from '../../../src/agent/compute/server-reconciler.ts';
import { guestSpec, MemoryControlPlane } from './memory-control-plane.ts';

const HOST = 'compute-1';
const reconcilers: ServerReconciler[] = [];
after(async () => {
  for (const r of reconcilers) await r.stop();
});

function setup(driverOpts: FakeDriverOptions = {}, opts: ServerReconcilerOptions = {}) {
  const cp = new MemoryControlPlane();
  const driver = new FakeDriver({ hostname: HOST, ...driverOpts });
  const reconciler = reconcile(cp, driver, opts);
  return { cp, driver, reconciler };
}

function reconcile(cp: MemoryControlPlane, driver: FakeDriver, opts: ServerReconcilerOptions = {}) {
  const r = new ServerReconciler(cp, driver, {
    resyncMs: 3_600_000,
    heartbeatMs: 3_600_000,
    retry: { attempts: 3, baseMs: 1, maxMs: 5 },
    ...opts,
  });
  reconcilers.push(r);
  return r;
}

describe('ServerReconciler', () => {
  it('registers the host with the driver inventory', async () => {
    const { cp, reconciler } = setup({ inventory: { vcpus: 8 } });
    await reconciler.start();
    const reg = cp.registrations.at(-1);
    assert.equal(reg?.host, HOST);
    assert.equal(reg?.node, HOST);
    assert.equal(reg?.hypervisorType, 'fake');
    assert.deepEqual(reg?.inventory, { vcpus: 8, memoryMb: 65536, diskGb: 1000 });
    assert.ok(reg?.traits.length);
  });

  it('builds a server: create + start, then reports RUNNING with the console ready', async () => {
    const { cp, driver, reconciler } = setup();
    const s = cp.addServer(HOST);
    await reconciler.start();
    await reconciler.idle();
    assert.equal((await driver.findGuest(s.id))?.powerState, 'running');
    const done = cp.completions.filter((c) => c.serverId === s.id);
    assert.equal(done.length, 1);
    assert.deepEqual(done[0]?.outcome, { ok: true, powerState: PowerStateCode.RUNNING, consoleReady: true });
    assert.equal(cp.get(s.id).vmState, 'active');
    assert.equal(cp.get(s.id).taskState, null);
  });

  it('wakes on watch events without waiting for the resync period', async () => {
    const { cp, driver, reconciler } = setup();
    await reconciler.start();
    const s = cp.addServer(HOST);
    await reconciler.idle();
    assert.equal(cp.get(s.id).vmState, 'active');
    cp.setTask(s.id, 'powering-off');
    await reconciler.idle();
    assert.equal((await driver.findGuest(s.id))?.powerState, 'shutdown');
    assert.equal(cp.get(s.id).powerState, PowerStateCode.SHUTDOWN);
  });

  it('ignores servers of other hosts', async () => {
    const { cp, driver, reconciler } = setup();
    cp.addServer('compute-2');
    await reconciler.start();
    await reconciler.idle();
    assert.equal(driver.guestCount, 0);
    assert.equal(cp.completions.length, 0);
  });

  it('reports a permanent driver fault as ok:false, and only the failing server', async () => {
    const { cp, driver, reconciler } = setup({
      faults: { create: { message: 'No valid disk', skip: 2, times: 1 } },
    });
    await reconciler.start();
    const servers = Array.from({ length: 5 }, () => cp.addServer(HOST));
    await reconciler.idle();
    const failed = cp.completions.filter((c) => !c.outcome.ok);
    assert.equal(failed.length, 1);
    const f = failed[0]!;
    assert.ok(!f.outcome.ok);
    assert.equal(f.outcome.fault.message, 'No valid disk');
    assert.equal(f.outcome.fault.code, 500);
    assert.equal(f.outcome.powerState, PowerStateCode.NOSTATE);
    assert.equal(cp.get(f.serverId).vmState, 'error');
    assert.equal(driver.stats().calls.create, 5, 'a permanent fault is not retried');
    assert.equal(servers.filter((s) => cp.get(s.id).vmState === 'active').length, 4);
  });

  it('retries transient faults, then reports them', async () => {
    const { cp, driver, reconciler } = setup({
      faults: { start: { message: 'qmp busy', transient: true, times: 2 } },
    });
    const ok = cp.addServer(HOST);
    await reconciler.start();
    await reconciler.idle();
    assert.equal(cp.get(ok.id).vmState, 'active');
    assert.equal(driver.stats().calls.start, 3);

    driver.setFault('start', { message: 'qmp gone', transient: true, code: 503 });
    const bad = cp.addServer(HOST);
    await reconciler.idle();
    const c = cp.completions.find((x) => x.serverId === bad.id);
    assert.ok(c && !c.outcome.ok);
    assert.equal(c.outcome.fault.message, 'qmp gone');
    assert.equal(c.outcome.fault.code, 503);
    assert.equal(c.outcome.powerState, PowerStateCode.SHUTDOWN, 'the guest was defined but not started');
    assert.equal(driver.stats().calls.start, 6);
  });

  it('ignores a stale task_seq and runs the newer task', async () => {
    const { cp, driver, reconciler } = setup({ delays: { start: 20 } });
    await reconciler.start();
    const s = cp.addServer(HOST);
    // The API deletes the server while its build is still under way.
    cp.onComplete = (c) => {
      if (c.taskState === 'spawning') {
        cp.onComplete = undefined;
        cp.setTask(s.id, 'deleting');
      }
    };
    await reconciler.idle();
    const mine = cp.completions.filter((c) => c.serverId === s.id);
    assert.deepEqual(
      mine.map((c) => [c.taskSeq, c.taskState, c.accepted]),
      [
        [1, 'spawning', false],
        [2, 'deleting', true],
      ],
    );
    assert.equal(cp.get(s.id).deleted, true);
    assert.equal(driver.guestCount, 0);
    assert.equal(reconciler.stats().staleReports, 1);
  });

  it('reports a vanished or crashed guest of an idle server', async () => {
    const { cp, driver, reconciler } = setup();
    const gone = cp.addServer(HOST);
    const crashed = cp.addServer(HOST);
    const fine = cp.addServer(HOST);
    await reconciler.start();
    await reconciler.idle();
    await driver.simulate(gone.id, 'vanish');
    await driver.simulate(crashed.id, 'crash');
    await reconciler.resync('full');
    await reconciler.idle();
    assert.deepEqual(
      cp.powerReports.map((r) => [r.serverId, r.powerState]).sort(),
      [
        [gone.id, PowerStateCode.SHUTDOWN],
        [crashed.id, PowerStateCode.CRASHED],
      ].sort(),
    );
    assert.ok(!cp.powerReports.some((r) => r.serverId === fine.id));
    // Once recorded, the same observation is not reported again.
    await reconciler.resync('full');
    await reconciler.idle();
    assert.equal(cp.powerReports.length, 2);
  });

  it('checks drift only on full passes, and not for servers in error', async () => {
    const { cp, driver, reconciler } = setup({ faults: { create: { message: 'boom', times: 1 } } });
    const broken = cp.addServer(HOST);
    await reconciler.start();
    await reconciler.idle();
    assert.equal(cp.get(broken.id).vmState, 'error');
    const s = cp.addServer(HOST);
    await reconciler.idle();
    await driver.simulate(s.id, 'shutdown');
    await reconciler.resync('tasks');
    assert.equal(cp.powerReports.length, 0);
    await reconciler.resync('full');
    await reconciler.idle();
    assert.deepEqual(cp.powerReports, [{ serverId: s.id, powerState: PowerStateCode.SHUTDOWN }]);
  });

  it('destroys a guest no server claims', async () => {
    const { cp, driver, reconciler } = setup();
    const kept = cp.addServer(HOST);
    await reconciler.start();
    await reconciler.idle();
    const orphan = guestSpec();
    await driver.plant(orphan);
    cp.purge(kept.id);
    await reconciler.resync('full');
    await reconciler.idle();
    assert.equal(await driver.findGuest(orphan.id), undefined);
    assert.equal(await driver.findGuest(kept.id), undefined);
    assert.equal(reconciler.stats().orphansDestroyed, 2);
    assert.equal(driver.guestCount, 0);
  });

  it('leaves unclaimed guests alone when orphan reaping is off', async () => {
    const { driver, reconciler } = setup({}, { destroyOrphans: false });
    await driver.plant(guestSpec());
    await reconciler.start();
    await reconciler.idle();
    assert.equal(driver.guestCount, 1);
  });

  it('resends a report that did not reach the control plane, without redoing the work', async () => {
    const { cp, driver, reconciler } = setup();
    cp.failCompletions = 1;
    const s = cp.addServer(HOST);
    await reconciler.start();
    await reconciler.idle();
    assert.equal(cp.get(s.id).taskState, 'spawning');
    await reconciler.resync('tasks');
    await reconciler.idle();
    assert.equal(cp.get(s.id).vmState, 'active');
    assert.equal(driver.stats().calls.create, 1);
    assert.equal(driver.stats().calls.start, 1);
  });

  it('leaves a task to the control plane when it is not the agent’s', async () => {
    const { cp, driver, reconciler } = setup();
    const s = cp.addServer(HOST);
    cp.setTask(s.id, 'networking');
    await reconciler.start();
    await reconciler.idle();
    assert.equal(driver.guestCount, 0);
    assert.equal(cp.completions.length, 0);
    assert.equal(cp.powerReports.length, 0);
  });

  it('never runs two operations on one server at once', async () => {
    const { cp, driver, reconciler } = setup({ delays: { create: 30 } });
    const s = cp.addServer(HOST);
    await reconciler.start();
    // Wake-ups and resyncs while the create is under way must not start a second one.
    await Promise.all([reconciler.resync('full'), reconciler.resync('tasks'), reconciler.resync('full')]);
    await reconciler.idle();
    assert.equal(driver.stats().calls.create, 1);
    assert.equal(driver.guestCount, 1);
    assert.equal(cp.completions.filter((c) => c.serverId === s.id).length, 1);
  });

  it('does not redo a task that finished while a listing was on its way', async () => {
    const { cp, driver, reconciler } = setup();
    const s = cp.addServer(HOST);
    let release = () => {};
    let pass: Promise<void> | undefined;
    cp.onComplete = () => {
      cp.onComplete = undefined;
      // A pass lists while the build is still unreported, and gets its answer only after the report.
      cp.listGate = new Promise((r) => {
        release = r;
      });
      pass = reconciler.resync('full');
    };
    await reconciler.start();
    while (cp.completions.length === 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    cp.listGate = undefined;
    release();
    await pass;
    await reconciler.idle();
    assert.equal(cp.get(s.id).vmState, 'active');
    assert.equal(driver.stats().calls.create, 1);
    assert.equal(driver.stats().calls.start, 1);
    assert.equal(reconciler.stats().staleReports, 0);
  });

  it('bounds the operations running at once', async () => {
    const { cp, driver, reconciler } = setup({ delays: { create: 10 } }, { concurrency: 4 });
    for (let i = 0; i < 40; i++) cp.addServer(HOST);
    await reconciler.start();
    await reconciler.idle();
    assert.equal(driver.stats().maxActive, 4);
    assert.equal(reconciler.stats().maxConcurrent, 4);
    assert.equal(cp.completions.filter((c) => c.accepted && c.outcome.ok).length, 40);
  });

  it('stop() waits for operations under way and starts no more', async () => {
    const { cp, driver, reconciler } = setup({ delays: { create: 20 } }, { concurrency: 1 });
    cp.addServer(HOST);
    cp.addServer(HOST);
    await reconciler.start();
    await reconciler.stop();
    assert.equal(driver.stats().active, 0);
    assert.equal(driver.stats().calls.create, 1, 'the queued second build was dropped');
    assert.equal(cp.completions.length, 1);
    cp.addServer(HOST);
    await new Promise((r) => setImmediate(r));
    assert.equal(driver.stats().calls.create, 1, 'no work after stop');
  });

  describe('restart over a persisted fake host', () => {
    const dirs: string[] = [];
    after(async () => {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    });

    it('adopts the running guest and finishes the unreported task without a second guest', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'monostack-agent-'));
      dirs.push(dir);
      const stateFile = join(dir, `${HOST}.json`);
      const cp = new MemoryControlPlane();
      const first = await FakeDriver.open({ hostname: HOST, stateFile });
      const s = cp.addServer(HOST);
      const idle = cp.addActive(HOST);
      await first.plant(idle.guest);
      // The agent boots the guest, then dies before its report lands.
      cp.failCompletions = 1;
      const r1 = reconcile(cp, first);
      await r1.start();
      await r1.idle();
      await r1.stop();
      await first.flush();
      assert.equal(cp.get(s.id).taskState, 'spawning');

      const second = await FakeDriver.open({ hostname: HOST, stateFile });
      assert.equal(second.guestCount, 2);
      const r2 = reconcile(cp, second);
      await r2.start();
      await r2.idle();
      assert.equal(cp.get(s.id).vmState, 'active');
      assert.equal(cp.get(s.id).powerState, PowerStateCode.RUNNING);
      assert.equal(second.guestCount, 2, 'no second guest');
      assert.equal(second.stats().calls.destroy ?? 0, 0, 'nothing adopted was destroyed');
      assert.equal(cp.powerReports.length, 0, 'the adopted idle guest shows no drift');
    });

    it('resumes a task interrupted by stop during a transient retry', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'monostack-agent-'));
      dirs.push(dir);
      const stateFile = join(dir, `${HOST}.json`);
      const cp = new MemoryControlPlane();
      const first = await FakeDriver.open({
        hostname: HOST,
        stateFile,
        inject: (op) =>
          op === 'start' ? new DriverError('hypervisor restarting', { transient: true }) : undefined,
      });
      const s = cp.addServer(HOST);
      const r1 = reconcile(cp, first, { retry: { attempts: 100, baseMs: 50, maxMs: 50 } });
      await r1.start();
      await r1.stop();
      await first.flush();
      assert.equal(cp.completions.length, 0, 'the interrupted task was not reported');

      const second = await FakeDriver.open({ hostname: HOST, stateFile });
      const r2 = reconcile(cp, second);
      await r2.start();
      await r2.idle();
      assert.equal(cp.get(s.id).vmState, 'active');
      assert.equal(second.guestCount, 1);
      assert.equal((await second.findGuest(s.id))?.powerState, 'running');
    });
  });
});
