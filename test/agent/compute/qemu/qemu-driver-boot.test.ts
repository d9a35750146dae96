// QemuDriver with a real guest OS (the AMI-style test image under TCG): boot to GUEST-READY from a config drive,
// hot-plug and unplug acknowledged by the guest, clean ACPI power-off, soft reboot.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { QemuDriver } from '../../../../src/agent/compute/drivers/qemu/qemu-driver.ts';
import type { GuestId } from '../../../../src/agent/compute/hypervisor-driver.ts';
import { type BuiltGuestImage, buildTestImage } from '../../../../src/guest-image/build.ts';
import {
  cmdlineOf,
  type DriverHarness,
  driverHarness,
  pidOf,
  serveTestImage,
  spec,
} from './driver-harness.ts';
import { blankQcow2 } from './support.ts';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const cacheDir = process.env.MONOSTACK_GUEST_IMAGE_CACHE ?? join(repoRoot, '.cache', 'guest-image');
/** Kept between runs: buildTestImage returns an existing build of the same version at once. */
const imageDir = join(dirname(cacheDir), 'qemu-driver-test-image');
const BOOT_TIMEOUT_MS = 120_000;

/** Polls until `check` holds (or fails after timeoutMs); returns the elapsed milliseconds. */
async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = BOOT_TIMEOUT_MS,
): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
  return Math.round(performance.now() - started);
}

async function consoleHas(d: QemuDriver, id: GuestId, pattern: RegExp): Promise<boolean> {
  return pattern.test(await d.consoleOutput(id));
}

describe('QemuDriver with a booting guest', () => {
  let h: DriverHarness;
  let image: BuiltGuestImage;
  const s = spec({ configDrive: true, imageId: 'test-disk', flavor: { ...spec().flavor, rootGb: 0 } });

  before(async () => {
    h = await driverHarness({ stopTimeoutMs: 60_000, detachTimeoutMs: 30_000 });
    image = await buildTestImage({ outDir: imageDir, cacheDir });
    serveTestImage(h.resources, image);
    h.resources.configFiles = [
      {
        path: 'openstack/latest/meta_data.json',
        contents: JSON.stringify({
          uuid: s.id,
          name: s.name,
          hostname: 'booted-guest',
          launch_index: 0,
          meta: {},
        }),
      },
    ];
  });

  after(async () => {
    await h?.cleanup();
  });

  it('boots the AMI-style image with its kernel, ramdisk and command line, to GUEST-READY', async (t) => {
    await h.driver.create(s);
    const started = performance.now();
    await h.driver.start(s.id);
    const argv = cmdlineOf(pidOf(h, s.id));
    assert.equal(argv[argv.indexOf('-kernel') + 1], join(h.stateDir, 'images', 'test-kernel'));
    assert.equal(argv[argv.indexOf('-initrd') + 1], join(h.stateDir, 'images', 'test-ramdisk'));
    assert.equal(argv[argv.indexOf('-append') + 1], image.manifest.osCommandLine);
    await until('consoleReady', async () => (await h.driver.findGuest(s.id))?.consoleReady === true);
    t.diagnostic(`start → GUEST-READY ${Math.round(performance.now() - started)} ms`);
    assert.match(
      await h.driver.consoleOutput(s.id),
      /GUEST-READY \S+ hostname=booted-guest/,
      'config drive read',
    );
  });

  it('hot-plugs a disk and a NIC the guest sees, and unplugs them with its acknowledgement', async (t) => {
    const vol = blankQcow2(join(h.srcDir, 'vol.qcow2'), 32);
    await h.driver.attachDisk(s.id, { id: 'vol-boot', source: vol });
    await until('the guest to see vdb', () => consoleHas(h.driver, s.id, /GUEST-DISKS.*vdb:32768/), 30_000);
    await h.driver.attachNic(s.id, { id: 'port-boot', macAddress: 'fa:16:3e:00:00:99' });
    const started = performance.now();
    await h.driver.detachDisk(s.id, 'vol-boot');
    t.diagnostic(`detach acknowledged in ${Math.round(performance.now() - started)} ms`);
    await h.driver.detachNic(s.id, 'port-boot');
    const lines = (await h.driver.consoleOutput(s.id)).split('\n').filter((l) => l.startsWith('GUEST-DISKS'));
    assert.doesNotMatch(lines.at(-1) ?? '', /vdb/, 'the guest lost vdb');
    assert.equal((await h.driver.diagnostics(s.id)).numDisks, 2, 'root and config drive');
  });

  it('a soft reboot and a stop are clean: the guest powers off on the ACPI button', async (t) => {
    let started = performance.now();
    await h.driver.reboot(s.id, 'SOFT');
    t.diagnostic(`soft reboot: clean power-off and restart in ${Math.round(performance.now() - started)} ms`);
    await until(
      'consoleReady after the reboot',
      async () => (await h.driver.findGuest(s.id))?.consoleReady === true,
    );
    started = performance.now();
    await h.driver.stop(s.id);
    const stopMs = performance.now() - started;
    t.diagnostic(`clean stop in ${Math.round(stopMs)} ms`);
    assert.ok(stopMs < 60_000, 'QEMU exited on its own, before the power-off timeout');
    assert.equal((await h.driver.findGuest(s.id))?.powerState, 'shutdown');
    const log = readFileSync(join(h.stateDir, 'guests', s.id, 'serial.log'), 'utf8');
    assert.equal(log.match(/GUEST-READY/g)?.length, 2, 'two boots');
  });
});
