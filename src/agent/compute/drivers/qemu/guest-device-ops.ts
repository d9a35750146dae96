// Attach and detach of disks and NICs: hot-plugged into a live QEMU, always recorded so restarts bring them back.
import { type DiskSpec, DriverError, InvalidGuestState, type NicSpec } from '../../hypervisor-driver.ts';
import {
  deviceName,
  diskBackendOf,
  dropBlockNode,
  dropNetdev,
  freeSlot,
  nicOf,
  plugDisk,
  plugNic,
  unplugDevice,
  volumeDisk,
} from './guest-devices.ts';
import { type DriverCore, type Observed, plugVifs } from './guest-machine.ts';
import type { AttachedDisk, AttachedNic, GuestDefinition, GuestPaths } from './guest-store.ts';
import { qmpFailure } from './monitor-pool.ts';
import type { QmpClient } from './qmp-client.ts';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
/** A Linux interface name (IFNAMSIZ 16 with the NUL). */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export class DeviceOps {
  constructor(
    private readonly core: DriverCore,
    private readonly detachTimeoutMs: number,
  ) {}

  /** The QMP session when the guest's QEMU can take hot-plug now (running or paused, not crashed). */
  async #liveMonitor(
    def: GuestDefinition,
    paths: GuestPaths,
    o: Observed,
    op: string,
  ): Promise<QmpClient | undefined> {
    if (o.power === 'suspended') throw new InvalidGuestState(def.spec.id, o.power, op);
    if (o.pid === undefined || (o.power !== 'running' && o.power !== 'paused')) return undefined;
    return this.core.ctx.monitors.get(def.spec.id, o.pid, paths.qmpSocket);
  }

  async attachDisk(def: GuestDefinition, paths: GuestPaths, o: Observed, disk: DiskSpec): Promise<void> {
    if (def.disks.some((d) => d.id === disk.id)) return;
    const record: AttachedDisk = {
      id: disk.id,
      device: deviceName(def, disk.device),
      source: disk.source,
      backend: await diskBackendOf(disk.source),
      readOnly: disk.readOnly === true,
      slot: freeSlot(def),
    };
    const qmp = await this.#liveMonitor(def, paths, o, 'attachDisk');
    if (qmp)
      await plugDisk(qmp, volumeDisk(record)).catch((err) => {
        throw qmpFailure(def.spec.id, `attaching disk ${disk.id}`, err);
      });
    await this.core.store.write({ ...def, disks: [...def.disks, record] });
  }

  async detachDisk(def: GuestDefinition, paths: GuestPaths, o: Observed, diskId: string): Promise<void> {
    const record = def.disks.find((d) => d.id === diskId);
    if (!record) return;
    const qmp = await this.#liveMonitor(def, paths, o, 'detachDisk');
    if (qmp) {
      const dev = volumeDisk(record);
      try {
        await unplugDevice(qmp, dev.deviceId, this.detachTimeoutMs);
        await dropBlockNode(qmp, dev.nodeName);
      } catch (err) {
        throw qmpFailure(def.spec.id, `detaching disk ${diskId}`, err);
      }
    }
    await this.core.store.write({ ...def, disks: def.disks.filter((d) => d.id !== diskId) });
  }

  async attachNic(def: GuestDefinition, paths: GuestPaths, o: Observed, nic: NicSpec): Promise<void> {
    if (def.nics.some((n) => n.id === nic.id)) return;
    if (!MAC.test(nic.macAddress))
      throw new DriverError(`NIC ${nic.id} has an invalid MAC address ${nic.macAddress}.`, { code: 400 });
    if (nic.device !== undefined && !IFNAME.test(nic.device))
      throw new DriverError(`NIC ${nic.id} names an invalid host device ${nic.device}.`, { code: 400 });
    const record: AttachedNic = { id: nic.id, macAddress: nic.macAddress.toLowerCase(), slot: freeSlot(def) };
    if (nic.device) record.device = nic.device;
    if (nic.mtu) record.mtu = nic.mtu;
    if (nic.networkId) record.networkId = nic.networkId;
    const qmp = await this.#liveMonitor(def, paths, o, 'attachNic');
    if (qmp)
      await plugNic(qmp, nicOf(record)).catch((err) => {
        throw qmpFailure(def.spec.id, `attaching NIC ${nic.id}`, err);
      });
    await this.core.store.write({ ...def, nics: [...def.nics, record] });
    if (qmp) await plugVifs(this.core.ctx, [record]);
  }

  async detachNic(def: GuestDefinition, paths: GuestPaths, o: Observed, nicId: string): Promise<void> {
    const record = def.nics.find((n) => n.id === nicId);
    if (!record) return;
    const qmp = await this.#liveMonitor(def, paths, o, 'detachNic');
    if (qmp) {
      const nic = nicOf(record);
      try {
        await unplugDevice(qmp, nic.deviceId, this.detachTimeoutMs);
        if (nic.tap) await dropNetdev(qmp, nic.netdevId);
      } catch (err) {
        throw qmpFailure(def.spec.id, `detaching NIC ${nicId}`, err);
      }
    }
    await this.core.store.write({ ...def, nics: def.nics.filter((n) => n.id !== nicId) });
    if (record.device) await this.core.ctx.vifPlugger?.unplug(nicId).catch(() => {});
  }
}
