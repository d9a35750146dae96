// The allocation candidate search's fast path (one filterless group, single-provider trees, no sharing
// providers) against the general search on randomised snapshots: the same candidates, mappings and summaries,
// in the same order, and the same rendered bodies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Microversion } from '../../../src/platform/http/microversion.ts';
import { renderCandidates } from '../../../src/services/placement/domain/candidate-search.ts';
import {
  type CandidateRequest,
  type CandidateResult,
  findCandidates,
  type RequestGroup,
} from '../../../src/services/placement/domain/candidates.ts';
import type { Inventory, SnapProvider, Snapshot } from '../../../src/services/placement/domain/snapshot.ts';

/** mulberry32: a small seeded generator, so a failing seed can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLASSES = ['VCPU', 'MEMORY_MB', 'DISK_GB', 'CUSTOM_FPGA'];
const TRAITS = ['HW_CPU_X86_AVX2', 'COMPUTE_STATUS_DISABLED', 'CUSTOM_GOLD'];
const AGGS = ['agg-a', 'agg-b'];

function randomSnapshot(rand: () => number, withSharing: boolean): Snapshot {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]) => xs.filter(() => rand() < 0.4);
  const providers = new Map<string, SnapProvider>();
  const trees = new Map<string, SnapProvider[]>();
  let n = 0;
  const make = (root: string | undefined, parent: string | null): SnapProvider => {
    const uuid = `rp-${String(n++).padStart(3, '0')}`;
    const inventories = new Map<string, Inventory>();
    const usages = new Map<string, number>();
    for (const rc of CLASSES) {
      if (rand() < 0.25) continue;
      const total = int(1, 16);
      const inv: Inventory = {
        total,
        reserved: rand() < 0.2 ? int(0, 3) : 0,
        min_unit: rand() < 0.2 ? int(1, 2) : 1,
        max_unit: rand() < 0.2 ? int(1, total) : total,
        step_size: rand() < 0.15 ? 2 : 1,
        allocation_ratio: rand() < 0.3 ? 1.5 : 1,
      };
      inventories.set(rc, inv);
      if (rand() < 0.6) usages.set(rc, int(1, total + 2));
    }
    const p: SnapProvider = {
      uuid,
      name: uuid,
      generation: int(0, 9),
      parent_uuid: parent,
      root_uuid: root ?? uuid,
      created_at: '2024-01-01T00:00:00.000Z',
      updated_at: '2024-01-01T00:00:00.000Z',
      inventories,
      usages,
      traits: new Set(pick(TRAITS)),
      aggregates: new Set(pick(AGGS)),
    };
    providers.set(uuid, p);
    return p;
  };
  const treeCount = int(1, 25);
  for (let t = 0; t < treeCount; t++) {
    const root = make(undefined, null);
    const tree = [root];
    // Most trees are one compute node; some have children (NUMA nodes, devices).
    if (rand() < 0.25) for (let c = int(1, 2); c > 0; c--) tree.push(make(root.uuid, root.uuid));
    trees.set(root.uuid, tree);
  }
  const sharing: SnapProvider[] = [];
  if (withSharing) {
    const s = make(undefined, null);
    s.traits.add('MISC_SHARES_VIA_AGGREGATE');
    s.aggregates.add('agg-a');
    trees.set(s.uuid, [s]);
    sharing.push(s);
  }
  return { providers, trees, sharing };
}

function randomRequest(rand: () => number, filtered: boolean): CandidateRequest {
  const resources: Record<string, number> = {};
  for (const rc of CLASSES) if (rand() < 0.5) resources[rc] = 1 + Math.floor(rand() * 6);
  if (Object.keys(resources).length === 0) resources['VCPU'] = 1 + Math.floor(rand() * 4);
  const numbered = rand() < 0.2;
  const g: RequestGroup = {
    suffix: numbered ? '1' : '',
    sameProvider: numbered,
    resources,
    traits: { required: [], forbidden: new Set() },
    aggs: { required: [], forbidden: new Set() },
  };
  if (filtered) {
    if (rand() < 0.5) g.traits.forbidden.add('COMPUTE_STATUS_DISABLED');
    else g.aggs.required.push(new Set(['agg-a']));
  }
  const req: CandidateRequest = { groups: [g], nestedAware: rand() < 0.7 };
  if (rand() < 0.4) req.limit = 1 + Math.floor(rand() * 10);
  if (numbered && rand() < 0.5) req.groupPolicy = 'isolate';
  return req;
}

/** A result with every order kept: candidates' providers and classes as arrays, summaries as uuids. */
function shape(r: CandidateResult) {
  return {
    candidates: r.candidates.map((c) => ({
      allocations: [...c.allocations].map(([u, m]) => [u, [...m]]),
      mappings: Object.entries(c.mappings),
    })),
    summaries: r.summaries.map((p) => p.uuid),
  };
}

describe('allocation candidates fast path', () => {
  it('matches the general search on 200 random snapshots', () => {
    let fastWithResults = 0;
    const versions = ['1.10', '1.25', '1.29', '1.39'].map((v) => Microversion.parse(v)!);
    for (let seed = 1; seed <= 200; seed++) {
      const rand = rng(seed);
      const withSharing = seed % 7 === 0;
      const filtered = seed % 5 === 0;
      const snap = randomSnapshot(rand, withSharing);
      const req = randomRequest(rand, filtered);
      const fast = findCandidates(snap, req);
      const general = findCandidates(snap, req, { general: true });
      assert.deepEqual(shape(fast), shape(general), `seed ${seed}`);
      const requested = new Set(req.groups.flatMap((g) => Object.keys(g.resources)));
      for (const mv of versions) {
        assert.equal(
          JSON.stringify(renderCandidates(fast, requested, mv)),
          JSON.stringify(renderCandidates(general, requested, mv)),
          `seed ${seed} at ${mv}`,
        );
      }
      if (!withSharing && !filtered && fast.candidates.length > 0) fastWithResults++;
    }
    // The comparison is not vacuous: most seeds took the fast path and found candidates.
    assert.ok(fastWithResults >= 60, `only ${fastWithResults} seeds exercised the fast path`);
  });

  it('emits one candidate per fitting single-provider tree, in tree order, up to the limit', () => {
    const rand = rng(42);
    const snap = randomSnapshot(rand, false);
    for (const p of snap.providers.values()) {
      p.inventories.set('VCPU', {
        total: 8,
        reserved: 0,
        min_unit: 1,
        max_unit: 8,
        step_size: 1,
        allocation_ratio: 1,
      });
      p.usages.set('VCPU', p.uuid.endsWith('3') ? 8 : 0);
    }
    const group: RequestGroup = {
      suffix: '',
      sameProvider: false,
      resources: { VCPU: 2 },
      traits: { required: [], forbidden: new Set() },
      aggs: { required: [], forbidden: new Set() },
    };
    const res = findCandidates(snap, { groups: [group], nestedAware: true, limit: 5 });
    const general = findCandidates(snap, { groups: [group], nestedAware: true, limit: 5 }, { general: true });
    assert.deepEqual(shape(res), shape(general));
    assert.ok(res.candidates.length <= 5);
    for (const c of res.candidates) {
      const [uuid] = [...c.allocations.keys()];
      assert.ok(!uuid!.endsWith('3'), 'a full provider is no candidate');
      assert.deepEqual(c.mappings, { '': [uuid] });
    }
  });
});
