// The composition root: opens the database, runs migrations, starts the change feed, creates every service,
// bootstraps, and mounts them on the one HTTP listener. The only place implementations are chosen.
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { HypervisorDriver } from '../agent/compute/hypervisor-driver.ts';
import type { NetworkAgent } from '../agent/network/control-plane.ts';
import { FakeNetworkAgent } from '../agent/network/fake-agent.ts';
import { LinuxNetworkAgent } from '../agent/network/network-agent.ts';
import { ImageClient } from '../clients/image.ts';
import { NetworkClient } from '../clients/network.ts';
import { PlacementClient } from '../clients/placement.ts';
import { type Clock, type IdSource, randomIds, systemClock } from '../platform/clock.ts';
import type { MonostackConfig } from '../platform/config.ts';
import { type Database, openDatabase } from '../platform/db/database.ts';
import { migrate, type ServiceMigrations } from '../platform/db/migrate.ts';
import { createHttpApp } from '../platform/http/app.ts';
import type { ServiceHttp } from '../platform/http/types.ts';
import type { Logger } from '../platform/log.ts';
import { Metrics } from '../platform/metrics.ts';
import { inProcessTransport, type TokenSource, type Transport } from '../platform/transport.ts';
import { ChangeFeed, feedMigrations } from '../platform/watch/feed.ts';
import {
  type ComputeService,
  computeMigrationSet,
  createComputeService,
} from '../services/compute/service.ts';
import {
  type BootstrapPasswords,
  type BootstrapResult,
  bootstrapIdentity,
} from '../services/identity/bootstrap.ts';
import type { PasswordHasher } from '../services/identity/passwords.ts';
import {
  createIdentityService,
  type IdentityService,
  identityMigrationSet,
} from '../services/identity/service.ts';
import type { KeySource } from '../services/identity/tokens/token-provider.ts';
import { createImageService, type ImageService, imageMigrationSet } from '../services/image/service.ts';
import { bootstrapNetworks } from '../services/network/bootstrap.ts';
import { ServiceControlPlane } from '../services/network/dataplane-api.ts';
import { reportAgentHeartbeat } from '../services/network/domain/agents.ts';
import {
  createNetworkService,
  type NetworkService,
  networkMigrationSet,
} from '../services/network/service.ts';
import {
  createPlacementService,
  type PlacementService,
  placementMigrationSet,
} from '../services/placement/service.ts';

export const VERSION = '0.1.0';

export const MIGRATIONS: readonly ServiceMigrations[] = [
  { service: 'platform', migrations: feedMigrations },
  identityMigrationSet,
  imageMigrationSet,
  placementMigrationSet,
  computeMigrationSet,
  networkMigrationSet,
];

export interface CloudOptions {
  config: MonostackConfig;
  log: Logger;
  passwords: BootstrapPasswords;
  clock?: Clock;
  ids?: IdSource;
  /** Test seams: fixed Fernet keys, a cheaper hasher. */
  keys?: KeySource;
  hasher?: PasswordHasher;
  /** Test seam: this process's hypervisor drivers (default: from config.compute). */
  computeDrivers?: HypervisorDriver[];
  /** The metadata proxy's shared secret when compute.metadata.shared_secret is empty (from secrets.json). */
  metadataSecret?: string;
}

export interface Cloud {
  readonly app: FastifyInstance;
  readonly config: MonostackConfig;
  readonly database: Database;
  readonly feed: ChangeFeed;
  readonly identity: IdentityService;
  readonly image: ImageService;
  readonly placement: PlacementService;
  readonly compute: ComputeService;
  readonly network: NetworkService;
  /** This host's network agent (the Linux data plane, or the fake one). */
  readonly networkAgent: NetworkAgent;
  readonly metrics: Metrics;
  readonly bootstrap: BootstrapResult;
  /** The services' own token (the bootstrap service user, admin in the service project). */
  readonly serviceToken: TokenSource;
  /** Calls the cloud's public APIs in-process. */
  readonly transport: Transport;
  /** Starts listening on config.host:config.port; returns the bound address. */
  listen(): Promise<string>;
  /** Delivers every committed change to subscribers (tests). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

function platformService(metrics: Metrics, identity: IdentityService): ServiceHttp {
  return {
    name: 'platform',
    prefixes: ['/metrics'],
    dialect: identity.http.dialect,
    policy: identity.http.policy,
    routes: [
      {
        method: 'GET',
        path: '/metrics',
        auth: 'none',
        async handler(ctx) {
          const text = await metrics.registry.metrics();
          void ctx.reply.type(metrics.registry.contentType).send(text);
          return { body: undefined };
        },
      },
    ],
  };
}

/** This host's network agent: the fake data plane reports every bound port ACTIVE for all of the process's hosts. */
function createNetworkAgent(
  config: MonostackConfig,
  network: NetworkService,
  log: Logger,
  metadataSecret: string | undefined,
): NetworkAgent {
  if (config.network.dataplane === 'fake')
    return new FakeNetworkAgent({
      host: '*',
      controlPlane: new ServiceControlPlane(network.context, { pendingOnly: true }),
      log,
    });
  const controlPlane = new ServiceControlPlane(network.context);
  if (config.network.dataplane !== 'linux')
    throw new Error(`network.dataplane must be 'linux' or 'fake', not '${config.network.dataplane}'`);
  const md = config.compute.metadata;
  const secret = md.shared_secret || metadataSecret || '';
  return new LinuxNetworkAgent({
    host: hostname(),
    controlPlane,
    prefix: config.network.prefix,
    stateDir: config.network.state_dir,
    physicalNetworks: config.network.physical_networks,
    ...(config.network.vxlan_local_ip ? { vxlan: { localIp: config.network.vxlan_local_ip } } : {}),
    ...(md.enabled ? { metadata: { url: `http://${md.host}:${md.port}`, secret } } : {}),
    dhcpLeaseSeconds: config.network.dhcp_lease_duration,
    log,
  });
}

export async function createCloud(opts: CloudOptions): Promise<Cloud> {
  const { config, log } = opts;
  const clock = opts.clock ?? systemClock;
  const ids = opts.ids ?? randomIds;
  const database = await openDatabase(config.database.url);
  try {
    const applied = await migrate(database, MIGRATIONS);
    if (applied.length > 0) log.info({ applied }, 'database migrated');
    const feed = new ChangeFeed(database, log);
    await feed.start();
    const identity = await createIdentityService({
      database,
      feed,
      config: config.identity,
      clock,
      ids,
      log,
      keys: opts.keys,
      passwords: opts.hasher,
    });
    const bootstrap = await bootstrapIdentity(identity.context, {
      publicUrl: config.public_url,
      region: config.region,
      passwords: opts.passwords,
    });
    if (bootstrap.created) log.info('identity bootstrapped');
    const image = await createImageService({ database, feed, config: config.image, clock, ids, log });
    const placement = await createPlacementService({
      database,
      feed,
      clock,
      ids,
      log,
      config: config.placement,
    });
    let appRef: FastifyInstance | undefined;
    const transport = inProcessTransport(() => appRef);
    const serviceToken = serviceTokenSource(identity, clock);
    // Compute plugs guests' NICs through this host's network agent, made once the network service exists.
    let networkAgentRef: NetworkAgent | undefined;
    const compute = await createComputeService({
      database,
      feed,
      config: config.compute,
      dataDir: config.data_dir,
      clock,
      ids,
      log,
      placement: new PlacementClient(transport, serviceToken, { local: placement.local }),
      image: new ImageClient(transport),
      serviceToken,
      ...(opts.computeDrivers ? { drivers: opts.computeDrivers } : {}),
      consoleAllowedOrigins: [new URL(config.public_url).hostname],
      ...(opts.metadataSecret ? { metadataSecret: opts.metadataSecret } : {}),
      network: new NetworkClient(transport, serviceToken),
      vifPlugger: {
        plug: (vif) => networkAgentRef?.plug(vif) ?? Promise.resolve(),
        unplug: (portId) => networkAgentRef?.unplug(portId) ?? Promise.resolve(),
      },
      vifPlugging: {
        timeoutMs: config.compute.vif_plugging_timeout * 1000,
        fatal: config.compute.vif_plugging_is_fatal,
      },
    });
    const network = await createNetworkService({
      database,
      feed,
      config: config.network,
      clock,
      ids,
      log,
      notifier: compute.notifier,
    });
    const metrics = new Metrics();
    const app = await createHttpApp({
      services: [
        identity.http,
        image.http,
        placement.http,
        compute.http,
        network.http,
        platformService(metrics, identity),
      ],
      authenticate: identity.authenticate,
      log,
      metrics,
      bodyLimit: config.max_request_body_size,
    });
    // Console websockets arrive as upgrades on the same listener; anything else asking to upgrade is refused.
    app.server.on('upgrade', (req, socket, head) => {
      if (!compute.consoles.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await app.ready();
    appRef = app;
    // The network agent starts before compute, so builds resumed at start can plug their NICs.
    const networkAgent = createNetworkAgent(config, network, log, opts.metadataSecret);
    networkAgentRef = networkAgent;
    await networkAgent.start();
    await compute.start();
    try {
      await bootstrapNetworks({
        transport,
        token: serviceToken,
        config: config.network,
        adminProjectId: bootstrap.adminProjectId,
        demoProjectId: bootstrap.demoProjectId,
        log,
      });
    } catch (err) {
      log.error({ err }, 'first-use networks not created');
    }
    // The host's network agents as Neutron lists them (GET /v2.0/agents), alive while this process beats.
    const beat = () =>
      reportAgentHeartbeat(network.context, hostname(), undefined, {
        configurations: {
          'neutron-linuxbridge-agent': {
            ...(config.network.vxlan_local_ip
              ? { tunneling_ip: config.network.vxlan_local_ip, tunnel_types: ['vxlan'] }
              : {}),
            interface_mappings: config.network.physical_networks,
          },
        },
      }).catch((err: unknown) => log.warn({ err }, 'network agent heartbeat failed'));
    await beat();
    const heartbeat = setInterval(beat, 10_000);
    heartbeat.unref();
    return {
      app,
      config,
      database,
      feed,
      identity,
      image,
      placement,
      compute,
      network,
      networkAgent,
      metrics,
      bootstrap,
      serviceToken,
      transport,
      async listen() {
        const address = await app.listen({ host: config.host, port: config.port });
        if (config.compute.metadata.enabled) {
          // Its own listener, as nova-api-metadata; a busy port (another cloud on this machine) is not fatal.
          await compute.metadata.listen().catch((err: unknown) => {
            log.warn({ err }, 'metadata API not listening');
          });
        }
        return address;
      },
      settle: async () => {
        await feed.settle();
        await compute.settle();
      },
      async close() {
        await compute.stop();
        clearInterval(heartbeat);
        await networkAgent.stop();
        await network.stop();
        await app.close();
        await placement.stop();
        await image.stop();
        await identity.stop();
        await feed.stop();
        await database.close();
      },
    };
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
}

/** The compute service's own token: the bootstrap's service user on the service project, renewed before expiry. */
function serviceTokenSource(identity: IdentityService, clock: Clock): TokenSource {
  let cached: { token: string; expiresAt: number } | undefined;
  return async () => {
    if (cached && cached.expiresAt - clock.now() > 120_000) return cached.token;
    const db = identity.context.db;
    const user = await db
      .selectFrom('identity_users')
      .select('id')
      .where('name', '=', 'monostack')
      .where('domain_id', '=', 'default')
      .executeTakeFirstOrThrow();
    const project = await db
      .selectFrom('identity_projects')
      .select('id')
      .where('name', '=', 'service')
      .where('domain_id', '=', 'default')
      .executeTakeFirstOrThrow();
    const v = await identity.tokens.issue({
      userId: user.id,
      methods: ['password'],
      scope: { kind: 'project', projectId: project.id },
    });
    cached = { token: v.token, expiresAt: v.claims.expiresAt };
    return v.token;
  };
}
