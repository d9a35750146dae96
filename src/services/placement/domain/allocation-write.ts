// The one allocation write path (PUT/POST /allocations, reshaper): consumer generation checks, provider
// generation bumps that also lock the providers, capacity and unit checks against committed usage, and the
// new rows — all in the caller's transaction, so two racing claims for the last unit cannot both succeed.
//
// Locks are taken in one order (consumers by uuid, then providers by uuid): on PostgreSQL the provider
// UPDATE blocks a concurrent claim on the same provider until this transaction ends, and the usage read that
// follows sees everything committed before; on SQLite transactions are serialised by the single connection.
import { isUniqueViolation } from '../../../platform/db/errors.ts';
import type { PlacementTrx } from '../context.ts';
import { PlacementErrors } from '../errors.ts';
import {
  allocationsOfConsumer,
  bumpProvider,
  casConsumer,
  consumerByUuid,
  deleteAllocationsOfConsumer,
  deleteConsumerRow,
  insertAllocations,
  insertConsumer,
  inventoriesOfProvider,
  usageOfProvider,
} from '../store/allocation-statements.ts';
import { capacityOf, toInventory, type UsageDelta } from './snapshot.ts';

/** Nova's "incomplete consumer" project and user, for allocations written before 1.8. */
export const INCOMPLETE_CONSUMER_ID = '00000000-0000-0000-0000-000000000000';

export interface ConsumerWrite {
  uuid: string;
  projectId: string;
  userId: string;
  /** The generation the caller expects (null: a new consumer); undefined before 1.28 (no check). */
  generation?: number | null;
  /** The consumer type (1.38); undefined keeps the stored one. */
  consumerType?: string;
  /** Resource provider uuid → resource class → amount; empty removes the consumer's allocations. */
  allocations: Record<string, Record<string, number>>;
}

const pyRepr = (v: unknown) => (v === null || v === undefined ? 'None' : String(v));
const CHANGED = 'Inventory and/or allocations changed while attempting to allocate';

/** Replaces the allocations of every consumer in `writes`; throws Placement's 400/409 errors. */
export async function writeAllocations(
  trx: PlacementTrx,
  writes: ConsumerWrite[],
  opts: { checkGeneration: boolean; now: string },
  delta?: UsageDelta,
): Promise<void> {
  const { now } = opts;
  const sorted = [...writes].sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  const touched = new Set<string>();
  for (const w of sorted) {
    const [existing] = await consumerByUuid(trx, w.uuid);
    if (opts.checkGeneration) {
      if (existing && Number(existing.generation) !== w.generation) {
        throw PlacementErrors.concurrent(
          `consumer generation conflict - expected ${existing.generation} but got ${pyRepr(w.generation)}`,
        );
      }
      if (!existing && w.generation !== null && w.generation !== undefined) {
        throw PlacementErrors.concurrent(
          `consumer generation conflict - expected null but got ${w.generation}`,
        );
      }
    }
    if (!existing) {
      try {
        await insertConsumer(trx, {
          uuid: w.uuid,
          project_id: w.projectId,
          user_id: w.userId,
          generation: 1,
          consumer_type: w.consumerType ?? null,
          created_at: now,
          updated_at: now,
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw PlacementErrors.concurrent(
            `consumer generation conflict - expected null but got ${pyRepr(w.generation)}`,
          );
        }
        throw err;
      }
    } else {
      const gen = Number(existing.generation);
      const updated = await casConsumer(
        trx,
        w.uuid,
        gen,
        gen + 1,
        w.projectId,
        w.userId,
        w.consumerType ?? existing.consumer_type,
        now,
      );
      if (updated.length !== 1) {
        throw PlacementErrors.concurrent(
          `${CHANGED}: Another thread concurrently updated the data. Please retry your update`,
        );
      }
      const old = await allocationsOfConsumer(trx, w.uuid);
      for (const o of old) {
        touched.add(o.rp_uuid);
        delta?.add(o.rp_uuid, o.resource_class, -Number(o.used));
      }
      await deleteAllocationsOfConsumer(trx, w.uuid);
    }
  }

  // Wanted amounts per provider and class, summed over the consumers of this request.
  const wanted = new Map<string, Map<string, number>>();
  for (const w of sorted) {
    for (const [rp, resources] of Object.entries(w.allocations)) {
      let m = wanted.get(rp);
      if (!m) {
        m = new Map();
        wanted.set(rp, m);
      }
      for (const [rc, n] of Object.entries(resources)) m.set(rc, (m.get(rc) ?? 0) + n);
    }
  }
  for (const rp of [...new Set([...touched, ...wanted.keys()])].sort()) {
    delta?.bumped.add(rp);
    if ((await bumpProvider(trx, rp, now)).length !== 1) {
      throw PlacementErrors.badRequest(`Allocation for resource provider '${rp}' that does not exist.`);
    }
  }

  if (wanted.size > 0) {
    const rps = [...wanted.keys()];
    // One provider (a claim on a compute node) runs compiled statements; several build the IN lists.
    const [invRows, usageRows] =
      rps.length === 1
        ? await Promise.all([inventoriesOfProvider(trx, rps[0]!), usageOfProvider(trx, rps[0]!)])
        : await Promise.all([
            trx.selectFrom('placement_inventories').selectAll().where('rp_uuid', 'in', rps).execute(),
            trx
              .selectFrom('placement_allocations')
              .select(['rp_uuid', 'resource_class', (eb) => eb.fn.sum<number>('used').as('used')])
              .where('rp_uuid', 'in', rps)
              .groupBy(['rp_uuid', 'resource_class'])
              .execute(),
          ]);
    const inv = new Map(invRows.map((r) => [`${r.rp_uuid} ${r.resource_class}`, toInventory(r)]));
    const used = new Map(usageRows.map((r) => [`${r.rp_uuid} ${r.resource_class}`, Number(r.used)]));
    const unable = (rc: string, rp: string, why: string) =>
      PlacementErrors.conflict(
        `Unable to allocate inventory: Unable to create allocation for '${rc}' on resource provider '${rp}'. ${why}`,
      );
    for (const w of sorted) {
      for (const [rp, resources] of Object.entries(w.allocations)) {
        for (const [rc, amount] of Object.entries(resources)) {
          const i = inv.get(`${rp} ${rc}`);
          if (!i) {
            throw PlacementErrors.conflict(
              `Unable to allocate inventory: Inventory for '${rc}' on resource provider '${rp}' invalid.`,
            );
          }
          if (amount < i.min_unit || amount > i.max_unit || amount % i.step_size !== 0) {
            throw unable(rc, rp, 'The requested amount would violate inventory constraints.');
          }
          const total = wanted.get(rp)!.get(rc)!;
          const u = used.get(`${rp} ${rc}`) ?? 0;
          if (capacityOf(i) < u + amount || capacityOf(i) < u + total) {
            throw unable(rc, rp, 'The requested amount would exceed the capacity.');
          }
        }
      }
    }
  }

  const rows = sorted.flatMap((w) =>
    Object.entries(w.allocations).flatMap(([rp, resources]) =>
      Object.entries(resources).map(([rc, used]) => ({
        consumer_id: w.uuid,
        rp_uuid: rp,
        resource_class: rc,
        used,
        created_at: now,
        updated_at: now,
      })),
    ),
  );
  await insertAllocations(trx, rows);
  for (const r of rows) delta?.add(r.rp_uuid, r.resource_class, r.used);
  const empty = sorted.filter((w) => Object.keys(w.allocations).length === 0).map((w) => w.uuid);
  if (empty.length) await trx.deleteFrom('placement_consumers').where('uuid', 'in', empty).execute();
}

/** Removes a consumer's allocations and the consumer; false when it had none. */
export async function deleteConsumerAllocations(
  trx: PlacementTrx,
  consumer: string,
  delta?: UsageDelta,
): Promise<boolean> {
  if (delta) {
    const old = await allocationsOfConsumer(trx, consumer);
    for (const o of old) delta.add(o.rp_uuid, o.resource_class, -Number(o.used));
  }
  if ((await deleteAllocationsOfConsumer(trx, consumer)).length === 0) return false;
  await deleteConsumerRow(trx, consumer);
  return true;
}
