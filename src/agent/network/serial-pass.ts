// One pass at a time: a call while a pass is queued shares that pass; a call while one runs queues the next.

export class SerialPass<T> {
  readonly #pass: () => Promise<T>;
  #tail: Promise<unknown> = Promise.resolve();
  #queued: Promise<T> | undefined;

  constructor(pass: () => Promise<T>) {
    this.#pass = pass;
  }

  run(): Promise<T> {
    if (this.#queued) return this.#queued;
    const next = this.#tail.then(() => {
      this.#queued = undefined;
      return this.#pass();
    });
    this.#queued = next;
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves once the running and queued passes are done (their failures ignored). */
  idle(): Promise<unknown> {
    return this.#tail;
  }
}
