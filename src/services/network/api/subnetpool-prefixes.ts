// PUT /v2.0/subnetpools/{id}/add_prefixes and remove_prefixes (subnetpool-prefix-ops): grow or shrink a pool.
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { bits, formatCidr, type Net, overlaps, parseCidr, parseIp } from '../domain/cidr.ts';
import { netRange, netsToStrings, rangeToNets, subtract } from '../domain/subnet-alloc.ts';
import { badRequest } from '../errors.ts';
import type { SubnetPoolsTable } from '../store/tables-core.ts';
import { callerOf, json, targetOf } from './common.ts';
import { checkRevision } from './standard-attrs.ts';
import { checkScope, findUsablePool, readPool, renderPool } from './subnetpools.ts';

type Op = 'add_prefixes' | 'remove_prefixes';

/** The body's non-empty `prefixes` list, or the 400s Neutron answers for anything else. */
function requestedPrefixes(body: unknown): unknown[] {
  // A JSON body that is not an object is refused before the action runs; a missing body by the action itself.
  if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body)))
    throw badRequest('Body contains invalid data');
  const prefixes = (body as Record<string, unknown> | undefined)?.['prefixes'];
  if (!Array.isArray(prefixes) || prefixes.length === 0)
    throw badRequest('Request body contains invalid data');
  return prefixes;
}

/** netaddr's reading of one prefix: "addr/len" (host bits dropped) or a bare address (a /32 or /128). */
function prefixOf(p: unknown): Net {
  if (typeof p === 'string') {
    if (p.includes('/')) {
      const c = parseCidr(p);
      if (c) return c.net;
    } else {
      const ip = parseIp(p);
      if (ip) return { version: ip.version, network: ip.value, prefixlen: bits(ip.version) };
    }
  }
  throw new ApiError(
    400,
    'AddrFormatError',
    `invalid IPNetwork ${typeof p === 'string' ? p : JSON.stringify(p)}`,
  );
}

const poolNets = (p: SubnetPoolsTable): Net[] => json<string[]>(p.prefixes, []).map((s) => parseCidr(s)!.net);

/** A pool in another project's shared address scope only changes by its scope's owner or an admin. */
async function checkScopeOwner(ctx: RouteContext, trx: NetworkTrx, pool: SubnetPoolsTable) {
  const caller = callerOf(ctx);
  if (!pool.address_scope_id || caller.isAdmin) return;
  const scope = await trx
    .selectFrom('network_address_scopes')
    .select('project_id')
    .where('id', '=', pool.address_scope_id)
    .executeTakeFirst();
  if (scope && scope.project_id !== caller.projectId)
    throw new ApiError(
      400,
      'IllegalSubnetPoolUpdate',
      `Illegal subnetpool update : subnetpool ${pool.id} cannot be updated when associated with shared address scope ${pool.address_scope_id}.`,
    );
}

/** Stores a pool's new prefix list (and family, which only an emptied pool can change), bumping its revision. */
async function storePrefixes(
  cx: NetworkContext,
  trx: NetworkTrx,
  pool: SubnetPoolsTable,
  prefixes: string[],
  ipVersion: number,
): Promise<void> {
  await trx
    .updateTable('network_subnetpools')
    .set({
      prefixes: JSON.stringify(prefixes),
      ip_version: ipVersion,
      updated_at: cx.nowIso(),
      revision_number: pool.revision_number + 1,
    })
    .where('id', '=', pool.id)
    .execute();
}

/** The union, compacted and checked like an update of `prefixes` (family, bounds, address scope uniqueness). */
async function addPrefixes(cx: NetworkContext, ctx: RouteContext, pool: SubnetPoolsTable, given: Net[]) {
  return cx.write(async (trx, record) => {
    const cur = await findUsablePool(cx, ctx, pool.id, trx);
    checkRevision(ctx, cur.revision_number);
    const read = readPool({
      prefixes: [...poolNets(cur), ...given].map(formatCidr),
      min_prefixlen: cur.min_prefixlen,
      max_prefixlen: cur.max_prefixlen,
      default_prefixlen: cur.default_prefixlen,
    });
    await checkScopeOwner(ctx, trx, cur);
    await checkScope(cx, ctx, trx, cur.id, cur.address_scope_id, read.ip_version, read.prefixes);
    const prefixes = JSON.parse(read.prefixes) as string[];
    await storePrefixes(cx, trx, cur, prefixes, read.ip_version);
    record({ kind: 'subnetpool', id: cur.id, action: 'update', projectId: cur.project_id });
    return prefixes;
  });
}

/** The difference, refused while a subnet allocated from the pool overlaps what goes; disjoint input is a no-op. */
async function removePrefixes(cx: NetworkContext, ctx: RouteContext, pool: SubnetPoolsTable, given: Net[]) {
  return cx.write(async (trx, record) => {
    const cur = await findUsablePool(cx, ctx, pool.id, trx);
    checkRevision(ctx, cur.revision_number);
    const have = poolNets(cur);
    const version = cur.ip_version as 4 | 6;
    const cut = given.filter((g) => g.version === version);
    if (!cut.some((c) => have.some((h) => overlaps(c, h)))) return netsToStrings(have);
    const subnets = await trx
      .selectFrom('network_subnets')
      .select('cidr')
      .where('subnetpool_id', '=', cur.id)
      .execute();
    const inUse = subnets.map((s) => parseCidr(s.cidr)?.net).filter((n): n is Net => n !== undefined);
    if (inUse.some((u) => cut.some((c) => overlaps(u, c))))
      throw new ApiError(
        400,
        'IllegalSubnetPoolPrefixUpdate',
        'Illegal update to prefixes: One or more the prefixes to be removed is in use by a subnet..', // sic
      );
    const left = subtract(have.map(netRange), cut.map(netRange)).flatMap((r) => rangeToNets(r, version));
    const prefixes = netsToStrings(left);
    await storePrefixes(cx, trx, cur, prefixes, cur.ip_version);
    record({ kind: 'subnetpool', id: cur.id, action: 'update', projectId: cur.project_id });
    return prefixes;
  });
}

async function prefixAction(cx: NetworkContext, ctx: RouteContext, op: Op) {
  const pool = await findUsablePool(cx, ctx, ctx.params['id']!);
  ctx.authorize(op, targetOf(renderPool(pool, [])));
  const given = requestedPrefixes(ctx.body).map(prefixOf);
  const prefixes =
    op === 'add_prefixes'
      ? await addPrefixes(cx, ctx, pool, given)
      : await removePrefixes(cx, ctx, pool, given);
  return { body: { prefixes } };
}

export function subnetpoolPrefixRoutes(cx: NetworkContext): Route[] {
  return (['add_prefixes', 'remove_prefixes'] as const).map(
    (op): Route => ({
      method: 'PUT',
      path: `/network/v2.0/subnetpools/:id/${op}`,
      handler: (ctx) => prefixAction(cx, ctx, op),
    }),
  );
}
