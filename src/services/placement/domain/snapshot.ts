// A point-in-time copy of every provider with its inventories, usages, traits and aggregates: the data
// GET /resource_providers filters and GET /allocation_candidates search, loaded with five indexed queries.
import type { Kysely } from 'kysely';
import type { InventoryRow, PlacementTables, ProviderRow } from '../store/tables.ts';

export interface Inventory {
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
}

export interface SnapProvider extends ProviderRow {
  inventories: Map<string, Inventory>;
  /** Sum of allocations per resource class. */
  usages: Map<string, number>;
  traits: Set<string>;
  aggregates: Set<string>;
}

export interface Snapshot {
  providers: Map<string, SnapProvider>;
  /** Providers of each tree, keyed by root uuid, parents before children. */
  trees: Map<string, SnapProvider[]>;
  /** Providers carrying MISC_SHARES_VIA_AGGREGATE. */
  sharing: SnapProvider[];
}

/** Placement's capacity: int((total - reserved) * allocation_ratio). */
export function capacityOf(inv: Inventory): number {
  return Math.trunc((inv.total - inv.reserved) * inv.allocation_ratio);
}

export function toInventory(r: InventoryRow): Inventory {
  return {
    total: Number(r.total),
    reserved: Number(r.reserved),
    min_unit: Number(r.min_unit),
    max_unit: Number(r.max_unit),
    step_size: Number(r.step_size),
    allocation_ratio: Number(r.allocation_ratio),
  };
}

/** How one committed allocation write changed providers: usage per class (+/-) and providers whose generation rose. */
export class UsageDelta {
  readonly usage = new Map<string, Map<string, number>>();
  readonly bumped = new Set<string>();
  now = '';

  add(rp: string, rc: string, amount: number): void {
    let m = this.usage.get(rp);
    if (!m) {
      m = new Map();
      this.usage.set(rp, m);
    }
    m.set(rc, (m.get(rc) ?? 0) + amount);
  }

  /** Applies the delta to a snapshot in place; false when the snapshot lacks a provider it names. */
  applyTo(snap: Snapshot): boolean {
    for (const rp of [...this.usage.keys(), ...this.bumped]) if (!snap.providers.has(rp)) return false;
    for (const [rp, m] of this.usage) {
      const p = snap.providers.get(rp)!;
      for (const [rc, n] of m) {
        const v = (p.usages.get(rc) ?? 0) + n;
        if (v === 0) p.usages.delete(rc);
        else p.usages.set(rc, v);
      }
    }
    for (const rp of this.bumped) {
      const p = snap.providers.get(rp)!;
      p.generation += 1;
      if (this.now) p.updated_at = this.now;
    }
    return true;
  }
}

export async function loadSnapshot(db: Kysely<PlacementTables>, atomic: boolean): Promise<Snapshot> {
  // On SQLite the five reads run in one transaction: the one connection then serialises them with every write,
  // so the snapshot is exactly the state between two writes (what UsageDelta patching relies on).
  return atomic ? db.transaction().execute((trx) => readSnapshot(trx)) : readSnapshot(db);
}

async function readSnapshot(db: Kysely<PlacementTables>): Promise<Snapshot> {
  const [rps, invs, usages, traits, aggs] = await Promise.all([
    db.selectFrom('placement_resource_providers').selectAll().orderBy('created_at').orderBy('uuid').execute(),
    db.selectFrom('placement_inventories').selectAll().execute(),
    db
      .selectFrom('placement_allocations')
      .select(['rp_uuid', 'resource_class', (eb) => eb.fn.sum<number>('used').as('used')])
      .groupBy(['rp_uuid', 'resource_class'])
      .execute(),
    db.selectFrom('placement_provider_traits').selectAll().execute(),
    db.selectFrom('placement_provider_aggregates').selectAll().execute(),
  ]);
  const providers = new Map<string, SnapProvider>();
  for (const r of rps) {
    providers.set(r.uuid, {
      ...r,
      generation: Number(r.generation),
      inventories: new Map(),
      usages: new Map(),
      traits: new Set(),
      aggregates: new Set(),
    });
  }
  for (const i of invs) providers.get(i.rp_uuid)?.inventories.set(i.resource_class, toInventory(i));
  for (const u of usages) providers.get(u.rp_uuid)?.usages.set(u.resource_class, Number(u.used));
  for (const t of traits) providers.get(t.rp_uuid)?.traits.add(t.trait);
  for (const a of aggs) providers.get(a.rp_uuid)?.aggregates.add(a.aggregate_uuid);
  const trees = new Map<string, SnapProvider[]>();
  const depth = (p: SnapProvider): number => {
    let d = 0;
    let cur: SnapProvider | undefined = p;
    while (cur?.parent_uuid && d < 1000) {
      cur = providers.get(cur.parent_uuid);
      d++;
    }
    return d;
  };
  const byDepth = [...providers.values()].map((p) => [depth(p), p] as const).sort((a, b) => a[0] - b[0]);
  for (const [, p] of byDepth) {
    let list = trees.get(p.root_uuid);
    if (!list) {
      list = [];
      trees.set(p.root_uuid, list);
    }
    list.push(p);
  }
  const sharing = [...providers.values()].filter((p) => p.traits.has('MISC_SHARES_VIA_AGGREGATE'));
  return { providers, trees, sharing };
}

/** True when every one of `amount` fits the provider's inventory of rc: capacity and min/max/step. */
export function fits(p: SnapProvider, rc: string, amount: number): boolean {
  const inv = p.inventories.get(rc);
  if (!inv) return false;
  if (amount < inv.min_unit || amount > inv.max_unit || amount % inv.step_size !== 0) return false;
  return capacityOf(inv) - (p.usages.get(rc) ?? 0) >= amount;
}
