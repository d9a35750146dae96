// The server quota of a create: the per-project lock that serialises quota decisions (PostgreSQL) and the check of
// instances, cores and ram against usage counted in the same transaction.
import { sql } from 'kysely';
import { ApiError } from '../../../platform/errors.ts';
import type { ComputeContext, ComputeTrx } from '../context.ts';
import { compiled } from './compiled.ts';
import { countServerUsage, getLimits } from './quotas.ts';
import type { FlavorSnapshot } from './tables.ts';

/** PostgreSQL: serialises quota decisions per project until the transaction ends. */
const quotaLock = compiled(1, (db, key: string) =>
  db.selectNoFrom(sql<unknown>`pg_advisory_xact_lock(hashtext(${key}))`.as('locked')),
);

/**
 * Counts quota usage and refuses with Nova's 403 when `count` more servers do not fit; returns how many do. Takes
 * the project's quota lock and reads its limits in `trx`, unless given `known`: limits the caller read in `trx`
 * after taking that lock itself.
 */
export async function checkServerQuota(
  cx: ComputeContext,
  trx: ComputeTrx,
  projectId: string,
  flavor: FlavorSnapshot,
  minCount: number,
  maxCount: number,
  known?: Record<string, number>,
): Promise<number> {
  // Serialise quota decisions per project: two racing creates must not both take the last unit.
  if (!known) await lockProjectQuota(cx, trx, projectId);
  const limits = known ?? (await getLimits(trx, cx.config, projectId));
  // Unlimited instances, cores and ram: nothing to count (usage is only ever compared with a limit).
  if ((['instances', 'cores', 'ram'] as const).every((r) => (limits[r] ?? -1) < 0)) return maxCount;
  const used = await countServerUsage(trx, cx.dialect, projectId);
  const per = { instances: 1, cores: flavor.vcpus, ram: flavor.memory_mb } as const;
  let allowed = maxCount;
  for (const r of ['instances', 'cores', 'ram'] as const) {
    const limit = limits[r] ?? -1;
    if (limit < 0 || per[r] === 0) continue;
    const fits = Math.floor((limit - used[r]) / per[r]);
    allowed = Math.min(allowed, fits);
  }
  if (allowed >= minCount) return allowed;
  const overs = (['instances', 'cores', 'ram'] as const).filter((r) => {
    const limit = limits[r] ?? -1;
    return limit >= 0 && used[r] + per[r] * minCount > limit;
  });
  const r = overs[0] ?? 'instances';
  const req = per[r] * minCount;
  throw new ApiError(
    403,
    'TooManyInstances',
    `Quota exceeded for ${overs.join(', ')}: Requested ${req}, but already used ${used[r]} of ${limits[r]} ${overs.join(', ')}`,
  );
}

/**
 * PostgreSQL: takes the project's quota lock for the rest of the transaction (SQLite runs one write transaction
 * at a time already).
 */
export async function lockProjectQuota(
  cx: ComputeContext,
  trx: ComputeTrx,
  projectId: string,
): Promise<void> {
  if (cx.dialect === 'postgres') await quotaLock(trx, `compute-quota:${projectId}`);
}
