// What the control plane does when a task ends: the resulting vm_state (the agent only reports), faults,
// releasing placement allocations, and the final soft-delete. Every step is idempotent.
import type { TaskOutcome } from '../../../agent/compute/control-plane.ts';
import { parseJson } from '../api/common.ts';
import type { ComputeContext } from '../context.ts';
import { PowerState, TASK_RESULT } from '../domain/server-states.ts';
import { deallocateForServer } from '../network/allocation.ts';
import { finishEvent } from '../store/actions.ts';
import { compiledUpdate } from '../store/compiled.ts';
import { findServer, type Server, updateServerAtSeq } from '../store/servers.ts';

const EVENT: Record<string, string> = {
  spawning: 'compute__do_build_and_run_instance',
  deleting: 'compute_terminate_instance',
  'powering-off': 'compute_stop_instance',
  'powering-on': 'compute_start_instance',
  rebooting: 'compute_reboot_instance',
  rebooting_hard: 'compute_reboot_instance',
  pausing: 'compute_pause_instance',
  unpausing: 'compute_unpause_instance',
  suspending: 'compute_suspend_instance',
  resuming: 'compute_resume_instance',
  resize_finish: 'compute_finish_resize',
  resize_confirming: 'compute_confirm_resize',
  resize_reverting: 'compute_revert_resize',
  rebuilding: 'compute_rebuild_instance',
  image_snapshot: 'compute_snapshot_instance',
  image_backup: 'compute_backup_instance',
  shelving: 'compute_shelve_instance',
  shelving_offloading: 'compute_shelve_offload_instance',
  unshelving: 'compute_unshelve_instance',
  rescuing: 'compute_rescue_instance',
  unrescuing: 'compute_unrescue_instance',
  migrating: 'compute_live_migration',
  updating_password: 'compute_set_admin_password',
};

/**
 * Tasks after which the server returns to the vm_state it had before (kept in task_args.prev_vm_state). A
 * rebuild is not one: Nova's rebuild ends ACTIVE (an ERROR server included) unless the server was STOPPED.
 */
const KEEPS_STATE = new Set([
  'image_snapshot',
  'image_backup',
  'updating_password',
  'migrating',
  'resize_confirming',
]);

/** Soft-deletes a server row still not deleted (where id, deleted = 0). */
const softDelete = compiledUpdate('compute_servers', ['id', 'deleted']);

export class ServerLifecycle {
  readonly #cx: ComputeContext;

  constructor(cx: ComputeContext) {
    this.#cx = cx;
  }

  /** Releases the server's allocations in placement (absent is fine). */
  async releaseAllocations(serverId: string): Promise<void> {
    await this.#cx.placement.deleteAllocations(serverId);
  }

  /** Soft-deletes the server now (no host to wait for, or the host finished); idempotent. */
  async finishDelete(s: Server): Promise<void> {
    const cx = this.#cx;
    const done = await cx.write(async (trx, record) => {
      const now = cx.nowMicro();
      const deleted = await softDelete(
        trx,
        {
          deleted: 1,
          deleted_at: now,
          terminated_at: now,
          vm_state: 'deleted',
          task_state: null,
          power_state: PowerState.NOSTATE,
          updated_at: now,
          task_seq: s.task_seq + 1,
        },
        s.id,
        0,
      );
      if (deleted === 0) return false;
      await trx.deleteFrom('compute_server_group_members').where('server_id', '=', s.id).execute();
      await finishEvent(trx, {
        serverId: s.id,
        event: EVENT['deleting']!,
        start: s.updated_at,
        now,
        ok: true,
        host: s.host,
      });
      record({ kind: 'server', id: s.id, action: 'delete', projectId: s.project_id, data: { host: s.host } });
      return true;
    });
    if (done) {
      await this.releaseAllocations(s.id).catch((err) =>
        cx.log.warn({ err, server: s.id }, 'releasing allocations failed; retried by resync'),
      );
      await this.deallocateNetwork(s);
    }
  }

  /** Nova's deallocate_for_instance: the ports compute made go, the user's are unbound (best effort). */
  async deallocateNetwork(s: Server): Promise<void> {
    if (!this.#cx.network) return;
    await deallocateForServer(this.#cx, s).catch((err) =>
      this.#cx.log.warn({ err, server: s.id }, 'deallocating the network failed'),
    );
  }

  /** A task ended on the host; returns false when (taskSeq, taskState) is no longer current. */
  async completeTask(
    serverId: string,
    taskSeq: number,
    taskState: string,
    outcome: TaskOutcome,
  ): Promise<boolean> {
    const cx = this.#cx;
    const s = await findServer(cx.db, serverId);
    if (!s || s.task_seq !== taskSeq || s.task_state !== taskState) return false;
    if (taskState === 'deleting') {
      await this.finishDelete(s);
      return true;
    }
    const args = parseJson<Record<string, unknown>>(s.task_args, {});
    const now = cx.nowMicro();
    const set: Partial<Server> = {
      task_state: null,
      task_seq: s.task_seq + 1,
      updated_at: now,
      task_args: '{}',
      progress: 0,
    };
    let release = false;
    if (outcome.ok) {
      const r = TASK_RESULT[taskState] ?? { vm: s.vm_state, power: outcome.powerState };
      set.vm_state = r.vm;
      set.power_state = outcome.powerState || r.power;
      if (KEEPS_STATE.has(taskState) && typeof args['prev_vm_state'] === 'string') {
        set.vm_state = args['prev_vm_state'] as Server['vm_state'];
        if (set.vm_state === 'stopped') set.power_state = PowerState.SHUTDOWN;
      }
      if (taskState === 'spawning') {
        set.launched_at = now;
        set.progress = 100;
      }
      if (taskState === 'rebuilding') {
        set.launched_at = now;
        if (args['prev_vm_state'] === 'stopped') {
          set.vm_state = 'stopped';
          set.power_state = PowerState.SHUTDOWN;
        }
      }
      if (taskState === 'resize_finish' && args['prev_vm_state'] === 'stopped')
        set.power_state = PowerState.SHUTDOWN;
      if (taskState === 'shelving_offloading') {
        set.host = null;
        set.node = null;
        release = true;
      }
      if (taskState === 'unshelving') set.launched_at = now;
      if (taskState === 'resize_reverting') {
        // A resize gets its old flavor back; a cold migration (no flavor change) only its host.
        if (s.old_flavor) {
          set.flavor = s.old_flavor;
          set.flavor_id = parseJson<{ id: string }>(s.old_flavor, { id: s.flavor_id }).id;
        }
        set.old_flavor = null;
        set.new_flavor = null;
        if (typeof args['source_host'] === 'string') {
          set.host = args['source_host'];
          set.node = (args['source_node'] as string | undefined) ?? s.node;
        }
        if (args['prev_vm_state'] === 'stopped') {
          set.vm_state = 'stopped';
          set.power_state = PowerState.SHUTDOWN;
        }
      }
      if (taskState === 'resize_confirming') {
        set.old_flavor = null;
        set.new_flavor = null;
      }
      if (taskState === 'shelving' && args['shelve_offload_after'] === 0) {
        // Nova's shelved_offload_time 0: the shelved server is offloaded at once, as part of the same action.
        set.task_state = 'shelving_offloading';
      }
    } else {
      set.fault = JSON.stringify({ ...outcome.fault, created: now });
      set.power_state = outcome.powerState;
      if (taskState === 'spawning') {
        set.vm_state = 'error';
        release = true;
      } else if (taskState === 'image_snapshot' || taskState === 'image_backup') {
        set.vm_state = (args['prev_vm_state'] as Server['vm_state']) ?? s.vm_state;
      } else {
        set.vm_state = 'error';
      }
    }
    const ok = await cx.write(async (trx, record) => {
      if (!(await updateServerAtSeq(trx, s.id, taskSeq, set))) return false;
      if (
        taskState === 'resize_confirming' ||
        taskState === 'resize_finish' ||
        taskState === 'resize_reverting'
      ) {
        const mig = args['migration_id'] as string | undefined;
        if (mig) {
          const status =
            taskState === 'resize_finish'
              ? 'finished'
              : taskState === 'resize_confirming'
                ? 'confirmed'
                : 'reverted';
          await trx
            .updateTable('compute_migrations')
            .set({ status: outcome.ok ? status : 'error', updated_at: now })
            .where('uuid', '=', mig)
            .execute();
        }
      }
      const event = EVENT[taskState] ?? `compute_${taskState}`;
      await finishEvent(trx, {
        serverId: s.id,
        event,
        start: s.updated_at,
        now,
        ok: outcome.ok,
        host: s.host,
        ...(outcome.ok
          ? {}
          : {
              traceback: outcome.fault.details ?? outcome.fault.message,
              message: 'Error',
              details: outcome.fault.message,
            }),
      });
      record({
        kind: 'server',
        id: s.id,
        action: 'update',
        projectId: s.project_id,
        data: { host: s.host, task: set.task_state ?? null },
      });
      return true;
    });
    const mig = typeof args['migration_id'] === 'string' ? args['migration_id'] : undefined;
    if (
      ok &&
      mig &&
      (taskState === 'resize_confirming' || taskState === 'migrating' || taskState === 'rebuilding')
    ) {
      // The move is final: the source's allocation (held by the migration) goes.
      await cx.placement.deleteAllocations(mig).catch(() => {});
      if (taskState !== 'resize_confirming')
        await cx.db
          .updateTable('compute_migrations')
          .set({
            status: outcome.ok ? (taskState === 'migrating' ? 'completed' : 'done') : 'error',
            updated_at: now,
          })
          .where('uuid', '=', mig)
          .execute();
    }
    if (ok && mig && taskState === 'resize_reverting' && outcome.ok) {
      // Back to the old flavor on the source: the migration's allocation returns to the server.
      await cx.placement.deleteAllocations(s.id).catch(() => {});
      await cx.placement.moveAllocations(mig, s.id).catch(() => {});
    }
    if (ok && release) await this.releaseAllocations(s.id).catch(() => {});
    // A build that failed gives its ports back, as Nova's _cleanup_allocated_networks.
    if (ok && !outcome.ok && taskState === 'spawning') await this.deallocateNetwork(s);
    return ok;
  }

  /** Drift: the host sees another power state while no task runs (a guest that died is SHUTOFF, as Nova does). */
  async reportPowerState(serverId: string, powerState: number): Promise<void> {
    const cx = this.#cx;
    const s = await findServer(cx.db, serverId);
    if (!s || s.task_state !== null || s.power_state === powerState) return;
    const set: Partial<Server> = { power_state: powerState, updated_at: cx.nowMicro() };
    if (
      s.vm_state === 'active' &&
      (powerState === PowerState.SHUTDOWN ||
        powerState === PowerState.CRASHED ||
        powerState === PowerState.NOSTATE)
    )
      set.vm_state = 'stopped';
    await cx.write(async (trx, record) => {
      await updateServerAtSeq(trx, s.id, s.task_seq, set);
      record({ kind: 'server', id: s.id, action: 'update', projectId: s.project_id, data: { host: s.host } });
    });
  }

  /** A move (resize, migrate, evacuate, unshelve) found no destination: back to where it was, with a fault. */
  async failMove(s: Server, args: Record<string, unknown>, message: string): Promise<void> {
    const cx = this.#cx;
    await cx.write(async (trx, record) => {
      const now = cx.nowMicro();
      const prev = (args['prev_vm_state'] as Server['vm_state'] | undefined) ?? s.vm_state;
      const updated = await updateServerAtSeq(trx, s.id, s.task_seq, {
        vm_state: prev,
        task_state: null,
        task_args: '{}',
        task_seq: s.task_seq + 1,
        updated_at: now,
        new_flavor: null,
        fault: JSON.stringify({ message, code: 500, details: message, created: now }),
      });
      if (!updated) return;
      if (typeof args['migration_id'] === 'string')
        await trx
          .updateTable('compute_migrations')
          .set({ status: 'error', updated_at: now })
          .where('uuid', '=', args['migration_id'])
          .execute();
      await finishEvent(trx, {
        serverId: s.id,
        event: 'conductor_migrate_server',
        start: s.updated_at,
        now,
        ok: false,
        host: null,
        traceback: message,
        message: 'Error',
        details: message,
      });
      record({ kind: 'server', id: s.id, action: 'update', projectId: s.project_id, data: { task: null } });
    });
  }

  /** Ends a build that could not be scheduled: ERROR with Nova's NoValidHost fault. */
  async failBuild(s: Server, message: string, code = 500, details = ''): Promise<void> {
    const cx = this.#cx;
    await cx.write(async (trx, record) => {
      const now = cx.nowMicro();
      const updated = await updateServerAtSeq(trx, s.id, s.task_seq, {
        vm_state: 'error',
        task_state: null,
        task_seq: s.task_seq + 1,
        updated_at: now,
        fault: JSON.stringify({ message, code, details, created: now }),
      });
      if (!updated) return;
      await finishEvent(trx, {
        serverId: s.id,
        event: 'conductor_schedule_and_build_instances',
        start: s.created_at,
        now,
        ok: false,
        host: null,
        traceback: details || message,
        message: 'Error',
        details: message,
      });
      record({ kind: 'server', id: s.id, action: 'update', projectId: s.project_id, data: { task: null } });
    });
  }
}
