// Neutron's external events as compute receives them (POST /os-server-external-events or in-process), and the
// builds waiting for network-vif-plugged, as Nova's InstanceEvents / wait_for_instance_event.

export type NetworkEventName =
  | 'network-vif-plugged'
  | 'network-vif-unplugged'
  | 'network-changed'
  | 'network-vif-deleted';

export interface NetworkEvent {
  name: NetworkEventName;
  serverId: string;
  /** The port (the event's tag). */
  portId: string;
  status: 'completed' | 'failed';
}

/** How long an event nobody waited for is remembered (a build may start waiting just after it arrived). */
const KEEP_MS = 10 * 60_000;
const MAX_KEPT = 10_000;

export interface WaitResult {
  /** Ports whose plug event said failed. */
  failed: string[];
  /** Ports with no event before the timeout. */
  missing: string[];
  /** The wait was ended by close() (shutdown), not by events or the timeout. */
  closed?: boolean;
}

/** Delivers plug events to waiters; remembers recent ones so a waiter that registers late still sees them. */
export class NetworkEventHub {
  readonly #seen = new Map<string, { status: NetworkEvent['status']; at: number }>();
  readonly #waiters = new Map<string, Set<(status: NetworkEvent['status']) => void>>();
  /** Ends of the waits under way (close() ends them all). */
  readonly #open = new Set<() => void>();
  #closing = false;

  static #key(serverId: string, portId: string): string {
    return `${serverId}/${portId}`;
  }

  /** Records a network-vif-plugged event and wakes whoever waits for it. */
  plugged(e: NetworkEvent): void {
    const key = NetworkEventHub.#key(e.serverId, e.portId);
    const now = Date.now();
    this.#seen.set(key, { status: e.status, at: now });
    if (this.#seen.size > MAX_KEPT)
      for (const [k, v] of this.#seen)
        if (now - v.at > KEEP_MS || this.#seen.size > MAX_KEPT) this.#seen.delete(k);
    for (const w of this.#waiters.get(key) ?? []) w(e.status);
    this.#waiters.delete(key);
  }

  /** Drops what is known about a server's events (a new wait starts from scratch). */
  forget(serverId: string, portIds: string[]): void {
    for (const p of portIds) this.#seen.delete(NetworkEventHub.#key(serverId, p));
  }

  /**
   * Waits until each port had a network-vif-plugged event (or timeoutMs passes); `alreadyActive` ports need
   * none, as Nova only waits for VIFs that are not active yet.
   */
  wait(serverId: string, portIds: string[], timeoutMs: number): Promise<WaitResult> {
    const result: WaitResult = { failed: [], missing: [] };
    const pending = new Set<string>();
    for (const p of portIds) {
      const seen = this.#seen.get(NetworkEventHub.#key(serverId, p));
      if (seen) {
        if (seen.status === 'failed') result.failed.push(p);
      } else pending.add(p);
    }
    if (pending.size === 0) return Promise.resolve(result);
    return new Promise((resolve) => {
      const handlers = new Map<string, (status: NetworkEvent['status']) => void>();
      const finish = () => {
        clearTimeout(timer);
        this.#open.delete(finish);
        for (const [p, h] of handlers) this.#waiters.get(NetworkEventHub.#key(serverId, p))?.delete(h);
        result.missing = [...pending];
        if (this.#closing) result.closed = true;
        resolve(result);
      };
      // Not unref'd: a build waiting keeps the process alive until the event or the timeout (close() ends it).
      const timer = setTimeout(finish, timeoutMs);
      this.#open.add(finish);
      for (const p of pending) {
        const key = NetworkEventHub.#key(serverId, p);
        const h = (status: NetworkEvent['status']) => {
          pending.delete(p);
          if (status === 'failed') result.failed.push(p);
          if (pending.size === 0) finish();
        };
        handlers.set(p, h);
        let set = this.#waiters.get(key);
        if (!set) {
          set = new Set();
          this.#waiters.set(key, set);
        }
        set.add(h);
      }
    });
  }

  /** Ends every wait under way (their ports count as missing); on shutdown. */
  close(): void {
    this.#closing = true;
    for (const finish of [...this.#open]) finish();
    this.#closing = false;
  }
}
