// /resource_providers/{uuid}/inventories[/{resource_class}]: list, create, show, update, replace all and
// delete, guarded by the provider generation (placement/handlers/inventory.py).
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { PlacementContext, PlacementTrx } from '../context.ts';
import { capacityOf, type Inventory, toInventory } from '../domain/snapshot.ts';
import { Codes, PlacementErrors } from '../errors.ts';
import { unknownResourceClasses } from '../store/catalog.ts';
import {
  authorize,
  cacheHeaders,
  casGeneration,
  extractJson,
  getProvider,
  latest,
  mvOf,
  PREFIX,
  providerUrl,
  requireJson,
  requireVersion,
} from './common.ts';
import { BASE_INVENTORY, POST_INVENTORY, PUT_INVENTORIES } from './schemas.ts';

const MAX_INT = 0x7fffffff;
const DEFAULTS: Omit<Inventory, 'total'> = {
  reserved: 0,
  min_unit: 1,
  max_unit: MAX_INT,
  step_size: 1,
  allocation_ratio: 1.0,
};
const FIELDS = ['total', 'reserved', 'min_unit', 'max_unit', 'step_size', 'allocation_ratio'] as const;

function withDefaults(data: Record<string, unknown>): Inventory {
  const inv = { ...DEFAULTS } as Inventory;
  for (const f of FIELDS) if (data[f] !== undefined) inv[f] = Number(data[f]);
  return inv;
}

export function serializeInventory(inv: Inventory, generation?: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = inv[f];
  if (generation) out['resource_provider_generation'] = generation;
  return out;
}

/** _validate_inventory_capacity: capacity must be positive (from 1.26 reserved may equal total). */
function checkCapacity(ctx: RouteContext, rc: string, rpUuid: string, inv: Inventory, prefix: string): void {
  const cap = capacityOf(inv);
  const reservedCanBeTotal = mvOf(ctx).atLeast('1.26');
  if (reservedCanBeTotal ? cap < 0 : cap <= 0) {
    const tail = reservedCanBeTotal
      ? 'The reserved value is greater than total.'
      : 'The reserved value is greater than or equal to total.';
    throw PlacementErrors.badRequest(
      `${prefix}: Invalid inventory for '${rc}' on resource provider '${rpUuid}'. ${tail}`,
    );
  }
}

async function readInventories(trx: PlacementTrx | PlacementContext['db'], rpUuid: string) {
  return trx.selectFrom('placement_inventories').selectAll().where('rp_uuid', '=', rpUuid).execute();
}

/** The classes among `classes` that have allocations on the provider. */
async function inUse(trx: PlacementTrx, rpUuid: string, classes: string[]): Promise<string[]> {
  if (classes.length === 0) return [];
  const rows = await trx
    .selectFrom('placement_allocations')
    .select('resource_class')
    .distinct()
    .where('rp_uuid', '=', rpUuid)
    .where('resource_class', 'in', classes)
    .execute();
  return rows.map((r) => r.resource_class);
}

const CONCURRENT = 'Another thread concurrently updated the resource provider data. Please retry your update';

async function listInventories(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  authorize(ctx, 'placement:resource_providers:inventories:list');
  const uuid = ctx.params['uuid'] ?? '';
  const msg = `No resource provider with uuid ${uuid} found`;
  const rp = await getProvider(px.db, uuid, `${msg} : ${msg}`);
  const rows = await readInventories(px.db, uuid);
  const inventories: Record<string, unknown> = {};
  for (const r of rows) inventories[r.resource_class] = serializeInventory(toInventory(r));
  return {
    body: { resource_provider_generation: rp.generation, inventories },
    headers: cacheHeaders(ctx, latest(rows.map((r) => r.updated_at))),
  };
}

async function showInventory(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  authorize(ctx, 'placement:resource_providers:inventories:show');
  const uuid = ctx.params['uuid'] ?? '';
  const rc = ctx.params['resource_class'] ?? '';
  const msg = `No resource provider with uuid ${uuid} found`;
  const rp = await getProvider(px.db, uuid, `${msg} : ${msg}`);
  const row = (await readInventories(px.db, uuid)).find((r) => r.resource_class === rc);
  if (!row) throw PlacementErrors.notFound(`No inventory of class ${rc} for ${uuid}`);
  return {
    body: serializeInventory(toInventory(row), rp.generation),
    headers: cacheHeaders(ctx, row.updated_at),
  };
}

async function createInventory(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireJson(ctx);
  authorize(ctx, 'placement:resource_providers:inventories:create');
  const uuid = ctx.params['uuid'] ?? '';
  const rp = await getProvider(px.db, uuid);
  const data = extractJson(ctx, POST_INVENTORY);
  const rc: string = data.resource_class;
  const inv = withDefaults(data);
  const prefix = `Unable to create inventory for resource provider ${uuid}`;
  checkCapacity(ctx, rc, uuid, inv, prefix);
  if ((await unknownResourceClasses(px.db, [rc])).length) {
    throw PlacementErrors.badRequest(`${prefix}: No such resource class ${rc}.`);
  }
  const now = px.nowIso();
  const generation = await px.write(async (trx, record) => {
    if (!(await casGeneration(trx, uuid, rp.generation, now))) {
      throw PlacementErrors.concurrent(`Update conflict: ${CONCURRENT}`);
    }
    const existing = (await readInventories(trx, uuid)).some((r) => r.resource_class === rc);
    if (existing) {
      throw PlacementErrors.concurrent(
        `Update conflict: (DBDuplicateEntry) inventory of class ${rc} already exists on resource provider ${uuid}`,
      );
    }
    await trx
      .insertInto('placement_inventories')
      .values({ rp_uuid: uuid, resource_class: rc, ...inv, created_at: now, updated_at: now })
      .execute();
    record({ kind: 'inventory', id: uuid, action: 'update' });
    return rp.generation + 1;
  });
  return {
    status: 201,
    body: serializeInventory(inv, generation),
    headers: { location: `${providerUrl(uuid)}/inventories/${rc}`, ...cacheHeaders(ctx, now) },
  };
}

async function updateInventory(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireJson(ctx);
  authorize(ctx, 'placement:resource_providers:inventories:update');
  const uuid = ctx.params['uuid'] ?? '';
  const rc = ctx.params['resource_class'] ?? '';
  const rp = await getProvider(px.db, uuid);
  const data = extractJson(ctx, BASE_INVENTORY);
  if (data.resource_provider_generation !== rp.generation) {
    throw PlacementErrors.concurrent('resource provider generation conflict');
  }
  const inv = withDefaults(data);
  const prefix = `Unable to update inventory for resource provider ${uuid}`;
  checkCapacity(ctx, rc, uuid, inv, prefix);
  if ((await unknownResourceClasses(px.db, [rc])).length) {
    throw PlacementErrors.notFound(`No such resource class ${rc}.`);
  }
  const now = px.nowIso();
  const generation = await px.write(async (trx, record) => {
    if (!(await casGeneration(trx, uuid, rp.generation, now))) {
      throw PlacementErrors.concurrent(`update conflict: ${CONCURRENT}`);
    }
    const res = await trx
      .updateTable('placement_inventories')
      .set({ ...inv, updated_at: now })
      .where('rp_uuid', '=', uuid)
      .where('resource_class', '=', rc)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) {
      throw PlacementErrors.badRequest(
        `No inventory record with resource class for resource provider ${uuid}: No inventory of class ${rc} found.`,
      );
    }
    record({ kind: 'inventory', id: uuid, action: 'update' });
    return rp.generation + 1;
  });
  return { body: serializeInventory(inv, generation), headers: cacheHeaders(ctx, now) };
}

/** Replaces the provider's whole inventory; classes dropped must have no allocations. */
export async function replaceInventories(
  px: PlacementContext,
  trx: PlacementTrx,
  uuid: string,
  inventories: Record<string, Inventory>,
  now: string,
): Promise<void> {
  const current = await readInventories(trx, uuid);
  const dropped = current.map((r) => r.resource_class).filter((rc) => !(rc in inventories));
  const busy = await inUse(trx, uuid, dropped);
  if (busy.length) {
    throw PlacementErrors.conflict(
      `Inventory for '${busy.join(', ')}' on resource provider '${uuid}' in use.`,
      Codes.INVENTORY_INUSE,
    );
  }
  if (dropped.length) {
    await trx
      .deleteFrom('placement_inventories')
      .where('rp_uuid', '=', uuid)
      .where('resource_class', 'in', dropped)
      .execute();
  }
  const have = new Set(current.map((r) => r.resource_class));
  for (const [rc, inv] of Object.entries(inventories)) {
    if (have.has(rc)) {
      const used = await trx
        .selectFrom('placement_allocations')
        .select((eb) => eb.fn.sum<number>('used').as('used'))
        .where('rp_uuid', '=', uuid)
        .where('resource_class', '=', rc)
        .executeTakeFirst();
      // Placement accepts an inventory below current usage and only warns (existing allocations stay).
      if (Number(used?.used ?? 0) > capacityOf(inv)) {
        px.log.warn(
          { rp: uuid, rc, used: Number(used?.used) },
          'inventory update leaves usage above capacity',
        );
      }
      await trx
        .updateTable('placement_inventories')
        .set({ ...inv, updated_at: now })
        .where('rp_uuid', '=', uuid)
        .where('resource_class', '=', rc)
        .execute();
    } else {
      await trx
        .insertInto('placement_inventories')
        .values({ rp_uuid: uuid, resource_class: rc, ...inv, created_at: now, updated_at: now })
        .execute();
    }
  }
}

async function setInventories(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireJson(ctx);
  authorize(ctx, 'placement:resource_providers:inventories:update');
  const uuid = ctx.params['uuid'] ?? '';
  const rp = await getProvider(px.db, uuid);
  const data = extractJson(ctx, PUT_INVENTORIES);
  if (data.resource_provider_generation !== rp.generation) {
    throw PlacementErrors.concurrent('resource provider generation conflict');
  }
  const inventories: Record<string, Inventory> = {};
  for (const [rc, raw] of Object.entries(data.inventories as Record<string, Record<string, unknown>>)) {
    inventories[rc] = withDefaults(raw);
  }
  const unknown = await unknownResourceClasses(px.db, Object.keys(inventories));
  if (unknown.length) {
    throw PlacementErrors.badRequest(
      `Unknown resource class in inventory for resource provider ${uuid}: No such resource class ${unknown[0]}.`,
    );
  }
  for (const [rc, inv] of Object.entries(inventories)) {
    checkCapacity(ctx, rc, uuid, inv, `Unable to update inventory for resource provider ${uuid}`);
  }
  const now = px.nowIso();
  const generation = await px.write(async (trx, record) => {
    if (!(await casGeneration(trx, uuid, rp.generation, now))) {
      throw PlacementErrors.concurrent(`update conflict: ${CONCURRENT}`);
    }
    try {
      await replaceInventories(px, trx, uuid, inventories, now);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (e.code === Codes.INVENTORY_INUSE) {
        throw PlacementErrors.conflict(`update conflict: ${e.message}`, Codes.INVENTORY_INUSE);
      }
      throw err;
    }
    record({ kind: 'inventory', id: uuid, action: 'update' });
    return rp.generation + 1;
  });
  const out: Record<string, unknown> = {};
  for (const [rc, inv] of Object.entries(inventories)) out[rc] = serializeInventory(inv);
  return {
    body: { resource_provider_generation: generation, inventories: out },
    headers: cacheHeaders(ctx, now),
  };
}

async function deleteInventories(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.5', 405);
  authorize(ctx, 'placement:resource_providers:inventories:delete');
  const uuid = ctx.params['uuid'] ?? '';
  const rp = await getProvider(px.db, uuid);
  const now = px.nowIso();
  await px.write(async (trx, record) => {
    if (!(await casGeneration(trx, uuid, rp.generation, now))) {
      throw PlacementErrors.concurrent(
        `Unable to delete inventory for resource provider ${uuid} because the inventory was updated by another process. Please retry your request.`,
      );
    }
    await replaceInventories(px, trx, uuid, {}, now);
    record({ kind: 'inventory', id: uuid, action: 'update' });
  });
  return { status: 204 };
}

async function deleteInventory(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  authorize(ctx, 'placement:resource_providers:inventories:delete');
  const uuid = ctx.params['uuid'] ?? '';
  const rc = ctx.params['resource_class'] ?? '';
  const rp = await getProvider(px.db, uuid);
  if ((await unknownResourceClasses(px.db, [rc])).length) {
    throw PlacementErrors.notFound(`No such resource class ${rc}.`);
  }
  const now = px.nowIso();
  await px.write(async (trx, record) => {
    if (!(await casGeneration(trx, uuid, rp.generation, now))) {
      throw PlacementErrors.concurrent(`Unable to delete inventory of class ${rc}: ${CONCURRENT}`);
    }
    const busy = await inUse(trx, uuid, [rc]);
    if (busy.length) {
      throw PlacementErrors.concurrent(
        `Unable to delete inventory of class ${rc}: Inventory for '${rc}' on resource provider '${uuid}' in use.`,
      );
    }
    const res = await trx
      .deleteFrom('placement_inventories')
      .where('rp_uuid', '=', uuid)
      .where('resource_class', '=', rc)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) {
      const m = `No inventory of class ${rc} found for delete`;
      throw PlacementErrors.notFound(`${m}: ${m}`);
    }
    record({ kind: 'inventory', id: uuid, action: 'update' });
  });
  return { status: 204 };
}

export function inventoryRoutes(px: PlacementContext): Route[] {
  const base = `${PREFIX}/resource_providers/:uuid/inventories`;
  const one = `${base}/:resource_class`;
  return [
    { method: 'GET', path: base, handler: (ctx) => listInventories(px, ctx) },
    { method: 'POST', path: base, handler: (ctx) => createInventory(px, ctx) },
    { method: 'PUT', path: base, handler: (ctx) => setInventories(px, ctx) },
    { method: 'DELETE', path: base, handler: (ctx) => deleteInventories(px, ctx) },
    { method: 'GET', path: one, handler: (ctx) => showInventory(px, ctx) },
    { method: 'PUT', path: one, handler: (ctx) => updateInventory(px, ctx) },
    { method: 'DELETE', path: one, handler: (ctx) => deleteInventory(px, ctx) },
  ];
}
