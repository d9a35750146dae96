// The fake driver's own knobs beyond the HypervisorDriver contract: inventory, faults, delays, readiness, persistence, fleets.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeDriver } from '../../../src/agent/compute/drivers/fake/fake-driver.ts';
import { FakeFleet, fleetHostnames } from '../../../src/agent/compute/drivers/fake/fake-fleet.ts';
import { readinessLine } from '../../../src/agent/compute/drivers/fake/fake-guest.ts';
import {
  DriverError,
  type DriverOp,
  type GuestId,
  type HypervisorDriver,
} from '../../../src/agent/compute/hypervisor-driver.ts';
import { guestSpec } from './memory-control-plane.ts';

async function running(driver: HypervisorDriver, spec = guestSpec()): Promise<GuestId> {
  await driver.create(spec);
  await driver.start(spec.id);
  return spec.id;
}

describe('FakeDriver specifics', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('reports the default inventory (16 vCPU, 64 GiB, 1000 GiB) and overrides', async () => {
    assert.deepEqual(
      (({ vcpus, memoryMb, diskGb }) => ({ vcpus, memoryMb, diskGb }))(await new FakeDriver().inventory()),
      { vcpus: 16, memoryMb: 65536, diskGb: 1000 },
    );
    const inv = await new FakeDriver({ inventory: { vcpus: 4, traits: ['HW_CPU_X86_AVX2'] } }).inventory();
    assert.equal(inv.vcpus, 4);
    assert.equal(inv.memoryMb, 65536);
    assert.deepEqual(inv.traits, ['HW_CPU_X86_AVX2']);
    assert.equal(new FakeDriver().info.hypervisorType, 'fake');
  });

  it('fails exactly the third create with a fault rule', async () => {
    const d = new FakeDriver({ faults: { create: { message: 'disk full', skip: 2, times: 1 } } });
    await d.create(guestSpec());
    await d.create(guestSpec());
    await assert.rejects(
      d.create(guestSpec()),
      (e: unknown) => e instanceof DriverError && e.message === 'disk full',
    );
    await d.create(guestSpec());
    assert.equal(d.guestCount, 3);
  });

  it('injects faults by predicate and at run time', async () => {
    const seen: [DriverOp, string | undefined, number][] = [];
    const d = new FakeDriver({
      inject: (op, guestId, call) => {
        seen.push([op, guestId, call]);
        return op === 'start' && call === 2 ? new DriverError('flaky', { transient: true }) : undefined;
      },
    });
    const a = guestSpec();
    const b = guestSpec();
    await d.create(a);
    await d.create(b);
    await d.start(a.id);
    const err = await d.start(b.id).catch((e: unknown) => e);
    assert.ok(err instanceof DriverError && err.transient);
    assert.deepEqual(seen.at(-1), ['start', b.id, 2]);
    d.setFault('pause', { message: 'no pausing today' });
    await assert.rejects(d.pause(a.id), /no pausing today/);
    d.setFault('pause', undefined);
    await d.pause(a.id);
    assert.equal(d.stats().calls.pause, 2);
  });

  it('takes the configured time per operation', async () => {
    const d = new FakeDriver({ delays: { create: 30 } });
    const spec = guestSpec();
    const pending = d.create(spec);
    await new Promise((r) => setImmediate(r));
    assert.equal(d.stats().active, 1, 'the create is still under way');
    assert.equal(d.guestCount, 0);
    await pending;
    assert.equal(d.guestCount, 1);
  });

  it('prints a readiness line once the boot time has passed', async () => {
    let now = 1_000_000;
    const d = new FakeDriver({ bootMs: 5000, clock: { now: () => now } });
    const spec = guestSpec({ hostname: 'web-1' });
    await running(d, spec);
    assert.equal((await d.findGuest(spec.id))?.consoleReady, false);
    assert.ok(!(await d.consoleOutput(spec.id)).includes(readinessLine('web-1')));
    now += 5000;
    assert.equal((await d.findGuest(spec.id))?.consoleReady, true);
    assert.ok((await d.consoleOutput(spec.id, 1)).startsWith('web-1 login:'));
  });

  it('keeps guests across processes in its state file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'monostack-fake-'));
    dirs.push(dir);
    const stateFile = join(dir, 'host.json');
    const first = await FakeDriver.open({ stateFile });
    const a = await running(first);
    const b = guestSpec();
    await first.create(b);
    await first.attachNic(a, { id: 'port-1', macAddress: 'fa:16:3e:00:00:02' });
    await first.flush();
    const second = await FakeDriver.open({ stateFile });
    assert.equal(second.guestCount, 2);
    assert.equal((await second.findGuest(a))?.powerState, 'running');
    assert.equal((await second.findGuest(b.id))?.powerState, 'shutdown');
    assert.equal(second.devices(a).nics.length, 1);
  });

  it('journals changes: removals survive, the journal compacts, a torn last line and the old format load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'monostack-fake-'));
    dirs.push(dir);
    const stateFile = join(dir, 'host.json');
    const first = await FakeDriver.open({ stateFile });
    const a = await running(first);
    const b = await running(first);
    await first.destroy(b);
    // Many changes of one guest: the journal is rewritten with the live guests instead of growing without end.
    for (let i = 0; i < 300; i++) await (i % 2 ? first.start(a) : first.stop(a));
    await first.flush();
    const lines = (await readFile(stateFile, 'utf8')).split('\n').filter(Boolean);
    assert.ok(lines.length < 120, `${lines.length} lines for one guest`);
    // A crash mid-append leaves a torn line: the lines before it stand.
    await appendFile(stateFile, '{"guest":{"spec":{"id":"torn');
    const second = await FakeDriver.open({ stateFile });
    assert.equal(second.guestCount, 1);
    assert.equal(await second.findGuest(b), undefined, 'the destroyed guest stays gone');
    assert.equal((await second.findGuest(a))?.powerState, 'running', 'the last change (start) wins');
    // The former format (one JSON document) still loads, and is rewritten as a journal.
    const old = join(dir, 'old.json');
    const guest = JSON.parse(lines.at(-1)!).guest;
    await writeFile(old, JSON.stringify({ version: 1, guests: [guest] }));
    const third = await FakeDriver.open({ stateFile: old });
    assert.equal(third.guestCount, 1);
    assert.ok((await readFile(old, 'utf8')).startsWith('{"guest"'));
  });

  it('snapshots are deterministic per guest', async () => {
    const d = new FakeDriver();
    const a = await running(d);
    const b = await running(d);
    const [s1, s2, s3] = [await d.snapshot(a), await d.snapshot(a), await d.snapshot(b)];
    assert.deepEqual(s1.bytes, s2.bytes);
    assert.notDeepEqual(s1.bytes, s3.bytes);
  });

  it('FakeFleet presents many hosts from one process', async () => {
    assert.deepEqual(fleetHostnames(3), ['fake-host-000', 'fake-host-001', 'fake-host-002']);
    assert.equal(fleetHostnames(1001).at(-1), 'fake-host-1000');
    const fleet = await FakeFleet.open({ hosts: 100 });
    assert.equal(fleet.drivers.length, 100);
    assert.equal(fleet.host('fake-host-042')?.info.hostname, 'fake-host-042');
    for (const d of fleet.drivers) {
      for (let i = 0; i < 100; i++) await running(d);
    }
    assert.equal(fleet.guestCount, 10_000);
  });

  it('FakeFleet persists each host to its own file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'monostack-fleet-'));
    dirs.push(dir);
    const fleet = await FakeFleet.open({ hosts: 3, stateDir: dir });
    await running(fleet.drivers[1] as FakeDriver);
    await fleet.flush();
    const again = await FakeFleet.open({ hosts: 3, stateDir: dir });
    assert.deepEqual(
      again.drivers.map((d) => d.guestCount),
      [0, 1, 0],
    );
  });
});
