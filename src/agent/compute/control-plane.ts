// The compute agent's only way to the control plane: register, list assigned servers, report; never the database.
import type { GuestSpec, NicSpec } from './hypervisor-driver.ts';

export interface HostRegistration {
  host: string;
  node: string;
  hypervisorType: string;
  hypervisorVersion: number;
  cpuInfo: Record<string, unknown>;
  inventory: { vcpus: number; memoryMb: number; diskGb: number };
  traits: string[];
}

/** A server assigned to this host, with the desired state the agent converges to. */
export interface AssignedServer {
  id: string;
  /** Increases every time the API starts a new task on the server; completeTask echoes it. */
  taskSeq: number;
  vmState: string;
  /** Nova's task_state; null when no task is under way. */
  taskState: string | null;
  /** Nova's power_state code last recorded: 0 NOSTATE, 1 RUNNING, 3 PAUSED, 4 SHUTDOWN, 6 CRASHED, 7 SUSPENDED. */
  powerState: number;
  /** What the server should look like (the new flavor during resize, the new image during rebuild). */
  guest: GuestSpec;
  rebootType?: 'SOFT' | 'HARD';
  /** The image to upload to, for image_snapshot / image_backup / shelving tasks. */
  snapshotImageId?: string;
  rescueImageId?: string;
}

export type TaskOutcome =
  | { ok: true; powerState: number; consoleReady?: boolean }
  | { ok: false; fault: { message: string; code: number; details?: string }; powerState: number };

/**
 * Implemented in-process by the compute service in all-in-one, over the internal HTTP API on other hosts. Every
 * method may throw on transport failure; the agent retries on its next resync.
 */
export interface ComputeControlPlane {
  /** Records (or refreshes) this host and its inventory; idempotent; doubles as the heartbeat. */
  registerHost(reg: HostRegistration): Promise<void>;
  /**
   * Every non-deleted server whose host is this host; with `tasksOnly`, just those with a task under way (what a
   * task pass needs, so its cost follows the work in flight, not the host's size).
   */
  listAssigned(host: string, opts?: { tasksOnly?: boolean }): Promise<AssignedServer[]>;
  /**
   * Reports the end of the task the agent saw as (taskSeq, taskState); the control plane decides the resulting
   * vm_state. Returns false when the task is no longer current (a newer task, or deleted): the agent ignores it.
   */
  completeTask(serverId: string, taskSeq: number, taskState: string, outcome: TaskOutcome): Promise<boolean>;
  /** Reports drift: the observed power state differs from the recorded one while no task is under way. */
  reportPowerState(serverId: string, powerState: number): Promise<void>;
  /** Stores a snapshot's bytes into an image the API created (queued) for it. */
  uploadSnapshot(
    imageId: string,
    data: Uint8Array,
    diskFormat: string,
    containerFormat: string,
  ): Promise<void>;
  /**
   * Calls onChange with a server id when something about a server on this host changed; best effort (a resync
   * covers misses). Returns the unsubscribe function.
   */
  watch(host: string, onChange: (serverId: string) => void): () => void;
  /**
   * Networking (absent without a network service): creates or finds the server's ports, binds them to its host
   * and returns its NICs (Nova's _build_resources → allocate_for_instance). Idempotent.
   */
  allocateNetwork?(serverId: string): Promise<NicSpec[]>;
  /**
   * Resolves once Neutron said network-vif-plugged for each of these ports that was not active yet (Nova's
   * wait_for_instance_event); throws a DriverError when one failed, or none came in time and that is fatal.
   */
  waitForVifsPlugged?(serverId: string, portIds: string[]): Promise<void>;
}
