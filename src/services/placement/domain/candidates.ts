// The allocation candidate search, in memory over a snapshot: per provider tree, the providers (or sharing
// providers anchored to the tree) that can satisfy each request group, combined across groups with the
// group policy, re-checked for capacity with the combined amounts, plus the provider summaries; a fast path
// answers the scheduler's common query (one filterless group over single-provider trees) directly.
import { type AggFilter, aggsMatch, type TraitFilter, traitsMatch } from './query-params.ts';
import { capacityOf, fits, type SnapProvider, type Snapshot } from './snapshot.ts';

export interface RequestGroup {
  suffix: string;
  /** True for numbered groups: every resource from one provider. */
  sameProvider: boolean;
  resources: Record<string, number>;
  traits: TraitFilter;
  aggs: AggFilter;
  /** A provider uuid whose tree the group must be satisfied from. */
  inTree?: string;
}

export interface CandidateRequest {
  groups: RequestGroup[];
  groupPolicy?: string;
  limit?: number;
  /** 1.29: allocations may span several providers of one tree. */
  nestedAware: boolean;
  /** 1.35: traits the tree's root must (not) have. */
  rootRequired?: TraitFilter;
}

export interface Candidate {
  /** Provider uuid → resource class → amount. */
  allocations: Map<string, Map<string, number>>;
  /** Group suffix → provider uuids that satisfied it. */
  mappings: Record<string, string[]>;
}

export interface CandidateResult {
  candidates: Candidate[];
  /** Providers to summarise, in tree order. */
  summaries: SnapProvider[];
}

interface Option {
  /** [provider, resource class, amount] triples. */
  parts: [SnapProvider, string, number][];
  providers: SnapProvider[];
}

/** The most combinations examined per tree, against pathological fan-out. */
const MAX_COMBINATIONS = 10_000;

function cartesian<T>(lists: T[][], max: number): T[][] {
  let acc: T[][] = [[]];
  for (const list of lists) {
    const next: T[][] = [];
    for (const a of acc) {
      for (const x of list) {
        next.push([...a, x]);
        if (next.length >= max) break;
      }
      if (next.length >= max) break;
    }
    acc = next;
  }
  return acc;
}

/** The general search in one tree: appends its new candidates (up to the limit); true when it found any. */
function searchTree(
  snap: Snapshot,
  req: CandidateRequest,
  root: string,
  tree: SnapProvider[],
  out: { candidates: Candidate[]; seen: Set<string>; limit: number; granular: number },
): boolean {
  const { candidates, seen, limit, granular } = out;
  const rootRp = snap.providers.get(root)!;
  if (req.rootRequired && !traitsMatch(rootRp.traits, req.rootRequired)) return false;
  const treeAggs = new Set<string>();
  for (const p of tree) for (const a of p.aggregates) treeAggs.add(a);
  const sharing = snap.sharing.filter(
    (s) => s.root_uuid !== root && [...s.aggregates].some((a) => treeAggs.has(a)),
  );
  const aggsOf = (p: SnapProvider) => {
    const root = snap.providers.get(p.root_uuid);
    return root && root !== p ? new Set([...p.aggregates, ...root.aggregates]) : p.aggregates;
  };

  const perGroup: Option[][] = [];
  for (const g of req.groups) {
    let pool = tree;
    if (g.inTree !== undefined) {
      const anchor = snap.providers.get(g.inTree);
      if (!anchor || anchor.root_uuid !== root) {
        pool = [];
      }
    } else {
      pool = [...tree, ...sharing];
    }
    const eligible = pool.filter((p) => aggsMatch(aggsOf(p), g.aggs));
    const rcs = Object.entries(g.resources);
    let options: Option[];
    if (g.sameProvider) {
      options = eligible
        .filter((p) => traitsMatch(p.traits, g.traits) && rcs.every(([rc, n]) => fits(p, rc, n)))
        .map((p) => ({
          parts: rcs.map(([rc, n]) => [p, rc, n] as [SnapProvider, string, number]),
          providers: [p],
        }));
    } else {
      const perRc = rcs.map(([rc, n]) =>
        eligible.filter((p) => fits(p, rc, n)).map((p) => [p, rc, n] as [SnapProvider, string, number]),
      );
      if (perRc.some((l) => l.length === 0)) {
        options = [];
      } else {
        options = [];
        for (const parts of cartesian(perRc, MAX_COMBINATIONS)) {
          const providers = [...new Set(parts.map((x) => x[0]))];
          const union = new Set<string>();
          for (const p of providers) for (const t of p.traits) union.add(t);
          if (traitsMatch(union, g.traits)) options.push({ parts, providers });
        }
      }
    }
    if (options.length === 0) {
      perGroup.length = 0;
      break;
    }
    perGroup.push(options);
  }
  if (perGroup.length !== req.groups.length) return false;

  let found = false;
  for (const combo of cartesian(perGroup, MAX_COMBINATIONS)) {
    if (req.groupPolicy === 'isolate' && granular > 1) {
      const distinct = new Set<SnapProvider>();
      combo.forEach((o, i) => {
        if (req.groups[i]!.sameProvider) distinct.add(o.providers[0]!);
      });
      if (distinct.size !== granular) continue;
    }
    const allocations = new Map<string, Map<string, number>>();
    const byUuid = new Map<string, SnapProvider>();
    const mappings: Record<string, string[]> = {};
    combo.forEach((o, i) => {
      mappings[req.groups[i]!.suffix] = o.providers.map((p) => p.uuid);
      for (const [p, rc, n] of o.parts) {
        byUuid.set(p.uuid, p);
        let m = allocations.get(p.uuid);
        if (!m) {
          m = new Map();
          allocations.set(p.uuid, m);
        }
        m.set(rc, (m.get(rc) ?? 0) + n);
      }
    });
    let ok = true;
    for (const [uuid, m] of allocations) {
      const p = byUuid.get(uuid)!;
      for (const [rc, n] of m) {
        const inv = p.inventories.get(rc)!;
        if ((p.usages.get(rc) ?? 0) + n > capacityOf(inv) || n > inv.max_unit) ok = false;
      }
    }
    if (!ok) continue;
    if (!req.nestedAware) {
      const roots = new Set([...byUuid.values()].map((p) => p.root_uuid));
      if (roots.size !== byUuid.size) continue;
    }
    const key = [...allocations.entries()]
      .map(([u, m]) => `${u}:${[...m.entries()].sort().join(',')}`)
      .sort()
      .join('|')
      .concat(' ', JSON.stringify(Object.entries(mappings).sort()));
    if (seen.has(key)) continue;
    seen.add(key);
    candidates.push({ allocations, mappings });
    found = true;
    if (candidates.length >= limit) break;
  }
  return found;
}

/**
 * The one group of a request the fast path answers — no traits, aggregates, in_tree or root_required — or
 * undefined. (Sharing providers and multi-provider trees are checked against the snapshot.)
 */
function simpleGroup(req: CandidateRequest): RequestGroup | undefined {
  if (req.groups.length !== 1 || req.rootRequired) return undefined;
  const g = req.groups[0]!;
  if (g.inTree !== undefined || g.traits.required.length || g.traits.forbidden.size) return undefined;
  if (g.aggs.required.length || g.aggs.forbidden.size) return undefined;
  return g;
}

/**
 * The allocation candidates of `req` in tree order (up to its limit) and the providers to summarise.
 * `opts.general` turns the fast path off (tests compare the two).
 */
export function findCandidates(
  snap: Snapshot,
  req: CandidateRequest,
  opts: { general?: boolean } = {},
): CandidateResult {
  const candidates: Candidate[] = [];
  const summaryTrees: string[] = [];
  const seen = new Set<string>();
  const limit = req.limit ?? Number.POSITIVE_INFINITY;
  const granular = req.groups.filter((g) => g.sameProvider).length;
  // Fast path: one filterless group and no sharing providers — a tree of one provider has exactly one possible
  // candidate (everything from that provider), the general search's result without its sets and products.
  const simple = snap.sharing.length === 0 && !opts.general ? simpleGroup(req) : undefined;
  const wanted = simple ? Object.entries(simple.resources) : [];

  for (const [root, tree] of snap.trees) {
    if (candidates.length >= limit) break;
    if (!snap.providers.has(root)) continue;
    if (simple && tree.length === 1) {
      const p = tree[0]!;
      let ok = true;
      for (const [rc, n] of wanted) {
        if (!fits(p, rc, n)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      const m = new Map<string, number>();
      for (const [rc, n] of wanted) m.set(rc, n);
      const allocations = new Map<string, Map<string, number>>();
      allocations.set(p.uuid, m);
      candidates.push({ allocations, mappings: { [simple.suffix]: [p.uuid] } });
      summaryTrees.push(root);
      continue;
    }
    if (searchTree(snap, req, root, tree, { candidates, seen, limit, granular })) summaryTrees.push(root);
  }

  const summaries: SnapProvider[] = [];
  const added = new Set<string>();
  if (req.nestedAware) {
    for (const r of summaryTrees) {
      for (const p of snap.trees.get(r) ?? []) {
        added.add(p.uuid);
        summaries.push(p);
      }
    }
  }
  const inRequests = new Set<string>();
  for (const c of candidates) for (const u of c.allocations.keys()) inRequests.add(u);
  for (const u of inRequests) {
    if (added.has(u)) continue;
    const p = snap.providers.get(u);
    if (p) {
      added.add(u);
      summaries.push(p);
    }
  }
  return { candidates, summaries };
}
