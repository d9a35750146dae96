// /servers/{id}/os-instance-actions: the record of operations on a server and their events (deleted servers
// included from 2.21; paging and time filters from 2.58; events for owners from 2.51; host and hostId 2.62;
// event details 2.84).
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { ComputeErrors } from '../errors.ts';
import { findServer, type Server } from '../store/servers.ts';
import type { InstanceActionRow } from '../store/tables.ts';
import { badQuery, limitAndMarker, nextLinks } from './common.ts';
import { naive, strictQuery } from './resource-common.ts';
import { hostIdOf } from './servers.view.ts';

const RULE = 'os_compute_api:os-instance-actions:';
const BASE = '/compute/v2.1/servers/:server_id/os-instance-actions';

type ActionRow = Omit<InstanceActionRow, 'id'> & { id: number };

/** The server, deleted ones too from 2.21; 404 when absent or another project's without the rule. */
async function loadServer(cx: ComputeContext, ctx: RouteContext, rule: string): Promise<Server> {
  const id = ctx.params['server_id']!;
  const auth = ctx.requireAuth();
  const s = await findServer(cx.db, id, { deleted: ctx.mv!.atLeast('2.21') });
  if (!s) throw ComputeErrors.serverNotFound(id);
  const target = { project_id: s.project_id };
  if (s.project_id !== auth.projectId && !ctx.can(rule, target)) throw ComputeErrors.serverNotFound(id);
  ctx.authorize(rule, target);
  return s;
}

function actionView(ctx: RouteContext, a: ActionRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    action: a.action,
    instance_uuid: a.server_id,
    request_id: a.request_id,
    user_id: a.user_id,
    project_id: a.project_id,
    start_time: naive(a.start_time),
    message: a.message,
  };
  if (ctx.mv!.atLeast('2.58')) out['updated_at'] = naive(a.updated_at);
  return out;
}

/** A date-time query parameter as a stored timestamp, or Nova's 400. */
function queryTime(ctx: RouteContext, name: string): string | undefined {
  const v = queryOne(ctx.query, name);
  if (v === undefined) return undefined;
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  if (Number.isNaN(t) || !/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(v))
    throw badQuery(name, v, `'${v}' is not a 'date-time'`);
  return new Date(t).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

async function listActions(cx: ComputeContext, ctx: RouteContext): Promise<RouteResult> {
  const mv = ctx.mv!;
  const s = await loadServer(cx, ctx, `${RULE}list`);
  let q = cx.db.selectFrom('compute_instance_actions').selectAll().where('server_id', '=', s.id);
  if (!mv.atLeast('2.58')) {
    const rows = await q.orderBy('start_time', 'desc').orderBy('id', 'desc').execute();
    return { body: { instanceActions: rows.map((r) => actionView(ctx, { ...r, id: Number(r.id) })) } };
  }
  const allowed = ['limit', 'marker', 'changes-since', ...(mv.atLeast('2.66') ? ['changes-before'] : [])];
  strictQuery(ctx, allowed, '2.58');
  const since = queryTime(ctx, 'changes-since');
  const before = mv.atLeast('2.66') ? queryTime(ctx, 'changes-before') : undefined;
  if (since && before && before < since)
    throw new ApiError(
      400,
      'BadRequest',
      'The value of changes-since must be less than or equal to changes-before.',
    );
  const { limit, marker } = limitAndMarker(ctx, cx.config.max_limit);
  if (since) q = q.where('updated_at', '>=', since);
  if (before) q = q.where('updated_at', '<=', before);
  if (marker !== undefined) {
    const m = await cx.db
      .selectFrom('compute_instance_actions')
      .select(['id', 'start_time'])
      .where('server_id', '=', s.id)
      .where('request_id', '=', marker)
      .orderBy('start_time', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (!m) throw new ApiError(400, 'MarkerNotFound', `Marker ${marker} could not be found.`);
    const mid = Number(m.id);
    q = q.where((eb) =>
      eb.or([
        eb('start_time', '<', m.start_time),
        eb.and([eb('start_time', '=', m.start_time), eb('id', '<', mid)]),
      ]),
    );
  }
  const rows =
    limit === 0 ? [] : await q.orderBy('start_time', 'desc').orderBy('id', 'desc').limit(limit).execute();
  const items = rows.map((r) => actionView(ctx, { ...r, id: Number(r.id) }));
  const body: Record<string, unknown> = { instanceActions: items };
  const links = nextLinks(
    ctx,
    `servers/${s.id}/os-instance-actions`,
    items.map((i) => ({ id: String(i['request_id']) })),
    limit,
  );
  if (links) body['links'] = links;
  return { body };
}

async function showAction(cx: ComputeContext, ctx: RouteContext): Promise<RouteResult> {
  const mv = ctx.mv!;
  const s = await loadServer(cx, ctx, `${RULE}show`);
  const requestId = ctx.params['request_id']!;
  const row = await cx.db
    .selectFrom('compute_instance_actions')
    .selectAll()
    .where('server_id', '=', s.id)
    .where('request_id', '=', requestId)
    .orderBy('start_time', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (!row) throw new ApiError(404, 'NotFound', `Action ${requestId} not found`);
  const action = actionView(ctx, { ...row, id: Number(row.id) });
  const target = { project_id: s.project_id };
  let showEvents = false;
  let showTraceback = false;
  let showHost = false;
  if (ctx.can(`${RULE}events`, target)) {
    showEvents = showTraceback = true;
    showHost = mv.atLeast('2.62');
  } else if (mv.atLeast('2.51')) showEvents = true;
  if (showEvents) {
    const showHostId = mv.atLeast('2.62');
    const showDetails = mv.atLeast('2.84') && ctx.can(`${RULE}events:details`, target);
    const events = await cx.db
      .selectFrom('compute_instance_action_events')
      .selectAll()
      .where('action_id', '=', Number(row.id))
      .orderBy('id')
      .execute();
    action['events'] = events.map((e) => {
      const ev: Record<string, unknown> = {
        event: e.event,
        start_time: naive(e.start_time),
        finish_time: naive(e.finish_time),
        result: e.result,
      };
      if (showTraceback) ev['traceback'] = e.traceback;
      if (showHost) ev['host'] = e.host;
      if (showHostId) ev['hostId'] = hostIdOf(row.project_id || s.project_id, e.host);
      if (showDetails) ev['details'] = e.details;
      return ev;
    });
  }
  return { body: { instanceAction: action } };
}

export function instanceActionRoutes(cx: ComputeContext): Route[] {
  return [
    { method: 'GET', path: BASE, handler: (ctx) => listActions(cx, ctx) },
    { method: 'GET', path: `${BASE}/:request_id`, handler: (ctx) => showAction(cx, ctx) },
  ];
}
