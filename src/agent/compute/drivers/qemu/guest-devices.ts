// Disks and NICs of a guest: PCI slot and name allocation, disk sources, and QMP hot-plug / unplug.
import { isAbsolute } from 'node:path';
import { DriverError } from '../../hypervisor-driver.ts';
import type { AttachedDisk, AttachedNic, GuestDefinition } from './guest-store.ts';
import {
  blockdevOf,
  type DiskBackend,
  diskDeviceOf,
  FIRST_SLOT,
  LAST_SLOT,
  type LaunchDisk,
  type LaunchNic,
  netdevOf,
  nicDeviceOf,
} from './qemu-command.ts';
import { imageInfo } from './qemu-img.ts';
import { type QmpClient, QmpError } from './qmp-client.ts';

/** Fixed slots: the rescue disk probes before the guest's own root disk, so it is the guest's vda. */
export const RESCUE_SLOT = FIRST_SLOT;
export const ROOT_SLOT = FIRST_SLOT + 1;

export function volumeDisk(d: AttachedDisk): LaunchDisk {
  return {
    nodeName: `blk${d.slot}`,
    deviceId: `disk${d.slot}`,
    slot: d.slot,
    backend: d.backend,
    readOnly: d.readOnly,
    serial: d.id,
  };
}

export function nicOf(n: AttachedNic): LaunchNic {
  return {
    netdevId: `net${n.slot}`,
    deviceId: `nic${n.slot}`,
    slot: n.slot,
    mac: n.macAddress,
    tap: n.device,
    mtu: n.mtu,
  };
}

/** The lowest PCI slot no device of the guest uses. */
export function freeSlot(def: GuestDefinition): number {
  const used = new Set<number>([
    RESCUE_SLOT,
    ROOT_SLOT,
    ...def.disks.map((d) => d.slot),
    ...def.nics.map((n) => n.slot),
  ]);
  for (let s = ROOT_SLOT + 1; s <= LAST_SLOT; s++) if (!used.has(s)) return s;
  throw new DriverError(`Guest ${def.spec.id} has no free PCI slot for another device.`, { code: 409 });
}

/** The device name a new disk gets: the one asked for, or the first free of /dev/vdb…/dev/vdz. */
export function deviceName(def: GuestDefinition, wanted?: string): string {
  const used = new Set(def.disks.map((d) => d.device));
  if (wanted) {
    if (used.has(wanted))
      throw new DriverError(`Device ${wanted} is already in use on guest ${def.spec.id}.`, { code: 409 });
    return wanted;
  }
  for (let c = 'b'.charCodeAt(0); c <= 'z'.charCodeAt(0); c++) {
    const name = `/dev/vd${String.fromCharCode(c)}`;
    if (!used.has(name)) return name;
  }
  throw new DriverError(`Guest ${def.spec.id} has no free disk name.`, { code: 409 });
}

/**
 * Where a disk source points: an absolute file path (qcow2 or raw, probed), `nbd+unix:///<export>?socket=<path>`,
 * or `nbd://<host>[:<port>]/<export>`.
 */
export async function diskBackendOf(source: string): Promise<DiskBackend> {
  if (source.startsWith('nbd+unix://') || source.startsWith('nbd://')) {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new DriverError(`Disk source ${source} is not a valid NBD URL.`, { code: 400 });
    }
    const exportName = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (url.protocol === 'nbd+unix:') {
      const socket = url.searchParams.get('socket');
      if (!socket) throw new DriverError(`Disk source ${source} names no socket.`, { code: 400 });
      return { kind: 'nbd', export: exportName, server: { type: 'unix', path: socket } };
    }
    if (!url.hostname) throw new DriverError(`Disk source ${source} names no host.`, { code: 400 });
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return { kind: 'nbd', export: exportName, server: { type: 'inet', host, port: url.port || '10809' } };
  }
  if (!isAbsolute(source)) throw new DriverError(`Disk source ${source} is not supported.`, { code: 400 });
  const info = await imageInfo(source, { shared: true });
  if (info.format !== 'qcow2' && info.format !== 'raw')
    throw new DriverError(`Disk source ${source} has unsupported format ${info.format}.`, { code: 400 });
  return { kind: 'file', path: source, format: info.format };
}

function isQmp(err: unknown, pattern: RegExp, cls?: string): boolean {
  return err instanceof QmpError && (cls === undefined || err.errorClass === cls) && pattern.test(err.desc);
}

/** blockdev-add + device_add; tolerates halves left by an interrupted earlier attempt. */
export async function plugDisk(qmp: QmpClient, disk: LaunchDisk): Promise<void> {
  let added = false;
  try {
    await qmp.execute('blockdev-add', blockdevOf(disk));
    added = true;
  } catch (err) {
    if (!isQmp(err, /[Dd]uplicate node/)) throw err;
  }
  try {
    await qmp.execute('device_add', diskDeviceOf(disk));
  } catch (err) {
    if (isQmp(err, /[Dd]uplicate (device )?ID/)) return;
    if (added) await qmp.execute('blockdev-del', { 'node-name': disk.nodeName }).catch(() => {});
    throw err;
  }
}

/** netdev_add (when the NIC has a tap) + device_add. */
export async function plugNic(qmp: QmpClient, nic: LaunchNic): Promise<void> {
  const nd = netdevOf(nic);
  let added = false;
  if (nd) {
    try {
      await qmp.execute('netdev_add', nd);
      added = true;
    } catch (err) {
      if (!isQmp(err, /[Dd]uplicate/)) throw err;
    }
  }
  try {
    await qmp.execute('device_add', nicDeviceOf(nic));
  } catch (err) {
    if (isQmp(err, /[Dd]uplicate (device )?ID/)) return;
    if (added) await qmp.execute('netdev_del', { id: nic.netdevId }).catch(() => {});
    throw err;
  }
}

/**
 * device_del, then waits for the DEVICE_DELETED event of that device id (QEMU also sends one for its virtio
 * backend first). The guest must acknowledge the ACPI unplug: a guest that does not (no OS, paused) makes this
 * throw a transient DriverError after timeoutMs; the unplug stays requested and a retry waits again.
 */
export async function unplugDevice(qmp: QmpClient, deviceId: string, timeoutMs: number): Promise<void> {
  const deleted = qmp.waitForEvent('DEVICE_DELETED', (e) => e.data?.device === deviceId, timeoutMs);
  deleted.catch(() => {});
  try {
    await qmp.execute('device_del', { id: deviceId });
  } catch (err) {
    if (err instanceof QmpError && err.errorClass === 'DeviceNotFound') return;
    if (!isQmp(err, /already in the process of unplug/)) throw err;
  }
  try {
    await deleted;
  } catch {
    throw new DriverError(`The guest did not release device ${deviceId} within ${timeoutMs} ms.`, {
      transient: true,
    });
  }
}

/** Drops a disk's block node (after its device is gone); an absent node is fine. */
export async function dropBlockNode(qmp: QmpClient, nodeName: string): Promise<void> {
  try {
    await qmp.execute('blockdev-del', { 'node-name': nodeName });
  } catch (err) {
    if (!isQmp(err, /(not found|Cannot find)/i)) throw err;
  }
}

/** Drops a NIC's netdev (after its device is gone); an absent one is fine. */
export async function dropNetdev(qmp: QmpClient, netdevId: string): Promise<void> {
  try {
    await qmp.execute('netdev_del', { id: netdevId });
  } catch (err) {
    if (!(err instanceof QmpError)) throw err;
  }
}
