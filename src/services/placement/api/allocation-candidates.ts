// GET /allocation_candidates (1.10): the scheduler's query — request groups parsed per microversion, the
// in-memory search, and allocation_requests/provider_summaries in each version's shape
// (placement/handlers/allocation_candidate.py, placement/lib.py).
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { PlacementContext } from '../context.ts';
import { type CandidateRequest, findCandidates, type RequestGroup } from '../domain/candidates.ts';
import {
  parseInTree,
  parseMemberOf,
  parseResources,
  parseTraits,
  parseTraitValue,
  traitNames,
} from '../domain/query-params.ts';
import { capacityOf } from '../domain/snapshot.ts';
import { Codes, PlacementErrors } from '../errors.ts';
import { unknownResourceClasses, unknownTraits } from '../store/catalog.ts';
import { authorize, cacheHeaders, checkQueryKeys, mvOf, PREFIX, q, qAll, requireVersion } from './common.ts';

const bad = (m: string, code?: string) => PlacementErrors.badRequest(m, code);

function parseRequest(ctx: RouteContext): CandidateRequest {
  const mv = mvOf(ctx);
  const granular = mv.atLeast('1.25');
  const suffixPat = mv.atLeast('1.33') ? '[a-zA-Z0-9_-]{1,64}' : '[1-9][0-9]*';
  const kinds = ['resources'];
  if (mv.atLeast('1.17')) kinds.push('required');
  if (mv.atLeast('1.21')) kinds.push('member_of');
  if (mv.atLeast('1.31')) kinds.push('in_tree');
  const keyRe = new RegExp(`^(${kinds.join('|')})(${granular ? suffixPat : ''})?$`);
  const plain = ['limit'];
  if (!mv.atLeast('1.16')) plain.pop();
  if (granular) plain.push('group_policy');
  if (mv.atLeast('1.35')) plain.push('root_required');
  if (mv.atLeast('1.36')) plain.push('same_subtree');
  checkQueryKeys(ctx, plain, [keyRe]);
  if (!granular && ctx.query['resources'] === undefined) {
    throw bad("Invalid query string parameters: 'resources' is a required property");
  }
  const limitQ = q(ctx, 'limit');
  if (limitQ !== undefined && !/^[1-9][0-9]*$/.test(limitQ)) {
    throw bad(`Invalid query string parameters: '${limitQ}' does not match '^[1-9][0-9]*$'`);
  }
  const policy = q(ctx, 'group_policy');
  if (policy !== undefined && !['none', 'isolate'].includes(policy)) {
    throw bad(`Invalid query string parameters: '${policy}' is not one of ['none', 'isolate']`);
  }
  const groups = new Map<string, RequestGroup>();
  const group = (suffix: string) => {
    let g = groups.get(suffix);
    if (!g) {
      g = {
        suffix,
        sameProvider: suffix !== '',
        resources: {},
        traits: { required: [], forbidden: new Set() },
        aggs: { required: [], forbidden: new Set() },
      };
      groups.set(suffix, g);
    }
    return g;
  };
  for (const key of Object.keys(ctx.query)) {
    const m = keyRe.exec(key);
    if (!m) continue;
    const [, kind, suffix = ''] = m;
    const g = group(suffix);
    if (kind === 'resources') g.resources = parseResources(q(ctx, key)!);
    else if (kind === 'required')
      g.traits = parseTraits(qAll(ctx, key), mv.atLeast('1.22'), mv.atLeast('1.39'));
    else if (kind === 'member_of') {
      g.aggs = parseMemberOf(qAll(ctx, key), suffix, mv.atLeast('1.24'), mv.atLeast('1.32'));
    } else if (kind === 'in_tree') g.inTree = parseInTree(q(ctx, key)!);
  }
  const all = [...groups.values()];
  const orphanTraits = all.filter((g) => g.traits.required.length && !Object.keys(g.resources).length);
  if (orphanTraits.length) {
    throw bad(
      `All traits parameters must be associated with resources.  Found the following orphaned traits keys: ${orphanTraits.map((g) => `required${g.suffix}`).join(', ')}`,
    );
  }
  const orphanAggs = all.filter(
    (g) => !Object.keys(g.resources).length && (g.aggs.required.length || g.aggs.forbidden.size),
  );
  if (orphanAggs.length) {
    throw bad(
      `All member_of parameters must be associated with resources. Found the following orphaned member_of keys: ${orphanAggs.map((g) => `member_of${g.suffix}`).join(', ')}`,
    );
  }
  if (all.length === 0) {
    throw bad(
      'There must be at least one resources or resources[$S] parameter.',
      Codes.QUERYPARAM_MISSING_VALUE,
    );
  }
  if (!all.every((g) => Object.keys(g.resources).length))
    throw bad('All request groups must specify resources.');
  if (mv.atLeast('1.22')) {
    const conflicts: string[] = [];
    for (const g of all) {
      for (const any of g.traits.required) {
        if ([...any].every((t) => g.traits.forbidden.has(t))) {
          conflicts.push(`required${g.suffix}: (${[...any].sort().join(', ')})`);
        }
      }
    }
    if (conflicts.length) {
      throw bad(
        `Conflicting required and forbidden traits found in the following traits keys: ${conflicts.sort().join(', ')}`,
      );
    }
  }
  if (!policy && all.filter((g) => g.sameProvider).length > 1) {
    throw bad(
      'The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.',
    );
  }
  const req: CandidateRequest = {
    groups: all,
    groupPolicy: policy,
    limit: limitQ !== undefined ? Number(limitQ) : undefined,
    nestedAware: mv.atLeast('1.29'),
  };
  const rootRequired = qAll(ctx, 'root_required');
  if (rootRequired.length > 1) {
    throw bad(
      "Query parameter 'root_required' may be specified only once.",
      Codes.ILLEGAL_DUPLICATE_QUERYPARAM,
    );
  }
  if (rootRequired.length === 1) {
    const f = parseTraitValue(rootRequired[0]!, true, false);
    const conflicts = f.required.flatMap((s) => [...s]).filter((t) => f.forbidden.has(t));
    if (conflicts.length) {
      throw bad(
        `Conflicting required and forbidden traits found in root_required: ${conflicts.join(', ')}`,
        Codes.QUERYPARAM_BAD_VALUE,
      );
    }
    req.rootRequired = f;
  }
  return req;
}

async function list(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.10');
  authorize(ctx, 'placement:allocation_candidates:list');
  const mv = mvOf(ctx);
  const req = parseRequest(ctx);
  const rcs = req.groups.flatMap((g) => Object.keys(g.resources));
  const unknownRc = await unknownResourceClasses(px.db, rcs);
  if (unknownRc.length) {
    throw bad(`Invalid resource class in resources parameter: No such resource class ${unknownRc[0]}.`);
  }
  const traits = req.groups.flatMap((g) => traitNames(g.traits));
  if (req.rootRequired) traits.push(...traitNames(req.rootRequired));
  const unknownT = await unknownTraits(px.db, traits);
  if (unknownT.length) throw bad(`No such trait(s): ${unknownT.join(', ')}.`);

  const snap = await px.snapshot();
  const { candidates, summaries } = findCandidates(snap, req);
  const dictForm = mv.atLeast('1.12');
  const withMappings = mv.atLeast('1.34');
  const allocationRequests = candidates.map((c) => {
    if (!dictForm) {
      return {
        allocations: [...c.allocations].map(([uuid, m]) => ({
          resource_provider: { uuid },
          resources: Object.fromEntries(m),
        })),
      };
    }
    const allocations: Record<string, { resources: Record<string, number> }> = {};
    for (const [uuid, m] of c.allocations) allocations[uuid] = { resources: Object.fromEntries(m) };
    return withMappings ? { allocations, mappings: c.mappings } : { allocations };
  });
  const requested = new Set(rcs);
  const allResources = mv.atLeast('1.27');
  const providerSummaries: Record<string, Record<string, unknown>> = {};
  for (const p of summaries) {
    const resources: Record<string, { capacity: number; used: number }> = {};
    for (const [rc, inv] of p.inventories) {
      if (allResources || requested.has(rc)) {
        resources[rc] = { capacity: capacityOf(inv), used: p.usages.get(rc) ?? 0 };
      }
    }
    const s: Record<string, unknown> = { resources };
    if (mv.atLeast('1.17')) s['traits'] = [...p.traits].sort();
    if (mv.atLeast('1.29')) {
      s['parent_provider_uuid'] = p.parent_uuid;
      s['root_provider_uuid'] = p.root_uuid;
    }
    providerSummaries[p.uuid] = s;
  }
  return {
    body: { allocation_requests: allocationRequests, provider_summaries: providerSummaries },
    headers: cacheHeaders(ctx),
  };
}

export function allocationCandidateRoutes(px: PlacementContext): Route[] {
  return [{ method: 'GET', path: `${PREFIX}/allocation_candidates`, handler: (ctx) => list(px, ctx) }];
}
