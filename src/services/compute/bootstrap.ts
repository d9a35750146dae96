// First-start data of the compute service: DevStack's default flavors, created once on a fresh database.
import type { ComputeContext } from './context.ts';
import type { FlavorRow } from './store/tables.ts';

/** DevStack's flavors: [id, name, vcpus, memory_mb, root_gb]. */
const DEFAULT_FLAVORS: readonly [string, string, number, number, number][] = [
  ['1', 'm1.tiny', 1, 512, 1],
  ['2', 'm1.small', 1, 2048, 20],
  ['3', 'm1.medium', 2, 4096, 40],
  ['4', 'm1.large', 4, 8192, 80],
  ['5', 'm1.xlarge', 8, 16384, 160],
  ['42', 'm1.nano', 1, 128, 1],
  ['84', 'm1.micro', 1, 192, 1],
];

/** Creates the default flavors when the database has no flavor at all; a no-op otherwise. Returns how many. */
export async function ensureDefaultFlavors(cx: ComputeContext): Promise<number> {
  return cx.write(async (trx, record) => {
    const any = await trx.selectFrom('compute_flavors').select('id').limit(1).executeTakeFirst();
    if (any) return 0;
    const now = cx.nowIso();
    const rows: FlavorRow[] = DEFAULT_FLAVORS.map(([id, name, vcpus, memory_mb, root_gb]) => ({
      id,
      name,
      vcpus,
      memory_mb,
      root_gb,
      ephemeral_gb: 0,
      swap: 0,
      rxtx_factor: 1,
      is_public: 1,
      disabled: 0,
      description: null,
      extra_specs: '{}',
      created_at: now,
      updated_at: null,
    }));
    await trx.insertInto('compute_flavors').values(rows).execute();
    for (const r of rows) record({ kind: 'flavor', id: r.id, action: 'create' });
    return rows.length;
  });
}
