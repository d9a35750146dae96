// The statements of the allocation write path (every claim the scheduler makes), compiled to SQL once per
// dialect with the platform's compiled statements instead of being built by kysely on each call.
import type { Compilable, Kysely } from 'kysely';
import { compiled, compiledInsert } from '../../../platform/db/compiled.ts';
import type { AllocationRow, PlacementTables } from './tables.ts';

type Db = Kysely<PlacementTables>;
const c = <A extends unknown[], R>(arity: A['length'], build: (db: Db, ...args: A) => Compilable<R>) =>
  compiled<PlacementTables, A, R>(arity, build);

export const consumerByUuid = c(1, (db, uuid: string) =>
  db.selectFrom('placement_consumers').selectAll().where('uuid', '=', uuid),
);

export const insertConsumer = compiledInsert<PlacementTables, 'placement_consumers'>('placement_consumers');

/** Sets a consumer's owner, type and next generation if its generation is still `generation`; one row if so. */
export const casConsumer = c(
  7,
  (
    db,
    uuid: string,
    generation: number,
    next: number,
    projectId: string,
    userId: string,
    consumerType: string | null,
    now: string,
  ) =>
    db
      .updateTable('placement_consumers')
      .set({
        project_id: projectId,
        user_id: userId,
        consumer_type: consumerType,
        generation: next,
        updated_at: now,
      })
      .where('uuid', '=', uuid)
      .where('generation', '=', generation)
      .returning('uuid'),
);

export const deleteConsumerRow = c(1, (db, uuid: string) =>
  db.deleteFrom('placement_consumers').where('uuid', '=', uuid),
);

export const allocationsOfConsumer = c(1, (db, consumer: string) =>
  db
    .selectFrom('placement_allocations')
    .select(['rp_uuid', 'resource_class', 'used'])
    .where('consumer_id', '=', consumer),
);

/** Deletes a consumer's allocation rows; one row back per row deleted. */
export const deleteAllocationsOfConsumer = c(1, (db, consumer: string) =>
  db.deleteFrom('placement_allocations').where('consumer_id', '=', consumer).returning('consumer_id'),
);

/** generation + 1 on a provider (which also locks its row on PostgreSQL); one row back if it exists. */
export const bumpProvider = c(2, (db, uuid: string, now: string) =>
  db
    .updateTable('placement_resource_providers')
    .set((eb) => ({ generation: eb('generation', '+', 1), updated_at: now }))
    .where('uuid', '=', uuid)
    .returning('uuid'),
);

export const inventoriesOfProvider = c(1, (db, rp: string) =>
  db.selectFrom('placement_inventories').selectAll().where('rp_uuid', '=', rp),
);

export const usageOfProvider = c(1, (db, rp: string) =>
  db
    .selectFrom('placement_allocations')
    .select(['rp_uuid', 'resource_class', (eb) => eb.fn.sum<number>('used').as('used')])
    .where('rp_uuid', '=', rp)
    .groupBy(['rp_uuid', 'resource_class']),
);

const COLUMNS = ['consumer_id', 'rp_uuid', 'resource_class', 'used', 'created_at', 'updated_at'] as const;
/** Row counts up to this get a compiled multi-row insert; more (rare) are built each time. */
const MAX_COMPILED_ROWS = 32;
const insertByCount = new Map<number, (db: Db, ...args: unknown[]) => Promise<unknown[]>>();

/** One multi-row insert of allocation rows. */
export async function insertAllocations(db: Db, rows: AllocationRow[]): Promise<void> {
  const n = rows.length;
  if (n === 0) return;
  if (n > MAX_COMPILED_ROWS) {
    await db.insertInto('placement_allocations').values(rows).execute();
    return;
  }
  let run = insertByCount.get(n);
  if (!run) {
    const rowOf = (args: unknown[], i: number) =>
      Object.fromEntries(
        COLUMNS.map((col, j) => [col, args[i * COLUMNS.length + j]]),
      ) as unknown as AllocationRow;
    run = c<unknown[], unknown>(n * COLUMNS.length, (d, ...args: unknown[]) =>
      d.insertInto('placement_allocations').values(Array.from({ length: n }, (_, i) => rowOf(args, i))),
    );
    insertByCount.set(n, run);
  }
  await run(db, ...rows.flatMap((r) => COLUMNS.map((col) => r[col])));
}
