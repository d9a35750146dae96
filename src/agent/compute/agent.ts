// The compute agent: one server reconciler per hypervisor driver (one per host, or many fake hosts), started and stopped together.
import type { ComputeControlPlane } from './control-plane.ts';
import type { HypervisorDriver } from './hypervisor-driver.ts';
import { type ReconcilerStats, ServerReconciler, type ServerReconcilerOptions } from './server-reconciler.ts';

export interface ComputeAgentOptions extends Omit<ServerReconcilerOptions, 'host'> {
  /** Host name per driver, when it differs from the driver's hostname. */
  hostOf?: (driver: HypervisorDriver) => string;
}

/** Runs a reconciler per driver against one control plane. */
export class ComputeAgent {
  readonly reconcilers: readonly ServerReconciler[];
  #started = false;

  constructor(
    controlPlane: ComputeControlPlane,
    drivers: readonly HypervisorDriver[],
    opts: ComputeAgentOptions = {},
  ) {
    const { hostOf, ...common } = opts;
    const hosts = new Set<string>();
    this.reconcilers = Object.freeze(
      drivers.map((driver) => {
        const host = hostOf ? hostOf(driver) : driver.info.hostname;
        if (hosts.has(host)) throw new Error(`Two compute drivers claim host ${host}.`);
        hosts.add(host);
        return new ServerReconciler(controlPlane, driver, { ...common, host });
      }),
    );
  }

  /** Registers every host and runs each one's first full pass. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await Promise.all(this.reconcilers.map((r) => r.start()));
  }

  /** Stops every reconciler; resolves when their operations under way have finished. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await Promise.all(this.reconcilers.map((r) => r.stop()));
  }

  /** Resolves when every reconciler is idle. */
  async idle(): Promise<void> {
    await Promise.all(this.reconcilers.map((r) => r.idle()));
  }

  /** Asks every reconciler for a full pass and waits for them. */
  async resync(): Promise<void> {
    await Promise.all(this.reconcilers.map((r) => r.resync('full')));
  }

  reconciler(host: string): ServerReconciler | undefined {
    return this.reconcilers.find((r) => r.host === host);
  }

  stats(): ReconcilerStats {
    const total: ReconcilerStats = {
      passes: 0,
      tasksRun: 0,
      faultsReported: 0,
      staleReports: 0,
      driftReports: 0,
      orphansDestroyed: 0,
      maxConcurrent: 0,
    };
    for (const r of this.reconcilers) {
      const s = r.stats();
      for (const k of Object.keys(total) as (keyof ReconcilerStats)[]) {
        total[k] = k === 'maxConcurrent' ? Math.max(total[k], s[k]) : total[k] + s[k];
      }
    }
    return total;
  }
}
