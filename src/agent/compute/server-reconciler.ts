// The per-host compute reconciler: runs the driver work for each assigned server's task, reports, repairs drift.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AssignedServer, ComputeControlPlane, TaskOutcome } from './control-plane.ts';
import {
  type GuestObserved,
  type HypervisorDriver,
  PowerStateCode,
  powerStateCode,
} from './hypervisor-driver.ts';
import { JobQueue } from './job-queue.ts';
import { actionFor, faultOf, isTransient } from './task-actions.ts';

/** A pino-compatible logger, narrowed to what the agent uses. */
export interface AgentLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silentLog: AgentLog = { debug() {}, warn() {}, error() {} };

export interface ServerReconcilerOptions {
  /** The host name servers are assigned to; the driver's hostname by default. */
  host?: string;
  /** Level-triggered full resync period; default 10 s. */
  resyncMs?: number;
  /** registerHost period; default 10 s (Nova's report_interval). */
  heartbeatMs?: number;
  /** Servers worked on at once; default 32. */
  concurrency?: number;
  /** Retries of transient driver failures before reporting a fault; default 3 attempts from 200 ms, doubling. */
  retry?: { attempts?: number; baseMs?: number; maxMs?: number };
  /** Clean-shutdown timeout passed to driver.stop; default 60 s (Nova's shutdown_timeout). */
  shutdownTimeoutMs?: number;
  /** Destroy guests no assigned server claims (Nova's running_deleted_instance_action=reap); default true. */
  destroyOrphans?: boolean;
  log?: AgentLog;
}

export interface ReconcilerStats {
  passes: number;
  tasksRun: number;
  faultsReported: number;
  staleReports: number;
  driftReports: number;
  orphansDestroyed: number;
  maxConcurrent: number;
}

type PassKind = 'tasks' | 'full';

/** vm_states in which no guest is expected on this host, or its power says nothing; drift is not checked. */
const NO_DRIFT_VM_STATES = new Set(['building', 'error', 'deleted', 'shelved_offloaded']);

/**
 * Converges one host's guests to what the control plane assigns it. A pass lists the assigned servers; each server
 * with a task gets that task's driver work, then completeTask; in a full pass (on start and every resyncMs) the
 * guests are also compared with the servers: power drift is reported and unclaimed guests destroyed. Wake-ups
 * coalesce into one pass; one server never has two operations at once.
 */
export class ServerReconciler {
  readonly host: string;
  readonly #cp: ComputeControlPlane;
  readonly #driver: HypervisorDriver;
  readonly #log: AgentLog;
  readonly #opts: Required<Omit<ServerReconcilerOptions, 'host' | 'log' | 'retry'>> & {
    retry: { attempts: number; baseMs: number; maxMs: number };
  };
  readonly #jobs: JobQueue;

  /** The host's hypervisor driver (tests inspect fake guests through it). */
  get driver(): HypervisorDriver {
    return this.#driver;
  }
  /** Servers whose operation ended since the current pass listed: that listing is stale for them. */
  readonly #touched = new Set<string>();
  /** Outcomes completeTask could not deliver, resent while the listing still shows the same task. */
  readonly #unreported = new Map<string, { taskSeq: number; taskState: string; outcome: TaskOutcome }>();
  readonly #warnedTasks = new Set<string>();
  readonly #abort = new AbortController();
  readonly #stats: ReconcilerStats = {
    passes: 0,
    tasksRun: 0,
    faultsReported: 0,
    staleReports: 0,
    driftReports: 0,
    orphansDestroyed: 0,
    maxConcurrent: 0,
  };
  #pass: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #nextKind: PassKind | undefined;
  #wakeScheduled = false;
  #stopping = false;
  #timers: NodeJS.Timeout[] = [];
  #unwatch: (() => void) | undefined;

  constructor(
    controlPlane: ComputeControlPlane,
    driver: HypervisorDriver,
    opts: ServerReconcilerOptions = {},
  ) {
    this.#cp = controlPlane;
    this.#driver = driver;
    this.host = opts.host ?? driver.info.hostname;
    this.#log = opts.log ?? silentLog;
    this.#opts = {
      resyncMs: opts.resyncMs ?? 10_000,
      heartbeatMs: opts.heartbeatMs ?? 10_000,
      concurrency: opts.concurrency ?? 32,
      shutdownTimeoutMs: opts.shutdownTimeoutMs ?? 60_000,
      destroyOrphans: opts.destroyOrphans ?? true,
      retry: { attempts: 3, baseMs: 200, maxMs: 5_000, ...opts.retry },
    };
    this.#jobs = new JobQueue(
      this.#opts.concurrency,
      (id) => this.#touched.add(id),
      (id, err) => this.#log.warn({ host: this.host, server_id: id, err }, 'compute operation failed'),
    );
  }

  /** Registers the host, subscribes to wake-ups, starts the timers and runs the first full pass. */
  async start(): Promise<void> {
    await this.heartbeat();
    this.#unwatch = this.#cp.watch(this.host, () => this.#wake());
    this.#every(this.#opts.resyncMs, () => void this.resync('full'));
    this.#every(this.#opts.heartbeatMs, () => void this.heartbeat());
    await this.resync('full');
  }

  /**
   * Runs fn every intervalMs, the first time after a random part of the interval (Nova's periodic_fuzzy_delay):
   * the hosts of one process, or of a rack started together, then spread their passes and heartbeats over the
   * interval instead of all hitting the control plane in the same instant.
   */
  #every(intervalMs: number, fn: () => void): void {
    const first = setTimeout(() => {
      if (this.#stopping) return;
      fn();
      const t = setInterval(fn, intervalMs);
      t.unref();
      this.#timers.push(t);
    }, Math.random() * intervalMs);
    first.unref();
    this.#timers.push(first);
  }

  /** Stops timers and wake-ups, drops queued work, and waits for operations under way (retries are cut short). */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers = [];
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#abort.abort();
    this.#jobs.dropQueued();
    while (this.#pass || this.#next) await (this.#next ?? this.#pass);
    await this.#jobs.drained();
  }

  /** Resolves once no pass is pending and no operation is queued or running (tests, settle()). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.#pass || this.#next) await (this.#next ?? this.#pass);
      else if (this.#jobs.size > 0) await this.#jobs.drained();
      else if (this.#wakeScheduled) await new Promise((r) => setImmediate(r));
      else return;
    }
  }

  stats(): ReconcilerStats {
    return { ...this.#stats, maxConcurrent: this.#jobs.maxRunning };
  }

  /** Sends the registration (inventory included); failures are logged and retried on the next beat. */
  async heartbeat(): Promise<void> {
    try {
      const inv = await this.#driver.inventory();
      const { info } = this.#driver;
      await this.#cp.registerHost({
        host: this.host,
        node: info.hostname,
        hypervisorType: info.hypervisorType,
        hypervisorVersion: info.hypervisorVersion,
        cpuInfo: { ...info.cpuInfo },
        inventory: { vcpus: inv.vcpus, memoryMb: inv.memoryMb, diskGb: inv.diskGb },
        traits: inv.traits,
      });
    } catch (err) {
      this.#log.warn({ host: this.host, err }, 'compute host registration failed');
    }
  }

  /**
   * Asks for a pass; resolves when a pass that began after the call has finished. Calls during a pass share the
   * one queued after it ('full' wins over 'tasks').
   */
  resync(kind: PassKind = 'full'): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    if (!this.#pass) {
      this.#pass = this.#run(kind).finally(() => {
        this.#pass = undefined;
      });
      return this.#pass;
    }
    this.#nextKind = kind === 'full' || this.#nextKind === 'full' ? 'full' : 'tasks';
    this.#next ??= this.#pass.then(() => {
      const k = this.#nextKind ?? 'tasks';
      this.#next = undefined;
      this.#nextKind = undefined;
      return this.resync(k);
    });
    return this.#next;
  }

  /** Coalesces a burst of wake-ups into one task pass. */
  #wake(): void {
    if (this.#wakeScheduled || this.#stopping) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      void this.resync('tasks');
    });
  }

  async #run(kind: PassKind): Promise<void> {
    this.#stats.passes++;
    try {
      this.#touched.clear();
      const servers = await this.#cp.listAssigned(this.host, { tasksOnly: kind === 'tasks' });
      if (this.#stopping) return;
      const byId = new Map(servers.map((s) => [s.id, s]));
      for (const [id, u] of this.#unreported) {
        const s = byId.get(id);
        if (!s || s.taskSeq !== u.taskSeq || s.taskState !== u.taskState) this.#unreported.delete(id);
      }
      const guests = kind === 'full' ? await this.#driver.listGuests() : undefined;
      const observed = guests && new Map(guests.map((g) => [g.id, g]));
      for (const s of servers) {
        if (this.#jobs.has(s.id) || this.#touched.has(s.id)) continue;
        const pending = this.#unreported.get(s.id);
        if (pending) this.#jobs.add(s.id, () => this.#deliver(s, pending.outcome));
        else if (s.taskState !== null) this.#dispatchTask(s);
        else if (observed) this.#checkDrift(s, observed.get(s.id));
      }
      if (guests && this.#opts.destroyOrphans) await this.#reapOrphans(guests, byId);
    } catch (err) {
      this.#log.warn({ host: this.host, err }, 'compute resync failed; retrying on the next pass');
    }
  }

  #dispatchTask(s: AssignedServer): void {
    const taskState = s.taskState as string;
    if (!actionFor(taskState)) {
      if (!this.#warnedTasks.has(taskState)) {
        this.#warnedTasks.add(taskState);
        this.#log.debug({ host: this.host, task_state: taskState }, 'task state left to the control plane');
      }
      return;
    }
    this.#jobs.add(s.id, () => this.#runTask(s));
  }

  #checkDrift(s: AssignedServer, guest: GuestObserved | undefined): void {
    if (NO_DRIFT_VM_STATES.has(s.vmState)) return;
    // An absent guest is reported as shut down: the server's VM is not running.
    const code = guest ? powerStateCode(guest.powerState) : PowerStateCode.SHUTDOWN;
    if (code === s.powerState) return;
    this.#jobs.add(s.id, async () => {
      this.#stats.driftReports++;
      await this.#cp.reportPowerState(s.id, code);
    });
  }

  /** Destroys guests no server claims, after a fresh listing confirms it (destructive steps re-read first). */
  async #reapOrphans(guests: GuestObserved[], byId: Map<string, AssignedServer>): Promise<void> {
    const isCandidate = (id: string) => !byId.has(id) && !this.#jobs.has(id) && !this.#touched.has(id);
    if (!guests.some((g) => isCandidate(g.id))) return;
    const fresh = new Set((await this.#cp.listAssigned(this.host)).map((s) => s.id));
    for (const g of guests) {
      if (!isCandidate(g.id) || fresh.has(g.id) || this.#stopping) continue;
      this.#jobs.add(g.id, async () => {
        await this.#driver.destroy(g.id);
        this.#stats.orphansDestroyed++;
        this.#log.warn({ host: this.host, server_id: g.id }, 'destroyed a guest no server claims');
      });
    }
  }

  async #runTask(s: AssignedServer): Promise<void> {
    const action = actionFor(s.taskState as string);
    if (!action) return;
    this.#stats.tasksRun++;
    const ctx = {
      driver: this.#driver,
      controlPlane: this.#cp,
      server: s,
      shutdownTimeoutMs: this.#opts.shutdownTimeoutMs,
    };
    const { attempts, baseMs, maxMs } = this.#opts.retry;
    let outcome: TaskOutcome;
    for (let attempt = 1; ; attempt++) {
      try {
        await action(ctx);
        outcome = await this.#observedOutcome(s);
        break;
      } catch (err) {
        if (isTransient(err)) {
          // On stop, leave the task unreported: the next agent run picks it up again.
          if (this.#stopping) return;
          if (attempt < attempts) {
            try {
              await sleep(Math.min(maxMs, baseMs * 2 ** (attempt - 1)), undefined, {
                signal: this.#abort.signal,
              });
            } catch {
              return;
            }
            continue;
          }
        }
        this.#stats.faultsReported++;
        this.#log.warn(
          { host: this.host, server_id: s.id, task_state: s.taskState, err },
          'compute task failed',
        );
        outcome = { ok: false, fault: faultOf(err), powerState: await this.#observedPower(s) };
        break;
      }
    }
    await this.#deliver(s, outcome);
  }

  async #deliver(s: AssignedServer, outcome: TaskOutcome): Promise<void> {
    const taskState = s.taskState as string;
    try {
      const current = await this.#cp.completeTask(s.id, s.taskSeq, taskState, outcome);
      this.#unreported.delete(s.id);
      if (!current) this.#stats.staleReports++;
    } catch (err) {
      this.#unreported.set(s.id, { taskSeq: s.taskSeq, taskState, outcome });
      this.#log.warn(
        { host: this.host, server_id: s.id, err },
        'task report failed; resending on the next pass',
      );
    }
  }

  async #observedOutcome(s: AssignedServer): Promise<TaskOutcome> {
    try {
      const g = await this.#driver.findGuest(s.id);
      if (!g) return { ok: true, powerState: PowerStateCode.NOSTATE };
      return { ok: true, powerState: powerStateCode(g.powerState), consoleReady: g.consoleReady ?? false };
    } catch {
      return { ok: true, powerState: s.powerState };
    }
  }

  async #observedPower(s: AssignedServer): Promise<number> {
    try {
      return powerStateCode((await this.#driver.findGuest(s.id))?.powerState);
    } catch {
      return s.powerState;
    }
  }
}
