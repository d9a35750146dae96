// The Linux network agent: reconciles the host's desired network state into namespaces, bridges, nftables and daemons.
import { mkdir, readdir, rm } from 'node:fs/promises';
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
import { deleteLink, linkMap, listLinks } from './linux/links.ts';
import { deleteNamespace, listNamespaces } from './linux/netns.ts';
import { MetadataProxy } from './metadata-proxy.ts';
import { namespaceName, parseNamespace, tapName } from './naming.ts';
import { PlugRegistry } from './plug-registry.ts';
import { SerialPass } from './serial-pass.ts';
import {
  dhcpPortOf,
  isLocalVmPort,
  type NetLog,
  silentLog,
  type VxlanConfig,
  type WireContext,
} from './wire-context.ts';
import { servesDhcp, unwireDhcp, wireDhcp } from './wire-dhcp.ts';
import { wireNetwork } from './wire-network.ts';
import { wireRouter } from './wire-router.ts';

export interface LinuxNetworkAgentOptions {
  /** The host name the control plane knows this host by. */
  host: string;
  controlPlane: NetworkControlPlane;
  /** Prefix of every namespace (and host device) the agent creates, e.g. 'ms-'. */
  prefix: string;
  /** Where dnsmasq/haproxy files, the plug registry and the metadata socket live (keep the path short). */
  stateDir: string;
  /** physnet → 'host' | 'netns:<name>' | 'none' (config network.physical_networks). */
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
  readonly #ruleKeys = new Map<string, Set<string>>();
  readonly #groupMembers = new Map<string, Set<string>>();
  /** Last status reported per port. */
  readonly #reported = new Map<string, PortStatus>();
  #wired = new Set<string>();
  #state: HostNetworkState | undefined;
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
    this.#timer = setInterval(() => this.#kick(), this.#o.resyncMs ?? 10_000);
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
    await rm(join(this.#o.stateDir, 'plugs.json'), { force: true });
    await this.#plugs.load();
    this.#nftApplied.clear();
    this.#initialized.clear();
    this.#reported.clear();
  }

  /** One serialised pass; callers arriving while one is queued share it. */
  reconcile(): Promise<ReconcileReport> {
    return this.#passes.run();
  }

  async plug(vif: VifPlug): Promise<void> {
    await this.#load();
    await this.#plugs.set(vif);
    let report: ReconcileReport | undefined;
    const until = Date.now() + (this.#o.plugWaitMs ?? 5_000);
    for (;;) {
      report = await this.reconcile();
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
    await this.reconcile();
  }

  /** The ports wired at the end of the last pass (VM, DHCP and router ports). */
  wiredPorts(): ReadonlySet<string> {
    return this.#wired;
  }

  async #load(): Promise<void> {
    if (this.#loaded) return;
    await mkdir(this.#o.stateDir, { recursive: true });
    await this.#plugs.load();
    this.#loaded = true;
  }

  #kick(): void {
    this.reconcile().then(
      (r) => {
        if (r.errors.length) this.#log.warn({ errors: r.errors }, 'network reconcile incomplete');
      },
      (err: unknown) => this.#log.warn({ err }, 'network reconcile failed; retrying on the next pass'),
    );
  }

  #uplinkNamespaces(): (string | undefined)[] {
    const out = new Set<string | undefined>([undefined]);
    for (const m of Object.values(this.#o.physicalNetworks ?? {}))
      if (m.startsWith('netns:')) out.add(m.slice('netns:'.length));
    return [...out];
  }

  async #pass(): Promise<ReconcileReport> {
    await this.#load();
    const state = await this.#o.controlPlane.desiredState(this.host);
    this.#state = state;
    const errors: ReconcileReport['errors'] = [];
    const attempt = async (resource: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        errors.push({ resource, message: err instanceof Error ? err.message : String(err) });
      }
    };
    const ctx: WireContext = {
      prefix: this.prefix,
      stateDir: this.#o.stateDir,
      physicalNetworks: this.#o.physicalNetworks ?? {},
      vxlan: this.#o.vxlan,
      metadataSocket: this.#proxy?.socketPath,
      dhcpLeaseSeconds: this.#o.dhcpLeaseSeconds ?? 86_400,
      log: this.#log,
      state,
      namespaces: new Set(await listNamespaces()),
      initialized: this.#initialized,
      nftApplied: this.#nftApplied,
      ruleKeys: this.#ruleKeys,
      groupMembers: this.#groupMembers,
      deviceOf: (id) => this.#plugs.get(id)?.device ?? tapName(id),
    };
    const existing = new Set(ctx.namespaces);
    const wired = new Set<string>();
    const rootLinks = await linkMap(undefined);
    const wanted = new Set<string>();
    for (const network of state.networks) {
      wanted.add(namespaceName(this.prefix, 'network', network.id));
      await attempt(`network ${network.id}`, async () => {
        for (const id of await wireNetwork(ctx, network, rootLinks)) wired.add(id);
      });
    }
    for (const network of state.networks) {
      const dhcp = dhcpPortOf(state, network.id);
      if (!servesDhcp(network, dhcp)) continue;
      wanted.add(namespaceName(this.prefix, 'dhcp', network.id));
      await attempt(`dhcp ${network.id}`, async () => {
        await wireDhcp(
          ctx,
          network,
          dhcp,
          state.ports.filter((p) => p.networkId === network.id),
        );
        wired.add(dhcp.id);
      });
    }
    for (const router of state.routers) {
      if (!router.adminStateUp) continue;
      wanted.add(namespaceName(this.prefix, 'router', router.id));
      await attempt(`router ${router.id}`, async () => {
        for (const id of await wireRouter(ctx, router)) wired.add(id);
      });
    }
    await this.#collect(existing, wanted, attempt);
    this.#wired = wired;
    await this.#report(state, wired);
    return { errors };
  }

  /** Removes the agent's namespaces (and DHCP files) that are no longer wanted: routers, then DHCP, then networks. */
  async #collect(
    existing: Set<string>,
    wanted: Set<string>,
    attempt: (resource: string, fn: () => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const stale = [...existing]
      .flatMap((n) => {
        const p = parseNamespace(this.prefix, n);
        return p && !wanted.has(n) ? [{ name: n, ...p }] : [];
      })
      .sort(
        (a, b) =>
          ['router', 'dhcp', 'network'].indexOf(a.kind) - ['router', 'dhcp', 'network'].indexOf(b.kind),
      );
    for (const ns of stale)
      await attempt(`namespace ${ns.name}`, async () => {
        if (ns.kind === 'dhcp') await unwireDhcp({ prefix: this.prefix, stateDir: this.#o.stateDir }, ns.id);
        else await deleteNamespace(ns.name);
        for (const k of this.#nftApplied.keys()) if (k.startsWith(`${ns.name}/`)) this.#nftApplied.delete(k);
        this.#initialized.delete(ns.name);
        this.#log.info({ namespace: ns.name }, 'namespace removed');
      });
    const dirs = await readdir(join(this.#o.stateDir, 'dhcp')).catch(() => [] as string[]);
    for (const id of dirs)
      if (!wanted.has(namespaceName(this.prefix, 'dhcp', id)))
        await attempt(`dhcp files ${id}`, () =>
          unwireDhcp({ prefix: this.prefix, stateDir: this.#o.stateDir }, id),
        );
  }

  /** Sends the ports whose status changed (VM ports bound here, DHCP ports served here, routers' ports). */
  async #report(state: HostNetworkState, wired: Set<string>): Promise<void> {
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
