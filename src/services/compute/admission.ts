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
  /** Requests admitted whose handler is still running (their build is not in the feed yet). */
  #admitted = 0;
  #passedInWindow = 0;
  readonly #waiting: { since: number; resolve: () => void }[] = [];
  #gate: NodeJS.Timeout | undefined;
  /** Requests that waited, and for how long in all (metrics, tests). */
  readonly stats = { waited: 0, waitedMs: 0 };

  constructor(feed: Pick<ChangeFeed, 'subscribe'>, opts: AdmissionOptions = {}) {
    this.#feed = feed;
    this.#min = opts.minInFlight ?? 16;
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
    for (const w of this.#waiting.splice(0)) {
      this.#admitted++;
      w.resolve();
    }
    if (this.#gate) clearInterval(this.#gate);
    this.#gate = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#building.clear();
    this.#updateSampler();
  }

  /** Builds under way that this process has seen accepted. */
  get inFlight(): number {
    return this.#building.size;
  }

  /**
   * Waits while the process is saturated and `minInFlight` builds are under way (admitted ones included), at most
   * maxWaitMs. An idle loop lets requests through at once, but no more than `minInFlight` per sampling window, so
   * a crowd of waiters does not all start at the same instant. Call the returned function once the request is over
   * (its build, if any, is tracked from the feed from then on).
   */
  async admit(): Promise<() => void> {
    if (this.#waiting.length === 0 && this.#mayPass()) return this.#enter();
    const start = performance.now();
    this.stats.waited++;
    await new Promise<void>((resolve) => {
      this.#waiting.push({ since: start, resolve });
      this.#gate ??= setInterval(() => this.#release(), 5);
    });
    this.stats.waitedMs += performance.now() - start;
    return this.#enter(true);
  }

  /** First come, first served: the oldest waiters go while the gate allows (or once they waited maxWaitMs). */
  #release(): void {
    const now = performance.now();
    while (this.#waiting.length > 0) {
      const head = this.#waiting[0]!;
      if (!this.#mayPass() && now - head.since < this.#maxWaitMs) break;
      this.#waiting.shift();
      // Counted now, so the next waiter sees it (its handler starts on a later tick).
      this.#admitted++;
      this.#passedInWindow++;
      head.resolve();
    }
    if (this.#waiting.length === 0 && this.#gate) {
      clearInterval(this.#gate);
      this.#gate = undefined;
    }
  }

  #mayPass(): boolean {
    if (this.#building.size + this.#admitted < this.#min) return true;
    return !this.#busy && this.#passedInWindow < this.#min;
  }

  #enter(counted = false): () => void {
    if (!counted) {
      this.#admitted++;
      this.#passedInWindow++;
    }
    this.#updateSampler();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#admitted--;
      this.#updateSampler();
    };
  }

  #observe(e: ChangeEvent): void {
    if (e.action === 'create' && e.data['task'] === 'scheduling')
      this.#building.set(e.resourceId, Date.now());
    else if (e.action === 'delete' || (e.action === 'update' && e.data['task'] === null))
      this.#building.delete(e.resourceId);
  }

  #updateSampler(): void {
    // Sampled while anything is under way: cheap (one timer), and the window's pass count needs its reset.
    const want = this.#building.size + this.#admitted > 0;
    if (want && !this.#sampler) {
      this.#last = performance.eventLoopUtilization();
      this.#sampler = setInterval(() => this.#sample(), this.#windowMs);
      this.#sampler.unref();
    } else if (!want && this.#sampler) {
      clearInterval(this.#sampler);
      this.#sampler = undefined;
      this.#busy = false;
      this.#passedInWindow = 0;
    }
  }

  #sample(): void {
    const now = performance.eventLoopUtilization();
    this.#busy = performance.eventLoopUtilization(now, this.#last).utilization > this.#busyAt;
    this.#last = now;
    this.#passedInWindow = 0;
    const old = Date.now() - 60_000;
    for (const [id, at] of this.#building) if (at < old) this.#building.delete(id);
    this.#updateSampler();
  }
}
