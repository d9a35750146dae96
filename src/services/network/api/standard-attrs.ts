// Standard attributes shared by every resource: revision numbers (with If-Match), timestamps, and tags.
import type { RouteContext } from '../../../platform/http/types.ts';
import type { NetworkDb, NetworkTrx } from '../context.ts';
import { badResourceRequest, revisionMismatch } from '../errors.ts';

/** The revision an `If-Match: revision_number=N` header demands, or undefined when the request has none. */
export function ifMatchRevision(ctx: RouteContext): number | undefined {
  const raw = ctx.headers['if-match'];
  if (raw === undefined) return undefined;
  const parts = String(raw)
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.startsWith('revision_number'));
  if (parts.length === 0) return undefined;
  if (parts.length > 1)
    throw badResourceRequest('if-match', 'Multiple revision_number etags are not supported');
  const m = /^revision_number=(\d+)$/.exec(parts[0]!);
  if (!m)
    throw badResourceRequest(
      'if-match',
      'Revision number etag must be in the format of revision_number=<int>',
    );
  return Number.parseInt(m[1]!, 10);
}

/** Throws 412 when the request's If-Match names another revision than `current`. */
export function checkRevision(ctx: RouteContext, current: number): void {
  const want = ifMatchRevision(ctx);
  if (want !== undefined && want !== current) throw revisionMismatch(want, current);
}

/** Tables of resources with standard attributes (revision_number, updated_at). */
export type RevisionedTable =
  | 'network_networks'
  | 'network_subnets'
  | 'network_subnetpools'
  | 'network_ports'
  | 'network_security_groups'
  | 'network_routers'
  | 'network_floatingips';

/** Bumps a resource's revision_number and updated_at in one statement (an absent row changes nothing). */
export async function bumpRevision(
  trx: NetworkTrx,
  table: RevisionedTable,
  id: string,
  now: string,
): Promise<void> {
  await trx
    .updateTable(table)
    .set((eb) => ({ revision_number: eb('revision_number', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .execute();
}

/** Tags of many resources of one type, each list sorted. */
export async function loadTags(
  db: NetworkDb | NetworkTrx,
  resourceType: string,
  ids?: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (ids !== undefined && ids.length === 0) return out;
  let q = db
    .selectFrom('network_tags')
    .select(['resource_id', 'tag'])
    .where('resource_type', '=', resourceType);
  if (ids !== undefined && ids.length <= 500) q = q.where('resource_id', 'in', [...ids]);
  for (const r of await q.execute()) {
    const list = out.get(r.resource_id);
    if (list) list.push(r.tag);
    else out.set(r.resource_id, [r.tag]);
  }
  for (const l of out.values()) l.sort();
  return out;
}

export async function replaceTags(
  trx: NetworkTrx,
  resourceType: string,
  id: string,
  tags: readonly string[],
): Promise<void> {
  await trx
    .deleteFrom('network_tags')
    .where('resource_type', '=', resourceType)
    .where('resource_id', '=', id)
    .execute();
  const uniq = [...new Set(tags)];
  if (uniq.length > 0)
    await trx
      .insertInto('network_tags')
      .values(uniq.map((tag) => ({ resource_type: resourceType, resource_id: id, tag })))
      .execute();
}

export async function dropTags(trx: NetworkTrx, resourceType: string, id: string): Promise<void> {
  await trx
    .deleteFrom('network_tags')
    .where('resource_type', '=', resourceType)
    .where('resource_id', '=', id)
    .execute();
}
