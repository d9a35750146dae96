// Quota enforcement inside the writer's transaction: counts what the project has and refuses what would exceed its
// limit (Neutron's OverQuota, 409). Counting real rows in the same transaction keeps usage from drifting; a
// per-project, per-resource lock (PostgreSQL) or the single writer connection (SQLite) makes check-and-insert atomic.
import { sql } from 'kysely';
import type { NetworkQuotaDefaults } from '../../../platform/config.ts';
import type { NetworkContext, NetworkDb, NetworkTrx } from '../context.ts';
import { overQuota } from '../errors.ts';
import { compiled } from '../store/compiled.ts';

export type QuotaResource = keyof NetworkQuotaDefaults;

/** Every resource Neutron's quota engine registers here, in the order the quota API shows them. */
export const QUOTA_RESOURCES: readonly QuotaResource[] = [
  'network',
  'subnet',
  'subnetpool',
  'port',
  'router',
  'floatingip',
  'security_group',
  'security_group_rule',
  'rbac_policy',
];

export function isQuotaResource(name: string): name is QuotaResource {
  return (QUOTA_RESOURCES as readonly string[]).includes(name);
}

/** The table and owner column each quota counts. */
const COUNTED: Partial<Record<QuotaResource, string>> = {
  network: 'network_networks',
};

/** Registers the table a quota counts (areas call this at module load). */
export function countQuotaIn(resource: QuotaResource, table: string): void {
  COUNTED[resource] = table;
}

/** The limit of one resource for a project: its override when set, else the configured default. */
export type QuotaLimitSource = (
  trx: NetworkTrx,
  projectId: string,
  resource: QuotaResource,
) => Promise<number>;

let limitSource: QuotaLimitSource | undefined;

/** Replaces the limit lookup (the stored per-project overrides are the default source). */
export function setQuotaLimitSource(src: QuotaLimitSource): void {
  limitSource = src;
}

/** The stored per-project overrides of one project (resource → limit). */
export async function quotaOverrides(
  db: NetworkDb | NetworkTrx,
  projectId: string,
): Promise<Map<QuotaResource, number>> {
  const rows = await db
    .selectFrom('network_quotas')
    .select(['resource', 'quota_limit'])
    .where('project_id', '=', projectId)
    .execute();
  const out = new Map<QuotaResource, number>();
  for (const r of rows) if (isQuotaResource(r.resource)) out.set(r.resource, r.quota_limit);
  return out;
}

/** Every limit of a project: configured defaults with its overrides applied. */
export async function projectQuotaLimits(
  cx: NetworkContext,
  db: NetworkDb | NetworkTrx,
  projectId: string,
): Promise<Record<QuotaResource, number>> {
  const over = await quotaOverrides(db, projectId);
  const out = {} as Record<QuotaResource, number>;
  for (const r of QUOTA_RESOURCES) out[r] = over.get(r) ?? cx.config.quotas[r];
  return out;
}

const overrideOf = compiled(2, (db, projectId: string, resource: string) =>
  db
    .selectFrom('network_quotas')
    .select('quota_limit')
    .where('project_id', '=', projectId)
    .where('resource', '=', resource),
);

export async function quotaLimit(
  cx: NetworkContext,
  trx: NetworkTrx,
  projectId: string,
  resource: QuotaResource,
): Promise<number> {
  if (limitSource) return limitSource(trx, projectId, resource);
  const [row] = await overrideOf(trx, projectId, resource);
  return row?.quota_limit ?? cx.config.quotas[resource];
}

export async function quotaUsage(
  trx: NetworkTrx | NetworkDb,
  projectId: string,
  resource: QuotaResource,
): Promise<number> {
  const table = COUNTED[resource];
  if (!table) return 0;
  const row = await (trx as unknown as NetworkTrx)
    // biome-ignore lint/suspicious/noExplicitAny: the table is chosen at run time from the registry above.
    .selectFrom(table as any)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return Number((row as { n?: number } | undefined)?.n ?? 0);
}

/**
 * Serialises quota checks of one project's resource until the transaction ends. PostgreSQL: a transaction-scoped
 * advisory lock keyed on (project, resource), so a second create counts only after the first committed. SQLite:
 * nothing to do, its one connection runs one write transaction at a time.
 */
export async function lockQuota(
  cx: NetworkContext,
  trx: NetworkTrx,
  projectId: string,
  resource: QuotaResource,
): Promise<void> {
  if (cx.dialect !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(hashtext(${`network-quota:${projectId}:${resource}`}))`.execute(trx);
}

/** Throws OverQuota when `adding` more of `resource` would exceed the project's limit (-1 = unlimited). */
export async function enforceQuota(
  cx: NetworkContext,
  trx: NetworkTrx,
  projectId: string,
  resource: QuotaResource,
  adding = 1,
): Promise<void> {
  const limit = await quotaLimit(cx, trx, projectId, resource);
  if (limit < 0) return;
  await lockQuota(cx, trx, projectId, resource);
  const used = await quotaUsage(trx, projectId, resource);
  if (used + adding > limit) throw overQuota([resource]);
}
