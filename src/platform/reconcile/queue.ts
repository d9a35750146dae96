// A keyed work queue for reconcilers: a key queued while it is being worked on runs once more afterwards, keys
// are processed with bounded concurrency, failures requeue with backoff, and stop() waits for work in flight.

export interface WorkQueueOptions {
  concurrency: number;
  /** Backoff after the nth consecutive failure of a key (ms). */
  backoffMs?: (attempt: number) => number;
  onError?: (key: string, err: unknown) => void;
}

export class WorkQueue {
  readonly #work: (key: string) => Promise<void>;
  readonly #opts: WorkQueueOptions;
  readonly #pending = new Set<string>();
  readonly #order: string[] = [];
  readonly #running = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #idle: (() => void)[] = [];
  #stopped = false;

  constructor(work: (key: string) => Promise<void>, opts: WorkQueueOptions) {
    this.#work = work;
    this.#opts = opts;
  }

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#pending.has(key)) return;
    this.#pending.add(key);
    this.#order.push(key);
    this.#pump();
  }

  get size(): number {
    return this.#pending.size + this.#running.size;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#pending.clear();
    this.#order.length = 0;
    await this.idle();
  }

  #pump(): void {
    while (this.#running.size < this.#opts.concurrency && this.#order.length > 0) {
      const key = this.#order.shift()!;
      if (!this.#pending.delete(key)) continue;
      this.#running.add(key);
      void this.#run(key);
    }
    if (this.size === 0) for (const r of this.#idle.splice(0)) r();
  }

  async #run(key: string): Promise<void> {
    try {
      await this.#work(key);
      this.#failures.delete(key);
    } catch (err) {
      const n = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, n);
      this.#opts.onError?.(key, err);
      if (!this.#stopped) {
        const delay = this.#opts.backoffMs?.(n) ?? Math.min(30_000, 100 * 2 ** n);
        const t = setTimeout(() => {
          this.#timers.delete(t);
          this.add(key);
        }, delay);
        t.unref();
        this.#timers.add(t);
      }
    } finally {
      this.#running.delete(key);
      if (this.#dirty.delete(key)) this.add(key);
      this.#pump();
    }
  }
}
