// /resource_providers and /resource_providers/{uuid}: create, list with filters, show, update (name, parent;
// re-parenting from 1.37) and delete (placement/handlers/resource_provider.py).
import { randomUUID } from 'node:crypto';
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { PlacementContext } from '../context.ts';
import {
  aggsMatch,
  parseInTree,
  parseMemberOf,
  parseResources,
  parseTraits,
  traitNames,
  traitsMatch,
} from '../domain/query-params.ts';
import { fits, type SnapProvider } from '../domain/snapshot.ts';
import { Codes, PlacementErrors } from '../errors.ts';
import { unknownResourceClasses, unknownTraits } from '../store/catalog.ts';
import type { ProviderRow } from '../store/tables.ts';
import {
  authorize,
  cacheHeaders,
  checkQueryKeys,
  extractJson,
  findProvider,
  getProvider,
  isUuidLike,
  latest,
  mvOf,
  normalizeUuid,
  PREFIX,
  providerUrl,
  q,
  qAll,
  requireJson,
} from './common.ts';
import { POST_RP, POST_RP_1_14, PUT_RP, PUT_RP_1_14 } from './schemas.ts';

type ProviderView = Pick<ProviderRow, 'uuid' | 'name' | 'generation' | 'parent_uuid' | 'root_uuid'>;

export function serializeProvider(ctx: RouteContext, rp: ProviderView): Record<string, unknown> {
  const mv = mvOf(ctx);
  const url = providerUrl(rp.uuid);
  const rels = ['inventories', 'usages'];
  if (mv.atLeast('1.1')) rels.push('aggregates');
  if (mv.atLeast('1.6')) rels.push('traits');
  if (mv.atLeast('1.11')) rels.push('allocations');
  const out: Record<string, unknown> = {
    uuid: rp.uuid,
    name: rp.name,
    generation: Number(rp.generation),
    links: [{ rel: 'self', href: url }, ...rels.map((rel) => ({ rel, href: `${url}/${rel}` }))],
  };
  if (mv.atLeast('1.14')) {
    out['parent_provider_uuid'] = rp.parent_uuid;
    out['root_provider_uuid'] = rp.root_uuid;
  }
  return out;
}

async function create(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireJson(ctx);
  authorize(ctx, 'placement:resource_providers:create');
  const mv = mvOf(ctx);
  const data = extractJson(ctx, mv.atLeast('1.14') ? POST_RP_1_14 : POST_RP);
  const uuid = data.uuid ? normalizeUuid(data.uuid) : randomUUID();
  const name: string = data.name;
  const parent: string | null = data.parent_provider_uuid ? normalizeUuid(data.parent_provider_uuid) : null;
  const failed = (reason: string) =>
    PlacementErrors.badRequest(
      `Unable to create resource provider "${name}", ${uuid}: Object action create failed because: ${reason}`,
    );
  if (!name) throw failed('name is required');
  const now = px.nowIso();
  const row = await px.write(async (trx, record) => {
    const dupes: string[] = [];
    if (await findProvider(trx, uuid)) dupes.push(`uuid: ${uuid}`);
    const byName = await trx
      .selectFrom('placement_resource_providers')
      .select('uuid')
      .where('name', '=', name)
      .executeTakeFirst();
    if (byName) dupes.push(`name: ${name}`);
    if (dupes.length) {
      throw PlacementErrors.conflict(
        `Conflicting resource provider ${dupes.join(', ')} already exists.`,
        Codes.DUPLICATE_NAME,
      );
    }
    let root = uuid;
    if (parent !== null) {
      if (parent === uuid) {
        throw failed(
          'parent provider UUID cannot be same as UUID. Please set parent provider UUID to None if there is no parent.',
        );
      }
      const p = await findProvider(trx, parent);
      if (!p) throw failed('parent provider UUID does not exist.');
      root = p.root_uuid;
    }
    const r: ProviderRow = {
      uuid,
      name,
      generation: 0,
      parent_uuid: parent,
      root_uuid: root,
      created_at: now,
      updated_at: now,
    };
    await trx.insertInto('placement_resource_providers').values(r).execute();
    record({ kind: 'resource_provider', id: uuid, action: 'create' });
    return r;
  });
  const headers: Record<string, string> = { location: providerUrl(uuid) };
  if (mv.atLeast('1.20')) {
    return {
      status: 200,
      body: serializeProvider(ctx, row),
      headers: { ...headers, ...cacheHeaders(ctx, now) },
    };
  }
  return { status: 201, headers };
}

async function show(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  authorize(ctx, 'placement:resource_providers:show');
  const rp = await getProvider(px.db, ctx.params['uuid'] ?? '');
  return { body: serializeProvider(ctx, rp), headers: cacheHeaders(ctx, rp.updated_at) };
}

/** Providers passing GET /resource_providers' filters, in creation order. */
async function list(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  authorize(ctx, 'placement:resource_providers:list');
  const mv = mvOf(ctx);
  const keys = ['name', 'uuid'];
  if (mv.atLeast('1.3')) keys.push('member_of');
  if (mv.atLeast('1.4')) keys.push('resources');
  if (mv.atLeast('1.14')) keys.push('in_tree');
  if (mv.atLeast('1.18')) keys.push('required');
  checkQueryKeys(ctx, keys);
  const uuid = q(ctx, 'uuid');
  if (uuid !== undefined && !isUuidLike(uuid)) {
    throw PlacementErrors.badRequest(`Invalid query string parameters: '${uuid}' is not a 'uuid'`);
  }
  const inTreeRaw = q(ctx, 'in_tree');
  if (inTreeRaw !== undefined && !isUuidLike(inTreeRaw)) {
    throw PlacementErrors.badRequest(`Invalid query string parameters: '${inTreeRaw}' is not a 'uuid'`);
  }
  const memberOf =
    ctx.query['member_of'] !== undefined
      ? parseMemberOf(qAll(ctx, 'member_of'), '', mv.atLeast('1.24'), mv.atLeast('1.32'))
      : undefined;
  const traits =
    ctx.query['required'] !== undefined
      ? parseTraits(qAll(ctx, 'required'), mv.atLeast('1.22'), mv.atLeast('1.39'))
      : undefined;
  const resourcesRaw = q(ctx, 'resources');
  const resources = resourcesRaw !== undefined ? parseResources(resourcesRaw) : undefined;
  if (resources) {
    const unknown = await unknownResourceClasses(px.db, Object.keys(resources));
    if (unknown.length) {
      throw PlacementErrors.badRequest(
        `Invalid resource class in resources parameter: No such resource class ${unknown[0]}.`,
      );
    }
  }
  if (traits) {
    const unknown = await unknownTraits(px.db, traitNames(traits));
    if (unknown.length) {
      throw PlacementErrors.badRequest(
        `Invalid trait(s) in "required" parameter: No such trait(s): ${unknown.join(', ')}.`,
      );
    }
  }
  const snap = await px.snapshot();
  let tree: string | undefined;
  if (inTreeRaw !== undefined) {
    const anchor = snap.providers.get(parseInTree(inTreeRaw));
    if (!anchor) return { body: { resource_providers: [] }, headers: cacheHeaders(ctx) };
    tree = anchor.root_uuid;
  }
  const name = q(ctx, 'name');
  const want = uuid !== undefined ? normalizeUuid(uuid) : undefined;
  const out: SnapProvider[] = [];
  for (const p of snap.providers.values()) {
    if (name !== undefined && p.name !== name) continue;
    if (want !== undefined && p.uuid !== want) continue;
    if (tree !== undefined && p.root_uuid !== tree) continue;
    if (memberOf && !aggsMatch(p.aggregates, memberOf)) continue;
    if (traits && !traitsMatch(p.traits, traits)) continue;
    if (resources && !Object.entries(resources).every(([rc, n]) => fits(p, rc, n))) continue;
    out.push(p);
  }
  return {
    body: { resource_providers: out.map((p) => serializeProvider(ctx, p)) },
    headers: cacheHeaders(ctx, latest(out.map((p) => p.updated_at))),
  };
}

async function update(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireJson(ctx);
  authorize(ctx, 'placement:resource_providers:update');
  const uuid = ctx.params['uuid'] ?? '';
  const mv = mvOf(ctx);
  await getProvider(px.db, uuid);
  const data = extractJson(ctx, mv.atLeast('1.14') ? PUT_RP_1_14 : PUT_RP);
  const allowReparent = mv.atLeast('1.37');
  const failed = (action: string, reason: string) =>
    PlacementErrors.badRequest(
      `Unable to save resource provider ${uuid}: Object action ${action} failed because: ${reason}`,
    );
  const now = px.nowIso();
  const row = await px.write(async (trx, record) => {
    const rp = await getProvider(trx, uuid);
    const clash = await trx
      .selectFrom('placement_resource_providers')
      .select('uuid')
      .where('name', '=', data.name)
      .where('uuid', '!=', uuid)
      .executeTakeFirst();
    if (clash) {
      throw PlacementErrors.conflict(
        `Conflicting resource provider ${data.name} already exists.`,
        Codes.DUPLICATE_NAME,
      );
    }
    let parent = rp.parent_uuid;
    let root = rp.root_uuid;
    if ('parent_provider_uuid' in data) {
      const wanted: string | null = data.parent_provider_uuid
        ? normalizeUuid(data.parent_provider_uuid)
        : null;
      if (wanted !== null) {
        const p = await findProvider(trx, wanted);
        if (!p) throw failed('create', 'parent provider UUID does not exist.');
        if (rp.parent_uuid !== null && rp.parent_uuid !== wanted && !allowReparent) {
          throw failed('update', 're-parenting a provider is not currently allowed.');
        }
        if ((await subtree(trx, rp)).has(wanted)) {
          throw failed('update', 'creating loop in the provider tree is not allowed.');
        }
        parent = wanted;
        root = p.root_uuid;
      } else if (rp.parent_uuid !== null) {
        if (!allowReparent) throw failed('update', 'un-parenting a provider is not currently allowed.');
        parent = null;
        root = rp.uuid;
      }
    }
    if (root !== rp.root_uuid) {
      const members = [...(await subtree(trx, rp))];
      await trx
        .updateTable('placement_resource_providers')
        .set({ root_uuid: root })
        .where('uuid', 'in', members)
        .execute();
    }
    await trx
      .updateTable('placement_resource_providers')
      .set({ name: data.name, parent_uuid: parent, root_uuid: root, updated_at: now })
      .where('uuid', '=', uuid)
      .execute();
    record({ kind: 'resource_provider', id: uuid, action: 'update' });
    return { ...rp, name: data.name as string, parent_uuid: parent, root_uuid: root, updated_at: now };
  });
  return { body: serializeProvider(ctx, row), headers: cacheHeaders(ctx, now) };
}

/** The provider and all its descendants. */
async function subtree(trx: Parameters<typeof findProvider>[0], rp: ProviderRow): Promise<Set<string>> {
  const all = await trx
    .selectFrom('placement_resource_providers')
    .select(['uuid', 'parent_uuid'])
    .where('root_uuid', '=', rp.root_uuid)
    .execute();
  const out = new Set([rp.uuid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const r of all) {
      if (r.parent_uuid && out.has(r.parent_uuid) && !out.has(r.uuid)) {
        out.add(r.uuid);
        grew = true;
      }
    }
  }
  return out;
}

async function remove(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  authorize(ctx, 'placement:resource_providers:delete');
  const uuid = ctx.params['uuid'] ?? '';
  await px.write(async (trx, record) => {
    const rp = await findProvider(trx, uuid);
    if (!rp) throw PlacementErrors.notFound(`No resource provider with uuid ${uuid} found for delete`);
    const child = await trx
      .selectFrom('placement_resource_providers')
      .select('uuid')
      .where('parent_uuid', '=', uuid)
      .executeTakeFirst();
    if (child) {
      throw PlacementErrors.conflict(
        `Unable to delete parent resource provider ${uuid}: It has child resource providers.`,
        Codes.PROVIDER_CANNOT_DELETE_PARENT,
      );
    }
    const alloc = await trx
      .selectFrom('placement_allocations')
      .select('consumer_id')
      .where('rp_uuid', '=', uuid)
      .executeTakeFirst();
    if (alloc) {
      throw PlacementErrors.conflict(
        `Unable to delete resource provider ${uuid}: Resource provider has allocations.`,
        Codes.PROVIDER_IN_USE,
      );
    }
    await trx.deleteFrom('placement_inventories').where('rp_uuid', '=', uuid).execute();
    await trx.deleteFrom('placement_provider_traits').where('rp_uuid', '=', uuid).execute();
    await trx.deleteFrom('placement_provider_aggregates').where('rp_uuid', '=', uuid).execute();
    await trx.deleteFrom('placement_resource_providers').where('uuid', '=', uuid).execute();
    record({ kind: 'resource_provider', id: uuid, action: 'delete' });
  });
  return { status: 204 };
}

export function resourceProviderRoutes(px: PlacementContext): Route[] {
  const base = `${PREFIX}/resource_providers`;
  const one = `${base}/:uuid`;
  return [
    { method: 'GET', path: base, handler: (ctx) => list(px, ctx) },
    { method: 'POST', path: base, handler: (ctx) => create(px, ctx) },
    { method: 'GET', path: one, handler: (ctx) => show(px, ctx) },
    { method: 'PUT', path: one, handler: (ctx) => update(px, ctx) },
    { method: 'DELETE', path: one, handler: (ctx) => remove(px, ctx) },
  ];
}
