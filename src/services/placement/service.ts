// createPlacementService: OpenStack Placement (microversions 1.0–1.39) as a Monostack service — routes,
// tables, policy, and the in-memory snapshot the allocation candidate search reads.
import type { Clock, IdSource } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { ServiceMigrations } from '../../platform/db/migrate.ts';
import { placementDialect } from '../../platform/http/error-dialects.ts';
import type { ServiceHttp } from '../../platform/http/types.ts';
import type { Logger } from '../../platform/log.ts';
import { PolicyEngine } from '../../platform/policy/index.ts';
import type { ChangeFeed } from '../../platform/watch/feed.ts';
import { placementRoutes } from './api/routes.ts';
import { PlacementContext, type PlacementDb } from './context.ts';
import { placementMicroversions } from './domain/versions.ts';
import { PlacementErrors } from './errors.ts';
import { createPlacementLocal, type PlacementLocal } from './local.ts';
import { placementPolicies } from './policy.ts';
import { placementMigrations } from './store/migrations/0001-initial.ts';

export const placementMigrationSet: ServiceMigrations = {
  service: 'placement',
  migrations: placementMigrations,
};

export interface PlacementServiceDeps {
  database: Database;
  feed: ChangeFeed;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  /** Operator overrides of policy rules: rule name → check string. */
  config?: { policy_overrides?: Record<string, string> };
}

export interface PlacementService {
  http: ServiceHttp;
  context: PlacementContext;
  /** The scheduler's hot calls answered in-process (for a PlacementClient in this process). */
  local: PlacementLocal;
  stop(): Promise<void>;
}

export async function createPlacementService(deps: PlacementServiceDeps): Promise<PlacementService> {
  const px = new PlacementContext({
    db: deps.database.db as PlacementDb,
    dialect: deps.database.dialect,
    feed: deps.feed,
    clock: deps.clock,
    ids: deps.ids,
    log: deps.log,
  });
  const http: ServiceHttp = {
    name: 'placement',
    prefixes: ['/placement'],
    dialect: placementDialect,
    routes: placementRoutes(px),
    policy: new PolicyEngine(placementPolicies, deps.config?.policy_overrides ?? {}),
    microversions: placementMicroversions,
    policyDenied: PlacementErrors.forbidden,
  };
  return { http, context: px, local: createPlacementLocal(px), async stop() {} };
}
