// Nova's quota limits (config defaults < quota class "default" < project < user) and usage counted from rows.
import { sql } from 'kysely';
import type { ComputeConfig } from '../../../platform/config.ts';
import type { DialectName } from '../../../platform/db/database.ts';
import type { ComputeDb, ComputeTrx } from '../context.ts';
import { compiled } from './compiled.ts';

type Db = ComputeDb | ComputeTrx;

/** Every quota resource Nova reports, in Nova's order (QUOTAS.resources); the last four are nova-network's. */
export const QUOTA_RESOURCES = [
  'instances',
  'cores',
  'ram',
  'metadata_items',
  'injected_files',
  'injected_file_content_bytes',
  'injected_file_path_bytes',
  'key_pairs',
  'server_groups',
  'server_group_members',
  'fixed_ips',
  'floating_ips',
  'security_groups',
  'security_group_rules',
] as const;

export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

/** The legacy nova-network quotas: no longer configurable, always unlimited. */
const NETWORK_RESOURCES: readonly string[] = [
  'fixed_ips',
  'floating_ips',
  'security_groups',
  'security_group_rules',
];

/** The configured defaults (Nova's [quota] options). */
export function configDefaults(config: ComputeConfig): Record<string, number> {
  const out: Record<string, number> = {};
  const q = config.quotas as unknown as Record<string, number>;
  for (const r of QUOTA_RESOURCES) out[r] = NETWORK_RESOURCES.includes(r) ? -1 : (q[r] ?? -1);
  return out;
}

/** A quota class's limits over the configured defaults (get_class_quotas). */
export async function getClassLimits(
  db: Db,
  config: ComputeConfig,
  className: string,
): Promise<Record<string, number>> {
  const out = configDefaults(config);
  const rows = await db
    .selectFrom('compute_quota_classes')
    .select(['resource', 'hard_limit'])
    .where('class_name', '=', className)
    .execute();
  for (const r of rows) if (r.resource in out) out[r.resource] = r.hard_limit;
  return out;
}

/** The defaults every project starts from: the "default" class over the configured values (get_defaults). */
export function getDefaults(db: Db, config: ComputeConfig): Promise<Record<string, number>> {
  return getClassLimits(db, config, 'default');
}

/**
 * The "default" class's rows (lvl 0), then the project's (lvl 1, user_id '') and that user's, in one statement; a
 * project-wide read passes '' as the user.
 */
const limitRows = compiled(2, (db, projectId: string, userId: string) =>
  db
    .selectFrom('compute_quota_classes')
    .select([sql<number>`0`.as('lvl'), sql<string>`''`.as('user_id'), 'resource', 'hard_limit'])
    .where('class_name', '=', 'default')
    .unionAll(
      db
        .selectFrom('compute_quotas')
        .select([sql<number>`1`.as('lvl'), 'user_id', 'resource', 'hard_limit'])
        .where('project_id', '=', projectId)
        .where('user_id', 'in', ['', userId]),
    ),
);

/** The hard limits of a project, or of one user in it: defaults < class "default" < project < user. */
export async function getLimits(
  db: Db,
  config: ComputeConfig,
  projectId: string,
  userId?: string,
): Promise<Record<string, number>> {
  const out = configDefaults(config);
  const rows = await limitRows(db, projectId, userId ?? '');
  // The class's rows first, then the project's, then the user's on top.
  for (const r of rows) if (Number(r.lvl) === 0 && r.resource in out) out[r.resource] = r.hard_limit;
  for (const r of rows)
    if (Number(r.lvl) === 1 && r.user_id === '' && r.resource in out) out[r.resource] = r.hard_limit;
  for (const r of rows)
    if (Number(r.lvl) === 1 && r.user_id !== '' && r.resource in out) out[r.resource] = r.hard_limit;
  return out;
}

export interface Usage {
  instances: number;
  cores: number;
  ram: number;
  key_pairs: number;
  server_groups: number;
}

/**
 * What a project (or one user in it) uses, counted from rows: servers not deleted (count, and vcpus/memory_mb
 * of the flavor each keeps), server groups, and the user's key pairs (key pairs belong to users, so a
 * project-wide count is 0, as Nova reports it).
 */
export async function countUsage(
  db: Db,
  dialect: DialectName,
  projectId: string,
  userId?: string,
): Promise<Usage> {
  const totals = await countServerUsage(db, dialect, projectId, userId);
  let groups = db
    .selectFrom('compute_server_groups')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', projectId);
  if (userId) groups = groups.where('user_id', '=', userId);
  const g = await groups.executeTakeFirstOrThrow();
  const keyPairs = userId ? await countKeypairs(db, userId) : 0;
  return { ...totals, key_pairs: keyPairs, server_groups: Number(g.n) };
}

/** The servers' totals of a project (or one user in it), summed in the database from each server's flavor. */
function serverTotals(dialect: DialectName, withUser: boolean) {
  // One indexed pass, no rows shipped to Node.
  const field = (name: string) =>
    dialect === 'postgres'
      ? sql<number>`coalesce(sum(cast(cast(flavor as json) ->> ${sql.lit(name)} as integer)), 0)`
      : sql<number>`coalesce(sum(cast(json_extract(flavor, ${sql.lit(`$.${name}`)}) as integer)), 0)`;
  return compiled(2, (db, projectId: string, userId: string) => {
    const q = db
      .selectFrom('compute_servers')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        field('vcpus').as('cores'),
        field('memory_mb').as('ram'),
      ])
      .where('project_id', '=', projectId)
      .where('deleted', '=', 0);
    return withUser ? q.where('user_id', '=', userId) : q;
  });
}

const SERVER_TOTALS = {
  sqlite: { project: serverTotals('sqlite', false), user: serverTotals('sqlite', true) },
  postgres: { project: serverTotals('postgres', false), user: serverTotals('postgres', true) },
};

/** What the servers of a project (or one user in it) use: instances, cores, ram (one compiled statement). */
export async function countServerUsage(
  db: Db,
  dialect: DialectName,
  projectId: string,
  userId?: string,
): Promise<Pick<Usage, 'instances' | 'cores' | 'ram'>> {
  const of = SERVER_TOTALS[dialect];
  const [t] = userId ? await of.user(db, projectId, userId) : await of.project(db, projectId, '');
  return { instances: Number(t?.n ?? 0), cores: Number(t?.cores ?? 0), ram: Number(t?.ram ?? 0) };
}

const keypairCount = compiled(1, (db, userId: string) =>
  db
    .selectFrom('compute_keypairs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId),
);

/** Key pairs of a user (Nova counts them per user wherever the user works). */
export async function countKeypairs(db: Db, userId: string): Promise<number> {
  const [k] = await keypairCount(db, userId);
  return Number(k?.n ?? 0);
}

/** Sets one limit (create or update): project-wide when userId is empty. */
export async function setLimit(
  db: Db,
  projectId: string,
  userId: string,
  resource: string,
  limit: number,
): Promise<void> {
  const updated = await db
    .updateTable('compute_quotas')
    .set({ hard_limit: limit })
    .where('project_id', '=', projectId)
    .where('user_id', '=', userId)
    .where('resource', '=', resource)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) {
    await db
      .insertInto('compute_quotas')
      .values({ project_id: projectId, user_id: userId, resource, hard_limit: limit })
      .execute();
  }
}

/** Sets one limit of a quota class. */
export async function setClassLimit(
  db: Db,
  className: string,
  resource: string,
  limit: number,
): Promise<void> {
  const updated = await db
    .updateTable('compute_quota_classes')
    .set({ hard_limit: limit })
    .where('class_name', '=', className)
    .where('resource', '=', resource)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) {
    await db
      .insertInto('compute_quota_classes')
      .values({ class_name: className, resource, hard_limit: limit })
      .execute();
  }
}

/** True when adding `delta` to `used` stays within `limit` (-1 = unlimited). */
export function within(limit: number, used: number, delta: number): boolean {
  return limit < 0 || used + delta <= limit;
}
