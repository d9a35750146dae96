// Admission of new builds under saturation: POST /servers waits while this process's event loop is saturated and
// many builds it accepted are still under way, so accepted work finishes before new work starts (bounded wait).
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import type { ChangeEvent, ChangeFeed } from '../../platform/watch/feed.ts';

export interface AdmissionOptions {
  /** Builds under way (accepted, task not yet done) below which nothing ever waits. */
  minInFlight?: number;
  /** Event-loop utilisation over the last window above which the process counts as saturated. */
  busyUtilization?: number;
  /** The sampling window. */
  windowMs?: number;
  /** The longest a request waits: past it, it goes ahead whatever the load. */
  maxWaitMs?: number;
}

/**
 * Builds are tracked from the feed: a server created with task "scheduling" is under way until an update clears its
 * task or it is deleted. A slow hypervisor does not hold requests back: waiting on QEMU leaves this process's event
 * loop idle, and only a saturated loop (scheduling, claims, agent passes competing with new requests) makes a
 * request wait. Entries older than a minute are dropped, so a lost event cannot hold the gate shut.
 */
export class BuildAdmission {
  readonly #feed: Pick<ChangeFeed, 'subscribe'>;
  readonly #min: number;
  readonly #busyAt: number;
  readonly #windowMs: number;
  readonly #maxWaitMs: number;
  readonly #building = new Map<string, number>();
  #unsubscribe: (() => void) | undefined;
  #sampler: NodeJS.Timeout | undefined;
  #last: EventLoopUtilization | undefined;
  #busy = false;
  /** Requests that waited, and for how long in all (metrics, tests). */
  readonly stats = { waited: 0, waitedMs: 0 };

  constructor(feed: Pick<ChangeFeed, 'subscribe'>, opts: AdmissionOptions = {}) {
    this.#feed = feed;
    this.#min = opts.minInFlight ?? 32;
    this.#busyAt = opts.busyUtilization ?? 0.9;
    this.#windowMs = opts.windowMs ?? 50;
    this.#maxWaitMs = opts.maxWaitMs ?? 5000;
  }

  start(): void {
    this.#unsubscribe = this.#feed.subscribe(
      (e: ChangeEvent) => e.service === 'compute' && e.kind === 'server',
      (events) => {
        for (const e of events) this.#observe(e);
        this.#updateSampler();
      },
    );
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#building.clear();
    this.#updateSampler();
  }

  /** Builds under way that this process has seen accepted. */
  get inFlight(): number {
    return this.#building.size;
  }

  /** Resolves at once unless the process is saturated with builds under way; then when it is not, or maxWaitMs. */
  async admit(): Promise<void> {
    if (!this.#busy || this.#building.size < this.#min) return;
    const start = performance.now();
    this.stats.waited++;
    while (this.#busy && this.#building.size >= this.#min && performance.now() - start < this.#maxWaitMs)
      await new Promise((r) => setTimeout(r, 10));
    this.stats.waitedMs += performance.now() - start;
  }

  #observe(e: ChangeEvent): void {
    if (e.action === 'create' && e.data['task'] === 'scheduling')
      this.#building.set(e.resourceId, Date.now());
    else if (e.action === 'delete' || (e.action === 'update' && e.data['task'] === null))
      this.#building.delete(e.resourceId);
  }

  #updateSampler(): void {
    const want = this.#building.size >= this.#min;
    if (want && !this.#sampler) {
      this.#last = performance.eventLoopUtilization();
      this.#sampler = setInterval(() => this.#sample(), this.#windowMs);
      this.#sampler.unref();
    } else if (!want && this.#sampler) {
      clearInterval(this.#sampler);
      this.#sampler = undefined;
      this.#busy = false;
    }
  }

  #sample(): void {
    const now = performance.eventLoopUtilization();
    this.#busy = performance.eventLoopUtilization(now, this.#last).utilization > this.#busyAt;
    this.#last = now;
    const old = Date.now() - 60_000;
    for (const [id, at] of this.#building) if (at < old) this.#building.delete(id);
    this.#updateSampler();
  }
}
