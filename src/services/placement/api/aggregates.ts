// /resource_providers/{uuid}/aggregates (1.1): a provider's aggregate uuids; from 1.19 with the provider
// generation in both directions (placement/handlers/aggregate.py).
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { PlacementContext } from '../context.ts';
import { PlacementErrors } from '../errors.ts';
import {
  authorize,
  cacheHeaders,
  casGeneration,
  extractJson,
  getProvider,
  mvOf,
  normalizeUuid,
  PREFIX,
  requireJson,
  requireVersion,
} from './common.ts';
import { PUT_AGGREGATES_1_1, PUT_AGGREGATES_1_19 } from './schemas.ts';

const GENERATION_CHANGED =
  "Resource provider's generation already changed. Please update the generation and try again.";

function send(ctx: RouteContext, aggregates: string[], generation: number): RouteResult {
  const body: Record<string, unknown> = { aggregates };
  if (mvOf(ctx).atLeast('1.19')) body['resource_provider_generation'] = generation;
  return { body, headers: cacheHeaders(ctx) };
}

async function getAggregates(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.1');
  authorize(ctx, 'placement:resource_providers:aggregates:list');
  const uuid = ctx.params['uuid'] ?? '';
  const rp = await getProvider(px.db, uuid);
  const rows = await px.db
    .selectFrom('placement_provider_aggregates')
    .select('aggregate_uuid')
    .where('rp_uuid', '=', uuid)
    .orderBy('aggregate_uuid')
    .execute();
  return send(
    ctx,
    rows.map((r) => r.aggregate_uuid),
    rp.generation,
  );
}

async function setAggregates(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireJson(ctx);
  requireVersion(ctx, '1.1');
  authorize(ctx, 'placement:resource_providers:aggregates:update');
  const withGeneration = mvOf(ctx).atLeast('1.19');
  const uuid = ctx.params['uuid'] ?? '';
  const rp = await getProvider(px.db, uuid);
  const data = extractJson(ctx, withGeneration ? PUT_AGGREGATES_1_19 : PUT_AGGREGATES_1_1);
  if (withGeneration && data.resource_provider_generation !== rp.generation) {
    throw PlacementErrors.concurrent(GENERATION_CHANGED);
  }
  const given: string[] = withGeneration ? data.aggregates : data;
  const aggregates = [...new Set(given.map(normalizeUuid))];
  const now = px.nowIso();
  await px.write(async (trx, record) => {
    if (withGeneration && !(await casGeneration(trx, uuid, rp.generation, now))) {
      throw PlacementErrors.concurrent(
        'Update conflict: Another thread concurrently updated the resource provider data. Please retry your update',
      );
    }
    await trx.deleteFrom('placement_provider_aggregates').where('rp_uuid', '=', uuid).execute();
    if (aggregates.length) {
      await trx
        .insertInto('placement_provider_aggregates')
        .values(aggregates.map((a) => ({ rp_uuid: uuid, aggregate_uuid: a })))
        .execute();
    }
    record({ kind: 'resource_provider', id: uuid, action: 'update' });
  });
  return send(ctx, given, withGeneration ? rp.generation + 1 : rp.generation);
}

export function aggregateRoutes(px: PlacementContext): Route[] {
  const path = `${PREFIX}/resource_providers/:uuid/aggregates`;
  return [
    { method: 'GET', path, handler: (ctx) => getAggregates(px, ctx) },
    { method: 'PUT', path, handler: (ctx) => setAggregates(px, ctx) },
  ];
}
