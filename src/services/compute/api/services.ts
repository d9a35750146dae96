// /os-services (nova/api/openstack/compute/services.py): the nova-compute service of each compute host plus
// this control plane's nova-scheduler and nova-conductor; enable/disable/force-down, and delete.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { hostZones, INTERNAL_ZONE } from '../domain/zones.ts';
import type { HostRow } from '../store/tables.ts';
import { V } from './flavors.ts';
import { intId, isUuidLike, naive, strictBool, strictQuery, validateBody } from './resource-common.ts';
import { serviceUpdate } from './schemas/services.schema.ts';

/** A service as the API renders it. */
export interface ServiceRecord {
  id: number;
  uuid: string;
  binary: string;
  host: string;
  zone: string;
  disabled: boolean;
  disabled_reason: string | null;
  forced_down: boolean;
  updated_at: string | null;
  up: boolean;
  /** The compute host row, for nova-compute services. */
  row?: HostRow;
}

const CONTROL_BINARIES = ['nova-conductor', 'nova-scheduler'] as const;
/** Service ids 1 and 2 belong to the control plane; a compute host's service id is its row id + 2. */
const CONTROL_IDS = 2;

export function serviceIdOf(row: Pick<HostRow, 'id'>): number {
  return Number(row.id) + CONTROL_IDS;
}

/** A stable uuid for a control-plane service, derived from the machine's name and the binary. */
function derivedUuid(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex');
  const v = ((Number.parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${v}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** servicegroup's service_is_up: not forced down and a heartbeat within service_down_time. */
export function hostIsUp(cx: ComputeContext, row: HostRow): boolean {
  if (row.forced_down === 1 || !row.heartbeat_at) return false;
  return cx.clock.now() - Date.parse(row.heartbeat_at) <= cx.config.service_down_time * 1000;
}

/** Every service: the control plane's (always up) and one nova-compute per compute host. */
export async function allServices(cx: ComputeContext): Promise<ServiceRecord[]> {
  const host = hostname();
  const now = naive(new Date(cx.clock.now()).toISOString());
  const out: ServiceRecord[] = CONTROL_BINARIES.map((binary, i) => ({
    id: i + 1,
    uuid: derivedUuid(`${host}/${binary}`),
    binary,
    host,
    zone: INTERNAL_ZONE,
    disabled: false,
    disabled_reason: null,
    forced_down: false,
    updated_at: now,
    up: true,
  }));
  const zones = await hostZones(cx);
  const rows = await cx.db.selectFrom('compute_hosts').selectAll().orderBy('id').execute();
  for (const r of rows) {
    out.push({
      id: serviceIdOf(r),
      uuid: r.uuid,
      binary: r.binary,
      host: r.host,
      zone: zones.get(r.host) ?? cx.config.default_availability_zone,
      disabled: r.disabled === 1,
      disabled_reason: r.disabled_reason,
      forced_down: r.forced_down === 1,
      updated_at: naive(r.heartbeat_at ?? r.updated_at ?? r.created_at),
      up: hostIsUp(cx, r),
      row: r,
    });
  }
  return out;
}

function detail(ctx: RouteContext, s: ServiceRecord, forcedDown: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    binary: s.binary,
    host: s.host,
    id: ctx.mv!.atLeast('2.53') ? s.uuid : s.id,
    zone: s.zone,
    status: s.disabled ? 'disabled' : 'enabled',
    state: s.up ? 'up' : 'down',
    updated_at: s.updated_at,
    disabled_reason: s.disabled_reason,
  };
  if (forcedDown) out['forced_down'] = s.forced_down;
  return out;
}

async function list(cx: ComputeContext, ctx: RouteContext) {
  strictQuery(ctx, ['host', 'binary']);
  ctx.authorize('os_compute_api:os-services:list', {});
  const host = queryOne(ctx.query, 'host');
  const binary = queryOne(ctx.query, 'binary');
  const services = (await allServices(cx)).filter(
    (s) => (!host || s.host === host) && (!binary || s.binary === binary),
  );
  return { body: { services: services.map((s) => detail(ctx, s, ctx.mv!.atLeast('2.11'))) } };
}

function onlyCompute(binary: string): ApiError {
  return new ApiError(
    400,
    'BadRequest',
    `Updating a ${binary} service is not supported. Only nova-compute services can be updated.`,
  );
}

/** Refuses forcing a host up while `done` evacuations from it remain (services._check_for_evacuations). */
async function checkEvacuations(cx: ComputeContext, host: string): Promise<void> {
  const m = await cx.db
    .selectFrom('compute_migrations')
    .select('id')
    .where('source_compute', '=', host)
    .where('status', '=', 'done')
    .where('migration_type', '=', 'evacuation')
    .executeTakeFirst();
  if (m) {
    throw new ApiError(
      400,
      'BadRequest',
      `Unable to force up host ${host} as \`done\` evacuation migration records remain associated with the host. Ensure the compute service has been restarted, allowing these records to move to \`completed\` before retrying this request.`,
    );
  }
}

async function saveHost(cx: ComputeContext, row: HostRow, set: Partial<HostRow>): Promise<void> {
  await cx.write(async (trx, record) => {
    await trx
      .updateTable('compute_hosts')
      .set({ ...set, updated_at: cx.nowIso() })
      .where('id', '=', row.id)
      .execute();
    record({ kind: 'compute_host', id: row.host, action: 'update' });
  });
}

/** Before 2.53: PUT /os-services/{enable|disable|disable-log-reason|force-down} naming host and binary. */
async function legacyUpdate(cx: ComputeContext, ctx: RouteContext, action: string) {
  validateBody(ctx, serviceUpdate);
  ctx.authorize('os_compute_api:os-services:update', {});
  const actions = [
    'enable',
    'disable',
    'disable-log-reason',
    ...(ctx.mv!.atLeast('2.11') ? ['force-down'] : []),
  ];
  if (!actions.includes(action)) throw new ApiError(404, 'NotFound', 'Unknown action');
  const body = ctx.body as { host: string; binary: string; disabled_reason?: string; forced_down?: unknown };
  let set: Partial<HostRow>;
  let view: Record<string, unknown>;
  if (action === 'force-down') {
    if (body.forced_down === undefined) throw new ApiError(400, 'BadRequest', 'Missing forced_down field');
    const down = strictBool(body.forced_down);
    set = { forced_down: down ? 1 : 0 };
    view = { host: body.host, binary: body.binary, forced_down: down };
    if (body.binary === 'nova-compute' && !down) await checkEvacuations(cx, body.host);
  } else if (action === 'enable') {
    set = { disabled: 0, disabled_reason: null };
    view = { host: body.host, binary: body.binary, status: 'enabled' };
  } else {
    if (action === 'disable-log-reason' && body.disabled_reason === undefined) {
      throw new ApiError(400, 'BadRequest', 'Missing disabled reason field');
    }
    const reason = action === 'disable-log-reason' ? (body.disabled_reason ?? null) : null;
    set = { disabled: 1, disabled_reason: reason };
    view = { host: body.host, binary: body.binary, status: 'disabled' };
    if (reason) view['disabled_reason'] = reason;
  }
  if (body.binary !== 'nova-compute') throw onlyCompute(body.binary);
  const row = await cx.db
    .selectFrom('compute_hosts')
    .selectAll()
    .where('host', '=', body.host)
    .where('binary', '=', body.binary)
    .executeTakeFirst();
  if (!row) {
    throw new ApiError(
      404,
      'HostBinaryNotFound',
      `Could not find binary ${body.binary} on host ${body.host}.`,
    );
  }
  await saveHost(cx, row, set);
  return { body: { service: view } };
}

/** From 2.53: PUT /os-services/{uuid} with status, disabled_reason and forced_down. */
async function update(cx: ComputeContext, ctx: RouteContext) {
  const id = ctx.params['service_id'] ?? '';
  if (!ctx.mv!.atLeast('2.53')) return legacyUpdate(cx, ctx, id);
  validateBody(ctx, serviceUpdate);
  if (!isUuidLike(id)) throw new ApiError(400, 'BadRequest', `Invalid uuid ${id}`);
  ctx.authorize('os_compute_api:os-services:update', {});
  const svc = (await allServices(cx)).find((s) => s.uuid === id);
  if (!svc) throw new ApiError(404, 'ServiceNotFound', `Service ${id} could not be found.`);
  if (svc.binary !== 'nova-compute' || !svc.row) throw onlyCompute(svc.binary);
  const body = ctx.body as { status?: string; disabled_reason?: string; forced_down?: unknown };
  const set: Partial<HostRow> = {};
  if (body.status === 'enabled') {
    if (body.disabled_reason) {
      throw new ApiError(400, 'BadRequest', "Specifying 'disabled_reason' with status 'enabled' is invalid.");
    }
    set.disabled = 0;
    set.disabled_reason = null;
  } else if (body.status === 'disabled') {
    set.disabled = 1;
    set.disabled_reason = body.disabled_reason ?? null;
  }
  if (body.forced_down !== undefined) {
    const down = strictBool(body.forced_down);
    set.forced_down = down ? 1 : 0;
    if (!down) await checkEvacuations(cx, svc.host);
  }
  if (Object.keys(set).length === 0) {
    throw new ApiError(
      400,
      'BadRequest',
      "No updates were requested. Fields 'status' or 'forced_down' should be specified.",
    );
  }
  await saveHost(cx, svc.row, set);
  const after = (await allServices(cx)).find((s) => s.uuid === id)!;
  return { body: { service: detail(ctx, after, true) } };
}

async function remove(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-services:delete', {});
  const id = ctx.params['service_id'] ?? '';
  const byUuid = ctx.mv!.atLeast('2.53');
  if (byUuid && !isUuidLike(id)) throw new ApiError(400, 'BadRequest', `Invalid uuid ${id}`);
  const num = byUuid ? undefined : intId(id);
  const svc = (await allServices(cx)).find((s) => (byUuid ? s.uuid === id : s.id === num));
  if (!svc) throw new ApiError(404, 'ServiceNotFound', `Service ${id} not found.`);
  if (!svc.row) {
    throw new ApiError(409, 'Conflict', `Unable to delete the ${svc.binary} service of this control plane.`);
  }
  const row = svc.row;
  await cx.write(async (trx, record) => {
    const hosted = await trx
      .selectFrom('compute_servers')
      .select('id')
      .where('host', '=', row.host)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    if (hosted) {
      throw new ApiError(
        409,
        'Conflict',
        'Unable to delete compute service that is hosting instances. Migrate or delete the instances first.',
      );
    }
    const moving = await trx
      .selectFrom('compute_migrations')
      .select('id')
      .where((eb) => eb.or([eb('source_compute', '=', row.host), eb('dest_compute', '=', row.host)]))
      .where('status', 'not in', [
        'confirmed',
        'reverted',
        'error',
        'failed',
        'completed',
        'cancelled',
        'done',
      ])
      .executeTakeFirst();
    if (moving) {
      throw new ApiError(
        409,
        'Conflict',
        'Unable to delete compute service that has in-progress migrations. Complete the migrations or delete the instances first.',
      );
    }
    await trx.deleteFrom('compute_aggregate_hosts').where('host', '=', row.host).execute();
    await trx.deleteFrom('compute_hosts').where('id', '=', row.id).execute();
    record({ kind: 'compute_host', id: row.host, action: 'delete' });
  });
  // The host's resource provider goes too (Nova deletes it with cascade); a failure leaves it for cleanup.
  try {
    await cx.placement.deleteResourceProvider(row.node_uuid);
  } catch (err) {
    cx.log.warn(
      { err, rp: row.node_uuid },
      'could not delete the resource provider of a deleted compute service',
    );
  }
  return { status: 204 };
}

export function serviceRoutes(cx: ComputeContext): Route[] {
  return [
    { method: 'GET', path: `${V}/os-services`, handler: (ctx) => list(cx, ctx) },
    { method: 'PUT', path: `${V}/os-services/:service_id`, handler: (ctx) => update(cx, ctx) },
    { method: 'DELETE', path: `${V}/os-services/:service_id`, handler: (ctx) => remove(cx, ctx) },
  ];
}
