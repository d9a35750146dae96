// The HypervisorDriver contract, run over every implementation: the fake, and QEMU (real processes, no guest OS).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeDriver } from '../../src/agent/compute/drivers/fake/fake-driver.ts';
import {
  DriverError,
  type GuestId,
  GuestNotFound,
  type GuestSpec,
  type HypervisorDriver,
  InvalidGuestState,
} from '../../src/agent/compute/hypervisor-driver.ts';
import { driverHarness } from '../agent/compute/qemu/driver-harness.ts';
import { blankQcow2 } from '../agent/compute/qemu/support.ts';

interface Harness {
  driver: HypervisorDriver;
  /** Removes what the implementation left on the host. */
  cleanup(): Promise<void>;
  /** A disk source this implementation can attach (default: an NBD URL, which the fake takes as it is). */
  diskSource?: () => string;
}

interface Implementation {
  name: string;
  /** Why the implementation cannot run here, or undefined. */
  unavailable(): Promise<string | undefined>;
  make(): Promise<Harness>;
}

function qemuMissing(): string | undefined {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
    execFileSync('qemu-img', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'qemu-system-x86_64 and qemu-img are not installed';
  }
}

const implementations: Implementation[] = [
  {
    name: 'FakeDriver',
    unavailable: async () => undefined,
    make: async () => ({ driver: new FakeDriver(), cleanup: async () => {} }),
  },
  {
    // Guests are real QEMU processes (TCG) booting a blank qcow2: no OS, so clean stops time out (300 ms here).
    name: 'QemuDriver',
    unavailable: async () => qemuMissing(),
    make: async () => {
      const h = await driverHarness();
      return {
        driver: h.driver,
        cleanup: h.cleanup,
        diskSource: () => blankQcow2(join(h.srcDir, `vol-${randomUUID()}.qcow2`), 16),
      };
    },
  },
];

function guestSpec(overrides: Partial<GuestSpec> = {}): GuestSpec {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    name: `server-${id.slice(0, 8)}`,
    hostname: `server-${id.slice(0, 8)}`,
    flavor: { vcpus: 1, memoryMb: 128, rootGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
    imageId: 'image-cirros',
    metadata: {},
    configDrive: false,
    ...overrides,
  };
}

async function powerOf(driver: HypervisorDriver, id: GuestId): Promise<string | undefined> {
  const listed = (await driver.listGuests()).find((g) => g.id === id);
  const found = await driver.findGuest(id);
  assert.equal(found?.powerState, listed?.powerState, 'findGuest and listGuests agree');
  return listed?.powerState;
}

async function running(driver: HypervisorDriver, spec = guestSpec()): Promise<GuestId> {
  await driver.create(spec);
  await driver.start(spec.id);
  return spec.id;
}

function runHypervisorDriverContract(impl: Implementation): void {
  describe(`HypervisorDriver contract: ${impl.name}`, async () => {
    const reason = await impl.unavailable();
    const harnesses: Harness[] = [];
    const make = async () => {
      const h = await impl.make();
      harnesses.push(h);
      return h.driver;
    };
    after(async () => {
      for (const h of harnesses) await h.cleanup();
    });
    const test = (name: string, fn: () => Promise<void>) => it(name, { skip: reason }, fn);

    test('describes itself and its inventory', async () => {
      const d = await make();
      assert.ok(d.info.hypervisorType.length > 0);
      assert.ok(Number.isInteger(d.info.hypervisorVersion) && d.info.hypervisorVersion > 0);
      assert.ok(d.info.hostname.length > 0);
      assert.equal(typeof d.info.cpuInfo, 'object');
      const inv = await d.inventory();
      assert.ok(inv.vcpus > 0 && inv.memoryMb > 0 && inv.diskGb > 0);
      assert.ok(inv.traits.every((t) => /^[A-Z0-9_]+$/.test(t)));
    });

    test('create defines a shut-down guest, and is idempotent', async () => {
      const d = await make();
      const spec = guestSpec();
      await d.create(spec);
      assert.equal(await powerOf(d, spec.id), 'shutdown');
      await d.create(spec);
      assert.equal((await d.listGuests()).filter((g) => g.id === spec.id).length, 1);
      await d.start(spec.id);
      await d.create(spec);
      assert.equal(await powerOf(d, spec.id), 'running', 'create leaves an existing guest as it is');
    });

    test('start and stop move the power state and repeat harmlessly', async () => {
      const d = await make();
      const spec = guestSpec();
      await d.create(spec);
      await d.start(spec.id);
      await d.start(spec.id);
      assert.equal(await powerOf(d, spec.id), 'running');
      await d.stop(spec.id, { timeoutMs: 0 });
      await d.stop(spec.id);
      assert.equal(await powerOf(d, spec.id), 'shutdown');
    });

    test('pause/unpause and suspend/resume', async () => {
      const d = await make();
      const id = await running(d);
      await d.pause(id);
      await d.pause(id);
      assert.equal(await powerOf(d, id), 'paused');
      await assert.rejects(d.start(id), InvalidGuestState);
      await d.unpause(id);
      await d.unpause(id);
      assert.equal(await powerOf(d, id), 'running');
      await d.suspend(id);
      await d.suspend(id);
      assert.equal(await powerOf(d, id), 'suspended');
      await assert.rejects(d.pause(id), InvalidGuestState);
      await d.resume(id);
      await d.resume(id);
      assert.equal(await powerOf(d, id), 'running');
      await d.pause(id);
      await d.suspend(id);
      assert.equal(await powerOf(d, id), 'suspended', 'a paused guest can be suspended');
    });

    test('state errors are typed and name the guest', async () => {
      const d = await make();
      const spec = guestSpec();
      await d.create(spec);
      const err = await d.unpause(spec.id).then(
        () => assert.fail('unpause of a shut-down guest succeeded'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof InvalidGuestState);
      assert.equal(err.guestId, spec.id);
      assert.equal(err.state, 'shutdown');
      assert.equal(err.transient, false);
      await assert.rejects(d.resume(spec.id), InvalidGuestState);
      await assert.rejects(d.pause(spec.id), InvalidGuestState);
      await assert.rejects(d.suspend(spec.id), InvalidGuestState);
    });

    test('soft reboot needs a running guest; hard reboot runs from any state', async () => {
      const d = await make();
      const id = await running(d);
      await d.reboot(id, 'SOFT');
      assert.equal(await powerOf(d, id), 'running');
      await d.stop(id);
      await assert.rejects(d.reboot(id, 'SOFT'), InvalidGuestState);
      await d.reboot(id, 'HARD');
      assert.equal(await powerOf(d, id), 'running');
      await d.pause(id);
      await d.reboot(id, 'HARD');
      assert.equal(await powerOf(d, id), 'running');
    });

    test('destroy removes a guest; an absent guest is success', async () => {
      const d = await make();
      const id = await running(d);
      await d.destroy(id);
      assert.equal(await powerOf(d, id), undefined);
      assert.equal(await d.findGuest(id), undefined);
      await d.destroy(id);
      await d.destroy(randomUUID());
    });

    test('operations on a missing guest throw GuestNotFound', async () => {
      const d = await make();
      const id = randomUUID();
      const spec = guestSpec({ id });
      const calls: [string, () => Promise<unknown>][] = [
        ['start', () => d.start(id)],
        ['stop', () => d.stop(id)],
        ['reboot', () => d.reboot(id, 'HARD')],
        ['pause', () => d.pause(id)],
        ['unpause', () => d.unpause(id)],
        ['suspend', () => d.suspend(id)],
        ['resume', () => d.resume(id)],
        ['resize', () => d.resize(id, spec.flavor)],
        ['rebuild', () => d.rebuild(id, spec)],
        ['snapshot', () => d.snapshot(id)],
        ['rescue', () => d.rescue(id)],
        ['unrescue', () => d.unrescue(id)],
        ['consoleOutput', () => d.consoleOutput(id)],
        ['attachDisk', () => d.attachDisk(id, { id: 'vol-1', source: 'nbd://storage/vol-1' })],
        ['detachDisk', () => d.detachDisk(id, 'vol-1')],
        ['attachNic', () => d.attachNic(id, { id: 'port-1', macAddress: 'fa:16:3e:00:00:01' })],
        ['detachNic', () => d.detachNic(id, 'port-1')],
        ['diagnostics', () => d.diagnostics(id)],
      ];
      for (const [name, call] of calls) {
        const err = await call().then(
          () => assert.fail(`${name} of a missing guest succeeded`),
          (e: unknown) => e,
        );
        assert.ok(err instanceof GuestNotFound, `${name} throws GuestNotFound`);
        assert.ok(err instanceof DriverError);
        assert.equal(err.guestId, id);
        assert.equal(err.code, 404);
      }
    });

    test('resize keeps the power state; rebuild brings a running guest back running', async () => {
      const d = await make();
      const spec = guestSpec();
      const id = await running(d, spec);
      const bigger = { ...spec.flavor, vcpus: 2, memoryMb: 256 };
      await d.resize(id, bigger);
      assert.equal(await powerOf(d, id), 'running');
      assert.equal((await d.diagnostics(id)).numCpus, 2);
      await d.rebuild(id, { ...spec, imageId: 'image-other', flavor: bigger });
      assert.equal(await powerOf(d, id), 'running');
      await d.stop(id);
      await d.resize(id, spec.flavor);
      assert.equal(await powerOf(d, id), 'shutdown');
      await d.rebuild(id, spec);
      assert.equal(await powerOf(d, id), 'shutdown', 'a stopped guest stays stopped through rebuild');
    });

    test('snapshot returns an image in any power state', async () => {
      const d = await make();
      const id = await running(d);
      const snap = await d.snapshot(id);
      assert.ok(['qcow2', 'raw'].includes(snap.diskFormat));
      assert.equal(snap.containerFormat, 'bare');
      // Bytes at once or streamed, as SnapshotData allows.
      const chunks: Uint8Array[] = [];
      if (snap.bytes instanceof Uint8Array) chunks.push(snap.bytes);
      else for await (const c of snap.bytes) chunks.push(c);
      const bytes = Buffer.concat(chunks);
      assert.ok(bytes.byteLength > 0);
      if (snap.diskFormat === 'qcow2') assert.equal(bytes.subarray(0, 4).toString('latin1'), 'QFI\xfb');
      await d.stop(id);
      assert.ok(await d.snapshot(id));
    });

    test('rescue and unrescue are idempotent and leave the guest running', async () => {
      const d = await make();
      const id = await running(d);
      await d.rescue(id, { imageId: 'image-rescue' });
      await d.rescue(id);
      let g = await d.findGuest(id);
      assert.equal(g?.powerState, 'running');
      assert.equal(g?.rescued, true);
      await d.unrescue(id);
      await d.unrescue(id);
      g = await d.findGuest(id);
      assert.equal(g?.powerState, 'running');
      assert.equal(g?.rescued, false);
    });

    test('console output is text and honours length', async () => {
      const d = await make();
      const id = await running(d);
      const all = await d.consoleOutput(id);
      assert.equal(typeof all, 'string');
      const one = await d.consoleOutput(id, 1);
      assert.ok(one.split('\n').length <= 1);
      assert.ok(all.endsWith(one));
    });

    // Hot unplug needs the guest's acknowledgement (a booted OS: covered per driver); here the guest is stopped
    // before the detaches, which every driver must take too.
    test('disks and NICs attach and detach idempotently', async () => {
      const d = await make();
      const id = await running(d);
      const base = await d.diagnostics(id);
      const h = harnesses.at(-1)!;
      const disk = { id: 'vol-1', source: h.diskSource?.() ?? 'nbd://storage/vol-1' };
      const nic = { id: 'port-1', macAddress: 'fa:16:3e:00:00:01' };
      await d.attachDisk(id, disk);
      await d.attachDisk(id, disk);
      await d.attachNic(id, nic);
      await d.attachNic(id, nic);
      let diag = await d.diagnostics(id);
      assert.equal(diag.numDisks, base.numDisks + 1);
      assert.equal(diag.numNics, base.numNics + 1);
      assert.ok(diag.nicDetails.some((n) => n.macAddress === nic.macAddress));
      await d.stop(id, { timeoutMs: 0 });
      await d.detachDisk(id, disk.id);
      await d.detachDisk(id, disk.id);
      await d.detachNic(id, nic.id);
      await d.detachNic(id, nic.id);
      await d.start(id);
      diag = await d.diagnostics(id);
      assert.equal(diag.numDisks, base.numDisks);
      assert.equal(diag.numNics, base.numNics);
    });

    test('diagnostics reflect the guest', async () => {
      const d = await make();
      const spec = guestSpec({ flavor: { ...guestSpec().flavor, vcpus: 2, memoryMb: 512 } });
      const id = await running(d, spec);
      const diag = await d.diagnostics(id);
      assert.equal(diag.state, 'running');
      assert.equal(diag.numCpus, 2);
      assert.equal(diag.cpuDetails.length, 2);
      assert.equal(diag.memoryDetails.maximum, 512);
    });

    test('guests are independent', async () => {
      const d = await make();
      const a = await running(d);
      const b = await running(d);
      await d.pause(a);
      assert.equal(await powerOf(d, a), 'paused');
      assert.equal(await powerOf(d, b), 'running');
      await d.destroy(a);
      assert.equal(await powerOf(d, b), 'running');
    });
  });
}

for (const impl of implementations) runHypervisorDriverContract(impl);
