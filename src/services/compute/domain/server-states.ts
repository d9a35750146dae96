// Nova's server vocabularies (vm_state, task_state, power_state), the status clients see, and which states
// each action accepts (nova/compute/api.py's check_instance_state, as data).
import { ComputeErrors } from '../errors.ts';

export type VmState =
  | 'active'
  | 'building'
  | 'paused'
  | 'suspended'
  | 'stopped'
  | 'rescued'
  | 'resized'
  | 'soft-delete'
  | 'deleted'
  | 'error'
  | 'shelved'
  | 'shelved_offloaded';

export const PowerState = {
  NOSTATE: 0,
  RUNNING: 1,
  PAUSED: 3,
  SHUTDOWN: 4,
  CRASHED: 6,
  SUSPENDED: 7,
} as const;

const REBOOT = ['rebooting', 'reboot_pending', 'reboot_started'];
const HARD_REBOOT = ['rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard'];
const REBUILD = ['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning'];
const RESIZE = ['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish'];

function states(def: string, extra: [string[], string][] = []): Record<string, string> {
  const m: Record<string, string> = { default: def };
  for (const [tasks, status] of extra) for (const t of tasks) m[t] = status;
  return m;
}

const STATUS: Record<string, Record<string, string>> = {
  active: states('ACTIVE', [
    [REBOOT, 'REBOOT'],
    [HARD_REBOOT, 'HARD_REBOOT'],
    [['updating_password'], 'PASSWORD'],
    [REBUILD, 'REBUILD'],
    [['migrating'], 'MIGRATING'],
    [RESIZE, 'RESIZE'],
  ]),
  building: states('BUILD'),
  stopped: states('SHUTOFF', [
    [RESIZE, 'RESIZE'],
    [REBUILD, 'REBUILD'],
  ]),
  resized: states('VERIFY_RESIZE', [[['resize_reverting'], 'REVERT_RESIZE']]),
  paused: states('PAUSED', [[['migrating'], 'MIGRATING']]),
  suspended: states('SUSPENDED'),
  rescued: states('RESCUE'),
  error: states('ERROR', [[REBUILD, 'REBUILD']]),
  deleted: states('DELETED'),
  'soft-delete': states('SOFT_DELETED'),
  shelved: states('SHELVED'),
  shelved_offloaded: states('SHELVED_OFFLOADED'),
};

/** The API status of a server (nova.api.openstack.common.status_from_state). */
export function statusOf(vmState: string, taskState: string | null): string {
  const m = STATUS[vmState];
  if (!m) return 'UNKNOWN';
  return (taskState ? m[taskState] : undefined) ?? m['default']!;
}

/**
 * Status names → the vm_states (and task states) a ?status= filter matches (common.task_and_vm_state_from_status):
 * the task states only narrow the match when none of the statuses is a vm_state's default one. No vm_state at
 * all means no status was valid.
 */
export function statesForStatus(status: string | readonly string[]): {
  vmStates: string[];
  taskStates?: (string | null)[];
} {
  const wanted = new Set((typeof status === 'string' ? [status] : status).map((x) => x.toUpperCase()));
  const vm = new Set<string>();
  const tasks = new Set<string | null>();
  let anyDefault = false;
  for (const [vmState, m] of Object.entries(STATUS)) {
    for (const [task, st] of Object.entries(m)) {
      if (!wanted.has(st)) continue;
      vm.add(vmState);
      if (task === 'default') anyDefault = true;
      else tasks.add(task);
    }
  }
  if (anyDefault || vm.size === 0) return { vmStates: [...vm] };
  return { vmStates: [...vm], taskStates: [...tasks] };
}

export interface StateRule {
  /** Allowed vm_states (undefined = any). */
  vm?: readonly string[];
  /** Allowed task_states (undefined = any; default: only none). */
  task?: readonly (string | null)[];
}

const NO_TASK = [null] as const;

/** Which states each action accepts. Names are the action names Nova prints in its 409 message. */
export const ACTION_STATES: Record<string, StateRule> = {
  stop: { vm: ['active', 'error'], task: NO_TASK },
  start: { vm: ['stopped'], task: NO_TASK },
  reboot: { vm: ['active'], task: NO_TASK },
  reboot_hard: {
    vm: ['active', 'stopped', 'paused', 'suspended', 'error'],
    task: [null, ...REBOOT, 'rebooting_hard', 'resuming', 'unpausing', 'pausing', 'suspending'],
  },
  pause: { vm: ['active'], task: NO_TASK },
  unpause: { vm: ['paused'], task: NO_TASK },
  suspend: { vm: ['active'], task: NO_TASK },
  resume: { vm: ['suspended'], task: NO_TASK },
  resize: { vm: ['active', 'stopped'], task: NO_TASK },
  confirmResize: { vm: ['resized'], task: NO_TASK },
  revertResize: { vm: ['resized'], task: NO_TASK },
  rebuild: { vm: ['active', 'stopped', 'error'], task: NO_TASK },
  createImage: { vm: ['active', 'stopped', 'paused', 'suspended'], task: NO_TASK },
  createBackup: { vm: ['active', 'stopped', 'paused', 'suspended'], task: NO_TASK },
  shelve: { vm: ['active', 'stopped', 'paused', 'suspended'], task: NO_TASK },
  shelveOffload: { vm: ['shelved'], task: NO_TASK },
  unshelve: { vm: ['shelved', 'shelved_offloaded'], task: NO_TASK },
  rescue: { vm: ['active', 'stopped', 'error'], task: NO_TASK },
  unrescue: { vm: ['rescued'], task: NO_TASK },
  migrate: { vm: ['active', 'stopped'], task: NO_TASK },
  'os-migrateLive': { vm: ['active', 'paused'], task: NO_TASK },
  evacuate: { vm: ['active', 'stopped', 'error'], task: NO_TASK },
  changePassword: { vm: ['active'], task: NO_TASK },
  trigger_crash_dump: { vm: ['active', 'paused', 'rescued', 'resized', 'error'], task: NO_TASK },
  update_metadata: { vm: ['active', 'paused', 'suspended', 'stopped'], task: NO_TASK },
  restore: { vm: ['soft-delete'] },
  delete: {},
  forceDelete: {},
  attach_volume: {
    vm: ['active', 'paused', 'stopped', 'resized', 'soft-delete', 'shelved', 'shelved_offloaded'],
    task: NO_TASK,
  },
  attach_interface: { vm: ['active', 'paused', 'stopped'], task: NO_TASK },
};

/** Throws Nova's 409 InstanceInvalidState when the server's state does not allow `action`. */
export function checkState(
  server: { id: string; vm_state: string; task_state: string | null },
  action: string,
  method = action,
): void {
  const rule = ACTION_STATES[action] ?? { task: NO_TASK };
  if (rule.vm && !rule.vm.includes(server.vm_state))
    throw ComputeErrors.invalidState(server.id, 'vm_state', server.vm_state, method);
  if (rule.task && !rule.task.includes(server.task_state))
    throw ComputeErrors.invalidState(server.id, 'task_state', server.task_state, method);
}

/**
 * What a completed task leaves behind: the vm_state after the agent reports success. The control plane
 * computes it (agents only report), so the table lives here.
 */
export const TASK_RESULT: Record<string, { vm: VmState; power: number }> = {
  spawning: { vm: 'active', power: PowerState.RUNNING },
  'powering-off': { vm: 'stopped', power: PowerState.SHUTDOWN },
  'powering-on': { vm: 'active', power: PowerState.RUNNING },
  rebooting: { vm: 'active', power: PowerState.RUNNING },
  rebooting_hard: { vm: 'active', power: PowerState.RUNNING },
  pausing: { vm: 'paused', power: PowerState.PAUSED },
  unpausing: { vm: 'active', power: PowerState.RUNNING },
  suspending: { vm: 'suspended', power: PowerState.SUSPENDED },
  resuming: { vm: 'active', power: PowerState.RUNNING },
  rescuing: { vm: 'rescued', power: PowerState.RUNNING },
  unrescuing: { vm: 'active', power: PowerState.RUNNING },
  shelving: { vm: 'shelved', power: PowerState.SHUTDOWN },
  shelving_offloading: { vm: 'shelved_offloaded', power: PowerState.SHUTDOWN },
  unshelving: { vm: 'active', power: PowerState.RUNNING },
  resize_finish: { vm: 'resized', power: PowerState.RUNNING },
  resize_reverting: { vm: 'active', power: PowerState.RUNNING },
  resize_confirming: { vm: 'active', power: PowerState.RUNNING },
  rebuilding: { vm: 'active', power: PowerState.RUNNING },
  migrating: { vm: 'active', power: PowerState.RUNNING },
  image_snapshot: { vm: 'active', power: PowerState.RUNNING },
  image_backup: { vm: 'active', power: PowerState.RUNNING },
  updating_password: { vm: 'active', power: PowerState.RUNNING },
};
