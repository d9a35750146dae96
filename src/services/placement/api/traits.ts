// /traits and /resource_providers/{uuid}/traits (1.6): standard and CUSTOM_* traits, and the traits of a
// provider guarded by its generation (placement/handlers/trait.py).

import { isUniqueViolation } from '../../../platform/db/errors.ts';
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { PlacementContext } from '../context.ts';
import { STANDARD_TRAITS } from '../domain/standards.ts';
import { PlacementErrors } from '../errors.ts';
import { isStandardTrait, unknownTraits } from '../store/catalog.ts';
import {
  authorize,
  cacheHeaders,
  casGeneration,
  checkQueryKeys,
  extractJson,
  getProvider,
  PREFIX,
  q,
  requireJson,
  requireVersion,
} from './common.ts';
import { SET_RP_TRAITS } from './schemas.ts';

const CUSTOM_RE = /^CUSTOM_[A-Z0-9_]+$/;
const traitUrl = (name: string) => `${PREFIX}/traits/${name}`;

async function traitExists(px: PlacementContext, name: string): Promise<boolean> {
  if (isStandardTrait(name)) return true;
  return (
    (await px.db
      .selectFrom('placement_traits')
      .select('name')
      .where('name', '=', name)
      .executeTakeFirst()) !== undefined
  );
}

async function listTraits(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.6');
  authorize(ctx, 'placement:traits:list');
  checkQueryKeys(ctx, ['name', 'associated']);
  const custom = await px.db.selectFrom('placement_traits').select('name').execute();
  let names = [...STANDARD_TRAITS, ...custom.map((c) => c.name)];
  const nameQ = q(ctx, 'name');
  if (nameQ !== undefined) {
    const i = nameQ.indexOf(':');
    if (i < 0) {
      throw PlacementErrors.badRequest(
        `Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "${nameQ}"`,
      );
    }
    const op = nameQ.slice(0, i);
    const value = nameQ.slice(i + 1);
    if (op === 'in') {
      const want = new Set(value.split(','));
      names = names.filter((n) => want.has(n));
    } else if (op === 'startswith') {
      names = names.filter((n) => n.startsWith(value));
    }
  }
  const assoc = q(ctx, 'associated');
  if (assoc !== undefined) {
    if (!['true', 'false'].includes(assoc.toLowerCase())) {
      throw PlacementErrors.badRequest('The query parameter "associated" only accepts "true" or "false"');
    }
    const rows = await px.db.selectFrom('placement_provider_traits').select('trait').distinct().execute();
    const used = new Set(rows.map((r) => r.trait));
    const want = assoc.toLowerCase() === 'true';
    names = names.filter((n) => used.has(n) === want);
  }
  names.sort();
  return { body: { traits: names }, headers: cacheHeaders(ctx) };
}

async function showTrait(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.6');
  authorize(ctx, 'placement:traits:show');
  const name = ctx.params['name'] ?? '';
  if (!(await traitExists(px, name))) throw PlacementErrors.notFound(`No such trait(s): ${name}.`);
  return { status: 204, headers: cacheHeaders(ctx) };
}

async function putTrait(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.6');
  authorize(ctx, 'placement:traits:update');
  const name = ctx.params['name'] ?? '';
  if (name.length > 255 || !CUSTOM_RE.test(name)) {
    throw PlacementErrors.badRequest(
      'The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"',
    );
  }
  let status = 204;
  if (!(await traitExists(px, name))) {
    const now = px.nowIso();
    try {
      await px.write(async (trx, record) => {
        await trx.insertInto('placement_traits').values({ name, created_at: now }).execute();
        record({ kind: 'trait', id: name, action: 'create' });
      });
      status = 201;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }
  return { status, headers: { location: traitUrl(name), ...cacheHeaders(ctx) } };
}

async function deleteTrait(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.6');
  authorize(ctx, 'placement:traits:delete');
  const name = ctx.params['name'] ?? '';
  if (!(await traitExists(px, name))) throw PlacementErrors.notFound(`No such trait(s): ${name}.`);
  if (isStandardTrait(name)) throw PlacementErrors.badRequest(`Cannot delete standard trait ${name}.`);
  await px.write(async (trx, record) => {
    const used = await trx
      .selectFrom('placement_provider_traits')
      .select('rp_uuid')
      .where('trait', '=', name)
      .executeTakeFirst();
    if (used) throw PlacementErrors.conflict(`The trait ${name} is in use by a resource provider.`);
    await trx.deleteFrom('placement_traits').where('name', '=', name).execute();
    record({ kind: 'trait', id: name, action: 'delete' });
  });
  return { status: 204 };
}

async function providerTraits(px: PlacementContext, uuid: string): Promise<string[]> {
  const rows = await px.db
    .selectFrom('placement_provider_traits')
    .select('trait')
    .where('rp_uuid', '=', uuid)
    .execute();
  return rows.map((r) => r.trait).sort();
}

async function listProviderTraits(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.6');
  authorize(ctx, 'placement:resource_providers:traits:list');
  const uuid = ctx.params['uuid'] ?? '';
  const msg = `No resource provider with uuid ${uuid} found`;
  const rp = await getProvider(px.db, uuid, `${msg}: ${msg}`);
  return {
    body: { traits: await providerTraits(px, uuid), resource_provider_generation: rp.generation },
    headers: cacheHeaders(ctx),
  };
}

async function setProviderTraits(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.6');
  requireJson(ctx);
  authorize(ctx, 'placement:resource_providers:traits:update');
  const uuid = ctx.params['uuid'] ?? '';
  const data = extractJson(ctx, SET_RP_TRAITS);
  const rp = await getProvider(px.db, uuid);
  if (rp.generation !== data.resource_provider_generation) {
    throw PlacementErrors.concurrent(
      "Resource provider's generation already changed. Please update the generation and try again.",
    );
  }
  const traits = [...new Set(data.traits as string[])];
  const unknown = await unknownTraits(px.db, traits);
  if (unknown.length) throw PlacementErrors.badRequest(`No such trait ${unknown.join(', ')}`);
  const now = px.nowIso();
  await px.write(async (trx, record) => {
    if (!(await casGeneration(trx, uuid, rp.generation, now))) {
      throw PlacementErrors.concurrent(
        "Resource provider's generation already changed. Please update the generation and try again.",
      );
    }
    await trx.deleteFrom('placement_provider_traits').where('rp_uuid', '=', uuid).execute();
    if (traits.length) {
      await trx
        .insertInto('placement_provider_traits')
        .values(traits.map((trait) => ({ rp_uuid: uuid, trait })))
        .execute();
    }
    record({ kind: 'resource_provider', id: uuid, action: 'update' });
  });
  return {
    body: { traits: traits.sort(), resource_provider_generation: rp.generation + 1 },
    headers: cacheHeaders(ctx, now),
  };
}

async function deleteProviderTraits(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.6');
  authorize(ctx, 'placement:resource_providers:traits:delete');
  const uuid = ctx.params['uuid'] ?? '';
  const rp = await getProvider(px.db, uuid);
  const now = px.nowIso();
  await px.write(async (trx, record) => {
    if (!(await casGeneration(trx, uuid, rp.generation, now))) {
      throw PlacementErrors.concurrent(
        'Another thread concurrently updated the resource provider data. Please retry your update',
      );
    }
    await trx.deleteFrom('placement_provider_traits').where('rp_uuid', '=', uuid).execute();
    record({ kind: 'resource_provider', id: uuid, action: 'update' });
  });
  return { status: 204 };
}

export function traitRoutes(px: PlacementContext): Route[] {
  const rp = `${PREFIX}/resource_providers/:uuid/traits`;
  return [
    { method: 'GET', path: `${PREFIX}/traits`, handler: (ctx) => listTraits(px, ctx) },
    { method: 'GET', path: `${PREFIX}/traits/:name`, handler: (ctx) => showTrait(px, ctx) },
    { method: 'PUT', path: `${PREFIX}/traits/:name`, handler: (ctx) => putTrait(px, ctx) },
    { method: 'DELETE', path: `${PREFIX}/traits/:name`, handler: (ctx) => deleteTrait(px, ctx) },
    { method: 'GET', path: rp, handler: (ctx) => listProviderTraits(px, ctx) },
    { method: 'PUT', path: rp, handler: (ctx) => setProviderTraits(px, ctx) },
    { method: 'DELETE', path: rp, handler: (ctx) => deleteProviderTraits(px, ctx) },
  ];
}
