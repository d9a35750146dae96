// One long-lived QMP session per running guest, shared by every operation (QEMU's monitor serves one client).
import { DriverError } from '../../hypervisor-driver.ts';
import { QmpClient, QmpDisconnected, QmpError } from './qmp-client.ts';

interface Entry {
  pid: number;
  client: Promise<QmpClient>;
}

/**
 * Sessions keyed by guest id and bound to the QEMU pid they were opened for: a new process (restart) gets a new
 * session, a closed one is reopened on the next use.
 */
export class MonitorPool {
  readonly #entries = new Map<string, Entry>();
  readonly #connectTimeoutMs: number;

  constructor(opts: { connectTimeoutMs?: number } = {}) {
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  }

  /** The session of the guest's QEMU `pid`, opening it when needed. */
  async get(guestId: string, pid: number, socketPath: string): Promise<QmpClient> {
    for (let attempt = 0; attempt < 3; attempt++) {
      let entry = this.#entries.get(guestId);
      if (entry && entry.pid !== pid) {
        this.drop(guestId);
        entry = undefined;
      }
      if (!entry) {
        entry = { pid, client: QmpClient.connect(socketPath, { timeoutMs: this.#connectTimeoutMs }) };
        this.#entries.set(guestId, entry);
      }
      try {
        const client = await entry.client;
        if (!client.closed) return client;
      } catch (err) {
        if (this.#entries.get(guestId) === entry) this.#entries.delete(guestId);
        throw new DriverError(
          `The QEMU monitor of guest ${guestId} did not answer: ${(err as Error).message}`,
          {
            transient: true,
            cause: err,
          },
        );
      }
      if (this.#entries.get(guestId) === entry) this.#entries.delete(guestId);
    }
    throw new DriverError(`The QEMU monitor of guest ${guestId} keeps closing`, { transient: true });
  }

  /** Closes and forgets the guest's session (its QEMU exited or is about to be killed). */
  drop(guestId: string): void {
    const cur = this.#entries.get(guestId);
    if (!cur) return;
    this.#entries.delete(guestId);
    cur.client.then((c) => c.close()).catch(() => {});
  }

  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => e.client.then((c) => c.close()).catch(() => {})));
  }
}

/** Turns a QMP failure into the driver's error type; QEMU's error class and description stay in the message. */
export function qmpFailure(guestId: string, what: string, err: unknown): DriverError {
  if (err instanceof DriverError) return err;
  if (err instanceof QmpError)
    return new DriverError(`Guest ${guestId}: ${what} failed: ${err.errorClass}: ${err.desc}`, {
      cause: err,
    });
  if (err instanceof QmpDisconnected)
    return new DriverError(`Guest ${guestId}: ${what} failed: ${err.message}`, {
      transient: true,
      cause: err,
    });
  return new DriverError(`Guest ${guestId}: ${what} failed: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
}
