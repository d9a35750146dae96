// A network agent that touches nothing on the host: ports it would wire go ACTIVE at once (API tests, scale runs).
import type {
  NetworkAgent,
  NetworkControlPlane,
  PortStatus,
  ReconcileReport,
  VifPlug,
} from './control-plane.ts';
import { SerialPass } from './serial-pass.ts';
import { type NetLog, silentLog } from './wire-context.ts';

export interface FakeNetworkAgentOptions {
  host: string;
  controlPlane: NetworkControlPlane;
  /** Period of the full resync (default 10 s). */
  resyncMs?: number;
  log?: NetLog;
}

export class FakeNetworkAgent implements NetworkAgent {
  readonly host: string;
  readonly #o: FakeNetworkAgentOptions;
  readonly #log: NetLog;
  readonly #reported = new Map<string, PortStatus>();
  readonly #plugged = new Map<string, VifPlug>();
  readonly #passes = new SerialPass<ReconcileReport>(() => this.#pass());
  #timer: NodeJS.Timeout | undefined;
  #kicked = false;
  #unwatch: (() => void) | undefined;

  constructor(opts: FakeNetworkAgentOptions) {
    this.#o = opts;
    this.host = opts.host;
    this.#log = opts.log ?? silentLog;
  }

  async start(): Promise<void> {
    if (this.#timer) return;
    this.#unwatch = this.#o.controlPlane.watch(() => this.#kick());
    this.#timer = setInterval(() => this.#kick(), this.#o.resyncMs ?? 10_000);
    this.#timer.unref();
    await this.reconcile().catch((err: unknown) => this.#log.warn({ err }, 'fake network reconcile failed'));
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    await this.#passes.idle();
  }

  async teardown(): Promise<void> {
    await this.stop();
    this.#plugged.clear();
    this.#reported.clear();
  }

  reconcile(): Promise<ReconcileReport> {
    return this.#passes.run();
  }

  async plug(vif: VifPlug): Promise<void> {
    this.#plugged.set(vif.portId, vif);
    await this.#send([{ portId: vif.portId, status: 'ACTIVE' }]);
  }

  async unplug(portId: string): Promise<void> {
    this.#plugged.delete(portId);
    await this.#send([{ portId, status: 'DOWN' }]);
  }

  /** The VIFs plugged so far (what a real agent would have wired). */
  plugged(): ReadonlyMap<string, VifPlug> {
    return this.#plugged;
  }

  /**
   * A change (or the resync timer) asks for a pass on the next turn of the event loop: every commit of one turn
   * shares it, so a burst of API writes costs one pass, not one each.
   */
  #kick(): void {
    if (this.#kicked) return;
    this.#kicked = true;
    setImmediate(() => {
      this.#kicked = false;
      if (!this.#timer) return;
      this.reconcile().catch((err: unknown) => this.#log.warn({ err }, 'fake network reconcile failed'));
    });
  }

  async #pass(): Promise<ReconcileReport> {
    const state = await this.#o.controlPlane.desiredState(this.host);
    const active = new Set<string>();
    for (const p of state.ports) if (p.boundHere && p.adminStateUp) active.add(p.id);
    for (const r of state.routers) {
      if (!r.adminStateUp) continue;
      for (const i of r.interfaces) active.add(i.portId);
      if (r.gateway) active.add(r.gateway.portId);
    }
    const updates = [...active]
      .filter((id) => this.#reported.get(id) !== 'ACTIVE')
      .map((portId) => ({ portId, status: 'ACTIVE' as const }));
    await this.#send(updates);
    return { errors: [] };
  }

  async #send(updates: { portId: string; status: PortStatus }[]): Promise<void> {
    const fresh = updates.filter((u) => this.#reported.get(u.portId) !== u.status);
    if (!fresh.length) return;
    await this.#o.controlPlane.setPortStatus(fresh);
    for (const u of fresh) this.#reported.set(u.portId, u.status);
  }
}
