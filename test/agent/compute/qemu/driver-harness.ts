// A QemuDriver over a temp state dir serving one blank qcow2 image, with spec helpers and full cleanup.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  QemuDriver,
  type QemuDriverOptions,
} from '../../../../src/agent/compute/drivers/qemu/qemu-driver.ts';
import { QmpClient } from '../../../../src/agent/compute/drivers/qemu/qmp-client.ts';
import type { GuestSpec } from '../../../../src/agent/compute/hypervisor-driver.ts';
import type { BuiltGuestImage } from '../../../../src/guest-image/build.ts';
import { blankQcow2, FakeResources, reapStateDir, tempDir } from './support.ts';

export interface DriverHarness {
  driver: QemuDriver;
  stateDir: string;
  srcDir: string;
  resources: FakeResources;
  /** Another driver over the same state dir (as after an agent restart). */
  reopen(extra?: Partial<QemuDriverOptions>): QemuDriver;
  cleanup(): Promise<void>;
}

/** Short timeouts: guests without an OS ignore the ACPI power button and never release hot-plugged devices. */
export async function driverHarness(extra: Partial<QemuDriverOptions> = {}): Promise<DriverHarness> {
  const stateDir = await tempDir('qd-');
  const srcDir = await tempDir('qs-');
  const resources = new FakeResources();
  resources.fallback = { file: blankQcow2(join(srcDir, 'base.qcow2'), 16) };
  const drivers: QemuDriver[] = [];
  const make = (more: Partial<QemuDriverOptions> = {}) => {
    const d = new QemuDriver({
      stateDir,
      resources,
      hostname: 'qemu-test-host',
      accel: 'tcg',
      stopTimeoutMs: 300,
      detachTimeoutMs: 300,
      ...extra,
      ...more,
    });
    drivers.push(d);
    return d;
  };
  return {
    driver: make(),
    stateDir,
    srcDir,
    resources,
    reopen: make,
    cleanup: async () => {
      for (const d of drivers) await d.close();
      await reapStateDir(stateDir);
      await reapStateDir(srcDir);
    },
  };
}

/**
 * Serves the built test image AMI-style, as the image service holds it: 'test-kernel' (aki), 'test-ramdisk' (ari)
 * and 'test-disk' (qcow2 pointing at both, with the image's command line).
 */
export function serveTestImage(resources: FakeResources, image: BuiltGuestImage): void {
  resources
    .add('test-kernel', { file: image.kernel, diskFormat: 'aki', containerFormat: 'aki' })
    .add('test-ramdisk', { file: image.initrd, diskFormat: 'ari', containerFormat: 'ari' })
    .add('test-disk', {
      file: image.disk,
      properties: {
        kernel_id: 'test-kernel',
        ramdisk_id: 'test-ramdisk',
        os_command_line: image.manifest.osCommandLine,
      },
    });
}

export function spec(over: Partial<GuestSpec> = {}): GuestSpec {
  const id = over.id ?? randomUUID();
  return {
    id,
    name: `vm-${id.slice(0, 8)}`,
    hostname: `vm-${id.slice(0, 8)}`,
    flavor: { vcpus: 1, memoryMb: 128, rootGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
    imageId: 'image-base',
    metadata: {},
    configDrive: false,
    ...over,
  };
}

/** The guest's live QEMU pid as its pidfile says. */
export function pidOf(h: DriverHarness, id: string): number {
  return Number(readFileSync(join(h.stateDir, 'guests', id, 'pid'), 'utf8').trim());
}

/** The argv of a running process. */
export function cmdlineOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
}

/**
 * Runs QMP commands on a guest through a second session. QEMU's monitor serves one client at a time, so the
 * driver's sessions are closed first (they reopen on the driver's next use).
 */
export async function qmpOf<T>(h: DriverHarness, id: string, fn: (q: QmpClient) => Promise<T>): Promise<T> {
  await h.driver.close();
  const q = await QmpClient.connect(join(h.stateDir, 'guests', id, 'qmp.sock'));
  try {
    return await fn(q);
  } finally {
    await q.close();
  }
}

/** Device ids QEMU has on the guest's PCI bus (from query-pci). */
export async function pciDeviceIds(h: DriverHarness, id: string): Promise<string[]> {
  return qmpOf(h, id, async (q) => {
    const buses = await q.execute<{ devices: { qdev_id: string }[] }[]>('query-pci');
    return buses.flatMap((b) => b.devices.map((d) => d.qdev_id)).filter(Boolean);
  });
}
