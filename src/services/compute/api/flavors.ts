// /flavors: list, detail and show (nova/api/openstack/compute/flavors.py) and flavor-manage's create, update
// (2.55 description) and delete. A non-admin sees public flavors plus the private ones its project may use.

import { isUniqueViolation } from '../../../platform/db/errors.ts';
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext, ComputeDb, ComputeTrx } from '../context.ts';
import { ComputeErrors } from '../errors.ts';
import type { FlavorRow } from '../store/tables.ts';
import { limitAndMarker } from './common.ts';
import { flavorFull, flavorList, flavorViewOpts } from './flavors.view.ts';
import { isAdmin, strictBool, strictQuery, validateBody } from './resource-common.ts';
import { flavorCreate, flavorUpdate } from './schemas/flavors.schema.ts';

export const V = '/compute/v2.1';

const SORT_KEYS: Record<string, keyof FlavorRow> = {
  created_at: 'created_at',
  description: 'description',
  disabled: 'disabled',
  ephemeral_gb: 'ephemeral_gb',
  flavorid: 'id',
  id: 'created_at',
  is_public: 'is_public',
  memory_mb: 'memory_mb',
  name: 'name',
  root_gb: 'root_gb',
  rxtx_factor: 'rxtx_factor',
  swap: 'swap',
  updated_at: 'updated_at',
  vcpu_weight: 'id',
  vcpus: 'vcpus',
};
const LIST_PARAMS = ['limit', 'marker', 'is_public', 'minRam', 'minDisk', 'sort_key', 'sort_dir'];

/** Nova's flavor lookup: an admin finds any flavor, anyone else public ones and those shared with its project. */
export async function findFlavor(
  db: ComputeDb | ComputeTrx,
  ctx: RouteContext,
  id: string,
): Promise<FlavorRow> {
  const row = await db.selectFrom('compute_flavors').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw ComputeErrors.flavorNotFound(id);
  if (row.is_public === 1 || isAdmin(ctx)) return row;
  const access = await db
    .selectFrom('compute_flavor_projects')
    .select('project_id')
    .where('flavor_id', '=', id)
    .where('project_id', '=', ctx.auth?.projectId ?? '')
    .executeTakeFirst();
  if (!access) throw ComputeErrors.flavorNotFound(id);
  return row;
}

function intFilter(ctx: RouteContext, name: string): number | undefined {
  const raw = queryOne(ctx.query, name);
  if (raw === undefined) return undefined;
  if (!/^\s*[-+]?\d+\s*$/.test(raw)) throw new ApiError(400, 'BadRequest', `Invalid ${name} filter [${raw}]`);
  return Number(raw);
}

/** is_public for admins: absent → public (plus shared), "none" → all, else a strict boolean. */
function publicFilter(ctx: RouteContext): boolean | null {
  const raw = queryOne(ctx.query, 'is_public');
  if (raw === undefined) return true;
  if (raw.toLowerCase() === 'none') return null;
  try {
    return strictBool(raw);
  } catch {
    throw new ApiError(400, 'BadRequest', `Invalid is_public filter [${raw}]`);
  }
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return a < b ? -1 : 1;
}

async function listRows(
  cx: ComputeContext,
  ctx: RouteContext,
): Promise<{ rows: FlavorRow[]; limit: number }> {
  strictQuery(ctx, LIST_PARAMS);
  const sortKey = queryOne(ctx.query, 'sort_key') || 'flavorid';
  const sortDir = queryOne(ctx.query, 'sort_dir') || 'asc';
  if (!(sortKey in SORT_KEYS)) {
    throw new ApiError(
      400,
      'ValidationError',
      `Invalid input for query parameters sort_key. Value: ${sortKey}. '${sortKey}' is not one of ${JSON.stringify(Object.keys(SORT_KEYS))}`,
    );
  }
  if (sortDir !== 'asc' && sortDir !== 'desc') {
    throw new ApiError(
      400,
      'ValidationError',
      `Invalid input for query parameters sort_dir. Value: ${sortDir}. '${sortDir}' is not one of ['asc', 'desc']`,
    );
  }
  const { limit, marker } = limitAndMarker(ctx, cx.config.max_limit);
  const admin = isAdmin(ctx);
  const isPublic = admin ? publicFilter(ctx) : true;
  const minRam = intFilter(ctx, 'minRam');
  const minDisk = intFilter(ctx, 'minDisk');
  let q = cx.db.selectFrom('compute_flavors').selectAll();
  if (!admin) q = q.where('disabled', '=', 0);
  if (minRam !== undefined) q = q.where('memory_mb', '>=', minRam);
  if (minDisk !== undefined) q = q.where('root_gb', '>=', minDisk);
  let rows = await q.execute();
  if (isPublic !== null) {
    const shared = new Set<string>();
    if (isPublic && ctx.auth?.projectId) {
      const acc = await cx.db
        .selectFrom('compute_flavor_projects')
        .select('flavor_id')
        .where('project_id', '=', ctx.auth.projectId)
        .execute();
      for (const a of acc) shared.add(a.flavor_id);
    }
    rows = rows.filter((r) => (isPublic ? r.is_public === 1 || shared.has(r.id) : r.is_public === 0));
  }
  const col = SORT_KEYS[sortKey]!;
  const dir = sortDir === 'desc' ? -1 : 1;
  rows.sort(
    (a, b) => dir * compare(a[col], b[col]) || compare(a.created_at, b.created_at) || compare(a.id, b.id),
  );
  if (marker !== undefined) {
    const i = rows.findIndex((r) => r.id === marker);
    if (i < 0) throw new ApiError(400, 'BadRequest', `marker [${marker}] not found`);
    rows = rows.slice(i + 1);
  }
  return { rows: rows.slice(0, limit), limit };
}

async function list(cx: ComputeContext, ctx: RouteContext, detail: boolean) {
  const { rows, limit } = await listRows(cx, ctx);
  return { body: flavorList(ctx, rows, detail, limit) };
}

async function show(cx: ComputeContext, ctx: RouteContext) {
  const row = await findFlavor(cx.db, ctx, ctx.params['flavor_id'] ?? '');
  return { body: { flavor: flavorFull(ctx, row, flavorViewOpts(ctx)) } };
}

/** utils.validate_integer: the schema lets numeric strings through, this converts and bounds them. */
function toInt(value: unknown, name: string, min: number): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n))
    throw new ApiError(400, 'InvalidInput', `Invalid input received: ${name} must be an integer`);
  if (n < min) throw new ApiError(400, 'InvalidInput', `Invalid input received: ${name} must be >= ${min}`);
  if (n > 2147483647)
    throw new ApiError(400, 'InvalidInput', `Invalid input received: ${name} must be <= 2147483647`);
  return n;
}

async function create(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, flavorCreate);
  ctx.authorize('os_compute_api:os-flavor-manage:create', {});
  const v = (ctx.body as { flavor: Record<string, unknown> }).flavor;
  const name = String(v['name']).trim();
  const rawId = v['id'];
  const id = rawId === undefined || rawId === null ? cx.ids.uuid() : String(rawId);
  const rxtx = Number(v['rxtx_factor'] ?? 1);
  if (!(rxtx > 0) || rxtx > 3.40282e38) {
    throw new ApiError(
      400,
      'InvalidInput',
      "Invalid input received: 'rxtx_factor' argument must be a float between 0 and 3.40282e+38",
    );
  }
  const row: FlavorRow = {
    id,
    name,
    memory_mb: toInt(v['ram'], 'ram', 1),
    vcpus: toInt(v['vcpus'], 'vcpus', 1),
    root_gb: toInt(v['disk'], 'disk', 0),
    ephemeral_gb: toInt(v['OS-FLV-EXT-DATA:ephemeral'] ?? 0, 'ephemeral', 0),
    swap: toInt(v['swap'] ?? 0, 'swap', 0),
    rxtx_factor: rxtx,
    is_public: strictBool(v['os-flavor-access:is_public'] ?? true) ? 1 : 0,
    disabled: 0,
    description: ctx.mv!.atLeast('2.55') ? ((v['description'] as string | null | undefined) ?? null) : null,
    extra_specs: '{}',
    created_at: cx.nowIso(),
    updated_at: null,
  };
  await cx.write(async (trx, record) => {
    const byId = await trx.selectFrom('compute_flavors').select('id').where('id', '=', id).executeTakeFirst();
    if (byId) throw ComputeErrors.conflict(`Flavor with ID ${id} already exists.`);
    const byName = await trx
      .selectFrom('compute_flavors')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirst();
    if (byName) throw ComputeErrors.conflict(`Flavor with name ${name} already exists.`);
    try {
      await trx.insertInto('compute_flavors').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw ComputeErrors.conflict(`Flavor with name ${name} already exists.`);
      throw err;
    }
    record({ kind: 'flavor', id, action: 'create' });
  });
  return { body: { flavor: flavorFull(ctx, row, flavorViewOpts(ctx)) } };
}

async function update(cx: ComputeContext, ctx: RouteContext) {
  if (!ctx.mv!.atLeast('2.55')) throw new ApiError(404, 'NotFound', 'The resource could not be found.');
  validateBody(ctx, flavorUpdate);
  ctx.authorize('os_compute_api:os-flavor-manage:update', {});
  const id = ctx.params['flavor_id'] ?? '';
  const description = (ctx.body as { flavor: { description: string | null } }).flavor.description;
  const row = await cx.write(async (trx, record) => {
    const r = await findFlavor(trx, ctx, id);
    const updated: FlavorRow = { ...r, description, updated_at: cx.nowIso() };
    await trx
      .updateTable('compute_flavors')
      .set({ description, updated_at: updated.updated_at })
      .where('id', '=', id)
      .execute();
    record({ kind: 'flavor', id, action: 'update' });
    return updated;
  });
  return { body: { flavor: flavorFull(ctx, row, { ...flavorViewOpts(ctx), description: true }) } };
}

async function remove(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-flavor-manage:delete', {});
  const id = ctx.params['flavor_id'] ?? '';
  await cx.write(async (trx, record) => {
    const res = await trx.deleteFrom('compute_flavors').where('id', '=', id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw ComputeErrors.flavorNotFound(id);
    await trx.deleteFrom('compute_flavor_projects').where('flavor_id', '=', id).execute();
    record({ kind: 'flavor', id, action: 'delete' });
  });
  return { status: 202 };
}

export function flavorRoutes(cx: ComputeContext): Route[] {
  return [
    { method: 'GET', path: `${V}/flavors`, handler: (ctx) => list(cx, ctx, false) },
    { method: 'GET', path: `${V}/flavors/detail`, handler: (ctx) => list(cx, ctx, true) },
    { method: 'POST', path: `${V}/flavors`, handler: (ctx) => create(cx, ctx) },
    { method: 'GET', path: `${V}/flavors/:flavor_id`, handler: (ctx) => show(cx, ctx) },
    { method: 'PUT', path: `${V}/flavors/:flavor_id`, handler: (ctx) => update(cx, ctx) },
    { method: 'DELETE', path: `${V}/flavors/:flavor_id`, handler: (ctx) => remove(cx, ctx) },
  ];
}
