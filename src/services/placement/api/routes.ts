// The one route table of Placement, plus a 405 with an Allow header for every other method on a known path
// (placement/handler.py's handle_405).
import type { Method, Route } from '../../../platform/http/types.ts';
import type { PlacementContext } from '../context.ts';
import { PlacementErrors } from '../errors.ts';
import { aggregateRoutes } from './aggregates.ts';
import { allocationCandidateRoutes } from './allocation-candidates.ts';
import { allocationRoutes } from './allocations.ts';
import { inventoryRoutes } from './inventories.ts';
import { reshaperRoutes } from './reshaper.ts';
import { resourceClassRoutes } from './resource-classes.ts';
import { resourceProviderRoutes } from './resource-providers.ts';
import { rootRoutes } from './root.ts';
import { traitRoutes } from './traits.ts';
import { usageRoutes } from './usages.ts';

const ALL: Method[] = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'];

function withMethodNotAllowed(routes: Route[]): Route[] {
  const byPath = new Map<string, Method[]>();
  for (const r of routes) {
    const ms = Array.isArray(r.method) ? r.method : [r.method];
    byPath.set(r.path, [...(byPath.get(r.path) ?? []), ...ms]);
  }
  const extra: Route[] = [];
  for (const [path, declared] of byPath) {
    const missing = ALL.filter((m) => !declared.includes(m));
    if (missing.length === 0) continue;
    const allow = declared.join(', ');
    extra.push({
      method: missing,
      path,
      auth: path === '/placement' ? 'none' : 'required',
      handler() {
        throw PlacementErrors.methodNotAllowed(allow);
      },
    });
  }
  return [...routes, ...extra];
}

export function placementRoutes(px: PlacementContext): Route[] {
  return withMethodNotAllowed([
    ...rootRoutes(),
    ...resourceProviderRoutes(px),
    ...inventoryRoutes(px),
    ...usageRoutes(px),
    ...aggregateRoutes(px),
    ...traitRoutes(px),
    ...resourceClassRoutes(px),
    ...allocationRoutes(px),
    ...allocationCandidateRoutes(px),
    ...reshaperRoutes(px),
  ]);
}
