// Nova-style server diagnostics of a QEMU guest, from QMP (vCPU threads, block stats), /proc and tap counters.
import { readFile } from 'node:fs/promises';
import type { GuestDiagnostics } from '../../hypervisor-driver.ts';
import { volumeDisk } from './guest-devices.ts';
import type { Observed } from './guest-machine.ts';
import type { GuestDefinition } from './guest-store.ts';
import { cpuTimeNs, processUptime } from './qemu-process.ts';
import type { QmpClient } from './qmp-client.ts';

interface BlockStats {
  qdev?: string;
  stats: { rd_bytes: number; wr_bytes: number; failed_rd_operations: number; failed_wr_operations: number };
}

async function counter(path: string): Promise<number> {
  try {
    return Number.parseInt((await readFile(path, 'utf8')).trim(), 10) || 0;
  } catch {
    return 0;
  }
}

/** The device ids of the guest's disks in the order diagnostics lists them: root, volumes, config drive. */
function diskDeviceIds(def: GuestDefinition, hasConfigDrive: boolean): string[] {
  const ids = ['disk-root', ...def.disks.map((d) => volumeDisk(d).deviceId)];
  if (hasConfigDrive) ids.push('disk-config');
  return ids;
}

export async function collectDiagnostics(
  def: GuestDefinition,
  observed: Observed,
  qmp: QmpClient | undefined,
  accel: 'kvm' | 'tcg',
): Promise<GuestDiagnostics> {
  const flavor = def.spec.flavor;
  const pid = observed.pid;
  const live = pid !== undefined && qmp !== undefined;
  let cpuDetails: GuestDiagnostics['cpuDetails'] = Array.from({ length: flavor.vcpus }, (_, id) => ({
    id,
    time: 0,
    utilisation: null,
  }));
  const stats = new Map<string, BlockStats['stats']>();
  if (live) {
    const cpus = await qmp.execute<{ 'cpu-index': number; 'thread-id': number }[]>('query-cpus-fast');
    cpuDetails = await Promise.all(
      cpus.map(async (c) => ({
        id: c['cpu-index'],
        time: await cpuTimeNs(pid, c['thread-id']),
        utilisation: null,
      })),
    );
    for (const b of await qmp.execute<BlockStats[]>('query-blockstats')) {
      const m = /^\/machine\/peripheral\/([^/]+)/.exec(b.qdev ?? '');
      if (m?.[1]) stats.set(m[1], b.stats);
    }
  }
  const disks = diskDeviceIds(def, def.configDrive);
  const diskDetails = disks.map((devId) => {
    const s = stats.get(devId);
    return {
      readBytes: s?.rd_bytes ?? 0,
      writeBytes: s?.wr_bytes ?? 0,
      errorsCount: (s?.failed_rd_operations ?? 0) + (s?.failed_wr_operations ?? 0),
    };
  });
  // The tap's counters are the host's view: what the guest sent is the tap's rx.
  const nicDetails = await Promise.all(
    def.nics.map(async (n) => {
      const base = n.device && live ? `/sys/class/net/${n.device}/statistics` : undefined;
      return {
        macAddress: n.macAddress,
        rxOctets: base ? await counter(`${base}/tx_bytes`) : 0,
        txOctets: base ? await counter(`${base}/rx_bytes`) : 0,
      };
    }),
  );
  return {
    state: observed.power,
    driver: 'qemu',
    hypervisor: accel === 'kvm' ? 'kvm' : 'qemu',
    hypervisorOs: 'linux',
    uptime: pid !== undefined ? await processUptime(pid) : 0,
    configDrive: def.configDrive,
    numCpus: cpuDetails.length,
    numDisks: diskDetails.length,
    numNics: nicDetails.length,
    memoryDetails: { maximum: flavor.memoryMb, used: pid !== undefined ? flavor.memoryMb : 0 },
    cpuDetails,
    nicDetails,
    diskDetails,
  };
}
