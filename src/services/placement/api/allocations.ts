// /allocations/{consumer_uuid} (GET, PUT in every body format by version, DELETE), POST /allocations (1.13,
// several consumers at once — how Nova moves allocations on migration) and
// /resource_providers/{uuid}/allocations (placement/handlers/allocation.py).
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { PlacementContext } from '../context.ts';
import {
  consumerWriteOf,
  deleteConsumer,
  parseConsumerPut,
  putConsumerAllocations,
} from '../domain/consumer-allocations.ts';
import {
  authorize,
  cacheHeaders,
  extractJson,
  getProvider,
  latest,
  mvOf,
  normalizeUuid,
  PREFIX,
  requireJson,
  requireVersion,
} from './common.ts';
import {
  POST_ALLOCATIONS_1_13,
  POST_ALLOCATIONS_1_28,
  POST_ALLOCATIONS_1_34,
  POST_ALLOCATIONS_1_38,
} from './schemas.ts';

type Resources = Record<string, number>;

async function listForConsumer(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  authorize(ctx, 'placement:allocations:list');
  const consumer = ctx.params['consumer_uuid'] ?? '';
  const mv = mvOf(ctx);
  const rows = await px.db
    .selectFrom('placement_allocations as a')
    .innerJoin('placement_resource_providers as p', 'p.uuid', 'a.rp_uuid')
    .select(['a.rp_uuid', 'a.resource_class', 'a.used', 'a.updated_at', 'p.generation'])
    .where('a.consumer_id', '=', consumer)
    .execute();
  const allocations: Record<string, { generation: number; resources: Resources }> = {};
  for (const r of rows) {
    allocations[r.rp_uuid] ??= { generation: Number(r.generation), resources: {} };
    const entry = allocations[r.rp_uuid]!;
    entry.resources[r.resource_class] = Number(r.used);
  }
  const body: Record<string, unknown> = { allocations };
  if (rows.length && mv.atLeast('1.12')) {
    const c = await px.db
      .selectFrom('placement_consumers')
      .selectAll()
      .where('uuid', '=', consumer)
      .executeTakeFirst();
    if (c) {
      body['project_id'] = c.project_id;
      body['user_id'] = c.user_id;
      if (mv.atLeast('1.28')) body['consumer_generation'] = Number(c.generation);
      if (mv.atLeast('1.38')) body['consumer_type'] = c.consumer_type ?? 'unknown';
    }
  }
  return { body, headers: cacheHeaders(ctx, latest(rows.map((r) => r.updated_at))) };
}

async function listForProvider(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  authorize(ctx, 'placement:resource_providers:allocations:list');
  const uuid = ctx.params['uuid'] ?? '';
  const rp = await getProvider(
    px.db,
    uuid,
    `Resource provider '${uuid}' not found: No resource provider with uuid ${uuid} found`,
  );
  const rows = await px.db
    .selectFrom('placement_allocations as a')
    .leftJoin('placement_consumers as c', 'c.uuid', 'a.consumer_id')
    .select(['a.consumer_id', 'a.resource_class', 'a.used', 'a.updated_at', 'c.generation'])
    .where('a.rp_uuid', '=', uuid)
    .execute();
  const withGen = mvOf(ctx).atLeast('1.28');
  const allocations: Record<string, Record<string, unknown>> = {};
  for (const r of rows) {
    allocations[r.consumer_id] ??= { resources: {} };
    const entry = allocations[r.consumer_id]!;
    (entry['resources'] as Resources)[r.resource_class] = Number(r.used);
    if (withGen) entry['consumer_generation'] = r.generation === null ? null : Number(r.generation);
  }
  return {
    body: { allocations, resource_provider_generation: rp.generation },
    headers: cacheHeaders(ctx, latest(rows.map((r) => r.updated_at))),
  };
}

async function setForConsumer(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireJson(ctx);
  authorize(ctx, 'placement:allocations:update');
  const mv = mvOf(ctx);
  const write = parseConsumerPut(ctx.params['consumer_uuid'] ?? '', ctx.body, mv);
  await putConsumerAllocations(px, [write], mv);
  return { status: 204 };
}

async function setMany(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.13');
  requireJson(ctx);
  authorize(ctx, 'placement:allocations:manage');
  const mv = mvOf(ctx);
  const schema = mv.atLeast('1.38')
    ? POST_ALLOCATIONS_1_38
    : mv.atLeast('1.34')
      ? POST_ALLOCATIONS_1_34
      : mv.atLeast('1.28')
        ? POST_ALLOCATIONS_1_28
        : POST_ALLOCATIONS_1_13;
  const data = extractJson(ctx, schema) as Record<string, Record<string, unknown>>;
  const writes = Object.entries(data).map(([uuid, entry]) => consumerWriteOf(normalizeUuid(uuid), entry, mv));
  await putConsumerAllocations(px, writes, mv);
  return { status: 204 };
}

async function deleteForConsumer(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  authorize(ctx, 'placement:allocations:delete');
  await deleteConsumer(px, ctx.params['consumer_uuid'] ?? '');
  return { status: 204 };
}

export function allocationRoutes(px: PlacementContext): Route[] {
  const one = `${PREFIX}/allocations/:consumer_uuid`;
  return [
    { method: 'POST', path: `${PREFIX}/allocations`, handler: (ctx) => setMany(px, ctx) },
    { method: 'GET', path: one, handler: (ctx) => listForConsumer(px, ctx) },
    { method: 'PUT', path: one, handler: (ctx) => setForConsumer(px, ctx) },
    { method: 'DELETE', path: one, handler: (ctx) => deleteForConsumer(px, ctx) },
    {
      method: 'GET',
      path: `${PREFIX}/resource_providers/:uuid/allocations`,
      handler: (ctx) => listForProvider(px, ctx),
    },
  ];
}
