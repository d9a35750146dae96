// A tiny in-memory ComputeControlPlane for reconciler tests: servers with Nova's states, task_seq CAS, wake-ups.
import { randomUUID } from 'node:crypto';
import type {
  AssignedServer,
  ComputeControlPlane,
  HostRegistration,
  TaskOutcome,
} from '../../../src/agent/compute/control-plane.ts';
import type { GuestSpec } from '../../../src/agent/compute/hypervisor-driver.ts';

export interface MemoryServer extends AssignedServer {
  host: string;
  deleted: boolean;
  fault?: { message: string; code: number; details?: string };
  consoleReady?: boolean;
}

export interface Completion {
  serverId: string;
  taskSeq: number;
  taskState: string;
  outcome: TaskOutcome;
  accepted: boolean;
}

/** vm_state after a successful task (a loose copy of the lead's state machine, enough for these tests). */
const VM_STATE_AFTER: Record<string, string> = {
  spawning: 'active',
  'powering-off': 'stopped',
  'powering-on': 'active',
  rebooting: 'active',
  rebooting_hard: 'active',
  pausing: 'paused',
  unpausing: 'active',
  suspending: 'suspended',
  resuming: 'active',
  resize_finish: 'resized',
  resize_confirming: 'active',
  resize_reverting: 'active',
  rebuilding: 'active',
  rescuing: 'rescued',
  unrescuing: 'active',
  shelving: 'shelved',
  shelving_offloading: 'shelved_offloaded',
  unshelving: 'active',
  image_snapshot: 'active',
  image_backup: 'active',
  migrating: 'active',
};

export function guestSpec(overrides: Partial<GuestSpec> = {}): GuestSpec {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    name: `server-${id.slice(0, 8)}`,
    hostname: `server-${id.slice(0, 8)}`,
    flavor: { vcpus: 1, memoryMb: 128, rootGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
    imageId: 'image-cirros',
    metadata: {},
    configDrive: false,
    ...overrides,
  };
}

export class MemoryControlPlane implements ComputeControlPlane {
  readonly servers = new Map<string, MemoryServer>();
  readonly registrations: HostRegistration[] = [];
  readonly completions: Completion[] = [];
  readonly powerReports: { serverId: string; powerState: number }[] = [];
  readonly uploads: { imageId: string; data: Uint8Array; diskFormat: string; containerFormat: string }[] = [];
  listCalls = 0;
  /** completeTask throws (a dropped connection) this many more times. */
  failCompletions = 0;
  /** listAssigned takes its snapshot, then waits for this before answering (a slow control plane). */
  listGate: Promise<void> | undefined;
  /** Called at each completeTask before it applies; lets a test act mid-flight. */
  onComplete: ((c: Omit<Completion, 'accepted'>) => void) | undefined;
  readonly #watchers = new Map<string, Set<(id: string) => void>>();

  /** A new server on `host`, building with task spawning. */
  addServer(host: string, overrides: Partial<GuestSpec> = {}): MemoryServer {
    const guest = guestSpec(overrides);
    const server: MemoryServer = {
      id: guest.id,
      host,
      taskSeq: 1,
      vmState: 'building',
      taskState: 'spawning',
      powerState: 0,
      guest,
      deleted: false,
    };
    this.servers.set(server.id, server);
    this.#notify(server);
    return server;
  }

  /** An active running server whose guest the test plants itself. */
  addActive(host: string): MemoryServer {
    const s = this.addServer(host);
    Object.assign(s, { vmState: 'active', taskState: null, powerState: 1 });
    return s;
  }

  /** The API starting a task: a new task_seq, as the lead's code does. */
  setTask(id: string, taskState: string, extra: Partial<AssignedServer> = {}): MemoryServer {
    const s = this.get(id);
    Object.assign(s, extra, { taskState, taskSeq: s.taskSeq + 1 });
    this.#notify(s);
    return s;
  }

  get(id: string): MemoryServer {
    const s = this.servers.get(id);
    if (!s) throw new Error(`no server ${id}`);
    return s;
  }

  /** Deletes a server's row behind the agent's back. */
  purge(id: string): void {
    this.get(id).deleted = true;
  }

  async registerHost(reg: HostRegistration): Promise<void> {
    this.registrations.push(structuredClone(reg));
  }

  async listAssigned(host: string, opts: { tasksOnly?: boolean } = {}): Promise<AssignedServer[]> {
    this.listCalls++;
    const out: AssignedServer[] = [];
    for (const s of this.servers.values()) {
      if (s.host !== host || s.deleted) continue;
      if (opts.tasksOnly && s.taskState === null) continue;
      const { host: _h, deleted: _d, fault: _f, consoleReady: _c, ...assigned } = s;
      out.push(structuredClone(assigned));
    }
    if (this.listGate) await this.listGate;
    return out;
  }

  async completeTask(
    serverId: string,
    taskSeq: number,
    taskState: string,
    outcome: TaskOutcome,
  ): Promise<boolean> {
    this.onComplete?.({ serverId, taskSeq, taskState, outcome });
    if (this.failCompletions > 0) {
      this.failCompletions--;
      throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    }
    const s = this.servers.get(serverId);
    const accepted = !!s && !s.deleted && s.taskSeq === taskSeq && s.taskState === taskState;
    this.completions.push({ serverId, taskSeq, taskState, outcome, accepted });
    if (!s || !accepted) return false;
    s.powerState = outcome.powerState;
    if (outcome.ok) {
      s.consoleReady = outcome.consoleReady;
      if (taskState === 'deleting') s.deleted = true;
      else s.vmState = VM_STATE_AFTER[taskState] ?? s.vmState;
    } else {
      s.fault = outcome.fault;
      if (taskState === 'spawning') s.vmState = 'error';
    }
    s.taskState = null;
    this.#notify(s);
    return true;
  }

  async reportPowerState(serverId: string, powerState: number): Promise<void> {
    this.powerReports.push({ serverId, powerState });
    const s = this.servers.get(serverId);
    if (s && s.taskState === null) s.powerState = powerState;
  }

  async uploadSnapshot(imageId: string, data: Uint8Array, diskFormat: string, containerFormat: string) {
    this.uploads.push({ imageId, data, diskFormat, containerFormat });
  }

  watch(host: string, onChange: (serverId: string) => void): () => void {
    const set = this.#watchers.get(host) ?? new Set();
    this.#watchers.set(host, set);
    set.add(onChange);
    return () => set.delete(onChange);
  }

  #notify(s: MemoryServer): void {
    for (const cb of this.#watchers.get(s.host) ?? []) cb(s.id);
  }
}
