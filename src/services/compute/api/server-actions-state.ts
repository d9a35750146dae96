// Server actions that change power or admin state: start/stop, reboot, pause, suspend, lock, resetState,
// crash dump, changePassword, rescue, forceDelete and restore.
import type { ComputeContext } from '../context.ts';
import { ComputeErrors } from '../errors.ts';
import {
  type ActionHandler,
  type ActionRequest,
  accepted,
  generatePassword,
  loadForAction,
  notReady,
  recordApiAction,
  simpleTask,
  taskArgs,
} from './server-actions-common.ts';
import { startTask } from './servers.ts';

const SERVERS = 'os_compute_api:servers:';

const reboot: ActionHandler = async (a) => {
  const hard = String(a.args.type).toUpperCase() === 'HARD';
  const s = await loadForAction(a, `${SERVERS}reboot`, {
    state: hard ? 'reboot_hard' : 'reboot',
    method: 'reboot',
  });
  await startTask(a.cx, a.ctx, s, 'reboot', {
    task_state: hard ? 'rebooting_hard' : 'rebooting',
    task_args: taskArgs(s, { reboot_type: hard ? 'HARD' : 'SOFT' }),
  });
  return accepted();
};

/** lock: no task; the owner locking an already locked server changes nothing (Nova's compute API). */
const lock: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:os-lock-server:lock', { lock: false });
  const isOwner = a.ctx.requireAuth().projectId === s.project_id;
  if (s.locked && isOwner) return accepted();
  const reason =
    a.ctx.mv!.atLeast('2.73') && a.args && typeof a.args === 'object'
      ? ((a.args.locked_reason as string | undefined) ?? null)
      : null;
  await recordApiAction(
    a,
    s,
    'lock',
    { locked: 1, locked_by: isOwner ? 'owner' : 'admin', locked_reason: reason },
    'api_lock',
  );
  return accepted();
};

/** unlock: whoever did not take the lock (owner vs admin) needs unlock_override. */
const unlock: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:os-lock-server:unlock', { lock: false });
  const expected = a.ctx.requireAuth().projectId === s.project_id ? 'owner' : 'admin';
  if (s.locked_by && s.locked_by !== expected)
    a.ctx.authorize('os_compute_api:os-lock-server:unlock:unlock_override', { project_id: s.project_id });
  await recordApiAction(a, s, 'unlock', { locked: 0, locked_by: null, locked_reason: null }, 'api_unlock');
  return accepted();
};

/** os-resetState: sets vm_state, clears the task and bumps task_seq so a running task's report is ignored. */
const resetState: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:os-admin-actions:reset_state', { lock: false });
  await recordApiAction(a, s, 'resetState', {
    vm_state: a.args.state === 'error' ? 'error' : 'active',
    task_state: null,
    task_args: '{}',
    task_seq: s.task_seq + 1,
  });
  return accepted();
};

/**
 * trigger_crash_dump (2.17): Nova casts an NMI to the host. The fake hypervisor has nothing to dump, so the
 * action is recorded and finished here.
 */
const triggerCrashDump: ActionHandler = async (a) => {
  const s = await loadForAction(a, `${SERVERS}trigger_crash_dump`, { state: 'trigger_crash_dump' });
  if (!s.host) throw notReady(s.id);
  await recordApiAction(a, s, 'trigger_crash_dump', {}, 'compute_trigger_crash_dump');
  return accepted();
};

/** changePassword: Nova's fake driver accepts any password, so the task completes on the agent. */
const changePassword: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:os-admin-password', { state: 'changePassword' });
  await startTask(a.cx, a.ctx, s, 'changePassword', {
    task_state: 'updating_password',
    task_args: taskArgs(s),
  });
  return accepted();
};

/** rescue: 200 with the rescue password (enable_instance_password defaults to true). */
const rescue: ActionHandler = async (a) => {
  const body = (a.args ?? {}) as { adminPass?: string; rescue_image_ref?: string };
  const password = body.adminPass ?? generatePassword();
  const s = await loadForAction(a, 'os_compute_api:os-rescue', { state: 'rescue' });
  let rescueImage: string | undefined;
  if (body.rescue_image_ref) {
    const image = await a.cx.image.find(a.ctx.requireAuth().token, body.rescue_image_ref);
    if (!image) throw ComputeErrors.badRequest(`Image ${body.rescue_image_ref} could not be found.`);
    rescueImage = image.id;
  }
  await startTask(a.cx, a.ctx, s, 'rescue', {
    task_state: 'rescuing',
    task_args: taskArgs(s, rescueImage ? { rescue_image_id: rescueImage } : {}),
  });
  return { status: 200, body: { adminPass: password } };
};

/**
 * forceDelete: soft delete is not enabled (no reclaim_instance_interval), so this is a delete, in any state.
 */
function forceDelete(cx: ComputeContext): ActionHandler {
  return async (a: ActionRequest) => {
    const s = await loadForAction(a, 'os_compute_api:os-deferred-delete:force', {});
    if (s.task_state === 'deleting') return accepted();
    await startTask(cx, a.ctx, s, 'delete', { task_state: 'deleting', task_args: taskArgs(s) });
    if (a.onDelete) await a.onDelete({ ...s, task_seq: s.task_seq + 1, task_state: 'deleting' });
    return accepted();
  };
}

/** restore: only SOFT_DELETED servers, which never exist here: Nova's 409 for the server's vm_state. */
const restore: ActionHandler = async (a) => {
  await loadForAction(a, 'os_compute_api:os-deferred-delete:restore', { state: 'restore' });
  return accepted();
};

export function stateActions(cx: ComputeContext): Record<string, ActionHandler> {
  return {
    'os-start': simpleTask(`${SERVERS}start`, 'start', 'powering-on', 'start'),
    'os-stop': simpleTask(`${SERVERS}stop`, 'stop', 'powering-off', 'stop'),
    reboot,
    pause: simpleTask('os_compute_api:os-pause-server:pause', 'pause', 'pausing', 'pause'),
    unpause: simpleTask('os_compute_api:os-pause-server:unpause', 'unpause', 'unpausing', 'unpause'),
    suspend: simpleTask('os_compute_api:os-suspend-server:suspend', 'suspend', 'suspending', 'suspend'),
    resume: simpleTask('os_compute_api:os-suspend-server:resume', 'resume', 'resuming', 'resume'),
    lock,
    unlock,
    'os-resetState': resetState,
    trigger_crash_dump: triggerCrashDump,
    changePassword,
    rescue,
    unrescue: simpleTask('os_compute_api:os-unrescue', 'unrescue', 'unrescuing', 'unrescue'),
    forceDelete: forceDelete(cx),
    restore,
  };
}
