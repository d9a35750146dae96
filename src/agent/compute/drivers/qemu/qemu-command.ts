// Builds a guest's qemu-system-x86_64 argv (no shell) and the QMP objects that hot-plug the same disks and NICs.

/** Where a disk's bytes are: a local image file, or an NBD export (unix socket or TCP). */
export type DiskBackend =
  | { kind: 'file'; path: string; format: 'qcow2' | 'raw' }
  | {
      kind: 'nbd';
      export: string;
      server: { type: 'unix'; path: string } | { type: 'inet'; host: string; port: string };
    };

/** A virtio-blk disk as QEMU sees it; node and device ids are stable so a restart recreates the same machine. */
export interface LaunchDisk {
  nodeName: string;
  deviceId: string;
  /** PCI slot on pci.0 (3..31), fixed so hot-plugged and cold-plugged layouts match (needed by -incoming). */
  slot: number;
  backend: DiskBackend;
  readOnly: boolean;
  bootIndex?: number;
  /** virtio-blk serial (20 chars max), the volume id as Nova sets it. */
  serial?: string;
}

/** A virtio-net NIC; without `tap` it has no host backend (a cable-less NIC). */
export interface LaunchNic {
  netdevId: string;
  deviceId: string;
  slot: number;
  mac: string;
  tap?: string;
  mtu?: number;
}

export interface LaunchPaths {
  pidFile: string;
  qmpSocket: string;
  serialSocket: string;
  serialLog: string;
  vncSocket: string;
}

export interface QemuLaunch {
  guestId: string;
  accel: 'kvm' | 'tcg';
  vcpus: number;
  memoryMb: number;
  paths: LaunchPaths;
  disks: LaunchDisk[];
  /** An ISO 9660 image attached as an IDE CD-ROM (the config drive). */
  cdrom?: string;
  nics: LaunchNic[];
  /** Direct kernel boot (an AMI-style image's kernel_id / ramdisk_id / os_command_line). */
  kernel?: { path: string; initrd?: string; append: string };
  /** Restore from a saved state: QEMU reads the migration stream from this inherited fd. */
  incomingFd?: number;
}

/** The kernel command line used when an image with a kernel_id has no os_command_line. */
export const DEFAULT_KERNEL_APPEND = 'console=ttyS0 root=/dev/vda rw quiet';

/** The first and last PCI slots guests' devices take (slot 1 is the PIIX3, slot 2 the VGA). */
export const FIRST_SLOT = 3;
export const LAST_SLOT = 31;

/** The `-name` value that identifies a guest's QEMU in /proc/<pid>/cmdline. */
export function nameArg(guestId: string): string {
  return `guest=${guestId},debug-threads=on`;
}

function hexSlot(slot: number): string {
  return `0x${slot.toString(16)}`;
}

/** The blockdev-add arguments (and the -blockdev JSON) of a disk. */
export function blockdevOf(disk: LaunchDisk): Record<string, unknown> {
  const b = disk.backend;
  if (b.kind === 'nbd') {
    const server =
      b.server.type === 'unix'
        ? { type: 'unix', path: b.server.path }
        : { type: 'inet', host: b.server.host, port: b.server.port };
    return {
      driver: 'nbd',
      'node-name': disk.nodeName,
      'read-only': disk.readOnly,
      server,
      export: b.export,
    };
  }
  return {
    driver: b.format,
    'node-name': disk.nodeName,
    'read-only': disk.readOnly,
    discard: 'unmap',
    file: { driver: 'file', filename: b.path, 'read-only': disk.readOnly },
  };
}

/** The device_add arguments (and the -device JSON) of a disk. */
export function diskDeviceOf(disk: LaunchDisk): Record<string, unknown> {
  const dev: Record<string, unknown> = {
    driver: 'virtio-blk-pci',
    id: disk.deviceId,
    drive: disk.nodeName,
    bus: 'pci.0',
    addr: hexSlot(disk.slot),
  };
  if (disk.bootIndex !== undefined) dev.bootindex = disk.bootIndex;
  if (disk.serial) dev.serial = disk.serial.slice(0, 20);
  return dev;
}

/** The netdev_add arguments of a NIC with a tap, or undefined for a NIC without a host backend. */
export function netdevOf(nic: LaunchNic): Record<string, unknown> | undefined {
  if (!nic.tap) return undefined;
  return { type: 'tap', id: nic.netdevId, ifname: nic.tap, script: 'no', downscript: 'no', vhost: false };
}

/** The device_add arguments (and the -device JSON) of a NIC; romfile '' skips the iPXE ROM (~0.6 s of boot). */
export function nicDeviceOf(nic: LaunchNic): Record<string, unknown> {
  const dev: Record<string, unknown> = {
    driver: 'virtio-net-pci',
    id: nic.deviceId,
    mac: nic.mac,
    romfile: '',
    bus: 'pci.0',
    addr: hexSlot(nic.slot),
  };
  if (nic.tap) dev.netdev = nic.netdevId;
  if (nic.mtu) dev.host_mtu = nic.mtu;
  return dev;
}

/** `-netdev` in QEMU's key=value syntax; tap names and ids never contain commas (validated by the caller). */
function netdevArg(nd: Record<string, unknown>): string {
  const { type, ...rest } = nd;
  const parts = [String(type)];
  for (const [k, v] of Object.entries(rest))
    parts.push(`${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : v}`);
  return parts.join(',');
}

/** Keyval values with commas must double them; used for the few paths passed outside JSON. */
export function keyvalEscape(value: string): string {
  return value.replaceAll(',', ',,');
}

/** The full argv (without the binary) of a daemonized guest that starts paused (-S) until QMP `cont`. */
export function qemuArgv(l: QemuLaunch): string[] {
  const p = l.paths;
  // Under TCG the translated-code cache grows toward 1 GiB per guest by default: 64 MiB boots as fast here.
  const accel = l.accel === 'tcg' ? 'tcg,tb-size=64' : l.accel;
  const argv = ['-name', nameArg(l.guestId), '-machine', 'pc', '-accel', accel];
  if (l.accel === 'kvm') argv.push('-cpu', 'host,-arch-capabilities');
  argv.push(
    '-m',
    String(l.memoryMb),
    '-smp',
    String(l.vcpus),
    '-nodefaults',
    '-no-user-config',
    '-daemonize',
    '-pidfile',
    p.pidFile,
    '-S',
    '-qmp',
    `unix:${keyvalEscape(p.qmpSocket)},server=on,wait=off`,
    '-chardev',
    `socket,id=serial0,path=${keyvalEscape(p.serialSocket)},server=on,wait=off,logfile=${keyvalEscape(p.serialLog)},logappend=on`,
    '-serial',
    'chardev:serial0',
    '-vga',
    'std',
    '-display',
    'none',
    '-vnc',
    `unix:${keyvalEscape(p.vncSocket)}`,
    // A panicking guest (pvpanic) stays paused in status guest-panicked, which the driver reports as crashed.
    '-device',
    'pvpanic',
    '-action',
    'panic=pause',
  );
  for (const disk of l.disks) {
    argv.push('-blockdev', JSON.stringify(blockdevOf(disk)), '-device', JSON.stringify(diskDeviceOf(disk)));
  }
  if (l.cdrom) {
    const node = { driver: 'raw', 'node-name': 'blk-config', 'read-only': true };
    const file = { driver: 'file', filename: l.cdrom, 'read-only': true };
    argv.push('-blockdev', JSON.stringify({ ...node, file }));
    argv.push(
      '-device',
      JSON.stringify({ driver: 'ide-cd', id: 'disk-config', drive: 'blk-config', bus: 'ide.1', unit: 0 }),
    );
  }
  for (const nic of l.nics) {
    const nd = netdevOf(nic);
    if (nd) argv.push('-netdev', netdevArg(nd));
    argv.push('-device', JSON.stringify(nicDeviceOf(nic)));
  }
  if (l.kernel) {
    argv.push('-kernel', l.kernel.path);
    if (l.kernel.initrd) argv.push('-initrd', l.kernel.initrd);
    argv.push('-append', l.kernel.append);
  }
  if (l.incomingFd !== undefined) argv.push('-incoming', `fd:${l.incomingFd}`);
  return argv;
}
