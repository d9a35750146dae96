// A keyed work queue with bounded concurrency: at most one job per key, queued or running, and N running at once.

interface Job {
  key: string;
  run: () => Promise<void>;
}

/** Runs jobs first in, first out, at most `concurrency` at a time; a key with a job queued or running is busy. */
export class JobQueue {
  readonly #concurrency: number;
  readonly #onDone: (key: string) => void;
  readonly #onError: (key: string, err: unknown) => void;
  readonly #busy = new Set<string>();
  #queue: Job[] = [];
  #head = 0;
  #running = 0;
  #maxRunning = 0;
  #drainWaiters: (() => void)[] = [];

  constructor(
    concurrency: number,
    onDone: (key: string) => void = () => {},
    onError: (key: string, err: unknown) => void = () => {},
  ) {
    this.#concurrency = Math.max(1, concurrency);
    this.#onDone = onDone;
    this.#onError = onError;
  }

  /** Whether `key` has a job queued or running. */
  has(key: string): boolean {
    return this.#busy.has(key);
  }

  /** Jobs queued or running. */
  get size(): number {
    return this.#busy.size;
  }

  get maxRunning(): number {
    return this.#maxRunning;
  }

  /** Queues a job unless its key is busy; returns whether it was queued. */
  add(key: string, run: () => Promise<void>): boolean {
    if (this.#busy.has(key)) return false;
    this.#busy.add(key);
    this.#queue.push({ key, run });
    this.#pump();
    return true;
  }

  /** Forgets jobs not yet started. */
  dropQueued(): void {
    for (let i = this.#head; i < this.#queue.length; i++) this.#busy.delete((this.#queue[i] as Job).key);
    this.#queue = [];
    this.#head = 0;
    this.#settle();
  }

  /** Resolves when nothing is queued or running. */
  drained(): Promise<void> {
    if (this.#busy.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#head < this.#queue.length) {
      const job = this.#queue[this.#head++] as Job;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#running++;
      if (this.#running > this.#maxRunning) this.#maxRunning = this.#running;
      void this.#exec(job);
    }
  }

  async #exec(job: Job): Promise<void> {
    try {
      await job.run();
    } catch (err) {
      this.#onError(job.key, err);
    } finally {
      this.#running--;
      this.#busy.delete(job.key);
      this.#onDone(job.key);
      this.#pump();
      this.#settle();
    }
  }

  #settle(): void {
    if (this.#busy.size > 0 || this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }
}
