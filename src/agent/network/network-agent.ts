// The Linux network agent: reconciles the host's desired network state into namespaces, bridges, nftables and daemons.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  NetworkAgent,
  NetworkControlPlane,
  PortStatus,
  ReconcileReport,
  VifPlug,
} from './control-plane.ts';
import type { HostNetworkState } from './desired-state.ts';
import { FlowMemory } from './flow-memory.ts';
import { fullPass } from './full-pass.ts';
import { deleteLink, listLinks } from './linux/links.ts';
import { deleteNamespace, listNamespaces } from './linux/netns.ts';
import { MetadataProxy } from './metadata-proxy.ts';
import { namespaceName, parseNamespace, tapName } from './naming.ts';
import { type NetworkDelta, type PassPlan, planPass } from './pass-plan.ts';
import { PlugRegistry } from './plug-registry.ts';
import { SerialPass } from './serial-pass.ts';
import { isLocalVmPort, type NetLog, silentLog, type VxlanConfig, type WireContext } from './wire-context.ts';
import { unwireDhcp } from './wire-dhcp.ts';
import { inRootNamespace, wirePortsDelta } from './wire-ports.ts';
import { uplinkNamespaceOf } from './wire-uplink.ts';

export interface LinuxNetworkAgentOptions {
  /** The host name the control plane knows this host by. */
  host: string;
  controlPlane: NetworkControlPlane;
  /** Prefix of every namespace (and host device) the agent creates, e.g. 'ms-'. */
  prefix: string;
  /** Where dnsmasq/haproxy files, the plug registry and the metadata socket live (keep the path short). */
  stateDir: string;
  /** physnet → 'host' | 'netns:<name>' (flat: veth) | 'link:[<netns>/]<iface>' (vlan: 802.1Q device) | 'none'. */
  physicalNetworks?: Record<string, string>;
  /** VXLAN underlay of this host; without it VXLAN networks stay local to the host. */
  vxlan?: VxlanConfig;
  /** The compute metadata API and the shared secret; without it no metadata is served. */
  metadata?: { url: string; secret: string };
  /** DHCP lease time in seconds (default 86400). */
  dhcpLeaseSeconds?: number;
  /** Period of the full resync (default 10 s). */
  resyncMs?: number;
  /** How long plug() waits for the port to show up bound here in the desired state (default 5 s). */
  plugWaitMs?: number;
  log?: NetLog;
}

export class LinuxNetworkAgent implements NetworkAgent {
  readonly host: string;
  readonly prefix: string;
  readonly #o: LinuxNetworkAgentOptions;
  readonly #log: NetLog;
  readonly #plugs: PlugRegistry;
  readonly #proxy: MetadataProxy | undefined;
  readonly #initialized = new Set<string>();
  readonly #nftApplied = new Map<string, string>();
  readonly #flows: FlowMemory;
  /** Last status reported per port. */
  readonly #reported = new Map<string, PortStatus>();
  #wired = new Set<string>();
  #state: HostNetworkState | undefined;
  /** The state the last complete pass converged to (incremental passes diff against it); undefined = full next. */
  #applied: HostNetworkState | undefined;
  /** Networks (namespace, and DHCP where served) the last full pass wired without error. */
  #wiredNetworks = new Set<string>();
  #servedDhcp = new Set<string>();
  /** Ports plugged again since the last pass (wired even when their desired state did not change). */
  readonly #replugged = new Set<string>();
  #fullRequested = false;
  readonly #passCounts = { full: 0, incremental: 0 };
  readonly #passes = new SerialPass<ReconcileReport>(() => this.#pass());
  #timer: NodeJS.Timeout | undefined;
  #unwatch: (() => void) | undefined;
  #loaded = false;

  constructor(opts: LinuxNetworkAgentOptions) {
    this.#o = opts;
    this.host = opts.host;
    this.prefix = opts.prefix;
    this.#log = opts.log ?? silentLog;
    this.#plugs = new PlugRegistry(opts.stateDir);
    this.#flows = new FlowMemory(opts.stateDir);
    this.#proxy = opts.metadata
      ? new MetadataProxy({
          socketPath: join(opts.stateDir, 'metadata.sock'),
          controlPlane: opts.controlPlane,
          targetUrl: opts.metadata.url,
          secret: opts.metadata.secret,
          log: this.#log,
        })
      : undefined;
  }

  async start(): Promise<void> {
    if (this.#timer) return;
    await this.#load();
    await this.#proxy?.start();
    this.#unwatch = this.#o.controlPlane.watch(() => this.#kick());
    this.#timer = setInterval(() => {
      this.#fullRequested = true;
      this.#kick();
    }, this.#o.resyncMs ?? 10_000);
    this.#timer.unref();
    const report = await this.reconcile().catch((err: unknown) => {
      this.#log.warn({ err }, 'network reconcile failed; retrying on the next pass');
      return undefined;
    });
    if (report?.errors.length) this.#log.warn({ errors: report.errors }, 'network reconcile incomplete');
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    await this.#passes.idle();
    await this.#proxy?.close();
  }

  async teardown(): Promise<void> {
    await this.stop();
    const mine = (await listNamespaces()).flatMap((n) => {
      const p = parseNamespace(this.prefix, n);
      return p ? [{ name: n, ...p }] : [];
    });
    const order = { router: 0, dhcp: 1, network: 2 } as const;
    for (const ns of mine.sort((a, b) => order[a.kind] - order[b.kind])) {
      if (ns.kind === 'dhcp') await unwireDhcp({ prefix: this.prefix, stateDir: this.#o.stateDir }, ns.id);
      else await deleteNamespace(ns.name);
    }
    for (const peerNs of this.#uplinkNamespaces())
      for (const l of await listLinks(peerNs).catch(() => []))
        if (l.ifname.startsWith(this.prefix)) await deleteLink(peerNs, l.ifname);
    await rm(join(this.#o.stateDir, 'dhcp'), { recursive: true, force: true });
    await rm(join(this.#o.stateDir, 'ra'), { recursive: true, force: true });
    await rm(join(this.#o.stateDir, 'plugs.json'), { force: true });
    await rm(join(this.#o.stateDir, 'flow-memory.json'), { force: true });
    this.#flows.clear();
    await this.#plugs.load();
    this.#nftApplied.clear();
    this.#initialized.clear();
    this.#reported.clear();
    this.#applied = undefined;
  }

  /** One serialised full pass (everything converged, dead daemons restarted); callers share a queued pass. */
  reconcile(): Promise<ReconcileReport> {
    this.#fullRequested = true;
    return this.#passes.run();
  }

  async plug(vif: VifPlug): Promise<void> {
    await this.#load();
    await this.#plugs.set(vif);
    this.#replugged.add(vif.portId);
    this.#wired.delete(vif.portId);
    let report: ReconcileReport | undefined;
    const until = Date.now() + (this.#o.plugWaitMs ?? 5_000);
    for (;;) {
      report = await this.#passes.run();
      if (this.#wired.has(vif.portId)) return;
      if (Date.now() >= until) break;
      await sleep(200);
    }
    const known = this.#state?.ports.some((p) => p.id === vif.portId && isLocalVmPort(p));
    throw new Error(
      known
        ? `port ${vif.portId}: device ${vif.device} could not be wired (${report?.errors.map((e) => e.message).join('; ') || 'device not found'})`
        : `port ${vif.portId} is not bound to host ${this.host}`,
    );
  }

  async unplug(portId: string): Promise<void> {
    await this.#load();
    const plug = this.#plugs.get(portId);
    const networkId = plug?.networkId ?? this.#state?.ports.find((p) => p.id === portId)?.networkId;
    if (networkId)
      await deleteLink(
        namespaceName(this.prefix, 'network', networkId),
        plug?.device ?? tapName(portId),
      ).catch((err: unknown) => this.#log.debug({ err, port_id: portId }, 'unplug: no device'));
    await this.#plugs.delete(portId);
    this.#wired.delete(portId);
    await this.#passes.run();
  }

  /** How many passes of each kind ran (observability, tests). */
  passCounts(): Readonly<{ full: number; incremental: number }> {
    return { ...this.#passCounts };
  }

  /** The ports wired at the end of the last pass (VM, DHCP and router ports). */
  wiredPorts(): ReadonlySet<string> {
    return this.#wired;
  }

  async #load(): Promise<void> {
    if (this.#loaded) return;
    await mkdir(this.#o.stateDir, { recursive: true });
    await this.#plugs.load();
    await this.#flows.load();
    this.#loaded = true;
  }

  #kick(): void {
    this.#passes.run().then(
      (r) => {
        if (r.errors.length) this.#log.warn({ errors: r.errors }, 'network reconcile incomplete');
      },
      (err: unknown) => this.#log.warn({ err }, 'network reconcile failed; retrying on the next pass'),
    );
  }

  #uplinkNamespaces(): (string | undefined)[] {
    const out = new Set<string | undefined>([undefined]);
    for (const m of Object.values(this.#o.physicalNetworks ?? {}))
      try {
        out.add(uplinkNamespaceOf(m));
      } catch {
        // an unknown mapping is reported by the pass
      }
    return [...out];
  }

  async #pass(): Promise<ReconcileReport> {
    await this.#load();
    const state = await this.#o.controlPlane.desiredState(this.host);
    this.#state = state;
    const forced = this.#fullRequested;
    this.#fullRequested = false;
    const plan: PassPlan = forced
      ? { kind: 'full', reason: 'resync' }
      : planPass(this.#applied, state, this.#pendingPorts(state), this.#wiredNetworks);
    if (plan.kind === 'incremental') {
      try {
        const report = await this.#incremental(state, plan.networks);
        this.#passCounts.incremental++;
        return report;
      } catch (err) {
        this.#log.info({ err }, 'incremental network pass failed; converging everything');
      }
    }
    this.#passCounts.full++;
    return this.#full(state);
  }

  /** Local VM ports to wire although unchanged: plugged again, or down with their device now in our namespace. */
  #pendingPorts(state: HostNetworkState): Set<string> {
    const out = new Set(this.#replugged);
    for (const p of state.ports)
      if (
        isLocalVmPort(p) &&
        p.adminStateUp &&
        !this.#wired.has(p.id) &&
        inRootNamespace(this.#deviceOf(p.id))
      )
        out.add(p.id);
    return out;
  }

  #deviceOf(portId: string): string {
    return this.#plugs.get(portId)?.device ?? tapName(portId);
  }

  #context(state: HostNetworkState, namespaces: Set<string>): WireContext {
    return {
      prefix: this.prefix,
      stateDir: this.#o.stateDir,
      physicalNetworks: this.#o.physicalNetworks ?? {},
      vxlan: this.#o.vxlan,
      metadataSocket: this.#proxy?.socketPath,
      dhcpLeaseSeconds: this.#o.dhcpLeaseSeconds ?? 86_400,
      log: this.#log,
      state,
      namespaces,
      initialized: this.#initialized,
      nftApplied: this.#nftApplied,
      ruleKeys: this.#flows.ruleKeys,
      groupMembers: this.#flows.groupMembers,
      deviceOf: (id) => this.#deviceOf(id),
    };
  }

  /** Only what changed on wired networks: no listing of namespaces, links or daemons. Throws to fall back. */
  async #incremental(state: HostNetworkState, deltas: Map<string, NetworkDelta>): Promise<ReconcileReport> {
    this.#applied = undefined;
    const ctx = this.#context(state, new Set());
    const wired = new Set(this.#wired);
    for (const [networkId, delta] of deltas) {
      const network = state.networks.find((n) => n.id === networkId);
      if (!network) throw new Error(`network ${networkId} is not in the desired state`);
      const r = await wirePortsDelta(ctx, network, delta, this.#servedDhcp.has(networkId));
      for (const id of r.wired) wired.add(id);
      for (const id of r.unwired) wired.delete(id);
      for (const p of delta.wire) this.#replugged.delete(p.id);
    }
    this.#applied = state;
    this.#wired = wired;
    await this.#report(state, wired);
    return { errors: [] };
  }

  /** Converges every namespace, device, table and daemon, and removes what is no longer wanted. */
  async #full(state: HostNetworkState): Promise<ReconcileReport> {
    this.#applied = undefined;
    this.#replugged.clear();
    const r = await fullPass(this.#context(state, new Set(await listNamespaces())));
    this.#wired = r.wired;
    this.#wiredNetworks = r.wiredNetworks;
    this.#servedDhcp = r.servedDhcp;
    // After any failure the next pass is a full one again (it retries what failed).
    this.#applied = r.errors.length ? undefined : state;
    await this.#report(state, r.wired);
    return { errors: r.errors };
  }

  /** Sends the ports whose status changed (VM ports bound here, DHCP ports served here, routers' ports). */
  async #report(state: HostNetworkState, wired: Set<string>): Promise<void> {
    await this.#flows.save().catch((err: unknown) => this.#log.warn({ err }, 'flow memory not saved'));
    const mine = new Set<string>();
    for (const p of state.ports) if (p.boundHere) mine.add(p.id);
    for (const r of state.routers) {
      for (const i of r.interfaces) mine.add(i.portId);
      if (r.gateway) mine.add(r.gateway.portId);
    }
    const updates: { portId: string; status: PortStatus }[] = [];
    for (const id of mine) {
      const status: PortStatus = wired.has(id) ? 'ACTIVE' : 'DOWN';
      if (this.#reported.get(id) !== status) updates.push({ portId: id, status });
    }
    for (const id of this.#reported.keys()) if (!mine.has(id)) this.#reported.delete(id);
    if (!updates.length) return;
    try {
      await this.#o.controlPlane.setPortStatus(updates);
      for (const u of updates) this.#reported.set(u.portId, u.status);
    } catch (err) {
      this.#log.warn({ err }, 'port status report failed; retrying on the next pass');
    }
  }
}
