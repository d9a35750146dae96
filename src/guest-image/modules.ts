// Chooses the kernel modules the guest needs from the kernel package's config and orders them for insmod by
// the `depends=` each module declares in its .modinfo.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readModinfo } from './elf.ts';

/** A kernel feature the guest relies on: built in (=y) needs nothing, a module (=m) is shipped and loaded. */
export interface KernelFeature {
  config: string;
  module: string;
  why: string;
  /**
   * Required features fail the build when missing from the kernel and their modules load before the guest
   * looks for metadata; the others' modules load after GUEST-READY.
   */
  required: boolean;
}

export const GUEST_KERNEL_FEATURES: readonly KernelFeature[] = [
  { config: 'CONFIG_DEVTMPFS', module: '', why: '/dev', required: true },
  { config: 'CONFIG_BLK_DEV_INITRD', module: '', why: 'initramfs', required: true },
  { config: 'CONFIG_RD_GZIP', module: '', why: 'gzip initramfs', required: true },
  { config: 'CONFIG_SERIAL_8250_CONSOLE', module: '', why: 'serial console', required: true },
  { config: 'CONFIG_EXT4_FS', module: 'ext4', why: 'root disk', required: true },
  { config: 'CONFIG_PACKET', module: 'af_packet', why: 'udhcpc raw sockets', required: true },
  { config: 'CONFIG_VIRTIO_PCI', module: 'virtio_pci', why: 'virtio devices on PCI', required: true },
  { config: 'CONFIG_VIRTIO_BLK', module: 'virtio_blk', why: 'root disk and volumes (vdX)', required: true },
  { config: 'CONFIG_VIRTIO_NET', module: 'virtio_net', why: 'NICs', required: true },
  {
    config: 'CONFIG_ATA_PIIX',
    module: 'ata_piix',
    why: 'IDE controller of the config drive',
    required: true,
  },
  { config: 'CONFIG_BLK_DEV_SR', module: 'sr_mod', why: 'CD-ROM (config drive)', required: true },
  { config: 'CONFIG_ISO9660_FS', module: 'isofs', why: 'config drive filesystem', required: true },
  { config: 'CONFIG_ACPI_BUTTON', module: 'button', why: 'ACPI power button', required: true },
  { config: 'CONFIG_INPUT_EVDEV', module: 'evdev', why: 'power button events for acpid', required: true },
  { config: 'CONFIG_SCSI_VIRTIO', module: 'virtio_scsi', why: 'virtio-scsi disks', required: false },
  { config: 'CONFIG_BLK_DEV_SD', module: 'sd_mod', why: 'SCSI disks (sdX)', required: false },
  { config: 'CONFIG_HW_RANDOM_VIRTIO', module: 'virtio_rng', why: 'entropy', required: false },
  { config: 'CONFIG_VIRTIO_BALLOON', module: 'virtio_balloon', why: 'memory balloon', required: false },
  { config: 'CONFIG_VIRTIO_CONSOLE', module: 'virtio_console', why: 'virtio serial', required: false },
  { config: 'CONFIG_VFAT_FS', module: 'vfat', why: 'vfat config drives', required: false },
  { config: 'CONFIG_NLS_CODEPAGE_437', module: 'nls_cp437', why: 'vfat default codepage', required: false },
  { config: 'CONFIG_NLS_ISO8859_1', module: 'nls_iso8859_1', why: 'vfat default charset', required: false },
];

/** CONFIG_X → value ('y', 'm', a number or a quoted string); unset options are absent. */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out.set(m[1], m[2]);
  }
  return out;
}

/** Module names use '_' internally; files and depends= may use '-'. */
export function moduleName(s: string): string {
  return s.replace(/\.ko$/, '').replace(/-/g, '_');
}

/**
 * Orders modules so every module comes after what it depends on (depth-first, roots in the given order).
 * `dependsOf` returns a module's direct dependencies; a cycle is an error.
 */
export function loadOrder(
  roots: readonly string[],
  dependsOf: (name: string) => readonly string[],
): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`module dependency cycle: ${[...chain, name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const dep of dependsOf(name)) visit(dep, [...chain, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const root of roots) visit(root, []);
  return order;
}

async function walkModules(dir: string, found: Map<string, string>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walkModules(path, found);
    else if (entry.name.endsWith('.ko')) found.set(moduleName(entry.name), path);
  }
}

export interface ShippedModule {
  name: string;
  /** Path relative to the unpacked package root, e.g. lib/modules/<release>/kernel/drivers/virtio/virtio.ko. */
  path: string;
  depends: string[];
  /** Loaded after GUEST-READY (not needed to boot). */
  late: boolean;
}

export interface ModulePlan {
  release: string;
  builtIn: string[];
  /** In load order: the boot modules, then the late ones. */
  modules: ShippedModule[];
}

/** Decides which features are built in and which modules to ship (with their dependencies, in load order). */
export async function planModules(root: string, release: string): Promise<ModulePlan> {
  const config = parseKernelConfig(await readFile(join(root, 'boot', `config-${release}`), 'utf8'));
  const builtIn: string[] = [];
  const boot: string[] = [];
  const late: string[] = [];
  for (const f of GUEST_KERNEL_FEATURES) {
    const v = config.get(f.config);
    if (v === 'y') builtIn.push(f.config);
    else if (v === 'm' && f.module) (f.required ? boot : late).push(f.module);
    else if (f.required) throw new Error(`kernel ${release} lacks ${f.config} (${f.why})`);
  }
  const wanted = [...boot, ...late];
  const files = new Map<string, string>();
  const modDir = join(root, 'lib', 'modules', release);
  if (wanted.length > 0) await walkModules(modDir, files);
  const deps = new Map<string, string[]>();
  const dependsOf = (name: string): string[] => {
    const d = deps.get(name);
    if (!d) throw new Error(`module ${name} was not read`);
    return d;
  };
  // Read .modinfo breadth-first so loadOrder() can stay synchronous.
  const queue = [...wanted];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (deps.has(name)) continue;
    const file = files.get(name);
    if (!file) throw new Error(`module ${name} is not in the kernel package`);
    const info = readModinfo(await readFile(file));
    const list = (info.get('depends')?.[0] ?? '').split(',').filter(Boolean).map(moduleName);
    deps.set(name, list);
    queue.push(...list);
  }
  const bootOrder = loadOrder(boot, dependsOf);
  const lateOrder = loadOrder(wanted, dependsOf).filter((name) => !bootOrder.includes(name));
  const modules = [...bootOrder, ...lateOrder].map((name, i) => ({
    name,
    path: relative(root, files.get(name)!),
    depends: dependsOf(name),
    late: i >= bootOrder.length,
  }));
  return { release, builtIn, modules };
}
