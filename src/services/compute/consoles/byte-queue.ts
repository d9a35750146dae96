// A byte queue read by exact counts: the RFB negotiation reads messages of known sizes from either side.

export class StreamClosed extends Error {
  constructor(what: string) {
    super(`${what} closed during the console handshake`);
    this.name = 'StreamClosed';
  }
}

export class ByteQueue {
  readonly #what: string;
  #chunks: Buffer[] = [];
  #length = 0;
  #waiter: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  #closed: Error | undefined;

  /** `what` names the side in errors ("the client", "the console"). */
  constructor(what: string) {
    this.#what = what;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.#closed) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    this.#serve();
  }

  /** Resolves with exactly n bytes once they arrived; rejects when the side closes first. */
  read(n: number): Promise<Buffer> {
    if (this.#waiter) return Promise.reject(new Error('one read at a time'));
    return new Promise((resolve, reject) => {
      this.#waiter = { n, resolve, reject };
      this.#serve();
    });
  }

  /** Marks the side closed: a pending or later read that cannot be served rejects. */
  close(err?: Error): void {
    this.#closed ??= err ?? new StreamClosed(this.#what);
    this.#serve();
  }

  /** Everything queued and not read, emptying the queue. */
  drain(): Buffer {
    const all = Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#length = 0;
    return all;
  }

  #serve(): void {
    const w = this.#waiter;
    if (!w) return;
    if (this.#length >= w.n) {
      this.#waiter = undefined;
      const all = this.drain();
      if (all.length > w.n) {
        this.#chunks = [all.subarray(w.n)];
        this.#length = all.length - w.n;
      }
      w.resolve(all.subarray(0, w.n));
    } else if (this.#closed) {
      this.#waiter = undefined;
      w.reject(this.#closed);
    }
  }
}
