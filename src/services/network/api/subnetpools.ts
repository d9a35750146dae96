// /v2.0/subnetpools: pools of prefixes subnets are allocated from (prefix bounds, default pool, address scope).
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkDb, NetworkTrx } from '../context.ts';
import { bits, lastOf, type Net, overlaps, parseCidr, subnetReason } from '../domain/cidr.ts';
import { countQuotaIn, enforceQuota } from '../domain/quota-check.ts';
import { compactPrefixes, mergeRanges, netsToStrings } from '../domain/subnet-alloc.ts';
import { invalidInput, notFound } from '../errors.ts';
import type { SubnetPoolsTable } from '../store/tables-core.ts';
import { findUsableScope } from './address-scopes.ts';
import { bool, callerOf, json, targetOf } from './common.ts';
import { listBody, parseListQuery } from './listing.ts';
import {
  enforceAttrPolicies,
  isUuid,
  type ParsedItem,
  parseCreate,
  parseUpdate,
  type ResourceSpec,
  showBody,
  standardAttrs,
  toBoolean,
  toInt,
  view,
} from './resource.ts';
import { checkRevision, dropTags, loadTags } from './standard-attrs.ts';
import type { TaggableResource } from './tags.ts';

countQuotaIn('subnetpool', 'network_subnetpools');

const nonNegative = (v: number) => (v < 0 ? `'${v}' should be non-negative` : undefined);
const prefixLen = { post: true, put: true, default: undefined, convert: toInt, validate: nonNegative };

export const subnetpoolSpec: ResourceSpec = {
  member: 'subnetpool',
  collection: 'subnetpools',
  attrs: {
    ...standardAttrs(),
    name: {
      post: true,
      put: true,
      validate: (v: unknown) =>
        typeof v !== 'string'
          ? `'${JSON.stringify(v)}' is not a valid string`
          : v.trim() === ''
            ? `'${v}' Blank strings are not permitted`
            : undefined,
    },
    prefixes: {
      post: true,
      put: true,
      validate: (v: unknown) => {
        if (!Array.isArray(v)) return `'${JSON.stringify(v)}' is not a list`;
        for (const p of v) {
          const r = subnetReason(p);
          if (r) return r;
        }
        if (new Set(v).size !== v.length) return `Duplicate items in the list: '${v.join(', ')}'`;
        return undefined;
      },
    },
    default_quota: prefixLen,
    ip_version: { post: false, put: false },
    default_prefixlen: prefixLen,
    min_prefixlen: prefixLen,
    max_prefixlen: prefixLen,
    is_default: { post: true, put: true, default: false, convert: toBoolean, policy: true },
    shared: { post: true, put: false, default: false, convert: toBoolean, policy: true },
    address_scope_id: {
      post: true,
      put: true,
      default: undefined,
      validate: (v: unknown) => (v === null ? undefined : isUuid(v)),
    },
  },
};

export function renderPool(p: SubnetPoolsTable, tags: string[]): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    tenant_id: p.project_id,
    project_id: p.project_id,
    prefixes: json<string[]>(p.prefixes, []),
    default_quota: p.default_quota,
    ip_version: p.ip_version,
    default_prefixlen: p.default_prefixlen,
    min_prefixlen: p.min_prefixlen,
    max_prefixlen: p.max_prefixlen,
    is_default: bool(p.is_default),
    shared: bool(p.shared),
    address_scope_id: p.address_scope_id,
    description: p.description,
    tags,
    created_at: p.created_at,
    updated_at: p.updated_at,
    revision_number: p.revision_number,
  };
}

async function renderPools(db: NetworkDb, rows: SubnetPoolsTable[]) {
  const tags = await loadTags(
    db,
    'subnetpools',
    rows.map((r) => r.id),
  );
  return rows.map((r) => renderPool(r, tags.get(r.id) ?? []));
}

export function poolNotFound(id: string): Error {
  return notFound('SubnetPoolNotFound', `Subnet pool ${id} could not be found.`);
}

/** A pool the caller may use (own, shared, or admin), or SubnetPoolNotFound. */
export async function findUsablePool(
  cx: NetworkContext,
  ctx: RouteContext,
  id: string,
  db: NetworkDb | NetworkTrx = cx.db,
): Promise<SubnetPoolsTable> {
  const row = await db.selectFrom('network_subnetpools').selectAll().where('id', '=', id).executeTakeFirst();
  const caller = callerOf(ctx);
  if (!row || !(caller.isAdmin || row.shared === 1 || row.project_id === caller.projectId))
    throw poolNotFound(id);
  return row;
}

function bounds(prefixType: string, len: number, baseType: string, base: number): ApiError {
  return new ApiError(
    400,
    'IllegalSubnetPoolPrefixBounds',
    `Illegal prefix bounds: ${prefixType}=${len}, ${baseType}=${base}.`,
  );
}

/** SubnetPoolReader: prefixes of one version, compacted; bounds defaulted and checked. */
export function readPool(
  // biome-ignore lint/suspicious/noExplicitAny: parsed request values (converted and validated by the spec).
  v: Record<string, any>,
): Pick<
  SubnetPoolsTable,
  'ip_version' | 'prefixes' | 'min_prefixlen' | 'max_prefixlen' | 'default_prefixlen'
> {
  const list = v['prefixes'] as string[];
  if (list.length === 0)
    throw new ApiError(400, 'EmptySubnetPoolPrefixList', 'Empty subnet pool prefix list.');
  const nets: Net[] = list.map((p) => parseCidr(p)!.net);
  const version = nets[0]!.version;
  if (nets.some((n) => n.version !== version))
    throw new ApiError(400, 'PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
  const max = bits(version);
  const minLen: number = v['min_prefixlen'] ?? (version === 4 ? 8 : 64);
  const maxLen: number = v['max_prefixlen'] ?? max;
  const defLen: number = v['default_prefixlen'] ?? minLen;
  if (minLen > maxLen) throw bounds('min_prefixlen', minLen, 'max_prefixlen', maxLen);
  if (maxLen > max) throw bounds('max_prefixlen', maxLen, 'ip_version_max', max);
  if (defLen < minLen) throw bounds('default_prefixlen', defLen, 'min_prefixlen', minLen);
  if (defLen > maxLen) throw bounds('default_prefixlen', defLen, 'max_prefixlen', maxLen);
  return {
    ip_version: version,
    prefixes: JSON.stringify(netsToStrings(compactPrefixes(nets))),
    min_prefixlen: minLen,
    max_prefixlen: maxLen,
    default_prefixlen: defLen,
  };
}

async function checkDefault(trx: NetworkTrx, version: number, except?: string) {
  let q = trx
    .selectFrom('network_subnetpools')
    .select('id')
    .where('is_default', '=', 1)
    .where('ip_version', '=', version);
  if (except) q = q.where('id', '!=', except);
  if (await q.executeTakeFirst())
    throw invalidInput(
      'A default subnetpool for this IP family has already been set. Only one default may exist per IP family',
    );
}

export async function checkScope(
  cx: NetworkContext,
  ctx: RouteContext,
  trx: NetworkTrx,
  poolId: string,
  scopeId: string | null,
  version: number,
  prefixes: string,
) {
  if (!scopeId) return;
  const scope = await findUsableScope(cx, ctx, scopeId, trx).catch(() => undefined);
  if (!scope)
    throw new ApiError(
      400,
      'IllegalSubnetPoolAssociationToAddressScope',
      `Illegal subnetpool association: subnetpool ${poolId} cannot be associated with address scope ${scopeId}.`,
    );
  if (scope.ip_version !== version)
    throw new ApiError(
      400,
      'IllegalSubnetPoolIpVersionAssociationToAddressScope',
      `Illegal subnetpool association: subnetpool ${poolId} cannot associate with address scope ${scopeId} because subnetpool ip_version is not ${scope.ip_version}.`,
    );
  const mine = (JSON.parse(prefixes) as string[]).map((p) => parseCidr(p)!.net);
  const others = await trx
    .selectFrom('network_subnetpools')
    .select('prefixes')
    .where('address_scope_id', '=', scopeId)
    .where('id', '!=', poolId)
    .execute();
  for (const o of others)
    for (const p of JSON.parse(o.prefixes) as string[]) {
      const n = parseCidr(p)!.net;
      if (mine.some((m) => overlaps(m, n)))
        throw new ApiError(
          409,
          'AddressScopePrefixConflict',
          'Failed to associate address scope: subnetpools within an address scope must have unique prefixes.',
        );
    }
}

async function createPool(cx: NetworkContext, ctx: RouteContext) {
  const { items } = parseCreate(subnetpoolSpec, callerOf(ctx), ctx.body);
  const item = items[0] as ParsedItem;
  ctx.authorize('create_subnetpool', targetOf(item.values));
  enforceAttrPolicies(ctx, subnetpoolSpec, 'create', item, targetOf(item.values));
  const v = item.values;
  const read = readPool(v);
  const row = await cx.write(async (trx, record) => {
    await enforceQuota(cx, trx, v['project_id'], 'subnetpool');
    if (v['is_default']) await checkDefault(trx, read.ip_version);
    const now = cx.nowIso();
    const row: SubnetPoolsTable = {
      id: cx.ids.uuid(),
      project_id: v['project_id'],
      name: v['name'],
      description: v['description'],
      created_at: now,
      updated_at: now,
      revision_number: 1,
      ...read,
      default_quota: v['default_quota'] ?? null,
      is_default: v['is_default'] ? 1 : 0,
      shared: v['shared'] ? 1 : 0,
      address_scope_id: v['address_scope_id'] ?? null,
    };
    await checkScope(cx, ctx, trx, row.id, row.address_scope_id, row.ip_version, row.prefixes);
    await trx.insertInto('network_subnetpools').values(row).execute();
    record({ kind: 'subnetpool', id: row.id, action: 'create', projectId: row.project_id });
    return row;
  });
  return {
    status: 201,
    body: { subnetpool: view(ctx, subnetpoolSpec, (await renderPools(cx.db, [row]))[0]!) },
  };
}

async function updatePool(cx: NetworkContext, ctx: RouteContext) {
  const item = parseUpdate(subnetpoolSpec, callerOf(ctx), ctx.body);
  const before = await findUsablePool(cx, ctx, ctx.params['id']!);
  const target = targetOf({ ...renderPool(before, []), ...item.values });
  ctx.authorize('update_subnetpool', target);
  enforceAttrPolicies(ctx, subnetpoolSpec, 'update', item, target);
  checkRevision(ctx, before.revision_number);
  const v = item.values;
  const row = await cx.write(async (trx, record) => {
    const cur = await findUsablePool(cx, ctx, before.id, trx);
    const old = json<string[]>(cur.prefixes, []);
    let prefixes = old;
    if (v['prefixes'] !== undefined) {
      const next = compactPrefixes((v['prefixes'] as string[]).map((p) => parseCidr(p)!.net));
      const covered = old.every((o) => {
        const n = parseCidr(o)!.net;
        const last = lastOf(n);
        return mergeRanges(next.map((x) => ({ first: x.network, last: lastOf(x) }))).some(
          (r) => r.first <= n.network && last <= r.last,
        );
      });
      if (!covered)
        throw new ApiError(
          400,
          'IllegalSubnetPoolPrefixUpdate',
          'Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.',
        );
      prefixes = netsToStrings(next);
    }
    const read = readPool({
      prefixes,
      min_prefixlen: v['min_prefixlen'] ?? cur.min_prefixlen,
      max_prefixlen: v['max_prefixlen'] ?? cur.max_prefixlen,
      default_prefixlen: v['default_prefixlen'] ?? cur.default_prefixlen,
    });
    if (read.ip_version !== cur.ip_version)
      throw new ApiError(400, 'PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
    if (v['is_default'] && cur.is_default !== 1) await checkDefault(trx, cur.ip_version, cur.id);
    const set: Partial<SubnetPoolsTable> = { ...read };
    if (v['name'] !== undefined) set.name = v['name'];
    if (v['description'] !== undefined) set.description = v['description'];
    if (v['is_default'] !== undefined) set.is_default = v['is_default'] ? 1 : 0;
    if (v['default_quota'] !== undefined) set.default_quota = v['default_quota'];
    if (v['address_scope_id'] !== undefined) set.address_scope_id = v['address_scope_id'];
    const next = { ...cur, ...set, updated_at: cx.nowIso(), revision_number: cur.revision_number + 1 };
    await checkScope(cx, ctx, trx, cur.id, next.address_scope_id, next.ip_version, next.prefixes);
    await trx
      .updateTable('network_subnetpools')
      .set({ ...set, updated_at: next.updated_at, revision_number: next.revision_number })
      .where('id', '=', cur.id)
      .execute();
    record({ kind: 'subnetpool', id: cur.id, action: 'update', projectId: cur.project_id });
    return next;
  });
  return { body: { subnetpool: view(ctx, subnetpoolSpec, (await renderPools(cx.db, [row]))[0]!) } };
}

export function subnetpoolRoutes(cx: NetworkContext): Route[] {
  return [
    { method: 'POST', path: '/network/v2.0/subnetpools', handler: (ctx) => createPool(cx, ctx) },
    {
      method: 'GET',
      path: '/network/v2.0/subnetpools',
      async handler(ctx) {
        const q = parseListQuery(ctx, subnetpoolSpec);
        const caller = callerOf(ctx);
        const rows = (
          await cx.db
            .selectFrom('network_subnetpools')
            .selectAll()
            .orderBy('created_at')
            .orderBy('id')
            .execute()
        ).filter((r) => caller.isAdmin || r.shared === 1 || r.project_id === caller.projectId);
        return listBody(ctx, subnetpoolSpec, await renderPools(cx.db, rows), q);
      },
    },
    {
      method: 'GET',
      path: '/network/v2.0/subnetpools/:id',
      async handler(ctx) {
        const row = await findUsablePool(cx, ctx, ctx.params['id']!);
        return showBody(ctx, subnetpoolSpec, (await renderPools(cx.db, [row]))[0]!);
      },
    },
    { method: 'PUT', path: '/network/v2.0/subnetpools/:id', handler: (ctx) => updatePool(cx, ctx) },
    {
      method: 'DELETE',
      path: '/network/v2.0/subnetpools/:id',
      async handler(ctx) {
        const row = await findUsablePool(cx, ctx, ctx.params['id']!);
        ctx.authorize('delete_subnetpool', targetOf(renderPool(row, [])));
        checkRevision(ctx, row.revision_number);
        await cx.write(async (trx, record) => {
          const used = await trx
            .selectFrom('network_subnets')
            .select('id')
            .where('subnetpool_id', '=', row.id)
            .executeTakeFirst();
          if (used)
            throw new ApiError(
              400,
              'SubnetPoolDeleteError',
              'Unable to delete subnet pool: Subnet pool has existing allocations.',
            );
          await trx.deleteFrom('network_subnetpools').where('id', '=', row.id).execute();
          await dropTags(trx, 'subnetpools', row.id);
          record({ kind: 'subnetpool', id: row.id, action: 'delete', projectId: row.project_id });
        });
        return { status: 204 };
      },
    },
  ];
}

export const subnetpoolTaggable: TaggableResource = {
  collection: 'subnetpools',
  async find(cx, ctx, id) {
    const row = await findUsablePool(cx, ctx, id).catch(() => undefined);
    return row ? { projectId: row.project_id } : undefined;
  },
  notFound: poolNotFound,
  table: 'network_subnetpools',
};
