// GET /allocation_candidates (1.10): the scheduler's query — policy, then the shared search (request groups
// parsed per microversion, the in-memory search, the body in each version's shape), with cache headers
// (placement/handlers/allocation_candidate.py).
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { PlacementContext } from '../context.ts';
import { searchCandidates } from '../domain/candidate-search.ts';
import { authorize, cacheHeaders, mvOf, PREFIX, requireVersion } from './common.ts';

async function list(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.10');
  authorize(ctx, 'placement:allocation_candidates:list');
  const body = await searchCandidates(px, ctx, mvOf(ctx));
  return { body, headers: cacheHeaders(ctx) };
}

export function allocationCandidateRoutes(px: PlacementContext): Route[] {
  return [{ method: 'GET', path: `${PREFIX}/allocation_candidates`, handler: (ctx) => list(px, ctx) }];
}
