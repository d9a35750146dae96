// Quota enforcement inside the writer's transaction: counts what the project has and refuses what would exceed its
// limit (Neutron's OverQuota, 409). Counting real rows in the same transaction keeps usage from drifting.
import type { NetworkQuotaDefaults } from '../../../platform/config.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { overQuota } from '../errors.ts';

export type QuotaResource = keyof NetworkQuotaDefaults;

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

/** The misc area (quota API) supplies per-project overrides. */
export function setQuotaLimitSource(src: QuotaLimitSource): void {
  limitSource = src;
}

export async function quotaLimit(
  cx: NetworkContext,
  trx: NetworkTrx,
  projectId: string,
  resource: QuotaResource,
): Promise<number> {
  return limitSource ? limitSource(trx, projectId, resource) : cx.config.quotas[resource];
}

export async function quotaUsage(
  trx: NetworkTrx,
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
  const used = await quotaUsage(trx, projectId, resource);
  if (used + adding > limit) throw overQuota([resource]);
}
