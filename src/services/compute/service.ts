// createComputeService: Nova v2.1 as a Monostack service — routes, tables, policy, the scheduler reconciler and
// the control plane the compute agents talk to; and, in all-in-one, this host's agent with its driver.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ComputeAgent } from '../../agent/compute/agent.ts';
import { FakeFleet } from '../../agent/compute/drivers/fake/fake-fleet.ts';
import { QemuDriver } from '../../agent/compute/drivers/qemu/qemu-driver.ts';
import type { HostQueries } from '../../agent/compute/host-queries.ts';
import type { HypervisorDriver } from '../../agent/compute/hypervisor-driver.ts';
import { LocalHostQueries } from '../../agent/compute/local-host-queries.ts';
import type { VifPlugger } from '../../agent/network/control-plane.ts';
import type { ImageClient } from '../../clients/image.ts';
import type { NetworkClient } from '../../clients/network.ts';
import type { PlacementClient } from '../../clients/placement.ts';
import type { Clock, IdSource } from '../../platform/clock.ts';
import type { ComputeConfig } from '../../platform/config.ts';
import type { Database } from '../../platform/db/database.ts';
import type { ServiceMigrations } from '../../platform/db/migrate.ts';
import { novaDialect } from '../../platform/http/error-dialects.ts';
import type { ServiceHttp } from '../../platform/http/types.ts';
import type { Logger } from '../../platform/log.ts';
import { PolicyEngine } from '../../platform/policy/index.ts';
import type { TokenSource } from '../../platform/transport.ts';
import type { ChangeFeed } from '../../platform/watch/feed.ts';
import type { ComputeNotifier } from '../network/context.ts';
import { BuildAdmission } from './admission.ts';
import { InProcessControlPlane } from './agent-api.ts';
import { computeMicroversions } from './api/microversions.ts';
import { computeRoutes } from './api/routes.ts';
import { ensureDefaultFlavors } from './bootstrap.ts';
import { ComputeConsoles } from './consoles/consoles.ts';
import { ComputeContext, type ComputeDb } from './context.ts';
import { hostZones } from './domain/zones.ts';
import { ComputeErrors } from './errors.ts';
import { ComputeGuestResources } from './guest-resources.ts';
import { createMetadataService, type MetadataService } from './metadata/service.ts';
import { guestNetworkInfoOf, parseVifs } from './network/info-cache.ts';
import { computeNotifier } from './network/notifier.ts';
import { computePolicies, computePolicyEnforcer } from './policy.ts';
import { ServerLifecycle } from './reconcilers/lifecycle.ts';
import { Scheduler } from './reconcilers/scheduler.ts';
import { computeMigrations } from './store/migrations/0001-initial.ts';
import { consoleTokens } from './store/migrations/0002-console-tokens.ts';
import { networkInfoCache } from './store/migrations/0003-network-info.ts';
import { listOrderIndex } from './store/migrations/0004-list-order-index.ts';
import { HostInfoCache } from './store/servers.ts';

export const computeMigrationSet: ServiceMigrations = {
  service: 'compute',
  migrations: [...computeMigrations, consoleTokens, networkInfoCache, listOrderIndex],
};

export interface ComputeServiceDeps {
  database: Database;
  feed: ChangeFeed;
  config: ComputeConfig;
  dataDir: string;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  placement: PlacementClient;
  image: ImageClient;
  /** The compute service's own token (for placement and snapshot uploads). */
  serviceToken: TokenSource;
  /** Test seam: drivers for this process's agent instead of the configured ones. */
  drivers?: HypervisorDriver[];
  /** Run no agent in this process (a control-plane-only process). */
  noAgent?: boolean;
  /** How the API reaches hosts' agents (default: this process's own agent). */
  hostQueries?: HostQueries;
  /** Hostnames a browser's Origin may name on a console websocket besides the Host it called. */
  consoleAllowedOrigins?: readonly string[];
  /** The metadata proxy's shared secret when the configuration leaves it empty (generated per data directory). */
  metadataSecret?: string;
  /** Neutron: servers get ports, addresses and groups from it (absent: compute without networking). */
  network?: NetworkClient;
  /** This host's data plane: wires guests' taps into their networks (the network agent's VifPlugger). */
  vifPlugger?: VifPlugger;
  /** Nova's vif_plugging_timeout / vif_plugging_is_fatal (default 300 s, fatal). */
  vifPlugging?: { timeoutMs: number; fatal: boolean };
}

export interface ComputeService {
  http: ServiceHttp;
  context: ComputeContext;
  scheduler: Scheduler;
  lifecycle: ServerLifecycle;
  controlPlane: InProcessControlPlane;
  agent: ComputeAgent | undefined;
  /** Remote consoles; the listener's 'upgrade' event goes to consoles.handleUpgrade. */
  consoles: ComputeConsoles;
  /** The metadata API guests read (its own listener: metadata.listen()). */
  metadata: MetadataService;
  /** Neutron's port events delivered in-process (the network service's ComputeNotifier). */
  notifier: ComputeNotifier;
  /** Starts the reconcilers (after the HTTP app can answer in-process calls). */
  start(): Promise<void>;
  /** Resolves once the scheduler and the agents have nothing left to do (tests). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function createComputeService(deps: ComputeServiceDeps): Promise<ComputeService> {
  const cx = new ComputeContext({
    db: deps.database.db as ComputeDb,
    dialect: deps.database.dialect,
    feed: deps.feed,
    config: deps.config,
    clock: deps.clock,
    ids: deps.ids,
    log: deps.log,
    placement: deps.placement,
    image: deps.image,
    ...(deps.network ? { network: deps.network } : {}),
    ...(deps.vifPlugging ? { vifPlugging: deps.vifPlugging } : {}),
  });
  await ensureDefaultFlavors(cx);
  const admit = deps.config.build_admission;
  if (admit.min_in_flight > 0)
    cx.admission = new BuildAdmission(deps.feed, {
      minInFlight: admit.min_in_flight,
      maxWaitMs: admit.max_wait_ms,
    });
  const lifecycle = new ServerLifecycle(cx);
  const scheduler = new Scheduler(cx, lifecycle);
  const controlPlane = new InProcessControlPlane(cx, lifecycle, deps.serviceToken);
  const hosts = new HostInfoCache(cx, hostZones);
  const onDelete = async (s: Parameters<typeof lifecycle.finishDelete>[0]) => {
    // No host, or a host that is down: Nova's local delete; otherwise the host's agent destroys the guest.
    const info = s.host ? (await hosts.get()).get(s.host) : undefined;
    if (!s.host || !info || info.status === 'DOWN') await lifecycle.finishDelete(s);
  };
  const localQueries = deps.hostQueries ? undefined : new LocalHostQueries();
  const consoles = new ComputeConsoles({
    db: cx.db,
    clock: deps.clock,
    log: deps.log,
    hostQueries: deps.hostQueries ?? localQueries!,
    allowedOrigins: deps.consoleAllowedOrigins ?? [],
    tokenTtlSeconds: deps.config.console_token_ttl,
  });
  const m = deps.config.metadata;
  const metadata = createMetadataService(cx, {
    sharedSecret: m.shared_secret || deps.metadataSecret || '',
    identify: m.identify,
    useForwardedFor: m.use_forwarded_for,
    dhcpDomain: m.dhcp_domain,
    host: m.host,
    port: m.port,
    ...(deps.network
      ? {
          networkInfo: async (serverId: string) => {
            const row = await cx.db
              .selectFrom('compute_servers')
              .select('network_info')
              .where('id', '=', serverId)
              .executeTakeFirst();
            return row?.network_info ? guestNetworkInfoOf(parseVifs(row.network_info)) : undefined;
          },
          byAddress: async (ip: string) => {
            const ports = await deps.network!.service().listPorts({ fixed_ips: `ip_address=${ip}` });
            return ports.find((p) => p.device_owner.startsWith('compute:') && p.device_id)?.device_id;
          },
        }
      : {}),
  });
  const http: ServiceHttp = {
    name: 'compute',
    prefixes: ['/compute'],
    dialect: novaDialect,
    routes: computeRoutes(cx, { hosts, onDelete, consoles }),
    policy: computePolicyEnforcer(new PolicyEngine(computePolicies, deps.config.policy_overrides)),
    microversions: computeMicroversions,
    requestIdHeaders: ['x-compute-request-id'],
    policyDenied: ComputeErrors.policyDenied,
  };
  // Nova drops a server's console authorisations when it is deleted.
  const unsubscribeTokens = deps.feed.subscribe(
    (e) => e.service === 'compute' && e.kind === 'server' && e.action === 'delete',
    async (events) => {
      for (const e of events) await consoles.tokens.forgetServer(e.resourceId);
    },
  );
  let agent: ComputeAgent | undefined;
  let qemu: QemuDriver | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  return {
    http,
    context: cx,
    scheduler,
    lifecycle,
    controlPlane,
    get agent() {
      return agent;
    },
    consoles,
    metadata,
    notifier: computeNotifier(cx, deps.hostQueries ?? localQueries!),
    async start() {
      cx.admission?.start();
      scheduler.start();
      if (deps.noAgent) return;
      let drivers = deps.drivers;
      if (!drivers) {
        if (deps.config.driver === 'qemu') {
          const q = deps.config.qemu;
          qemu = new QemuDriver({
            stateDir: q.state_dir,
            resources: new ComputeGuestResources(cx, deps.serviceToken, metadata),
            hostname: hostname(),
            accel: q.accel,
            stopTimeoutMs: q.shutdown_timeout * 1000,
            log: deps.log,
            ...(deps.vifPlugger ? { vifPlugger: deps.vifPlugger } : {}),
          });
          drivers = [qemu];
          // Base images no guest uses any more are removed (about Nova's image cache interval).
          pruneTimer = setInterval(() => void qemu?.pruneImages().catch(() => {}), 40 * 60_000);
          pruneTimer.unref();
        } else if (deps.config.driver === 'fake') {
          const f = deps.config.fake;
          const fleet = await FakeFleet.open({
            hosts: f.hosts,
            stateDir: join(deps.dataDir, 'compute', 'fake'),
            inventory: { vcpus: f.vcpus, memoryMb: f.memory_mb, diskGb: f.disk_gb },
            ...(f.delay_ms > 0 ? { delays: { create: f.delay_ms, start: f.delay_ms } } : {}),
            ...(deps.vifPlugger ? { vifPlugger: deps.vifPlugger } : {}),
          });
          drivers = [...fleet.drivers];
        } else {
          throw new Error(`unknown compute driver "${deps.config.driver}" (known: qemu, fake)`);
        }
      }
      agent = new ComputeAgent(controlPlane, drivers, {
        shutdownTimeoutMs: deps.config.qemu.shutdown_timeout * 1000,
        log: deps.log,
      });
      localQueries?.serve(drivers);
      await agent.start();
    },
    async settle() {
      for (let i = 0; i < 50; i++) {
        await deps.feed.settle();
        await scheduler.idle();
        await agent?.idle();
        await deps.feed.settle();
        const busy = await cx.db
          .selectFrom('compute_servers')
          .select('id')
          .where('deleted', '=', 0)
          .where('task_state', 'is not', null)
          .limit(1)
          .executeTakeFirst();
        if (!busy) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async stop() {
      unsubscribeTokens();
      await consoles.close();
      await metadata.close();
      localQueries?.serve([]);
      // The agent stops taking work first; builds still waiting for VIF events are then cut short (their
      // task stays for the next run, as the wait ends with a transient error).
      const agentStopped = agent?.stop();
      cx.networkEvents.close();
      await agentStopped;
      if (pruneTimer) clearInterval(pruneTimer);
      // Guests keep running: only the monitor sessions close.
      await qemu?.close();
      cx.admission?.stop();
      await scheduler.stop();
    },
  };
}
