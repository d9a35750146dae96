// Each subnet's IPAM low-water mark: every pool address below it is allocated, so the lowest free address is found
// by probing from the mark instead of reading all of a network's allocations. Allocations advance it (only over the
// version they read, so a concurrent release is never lost); every release of addresses must lower it
// (releaseAddresses), and a change of pools resets it. A mark too low only costs probes; one too high would skip
// free addresses, which is why releasing goes through here.
import type { NetworkTrx } from '../context.ts';
import { compiled } from '../store/compiled.ts';
import { parseIp } from './cidr.ts';

export interface Mark {
  /** The first address that may be free; undefined: the start of the pools. */
  next: bigint | undefined;
  /** 0 when the subnet has no mark row yet. */
  version: number;
}

/** 32 hex digits: text order is numeric order for v4 and v6 alike. */
export const markKey = (value: bigint): string => value.toString(16).padStart(32, '0');

/** A mark from its stored columns (null: no row yet). */
export function markOf(nextFree: string | null, version: number | null): Mark {
  if (nextFree === null || version === null) return { next: undefined, version: 0 };
  return { next: nextFree === '' ? undefined : BigInt(`0x${nextFree}`), version };
}

export async function readMark(trx: NetworkTrx, subnetId: string): Promise<Mark> {
  const row = await trx
    .selectFrom('network_ipam_marks')
    .select(['next_free', 'version'])
    .where('subnet_id', '=', subnetId)
    .executeTakeFirst();
  return markOf(row?.next_free ?? null, row?.version ?? null);
}

/** Moves the mark to `next` unless it changed since `read` (a concurrent release may have lowered it). */
export async function advanceMark(
  trx: NetworkTrx,
  subnetId: string,
  read: Mark,
  next: bigint,
): Promise<void> {
  if (read.next === next) return;
  await upsertMark(trx, subnetId, markKey(next), read.version + 1, read.version);
}

const upsertMark = compiled(4, (db, subnetId: string, key: string, version: number, over: number) =>
  db
    .insertInto('network_ipam_marks')
    .values({ subnet_id: subnetId, next_free: key, version: 1 })
    .onConflict((oc) =>
      oc
        .column('subnet_id')
        .doUpdateSet({ next_free: key, version })
        .where('network_ipam_marks.version', '=', over),
    ),
);

/** Lowers the marks below addresses just released (rows as deleted from network_ip_allocations). */
export async function releaseAddresses(
  trx: NetworkTrx,
  released: readonly { subnet_id: string; ip_address: string }[],
): Promise<void> {
  const lowest = new Map<string, bigint>();
  for (const r of released) {
    const v = parseIp(r.ip_address)?.value;
    if (v === undefined) continue;
    const cur = lowest.get(r.subnet_id);
    if (cur === undefined || v < cur) lowest.set(r.subnet_id, v);
  }
  for (const [subnetId, v] of lowest) {
    const key = markKey(v);
    // No row yet means "from the start": record that explicitly, so an allocation that read no row cannot then
    // advance past this release.
    await trx
      .insertInto('network_ipam_marks')
      .values({ subnet_id: subnetId, next_free: '', version: 1 })
      .onConflict((oc) =>
        oc
          .column('subnet_id')
          .doUpdateSet((eb) => ({ next_free: key, version: eb('network_ipam_marks.version', '+', 1) }))
          .where('network_ipam_marks.next_free', '>', key),
      )
      .execute();
  }
}

/** The subnet's pools changed: probing starts over from the pools' start. */
export async function resetMark(trx: NetworkTrx, subnetId: string): Promise<void> {
  await trx
    .insertInto('network_ipam_marks')
    .values({ subnet_id: subnetId, next_free: '', version: 1 })
    .onConflict((oc) =>
      oc
        .column('subnet_id')
        .doUpdateSet((eb) => ({ next_free: '', version: eb('network_ipam_marks.version', '+', 1) })),
    )
    .execute();
}

/** The subnet is gone. */
export async function dropMark(trx: NetworkTrx, subnetId: string): Promise<void> {
  await trx.deleteFrom('network_ipam_marks').where('subnet_id', '=', subnetId).execute();
}
