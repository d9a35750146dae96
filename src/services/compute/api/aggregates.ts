// /os-aggregates (nova/api/openstack/compute/aggregates.py): host aggregates, their hosts and metadata (whose
// availability_zone key makes a zone), mirrored into placement as resource provider aggregates.
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext, ComputeTrx } from '../context.ts';
import { aggregateZone } from '../domain/zones.ts';
import type { AggregateRow } from '../store/tables.ts';
import { parseJson } from './common.ts';
import { V } from './flavors.ts';
import { intId, naive, validateBody } from './resource-common.ts';
import {
  aggregateAddHost,
  aggregateCreate,
  aggregateRemoveHost,
  aggregateSetMetadata,
  aggregateUpdate,
} from './schemas/aggregates.schema.ts';

type Meta = Record<string, string>;

async function view(cx: ComputeContext | ComputeTrx, ctx: RouteContext, row: AggregateRow, full = true) {
  const db = 'db' in cx ? cx.db : cx;
  const meta = parseJson<Meta>(row.metadata, {});
  const out: Record<string, unknown> = {
    availability_zone: meta['availability_zone'] ?? null,
    created_at: naive(row.created_at),
    deleted: false,
    deleted_at: null,
  };
  if (full) {
    const hosts = await db
      .selectFrom('compute_aggregate_hosts')
      .select('host')
      .where('aggregate_id', '=', Number(row.id))
      .orderBy('host')
      .execute();
    out['hosts'] = hosts.map((h) => h.host);
  }
  out['id'] = Number(row.id);
  if (full) out['metadata'] = meta;
  out['name'] = row.name;
  out['updated_at'] = naive(row.updated_at);
  if (ctx.mv!.atLeast('2.41')) out['uuid'] = row.uuid;
  return out;
}

async function findAggregate(db: ComputeContext['db'] | ComputeTrx, raw: string): Promise<AggregateRow> {
  const id = intId(raw);
  const row = await db.selectFrom('compute_aggregates').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new ApiError(404, 'AggregateNotFound', `Aggregate ${raw} could not be found.`);
  return row;
}

function invalid(kind: 'add' | 'update' | 'meta', id: number, reason: string): ApiError {
  const lead = {
    add: `Cannot add host to aggregate ${id}`,
    update: `Cannot update aggregate ${id}`,
    meta: `Cannot update metadata of aggregate ${id}`,
  }[kind];
  return new ApiError(kind === 'add' ? 409 : 400, 'InvalidAggregateAction', `${lead}. Reason: ${reason}.`);
}

/** AggregateAPI.is_safe_to_update_az: a new zone must not split hosts across zones or strand their servers. */
async function checkZoneChange(
  trx: ComputeTrx,
  row: AggregateRow,
  zone: string | null | undefined,
  hosts: string[],
  kind: 'add' | 'update' | 'meta',
  checkInstances: boolean,
): Promise<void> {
  if (zone === undefined) return;
  if (!zone)
    throw invalid(
      kind,
      Number(row.id),
      `Aggregate ${row.name} does not support empty named availability zone`,
    );
  if (hosts.length === 0) return;
  const others = await trx
    .selectFrom('compute_aggregate_hosts')
    .innerJoin('compute_aggregates', 'compute_aggregates.id', 'compute_aggregate_hosts.aggregate_id')
    .select(['compute_aggregates.id', 'compute_aggregates.metadata'])
    .where('compute_aggregate_hosts.host', 'in', hosts)
    .execute();
  const conflicting = others
    .filter((o) => Number(o.id) !== Number(row.id))
    .map((o) => aggregateZone(o.metadata))
    .filter((z): z is string => z !== undefined && z !== zone);
  if (conflicting.length > 0) {
    throw invalid(
      kind,
      Number(row.id),
      `One or more hosts already in availability zone(s) [${conflicting.map((z) => `'${z}'`).join(', ')}]`,
    );
  }
  if (checkInstances && aggregateZone(row.metadata) !== zone) {
    const busy = await trx
      .selectFrom('compute_servers')
      .select('id')
      .where('host', 'in', hosts)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    if (busy) throw invalid(kind, Number(row.id), 'One or more hosts contain instances in this zone');
  }
}

async function hostsOf(trx: ComputeTrx | ComputeContext['db'], id: number): Promise<string[]> {
  const rows = await trx
    .selectFrom('compute_aggregate_hosts')
    .select('host')
    .where('aggregate_id', '=', id)
    .execute();
  return rows.map((r) => r.host);
}

async function index(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-aggregates:index', {});
  const rows = await cx.db.selectFrom('compute_aggregates').selectAll().orderBy('id').execute();
  return { body: { aggregates: await Promise.all(rows.map((r) => view(cx, ctx, r))) } };
}

async function show(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-aggregates:show', {});
  return { body: { aggregate: await view(cx, ctx, await findAggregate(cx.db, ctx.params['id'] ?? '')) } };
}

function nameExists(name: string): ApiError {
  return new ApiError(409, 'AggregateNameExists', `Aggregate ${name} already exists.`);
}

async function create(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, aggregateCreate);
  ctx.authorize('os_compute_api:os-aggregates:create', {});
  const v = (ctx.body as { aggregate: { name: string; availability_zone?: string | null } }).aggregate;
  const name = v.name.trim();
  const zone = v.availability_zone ? v.availability_zone.trim() : null;
  const row = await cx.write(async (trx, record) => {
    const dup = await trx
      .selectFrom('compute_aggregates')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirst();
    if (dup) throw nameExists(name);
    const values = {
      uuid: cx.ids.uuid(),
      name,
      metadata: JSON.stringify(zone ? { availability_zone: zone } : {}),
      created_at: cx.nowIso(),
      updated_at: null,
    };
    await trx.insertInto('compute_aggregates').values(values).execute();
    const r = await trx
      .selectFrom('compute_aggregates')
      .selectAll()
      .where('uuid', '=', values.uuid)
      .executeTakeFirstOrThrow();
    record({ kind: 'aggregate', id: String(r.id), action: 'create' });
    return r;
  });
  return { body: { aggregate: await view(cx, ctx, row, false) } };
}

async function update(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, aggregateUpdate);
  ctx.authorize('os_compute_api:os-aggregates:update', {});
  const v = (ctx.body as { aggregate: { name?: string; availability_zone?: string | null } }).aggregate;
  const row = await cx.write(async (trx, record) => {
    const r = await findAggregate(trx, ctx.params['id'] ?? '');
    const set: Partial<AggregateRow> = { updated_at: cx.nowIso() };
    if (v.name !== undefined) {
      const name = v.name.trim();
      const dup = await trx
        .selectFrom('compute_aggregates')
        .select('id')
        .where('name', '=', name)
        .where('id', '!=', Number(r.id))
        .executeTakeFirst();
      if (dup) throw nameExists(name);
      set.name = name;
    }
    if ('availability_zone' in v) {
      const zone = v.availability_zone;
      await checkZoneChange(trx, r, zone ?? '', await hostsOf(trx, Number(r.id)), 'update', true);
      set.metadata = JSON.stringify({ ...parseJson<Meta>(r.metadata, {}), availability_zone: zone });
    }
    await trx.updateTable('compute_aggregates').set(set).where('id', '=', Number(r.id)).execute();
    record({ kind: 'aggregate', id: String(r.id), action: 'update' });
    return { ...r, ...set } as AggregateRow;
  });
  return { body: { aggregate: await view(cx, ctx, row) } };
}

async function remove(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-aggregates:delete', {});
  await cx.write(async (trx, record) => {
    const r = await findAggregate(trx, ctx.params['id'] ?? '');
    if ((await hostsOf(trx, Number(r.id))).length > 0) {
      throw new ApiError(
        400,
        'InvalidAggregateAction',
        `Cannot remove host from aggregate ${r.id}. Reason: Host aggregate is not empty.`,
      );
    }
    await trx.deleteFrom('compute_aggregates').where('id', '=', Number(r.id)).execute();
    record({ kind: 'aggregate', id: String(r.id), action: 'delete' });
  });
  return { status: 200 };
}

/** The placement aggregates a host's provider should have after adding or removing one aggregate. */
async function mirror(cx: ComputeContext, host: string, aggUuid: string, add: boolean): Promise<void> {
  const node = await cx.db
    .selectFrom('compute_hosts')
    .select('node_uuid')
    .where('host', '=', host)
    .executeTakeFirst();
  if (!node) return;
  // Placement's aggregates of the provider are this host's aggregates (the one at hand included).
  const rows = await cx.db
    .selectFrom('compute_aggregate_hosts')
    .innerJoin('compute_aggregates', 'compute_aggregates.id', 'compute_aggregate_hosts.aggregate_id')
    .select('compute_aggregates.uuid')
    .where('compute_aggregate_hosts.host', '=', host)
    .execute();
  const current = rows.map((r) => r.uuid);
  const next = add ? [...new Set([...current, aggUuid])] : current.filter((u) => u !== aggUuid);
  await cx.placement.setAggregates(node.node_uuid, next);
}

async function addHost(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, aggregateAddHost);
  ctx.authorize('os_compute_api:os-aggregates:add_host', {});
  const host = (ctx.body as { add_host: { host: string } }).add_host.host;
  const row = await cx.write(async (trx, record) => {
    const exists = await trx
      .selectFrom('compute_hosts')
      .select('host')
      .where('host', '=', host)
      .executeTakeFirst();
    if (!exists) throw new ApiError(404, 'ComputeHostNotFound', `Compute host ${host} could not be found.`);
    const r = await findAggregate(trx, ctx.params['id'] ?? '');
    const hosts = await hostsOf(trx, Number(r.id));
    if (hosts.includes(host))
      throw new ApiError(409, 'AggregateHostExists', `Aggregate ${r.id} already has host ${host}.`);
    await checkZoneChange(trx, r, aggregateZone(r.metadata), [host], 'add', false);
    await trx
      .insertInto('compute_aggregate_hosts')
      .values({ aggregate_id: Number(r.id), host })
      .execute();
    record({ kind: 'aggregate', id: String(r.id), action: 'update' });
    return r;
  });
  // As Nova: the membership stands even when placement cannot be told (a later sync corrects it).
  try {
    await mirror(cx, host, row.uuid, true);
  } catch (err) {
    cx.log.warn({ err, host }, 'failed to associate the host with a placement aggregate');
  }
  return { body: { aggregate: await view(cx, ctx, row) } };
}

async function removeHost(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, aggregateRemoveHost);
  ctx.authorize('os_compute_api:os-aggregates:remove_host', {});
  const host = (ctx.body as { remove_host: { host: string } }).remove_host.host;
  const rawId = ctx.params['id'] ?? '';
  const cannot = (status: number) =>
    new ApiError(status, 'InvalidAggregateAction', `Cannot remove host ${host} in aggregate ${rawId}`);
  const r = await findAggregate(cx.db, rawId).catch(() => {
    throw cannot(404);
  });
  if (!(await hostsOf(cx.db, Number(r.id))).includes(host)) throw cannot(404);
  // Placement first, as Nova: a conflict there leaves the membership untouched.
  try {
    await mirror(cx, host, r.uuid, false);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) {
      cx.log.warn({ err, host }, 'failed to remove the host from a placement aggregate');
      throw cannot(409);
    }
  }
  const row = await cx.write(async (trx, record) => {
    const res = await trx
      .deleteFrom('compute_aggregate_hosts')
      .where('aggregate_id', '=', Number(r.id))
      .where('host', '=', host)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw cannot(404);
    record({ kind: 'aggregate', id: String(r.id), action: 'update' });
    return r;
  });
  return { body: { aggregate: await view(cx, ctx, row) } };
}

async function setMetadata(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, aggregateSetMetadata);
  ctx.authorize('os_compute_api:os-aggregates:set_metadata', {});
  const updates = (ctx.body as { set_metadata: { metadata: Record<string, string | null> } }).set_metadata
    .metadata;
  const row = await cx.write(async (trx, record) => {
    const r = await findAggregate(trx, ctx.params['id'] ?? '');
    if ('availability_zone' in updates) {
      await checkZoneChange(
        trx,
        r,
        updates['availability_zone'] ?? '',
        await hostsOf(trx, Number(r.id)),
        'meta',
        true,
      );
    }
    const meta = parseJson<Meta>(r.metadata, {});
    for (const [k, val] of Object.entries(updates)) {
      if (val === null) delete meta[k];
      else meta[k] = val;
    }
    const set = { metadata: JSON.stringify(meta), updated_at: cx.nowIso() };
    await trx.updateTable('compute_aggregates').set(set).where('id', '=', Number(r.id)).execute();
    record({ kind: 'aggregate', id: String(r.id), action: 'update' });
    return { ...r, ...set };
  });
  return { body: { aggregate: await view(cx, ctx, row) } };
}

async function action(cx: ComputeContext, ctx: RouteContext) {
  const body = (ctx.body ?? {}) as Record<string, unknown>;
  if ('add_host' in body) return addHost(cx, ctx);
  if ('remove_host' in body) return removeHost(cx, ctx);
  if ('set_metadata' in body) return setMetadata(cx, ctx);
  throw new ApiError(400, 'BadRequest', `There is no such action: ${Object.keys(body).join(',')}`);
}

export function aggregateRoutes(cx: ComputeContext): Route[] {
  const base = `${V}/os-aggregates`;
  return [
    { method: 'GET', path: base, handler: (ctx) => index(cx, ctx) },
    { method: 'POST', path: base, handler: (ctx) => create(cx, ctx) },
    { method: 'GET', path: `${base}/:id`, handler: (ctx) => show(cx, ctx) },
    { method: 'PUT', path: `${base}/:id`, handler: (ctx) => update(cx, ctx) },
    { method: 'DELETE', path: `${base}/:id`, handler: (ctx) => remove(cx, ctx) },
    { method: 'POST', path: `${base}/:id/action`, handler: (ctx) => action(cx, ctx) },
  ];
}
