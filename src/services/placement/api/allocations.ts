// /allocations/{consumer_uuid} (GET, PUT in every body format by version, DELETE), POST /allocations (1.13,
// several consumers at once — how Nova moves allocations on migration) and
// /resource_providers/{uuid}/allocations (placement/handlers/allocation.py).
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { PlacementContext } from '../context.ts';
import {
  type ConsumerWrite,
  deleteConsumerAllocations,
  INCOMPLETE_CONSUMER_ID,
  writeAllocations,
} from '../domain/allocation-write.ts';
import { PlacementErrors } from '../errors.ts';
import {
  authorize,
  cacheHeaders,
  extractJson,
  getProvider,
  isUuidLike,
  latest,
  mvOf,
  normalizeUuid,
  PREFIX,
  requireJson,
  requireVersion,
} from './common.ts';
import {
  ALLOCATION_1_0,
  ALLOCATION_1_8,
  ALLOCATION_1_12,
  ALLOCATION_1_28,
  ALLOCATION_1_34,
  ALLOCATION_1_38,
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

function putSchema(ctx: RouteContext): Record<string, unknown> {
  const mv = mvOf(ctx);
  if (mv.atLeast('1.38')) return ALLOCATION_1_38;
  if (mv.atLeast('1.34')) return ALLOCATION_1_34;
  if (mv.atLeast('1.28')) return ALLOCATION_1_28;
  if (mv.atLeast('1.12')) return ALLOCATION_1_12;
  if (mv.atLeast('1.8')) return ALLOCATION_1_8;
  return ALLOCATION_1_0;
}

/** The allocations of one consumer entry, as rp uuid → resources (the pre-1.12 list form converted). */
function allocationsOf(data: Record<string, unknown>, listForm: boolean): Record<string, Resources> {
  const out: Record<string, Resources> = {};
  if (listForm) {
    for (const a of data['allocations'] as { resource_provider: { uuid: string }; resources: Resources }[]) {
      out[normalizeUuid(a.resource_provider.uuid)] = a.resources;
    }
  } else {
    for (const [rp, a] of Object.entries(data['allocations'] as Record<string, { resources: Resources }>)) {
      out[normalizeUuid(rp)] = a.resources;
    }
  }
  return out;
}

function consumerWrite(ctx: RouteContext, uuid: string, data: Record<string, unknown>): ConsumerWrite {
  const mv = mvOf(ctx);
  const projectId = (data['project_id'] as string | undefined) ?? INCOMPLETE_CONSUMER_ID;
  const userId = data['project_id'] === undefined ? INCOMPLETE_CONSUMER_ID : (data['user_id'] as string);
  return {
    uuid,
    projectId,
    userId,
    generation: mv.atLeast('1.28') ? (data['consumer_generation'] as number | null) : undefined,
    consumerType: mv.atLeast('1.38') ? (data['consumer_type'] as string) : undefined,
    allocations: allocationsOf(data, !mv.atLeast('1.12')),
  };
}

async function setForConsumer(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireJson(ctx);
  authorize(ctx, 'placement:allocations:update');
  const raw = ctx.params['consumer_uuid'] ?? '';
  if (!isUuidLike(raw)) throw PlacementErrors.badRequest(`Malformed consumer_uuid: ${raw}`);
  const consumer = normalizeUuid(raw);
  const data = extractJson(ctx, putSchema(ctx));
  const write = consumerWrite(ctx, consumer, data);
  const now = px.nowIso();
  await px.writeAllocations(async (trx, record, delta) => {
    await writeAllocations(trx, [write], { checkGeneration: mvOf(ctx).atLeast('1.28'), now }, delta);
    record({ kind: 'allocation', id: consumer, action: 'update', projectId: write.projectId });
  });
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
  const writes = Object.entries(data).map(([uuid, entry]) => consumerWrite(ctx, normalizeUuid(uuid), entry));
  const now = px.nowIso();
  await px.writeAllocations(async (trx, record, delta) => {
    await writeAllocations(trx, writes, { checkGeneration: mv.atLeast('1.28'), now }, delta);
    for (const w of writes)
      record({ kind: 'allocation', id: w.uuid, action: 'update', projectId: w.projectId });
  });
  return { status: 204 };
}

async function deleteForConsumer(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  authorize(ctx, 'placement:allocations:delete');
  const consumer = ctx.params['consumer_uuid'] ?? '';
  await px.writeAllocations(async (trx, record, delta) => {
    if (!(await deleteConsumerAllocations(trx, consumer, delta))) {
      throw PlacementErrors.notFound(`No allocations for consumer '${consumer}'`);
    }
    record({ kind: 'allocation', id: consumer, action: 'delete' });
  });
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
