// createNetworkService: Neutron v2.0 as a Monostack service — routes, tables, policy, and the seam its host agents
// (the Linux data plane, or the fake one) reconcile from.
import type { Clock, IdSource } from '../../platform/clock.ts';
import type { NetworkConfig } from '../../platform/config.ts';
import type { Database } from '../../platform/db/database.ts';
import type { ServiceMigrations } from '../../platform/db/migrate.ts';
import { neutronDialect } from '../../platform/http/error-dialects.ts';
import type { ServiceHttp } from '../../platform/http/types.ts';
import type { Logger } from '../../platform/log.ts';
import { PolicyEngine } from '../../platform/policy/index.ts';
import type { ChangeFeed } from '../../platform/watch/feed.ts';
import { networkRoutes } from './api/routes.ts';
import { type ComputeNotifier, NetworkContext, type NetworkDb } from './context.ts';
import { policyDenied } from './errors.ts';
import { networkPolicies } from './policy.ts';
import { networkMigrations } from './store/migrations/index.ts';

export const networkMigrationSet: ServiceMigrations = { service: 'network', migrations: networkMigrations };

export interface NetworkServiceDeps {
  database: Database;
  feed: ChangeFeed;
  config: NetworkConfig;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  notifier?: ComputeNotifier;
}

export interface NetworkService {
  http: ServiceHttp;
  context: NetworkContext;
  stop(): Promise<void>;
}

export async function createNetworkService(deps: NetworkServiceDeps): Promise<NetworkService> {
  const cx = new NetworkContext({
    db: deps.database.db as NetworkDb,
    dialect: deps.database.dialect,
    feed: deps.feed,
    config: deps.config,
    clock: deps.clock,
    ids: deps.ids,
    log: deps.log,
    ...(deps.notifier ? { notifier: deps.notifier } : {}),
  });
  const http: ServiceHttp = {
    name: 'network',
    prefixes: ['/network'],
    dialect: neutronDialect,
    formatSuffix: '.json',
    routes: networkRoutes(cx),
    policy: new PolicyEngine(networkPolicies, deps.config.policy_overrides),
    policyTarget: (target) => target,
    policyDenied,
  };
  return {
    http,
    context: cx,
    async stop() {},
  };
}
