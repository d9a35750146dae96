// QemuDriver end to end (no guest OS): hot-plug, resize, rebuild, rescue, console, diagnostics, image pruning.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DriverError, InvalidGuestState } from '../../../../src/agent/compute/hypervisor-driver.ts';
import {
  cmdlineOf,
  type DriverHarness,
  driverHarness,
  pciDeviceIds,
  pidOf,
  qmpOf,
  spec,
} from './driver-harness.ts';
import { blankQcow2 } from './support.ts';

describe('QemuDriver devices and disks', () => {
  let h: DriverHarness;
  before(async () => {
    h = await driverHarness();
  });
  after(async () => {
    await h.cleanup();
  });
  const guestDir = (id: string) => join(h.stateDir, 'guests', id);
  const virtualSize = (path: string) =>
    JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', path], { encoding: 'utf8' }))[
      'virtual-size'
    ];

  it('hot-plugs disks and NICs into a running guest and records them for the next start', async () => {
    const s = spec();
    await h.driver.create(s);
    await h.driver.start(s.id);
    const vol = blankQcow2(join(h.srcDir, 'vol-a.qcow2'), 8);
    const before = await h.driver.diagnostics(s.id);
    await h.driver.attachDisk(s.id, { id: 'vol-a', source: vol });
    await h.driver.attachDisk(s.id, { id: 'vol-a', source: vol });
    await h.driver.attachNic(s.id, { id: 'port-a', macAddress: 'FA:16:3E:00:00:0A' });
    await h.driver.attachNic(s.id, { id: 'port-a', macAddress: 'fa:16:3e:00:00:0a' });
    assert.deepEqual((await pciDeviceIds(h, s.id)).sort(), ['disk-root', 'disk5', 'nic6']);
    const diag = await h.driver.diagnostics(s.id);
    assert.equal(diag.numDisks, before.numDisks + 1);
    assert.equal(diag.numNics, before.numNics + 1);
    assert.deepEqual(diag.nicDetails, [{ macAddress: 'fa:16:3e:00:00:0a', rxOctets: 0, txOctets: 0 }]);
    const blocks = await qmpOf(h, s.id, (q) => q.execute<{ device: string; qdev?: string }[]>('query-block'));
    assert.ok(blocks.some((b) => b.qdev?.startsWith('/machine/peripheral/disk5')));
    // Without an OS nothing acknowledges the ACPI unplug: detach reports a transient failure and keeps the record.
    const err = await h.driver.detachDisk(s.id, 'vol-a').catch((e: unknown) => e);
    assert.ok(err instanceof DriverError && err.transient, String(err));
    assert.match(err.message, /did not release device disk5/);
    // A restart brings the recorded devices back at the same slots.
    await h.driver.stop(s.id, { timeoutMs: 0 });
    await h.driver.start(s.id);
    assert.deepEqual((await pciDeviceIds(h, s.id)).sort(), ['disk-root', 'disk5', 'nic6']);
    // Detaching from a stopped guest only updates the record.
    await h.driver.stop(s.id, { timeoutMs: 0 });
    await h.driver.detachDisk(s.id, 'vol-a');
    await h.driver.detachDisk(s.id, 'vol-a');
    await h.driver.detachNic(s.id, 'port-a');
    await h.driver.start(s.id);
    assert.deepEqual(await pciDeviceIds(h, s.id), ['disk-root']);
    await h.driver.destroy(s.id);
  });

  it('opens NIC taps at start and runs the beforeContinue hook while they exist and the guest is held', async () => {
    const tap = `qdt${process.pid.toString(36)}`.slice(0, 15);
    const calls: { id: string; pid: number; tapExists: boolean; nics: string[] }[] = [];
    const d = h.reopen({
      beforeContinue: async (id, ctx) => {
        calls.push({
          id,
          pid: ctx.pid,
          tapExists: existsSync(`/sys/class/net/${tap}`),
          nics: ctx.nics.map((n) => n.id),
        });
      },
    });
    const s = spec();
    await d.create(s);
    await d.attachNic(s.id, { id: 'port-t', macAddress: 'fa:16:3e:00:00:0b', device: tap, mtu: 1450 });
    await d.start(s.id);
    assert.deepEqual(calls, [{ id: s.id, pid: pidOf(h, s.id), tapExists: true, nics: ['port-t'] }]);
    const argv = cmdlineOf(pidOf(h, s.id));
    assert.ok(argv.includes(`tap,id=net5,ifname=${tap},script=no,downscript=no,vhost=off`));
    assert.equal((await d.diagnostics(s.id)).nicDetails[0]?.macAddress, 'fa:16:3e:00:00:0b');
    await d.destroy(s.id);
    for (let i = 0; i < 100 && existsSync(`/sys/class/net/${tap}`); i++) await sleep(20);
    assert.ok(!existsSync(`/sys/class/net/${tap}`), 'the tap goes with QEMU');
    await d.close();
  });

  it('attaches NBD exports and refuses unusable sources, and devices while suspended', async () => {
    const s = spec();
    await h.driver.create(s);
    await h.driver.attachDisk(s.id, { id: 'vol-n', source: 'nbd+unix:///vol-n?socket=/run/nbd/vol-n.sock' });
    const def = JSON.parse(readFileSync(join(guestDir(s.id), 'definition.json'), 'utf8'));
    assert.deepEqual(def.disks[0].backend, {
      kind: 'nbd',
      export: 'vol-n',
      server: { type: 'unix', path: '/run/nbd/vol-n.sock' },
    });
    assert.equal(def.disks[0].device, '/dev/vdb');
    await h.driver.detachDisk(s.id, 'vol-n');
    for (const source of ['relative/path.qcow2', 'iscsi://x/y', join(h.srcDir, 'missing.qcow2')])
      await assert.rejects(h.driver.attachDisk(s.id, { id: 'bad', source }), DriverError);
    await assert.rejects(h.driver.attachNic(s.id, { id: 'p', macAddress: 'nope' }), DriverError);
    await assert.rejects(
      h.driver.attachNic(s.id, { id: 'p', macAddress: 'fa:16:3e:00:00:01', device: 'a/b' }),
      DriverError,
    );
    await h.driver.start(s.id);
    await h.driver.suspend(s.id);
    await assert.rejects(
      h.driver.attachNic(s.id, { id: 'p', macAddress: 'fa:16:3e:00:00:01' }),
      InvalidGuestState,
    );
    await h.driver.destroy(s.id);
  });

  it('resize restarts a running guest into the flavor and grows, never shrinks, the root disk', async () => {
    const s = spec();
    await h.driver.create(s);
    await h.driver.start(s.id);
    const bigger = { ...s.flavor, vcpus: 2, memoryMb: 192, rootGb: 2 };
    await h.driver.resize(s.id, bigger);
    assert.equal((await h.driver.findGuest(s.id))?.powerState, 'running');
    const argv = cmdlineOf(pidOf(h, s.id));
    assert.equal(argv[argv.indexOf('-smp') + 1], '2');
    assert.equal(argv[argv.indexOf('-m') + 1], '192');
    assert.equal((await h.driver.diagnostics(s.id)).cpuDetails.length, 2);
    assert.equal(virtualSize(join(guestDir(s.id), 'root.qcow2')), 2 * 1024 ** 3);
    const err = await h.driver.resize(s.id, s.flavor).catch((e: unknown) => e);
    assert.ok(err instanceof DriverError);
    assert.match(err.message, /Unable to resize disk down/);
    await h.driver.pause(s.id);
    await h.driver.resize(s.id, { ...bigger, vcpus: 1 });
    assert.equal((await h.driver.findGuest(s.id))?.powerState, 'paused', 'a paused guest stays paused');
    await h.driver.destroy(s.id);
  });

  it('rebuild replaces the root disk from the new image and keeps the power state', async () => {
    h.resources.add('image-two', { file: blankQcow2(join(h.srcDir, 'two.qcow2'), 32) });
    const s = spec();
    await h.driver.create(s);
    execFileSync('qemu-io', ['-c', 'write -P 0x5a 0 64k', join(guestDir(s.id), 'root.qcow2')]);
    await h.driver.rebuild(s.id, { ...s, imageId: 'image-two', flavor: { ...s.flavor, rootGb: 0 } });
    assert.equal((await h.driver.findGuest(s.id))?.powerState, 'shutdown');
    const root = join(guestDir(s.id), 'root.qcow2');
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', root], { encoding: 'utf8' }));
    assert.equal(info['backing-filename'], join(h.stateDir, 'images', 'image-two'));
    assert.equal(info['virtual-size'], 32 * 1024 * 1024, 'rootGb 0 keeps the image size');
    const map = execFileSync('qemu-img', ['map', '--output=json', root], { encoding: 'utf8' });
    assert.ok(
      !JSON.parse(map).some((m: { data: boolean; depth: number }) => m.data && m.depth === 0),
      'a fresh overlay',
    );
    await h.driver.start(s.id);
    await h.driver.rebuild(s.id, s);
    assert.equal((await h.driver.findGuest(s.id))?.powerState, 'running');
    await h.driver.destroy(s.id);
  });

  it('rescue boots a rescue disk first with the own disk second; unrescue boots the own disk again', async () => {
    const s = spec();
    await h.driver.create(s);
    await h.driver.start(s.id);
    await h.driver.rescue(s.id, { imageId: 'image-two' });
    await h.driver.rescue(s.id);
    const g = await h.driver.findGuest(s.id);
    assert.equal(g?.powerState, 'running');
    assert.equal(g?.rescued, true);
    assert.deepEqual((await pciDeviceIds(h, s.id)).sort(), ['disk-rescue', 'disk-root']);
    const rescueInfo = execFileSync(
      'qemu-img',
      ['info', '-U', '--output=json', join(guestDir(s.id), 'rescue.qcow2')],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(JSON.parse(rescueInfo)['backing-filename'], join(h.stateDir, 'images', 'image-two'));
    await h.driver.unrescue(s.id);
    await h.driver.unrescue(s.id);
    assert.equal((await h.driver.findGuest(s.id))?.rescued, false);
    assert.deepEqual(await pciDeviceIds(h, s.id), ['disk-root']);
    assert.ok(!existsSync(join(guestDir(s.id), 'rescue.qcow2')));
    await h.driver.destroy(s.id);
  });

  it('console output tails the serial log; readiness is a GUEST-READY line of the current boot', async () => {
    const s = spec();
    await h.driver.create(s);
    await h.driver.start(s.id);
    const log = join(guestDir(s.id), 'serial.log');
    appendFileSync(log, 'booting\r\nlogin: \r\n');
    assert.equal((await h.driver.findGuest(s.id))?.consoleReady, false);
    appendFileSync(log, 'GUEST-READY 192.0.2.11 uptime=1.2 stage=initramfs\n');
    assert.equal((await h.driver.findGuest(s.id))?.consoleReady, true);
    assert.equal(await h.driver.consoleOutput(s.id, 1), 'GUEST-READY 192.0.2.11 uptime=1.2 stage=initramfs');
    const all = await h.driver.consoleOutput(s.id);
    assert.ok(all.startsWith('booting\r\n') && all.endsWith('stage=initramfs'));
    assert.equal(await h.driver.consoleOutput(s.id, 0), '');
    await h.driver.suspend(s.id);
    await h.driver.resume(s.id);
    assert.equal((await h.driver.findGuest(s.id))?.consoleReady, true, 'a restored guest is still booted');
    await h.driver.reboot(s.id, 'HARD');
    assert.equal((await h.driver.findGuest(s.id))?.consoleReady, false, 'a new boot is not ready yet');
    assert.ok((await h.driver.consoleOutput(s.id)).includes('GUEST-READY'), 'the log keeps earlier boots');
    await h.driver.destroy(s.id);
  });

  it('inventory is the real host, and prune keeps only images guests use', async () => {
    const inv = await h.driver.inventory();
    assert.ok(inv.vcpus >= 1 && inv.memoryMb > 0 && inv.diskGb > 0);
    assert.ok(inv.traits.includes('COMPUTE_IMAGE_TYPE_QCOW2'));
    assert.equal(h.driver.info.hypervisorType, 'QEMU');
    assert.ok(h.driver.info.hypervisorVersion >= 7_000_000);
    const s = spec({ imageId: 'image-base' });
    await h.driver.create(s);
    const removed = await h.driver.pruneImages();
    assert.ok(removed.includes('image-two'), `removed ${removed}`);
    assert.deepEqual(readdirSync(join(h.stateDir, 'images')).sort(), ['image-base', 'image-base.json']);
    await h.driver.destroy(s.id);
  });
});
