// One allocation candidate search as GET /allocation_candidates answers it — the query parsed per microversion,
// unknown classes and traits refused, the snapshot searched, the body in that version's shape — shared by the
// HTTP handler and the in-process local path.
import type { Microversion } from '../../../platform/http/microversion.ts';
import type { QuerySource } from '../api/common.ts';
import type { PlacementContext } from '../context.ts';
import { PlacementErrors } from '../errors.ts';
import { unknownResourceClasses, unknownTraits } from '../store/catalog.ts';
import { parseCandidateRequest } from './candidate-request.ts';
import { type CandidateResult, findCandidates } from './candidates.ts';
import { traitNames } from './query-params.ts';
import { capacityOf } from './snapshot.ts';

export interface CandidatesBody {
  allocation_requests: Record<string, unknown>[];
  provider_summaries: Record<string, Record<string, unknown>>;
}

/** The body of GET /allocation_candidates for `query` at `mv`; throws Placement's 400s. */
export async function searchCandidates(
  px: PlacementContext,
  query: QuerySource,
  mv: Microversion,
): Promise<CandidatesBody> {
  const req = parseCandidateRequest(query, mv);
  const rcs = req.groups.flatMap((g) => Object.keys(g.resources));
  const unknownRc = await unknownResourceClasses(px.db, rcs);
  if (unknownRc.length) {
    throw PlacementErrors.badRequest(
      `Invalid resource class in resources parameter: No such resource class ${unknownRc[0]}.`,
    );
  }
  const traits = req.groups.flatMap((g) => traitNames(g.traits));
  if (req.rootRequired) traits.push(...traitNames(req.rootRequired));
  const unknownT = await unknownTraits(px.db, traits);
  if (unknownT.length) throw PlacementErrors.badRequest(`No such trait(s): ${unknownT.join(', ')}.`);

  const snap = await px.snapshot();
  return renderCandidates(findCandidates(snap, req), new Set(rcs), mv);
}

/** A map as a plain object (a loop: Object.fromEntries over a Map is several times slower on this hot path). */
function recordOf(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of m) out[k] = v;
  return out;
}

/** allocation_requests and provider_summaries in the shape of `mv` (lists before 1.12, all classes from 1.27). */
export function renderCandidates(
  { candidates, summaries }: CandidateResult,
  requested: ReadonlySet<string>,
  mv: Microversion,
): CandidatesBody {
  const dictForm = mv.atLeast('1.12');
  const withMappings = mv.atLeast('1.34');
  const allocationRequests = candidates.map((c) => {
    if (!dictForm) {
      return {
        allocations: [...c.allocations].map(([uuid, m]) => ({
          resource_provider: { uuid },
          resources: recordOf(m),
        })),
      };
    }
    const allocations: Record<string, { resources: Record<string, number> }> = {};
    for (const [uuid, m] of c.allocations) allocations[uuid] = { resources: recordOf(m) };
    return withMappings ? { allocations, mappings: c.mappings } : { allocations };
  });
  const allResources = mv.atLeast('1.27');
  const withTraits = mv.atLeast('1.17');
  const withTree = mv.atLeast('1.29');
  const providerSummaries: Record<string, Record<string, unknown>> = {};
  for (const p of summaries) {
    const resources: Record<string, { capacity: number; used: number }> = {};
    for (const [rc, inv] of p.inventories) {
      if (allResources || requested.has(rc)) {
        resources[rc] = { capacity: capacityOf(inv), used: p.usages.get(rc) ?? 0 };
      }
    }
    const s: Record<string, unknown> = { resources };
    if (withTraits) s['traits'] = [...p.traits].sort();
    if (withTree) {
      s['parent_provider_uuid'] = p.parent_uuid;
      s['root_provider_uuid'] = p.root_uuid;
    }
    providerSummaries[p.uuid] = s;
  }
  return { allocation_requests: allocationRequests, provider_summaries: providerSummaries };
}
