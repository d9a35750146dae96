// POST /reshaper (1.30): move inventories and allocations between providers atomically — new inventories
// are added first, allocations replaced, then inventories no longer listed are removed
// (placement/handlers/reshaper.py).
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { PlacementContext } from '../context.ts';
import { type ConsumerWrite, writeAllocations } from '../domain/allocation-write.ts';
import { type Inventory, toInventory } from '../domain/snapshot.ts';
import { Codes, PlacementErrors } from '../errors.ts';
import { unknownResourceClasses } from '../store/catalog.ts';
import {
  authorize,
  casGeneration,
  extractJson,
  findProvider,
  mvOf,
  normalizeUuid,
  PREFIX,
  requireJson,
  requireVersion,
} from './common.ts';
import { replaceInventories } from './inventories.ts';
import { POST_RESHAPER, POST_RESHAPER_1_34, POST_RESHAPER_1_38 } from './schemas.ts';

const DEFAULTS = { reserved: 0, min_unit: 1, max_unit: 0x7fffffff, step_size: 1, allocation_ratio: 1.0 };

async function reshape(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.30');
  requireJson(ctx);
  authorize(ctx, 'placement:reshaper:reshape');
  const mv = mvOf(ctx);
  const schema = mv.atLeast('1.38')
    ? POST_RESHAPER_1_38
    : mv.atLeast('1.34')
      ? POST_RESHAPER_1_34
      : POST_RESHAPER;
  const data = extractJson(ctx, schema);
  const plan: { uuid: string; generation: number; inventories: Record<string, Inventory> }[] = [];
  for (const [raw, entry] of Object.entries(data.inventories as Record<string, Record<string, unknown>>)) {
    const uuid = normalizeUuid(raw);
    const rp = await findProvider(px.db, uuid);
    if (!rp) {
      throw PlacementErrors.badRequest(
        `Resource provider ${uuid} in inventories not found: No resource provider with uuid ${uuid} found`,
        Codes.RESOURCE_PROVIDER_NOT_FOUND,
      );
    }
    const given = entry['resource_provider_generation'];
    if (given !== rp.generation) {
      throw PlacementErrors.concurrent(
        `resource provider generation conflict for provider ${uuid}: actual: ${rp.generation}, given: ${given}`,
      );
    }
    const inventories: Record<string, Inventory> = {};
    for (const [rc, inv] of Object.entries(entry['inventories'] as Record<string, Partial<Inventory>>)) {
      inventories[rc] = { ...DEFAULTS, ...inv } as Inventory;
    }
    const unknown = await unknownResourceClasses(px.db, Object.keys(inventories));
    if (unknown.length)
      throw PlacementErrors.badRequest(`malformed reshaper data: No such resource class ${unknown[0]}.`);
    plan.push({ uuid, generation: rp.generation, inventories });
  }
  const writes: ConsumerWrite[] = Object.entries(
    data.allocations as Record<string, Record<string, unknown>>,
  ).map(([uuid, e]) => ({
    uuid: normalizeUuid(uuid),
    projectId: e['project_id'] as string,
    userId: e['user_id'] as string,
    generation: e['consumer_generation'] as number | null,
    consumerType: mv.atLeast('1.38') ? (e['consumer_type'] as string) : undefined,
    allocations: Object.fromEntries(
      Object.entries(e['allocations'] as Record<string, { resources: Record<string, number> }>).map(
        ([rp, a]) => [normalizeUuid(rp), a.resources],
      ),
    ),
  }));
  const now = px.nowIso();
  await px.write(async (trx, record) => {
    for (const p of plan.sort((a, b) => (a.uuid < b.uuid ? -1 : 1))) {
      if (!(await casGeneration(trx, p.uuid, p.generation, now))) {
        throw PlacementErrors.concurrent(
          'update conflict: Another thread concurrently updated the resource provider data. Please retry your update',
        );
      }
      // Add and update first, keeping the classes not listed until the allocations have moved off them.
      const rows = await trx
        .selectFrom('placement_inventories')
        .selectAll()
        .where('rp_uuid', '=', p.uuid)
        .execute();
      const merged: Record<string, Inventory> = { ...p.inventories };
      for (const r of rows) if (!(r.resource_class in merged)) merged[r.resource_class] = toInventory(r);
      await replaceInventories(px, trx, p.uuid, merged, now);
    }
    await writeAllocations(trx, writes, { checkGeneration: true, now });
    for (const p of plan) {
      try {
        await replaceInventories(px, trx, p.uuid, p.inventories, now);
      } catch (err) {
        const e = err as { code?: string; message?: string };
        if (e.code === Codes.INVENTORY_INUSE) {
          throw PlacementErrors.conflict(`update conflict: ${e.message}`, Codes.INVENTORY_INUSE);
        }
        throw err;
      }
      record({ kind: 'inventory', id: p.uuid, action: 'update' });
    }
    for (const w of writes)
      record({ kind: 'allocation', id: w.uuid, action: 'update', projectId: w.projectId });
  });
  return { status: 204 };
}

export function reshaperRoutes(px: PlacementContext): Route[] {
  return [{ method: 'POST', path: `${PREFIX}/reshaper`, handler: (ctx) => reshape(px, ctx) }];
}
