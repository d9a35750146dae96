// The control plane as a compute agent sees it (ComputeControlPlane), served in-process: host registration and
// heartbeat (and its resource provider in placement), the servers assigned to a host, task completion, drift.
import type {
  AssignedServer,
  ComputeControlPlane,
  HostRegistration,
  TaskOutcome,
} from '../../agent/compute/control-plane.ts';
import { DriverError, type NicSpec } from '../../agent/compute/hypervisor-driver.ts';
import type { TokenSource } from '../../platform/transport.ts';
import { parseJson } from './api/common.ts';
import type { ComputeContext } from './context.ts';
import { allocateForServer, nicsOf, rebindPorts } from './network/allocation.ts';
import { parseVifs } from './network/info-cache.ts';
import type { ServerLifecycle } from './reconcilers/lifecycle.ts';
import { assignedRows } from './store/assigned.ts';
import type { FlavorSnapshot } from './store/tables.ts';

/** Tasks after which a server may be on another host: its ports follow it. */
const MOVES = new Set(['resize_finish', 'resize_reverting', 'migrating', 'rebuilding']);

export class InProcessControlPlane implements ComputeControlPlane {
  readonly #cx: ComputeContext;
  readonly #lifecycle: ServerLifecycle;
  readonly #serviceToken: TokenSource;
  /** Inventory last pushed to placement per host, so heartbeats do not rewrite it. */
  readonly #pushed = new Map<string, string>();

  constructor(cx: ComputeContext, lifecycle: ServerLifecycle, serviceToken: TokenSource) {
    this.#cx = cx;
    this.#lifecycle = lifecycle;
    this.#serviceToken = serviceToken;
  }

  async registerHost(reg: HostRegistration): Promise<void> {
    const cx = this.#cx;
    const now = cx.nowMicro();
    let row = await cx.db
      .selectFrom('compute_hosts')
      .selectAll()
      .where('host', '=', reg.host)
      .executeTakeFirst();
    if (!row) {
      await cx.write(async (trx, record) => {
        await trx
          .insertInto('compute_hosts')
          .values({
            uuid: cx.ids.uuid(),
            node_uuid: cx.ids.uuid(),
            host: reg.host,
            node: reg.node,
            binary: 'nova-compute',
            disabled: 0,
            disabled_reason: null,
            forced_down: 0,
            heartbeat_at: now,
            hypervisor_type: reg.hypervisorType,
            hypervisor_version: reg.hypervisorVersion,
            host_ip: '127.0.0.1',
            vcpus: reg.inventory.vcpus,
            memory_mb: reg.inventory.memoryMb,
            local_gb: reg.inventory.diskGb,
            cpu_info: JSON.stringify(reg.cpuInfo),
            created_at: now,
            updated_at: now,
          })
          .onConflict((oc) => oc.column('host').doNothing())
          .execute();
        record({ kind: 'host', id: reg.host, action: 'create' });
      });
      row = await cx.db
        .selectFrom('compute_hosts')
        .selectAll()
        .where('host', '=', reg.host)
        .executeTakeFirstOrThrow();
    } else {
      // Heartbeats are frequent: no feed event, no cache invalidation.
      await cx.db
        .updateTable('compute_hosts')
        .set({
          heartbeat_at: now,
          vcpus: reg.inventory.vcpus,
          memory_mb: reg.inventory.memoryMb,
          local_gb: reg.inventory.diskGb,
        })
        .where('id', '=', row.id)
        .execute();
    }
    const inventory = {
      VCPU: {
        total: reg.inventory.vcpus,
        allocation_ratio: cx.config.cpu_allocation_ratio,
        max_unit: reg.inventory.vcpus,
      },
      MEMORY_MB: {
        total: reg.inventory.memoryMb,
        reserved: Math.min(cx.config.reserved_host_memory_mb, reg.inventory.memoryMb - 1),
        allocation_ratio: cx.config.ram_allocation_ratio,
        max_unit: reg.inventory.memoryMb,
      },
      DISK_GB: {
        total: reg.inventory.diskGb,
        allocation_ratio: cx.config.disk_allocation_ratio,
        max_unit: reg.inventory.diskGb,
      },
    };
    const key = JSON.stringify([row.node_uuid, inventory, reg.traits]);
    if (this.#pushed.get(reg.host) !== key) {
      await cx.placement.ensureProvider({ uuid: row.node_uuid, name: reg.node });
      await cx.placement.setInventory(row.node_uuid, inventory);
      if (reg.traits.length > 0) await cx.placement.setTraits(row.node_uuid, reg.traits);
      this.#pushed.set(reg.host, key);
    }
  }

  async listAssigned(host: string, opts: { tasksOnly?: boolean } = {}): Promise<AssignedServer[]> {
    const rows = await assignedRows(this.#cx.db, this.#cx.dialect, host, opts.tasksOnly === true);
    return rows.map((s) => {
      const f = parseJson<FlavorSnapshot>(s.flavor, {} as FlavorSnapshot);
      const args = parseJson<Record<string, unknown>>(s.task_args, {});
      const metadata = parseJson<Record<string, string>>(s.metadata_json, {});
      const a: AssignedServer = {
        id: s.id,
        taskSeq: s.task_seq,
        vmState: s.vm_state,
        // A move still waiting for the scheduler is not the agent's yet.
        taskState: args['schedule'] === true ? null : s.task_state,
        powerState: s.power_state,
        guest: {
          id: s.id,
          name: s.name,
          hostname: s.hostname,
          flavor: {
            vcpus: f.vcpus,
            memoryMb: f.memory_mb,
            rootGb: f.root_gb,
            ephemeralGb: f.ephemeral_gb,
            swapMb: f.swap,
            extraSpecs: f.extra_specs ?? {},
          },
          imageId: (args['rebuild_image_id'] as string | undefined) ?? s.image_id,
          ...(s.user_data ? { userData: s.user_data } : {}),
          ...(s.key_data ? { keyData: s.key_data } : {}),
          metadata,
          configDrive: s.config_drive === 'True',
          ...(s.network_info ? { nics: nicsOf(parseVifs(s.network_info)) } : {}),
        },
      };
      if (s.task_state === 'rebooting_hard') a.rebootType = 'HARD';
      else if (s.task_state === 'rebooting') a.rebootType = 'SOFT';
      if (typeof args['snapshot_image_id'] === 'string') a.snapshotImageId = args['snapshot_image_id'];
      if (typeof args['rescue_image_id'] === 'string') a.rescueImageId = args['rescue_image_id'];
      return a;
    });
  }

  async completeTask(
    serverId: string,
    taskSeq: number,
    taskState: string,
    outcome: TaskOutcome,
  ): Promise<boolean> {
    const done = await this.#lifecycle.completeTask(serverId, taskSeq, taskState, outcome);
    if (done && outcome.ok && taskState === 'unshelving') await this.#forgetShelvedImage(serverId);
    if (done && outcome.ok && MOVES.has(taskState))
      await rebindPorts(this.#cx, serverId).catch((err: unknown) =>
        this.#cx.log.warn({ err, server: serverId }, 'ports not bound to the new host'),
      );
    return done;
  }

  /** After an unshelve, Nova deletes the shelved snapshot and the shelved_* system metadata. */
  async #forgetShelvedImage(serverId: string): Promise<void> {
    const cx = this.#cx;
    const row = await cx.db
      .selectFrom('compute_servers')
      .select(['system_metadata'])
      .where('id', '=', serverId)
      .executeTakeFirst();
    const meta = parseJson<Record<string, unknown>>(row?.system_metadata ?? '{}', {});
    const imageId = meta['shelved_image_id'];
    if (typeof imageId !== 'string') return;
    try {
      await cx.image.delete(await this.#serviceToken(), imageId);
    } catch (err) {
      cx.log.warn({ err, server: serverId, image: imageId }, 'shelved image not deleted');
    }
    const { shelved_image_id: _i, shelved_at: _a, shelved_host: _h, ...rest } = meta;
    await cx.write((trx) =>
      trx
        .updateTable('compute_servers')
        .set({ system_metadata: JSON.stringify(rest) })
        .where('id', '=', serverId)
        .execute(),
    );
  }

  reportPowerState(serverId: string, powerState: number): Promise<void> {
    return this.#lifecycle.reportPowerState(serverId, powerState);
  }

  async uploadSnapshot(
    imageId: string,
    data: Uint8Array,
    diskFormat: string,
    containerFormat: string,
  ): Promise<void> {
    void diskFormat;
    void containerFormat;
    await this.#cx.image.upload(await this.#serviceToken(), imageId, Buffer.from(data));
  }

  async allocateNetwork(serverId: string): Promise<NicSpec[]> {
    const cx = this.#cx;
    if (!cx.network) return [];
    const vifs = await allocateForServer(cx, serverId);
    // A new boot waits for fresh events: what was heard for these ports before no longer counts.
    cx.networkEvents.forget(
      serverId,
      vifs.filter((v) => !v.active).map((v) => v.id),
    );
    return nicsOf(vifs);
  }

  async waitForVifsPlugged(serverId: string, portIds: string[]): Promise<void> {
    const cx = this.#cx;
    if (!cx.network) return;
    const row = await cx.db
      .selectFrom('compute_servers')
      .select('network_info')
      .where('id', '=', serverId)
      .executeTakeFirst();
    const active = new Set(
      parseVifs(row?.network_info)
        .filter((v) => v.active)
        .map((v) => v.id),
    );
    const wanted = portIds.filter((p) => !active.has(p));
    if (!wanted.length) return;
    const { timeoutMs, fatal } = cx.vifPlugging;
    const r = await cx.networkEvents.wait(serverId, wanted, timeoutMs);
    if (r.closed)
      throw new DriverError('Compute is stopping; the build resumes on restart.', { transient: true });
    if (r.failed.length || (r.missing.length && fatal)) {
      cx.log.warn({ server: serverId, failed: r.failed, missing: r.missing }, 'VIF plugging failed');
      throw new DriverError('Virtual Interface creation failed', { code: 500 });
    }
    if (r.missing.length)
      cx.log.warn(
        { server: serverId, missing: r.missing },
        'timeout waiting for network-vif-plugged; continuing',
      );
  }

  watch(host: string, onChange: (serverId: string) => void): () => void {
    return this.#cx.feed.subscribe(
      (e) => e.service === 'compute' && e.kind === 'server' && e.data['host'] === host,
      (events) => {
        for (const e of events) onChange(e.resourceId);
      },
    );
  }
}
