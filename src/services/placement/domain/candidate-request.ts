// The query of GET /allocation_candidates parsed into request groups, with Placement's validation and messages
// per microversion (placement/lib.py RequestGroup, placement/handlers/allocation_candidate.py).
import type { Microversion } from '../../../platform/http/microversion.ts';
import { checkQueryKeys, type QuerySource, q, qAll } from '../api/common.ts';
import { Codes, PlacementErrors } from '../errors.ts';
import type { CandidateRequest, RequestGroup } from './candidates.ts';
import { parseInTree, parseMemberOf, parseResources, parseTraits, parseTraitValue } from './query-params.ts';

const bad = (m: string, code?: string) => PlacementErrors.badRequest(m, code);

export function parseCandidateRequest(src: QuerySource, mv: Microversion): CandidateRequest {
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
  checkQueryKeys(src, plain, [keyRe]);
  if (!granular && src.query['resources'] === undefined) {
    throw bad("Invalid query string parameters: 'resources' is a required property");
  }
  const limitQ = q(src, 'limit');
  if (limitQ !== undefined && !/^[1-9][0-9]*$/.test(limitQ)) {
    throw bad(`Invalid query string parameters: '${limitQ}' does not match '^[1-9][0-9]*$'`);
  }
  const policy = q(src, 'group_policy');
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
  for (const key of Object.keys(src.query)) {
    const m = keyRe.exec(key);
    if (!m) continue;
    const [, kind, suffix = ''] = m;
    const g = group(suffix);
    if (kind === 'resources') g.resources = parseResources(q(src, key)!);
    else if (kind === 'required')
      g.traits = parseTraits(qAll(src, key), mv.atLeast('1.22'), mv.atLeast('1.39'));
    else if (kind === 'member_of') {
      g.aggs = parseMemberOf(qAll(src, key), suffix, mv.atLeast('1.24'), mv.atLeast('1.32'));
    } else if (kind === 'in_tree') g.inTree = parseInTree(q(src, key)!);
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
  const rootRequired = qAll(src, 'root_required');
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
