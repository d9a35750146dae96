// createIdentityService: Keystone v3 as a Monostack service — routes, tables, policy, tokens, bootstrap.
import { type FSWatcher, watch } from 'node:fs';
import type { Clock, IdSource } from '../../platform/clock.ts';
import type { IdentityConfig } from '../../platform/config.ts';
import type { Database } from '../../platform/db/database.ts';
import type { ServiceMigrations } from '../../platform/db/migrate.ts';
import { keystoneDialect } from '../../platform/http/error-dialects.ts';
import type { ServiceHttp, TokenAuthenticator } from '../../platform/http/types.ts';
import type { Logger } from '../../platform/log.ts';
import { PolicyEngine } from '../../platform/policy/index.ts';
import type { ChangeFeed } from '../../platform/watch/feed.ts';
import { identityRoutes } from './api/routes.ts';
import { IdentityContext, type IdentityDb } from './context.ts';
import { bcryptHasher, type PasswordHasher } from './passwords.ts';
import { identityPolicies } from './policy.ts';
import { identityMigrations } from './store/migrations/0001-initial.ts';
import { IdentityReader } from './store/reader.ts';
import { KeyRepository } from './tokens/key-repository.ts';
import { TokenService } from './tokens/service.ts';
import { FernetTokenProvider, type KeySource } from './tokens/token-provider.ts';

export const identityMigrationSet: ServiceMigrations = {
  service: 'identity',
  migrations: identityMigrations,
};

export interface IdentityServiceDeps {
  database: Database;
  feed: ChangeFeed;
  config: IdentityConfig;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  /** Fernet keys: a repository on disk (default: config.fernet_tokens.key_repository) or fixed keys in tests. */
  keys?: KeySource;
  passwords?: PasswordHasher;
}

export interface IdentityService {
  http: ServiceHttp;
  authenticate: TokenAuthenticator;
  context: IdentityContext;
  reader: IdentityReader;
  tokens: TokenService;
  /** Re-reads Fernet keys (after `monostack identity rotate-keys`). */
  reloadKeys(): Promise<void>;
  stop(): Promise<void>;
}

export async function createIdentityService(deps: IdentityServiceDeps): Promise<IdentityService> {
  const ix = new IdentityContext({
    db: deps.database.db as IdentityDb,
    dialect: deps.database.dialect,
    feed: deps.feed,
    config: deps.config,
    clock: deps.clock,
    ids: deps.ids,
    passwords: deps.passwords ?? bcryptHasher(deps.config.password_hash_rounds),
    log: deps.log,
  });
  let watcher: FSWatcher | undefined;
  let keys = deps.keys;
  if (!keys) {
    const repo = new KeyRepository(
      deps.config.fernet_tokens.key_repository,
      deps.config.fernet_tokens.max_active_keys,
    );
    await repo.setup();
    keys = repo;
  }
  const provider = await FernetTokenProvider.create(keys, () => deps.clock.now());
  if (keys instanceof KeyRepository) {
    // Another process (monostack identity rotate-keys) may rotate the repository: follow it.
    let timer: NodeJS.Timeout | undefined;
    watcher = watch(deps.config.fernet_tokens.key_repository, () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        provider.reload().catch((err: unknown) => deps.log.error({ err }, 'fernet key reload failed'));
      }, 100);
    });
    watcher.unref();
  }
  const reader = new IdentityReader(ix);
  const tokens = new TokenService(ix, reader, provider);
  const policy = new PolicyEngine(identityPolicies, deps.config.policy_overrides);
  const http: ServiceHttp = {
    name: 'identity',
    prefixes: ['', '/v3'],
    dialect: keystoneDialect,
    routes: identityRoutes(ix, reader, tokens),
    policy,
    policyTarget: (target, params) => ({ ...params, target }),
  };
  return {
    http,
    authenticate: tokens.authenticate,
    context: ix,
    reader,
    tokens,
    reloadKeys: () => provider.reload(),
    async stop() {
      watcher?.close();
    },
  };
}
