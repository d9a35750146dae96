// /resource_classes: the standard classes and CUSTOM_* ones — list, create, show, rename (1.2–1.6),
// bodiless create-or-check PUT (1.7), delete (placement/handlers/resource_class.py).

import { isUniqueViolation } from '../../../platform/db/errors.ts';
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { PlacementContext } from '../context.ts';
import { STANDARD_RESOURCE_CLASSES } from '../domain/standards.ts';
import { PlacementErrors } from '../errors.ts';
import { isStandardResourceClass } from '../store/catalog.ts';
import {
  authorize,
  cacheHeaders,
  extractJson,
  latest,
  mvOf,
  PREFIX,
  requireJson,
  requireVersion,
} from './common.ts';
import { RC_BODY } from './schemas.ts';

const url = (name: string) => `${PREFIX}/resource_classes/${name}`;
const view = (name: string) => ({ name, links: [{ rel: 'self', href: url(name) }] });

async function findCustom(px: PlacementContext, name: string) {
  return px.db
    .selectFrom('placement_resource_classes')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
}

async function list(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.2');
  authorize(ctx, 'placement:resource_classes:list');
  const custom = await px.db.selectFrom('placement_resource_classes').selectAll().orderBy('name').execute();
  return {
    body: { resource_classes: [...STANDARD_RESOURCE_CLASSES, ...custom.map((c) => c.name)].map(view) },
    headers: cacheHeaders(ctx, latest(custom.map((c) => c.updated_at))),
  };
}

async function show(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.2');
  authorize(ctx, 'placement:resource_classes:show');
  const name = ctx.params['name'] ?? '';
  if (isStandardResourceClass(name)) return { body: view(name), headers: cacheHeaders(ctx) };
  const row = await findCustom(px, name);
  if (!row) throw PlacementErrors.notFound(`No such resource class ${name}.`);
  return { body: view(name), headers: cacheHeaders(ctx, row.updated_at) };
}

async function insert(px: PlacementContext, name: string): Promise<boolean> {
  const now = px.nowIso();
  try {
    await px.write(async (trx, record) => {
      await trx
        .insertInto('placement_resource_classes')
        .values({ name, created_at: now, updated_at: now })
        .execute();
      record({ kind: 'resource_class', id: name, action: 'create' });
    });
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

async function create(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.2');
  requireJson(ctx);
  authorize(ctx, 'placement:resource_classes:create');
  const data = extractJson(ctx, RC_BODY);
  const name: string = data.name;
  if (isStandardResourceClass(name) || !(await insert(px, name))) {
    throw PlacementErrors.conflict(`Conflicting resource class already exists: ${name}`);
  }
  return { status: 201, headers: { location: url(name) } };
}

async function put(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.2');
  const name = ctx.params['name'] ?? '';
  if (mvOf(ctx).atLeast('1.7')) {
    authorize(ctx, 'placement:resource_classes:update');
    extractJson({ ...ctx, body: { name } } as RouteContext, RC_BODY);
    if (await findCustom(px, name)) return { status: 204, headers: { location: url(name) } };
    const created = await insert(px, name);
    return { status: created ? 201 : 204, headers: { location: url(name) } };
  }
  requireJson(ctx);
  authorize(ctx, 'placement:resource_classes:update');
  const data = extractJson(ctx, RC_BODY);
  const newName: string = data.name;
  if (!isStandardResourceClass(name) && !(await findCustom(px, name))) {
    throw PlacementErrors.notFound(`No such resource class ${name}.`);
  }
  if (isStandardResourceClass(name))
    throw PlacementErrors.badRequest(`Cannot update standard resource class ${name}`);
  const now = px.nowIso();
  try {
    await px.write(async (trx, record) => {
      if (isStandardResourceClass(newName)) throw Object.assign(new Error('exists'), { code: '23505' });
      await trx
        .updateTable('placement_resource_classes')
        .set({ name: newName, updated_at: now })
        .where('name', '=', name)
        .execute();
      // Our rows name their class; Placement's refer to its id, so a rename carries them along.
      await trx
        .updateTable('placement_inventories')
        .set({ resource_class: newName })
        .where('resource_class', '=', name)
        .execute();
      await trx
        .updateTable('placement_allocations')
        .set({ resource_class: newName })
        .where('resource_class', '=', name)
        .execute();
      record({ kind: 'resource_class', id: newName, action: 'update' });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw PlacementErrors.conflict(`Resource class already exists: ${newName}`);
    throw err;
  }
  return { body: view(newName) };
}

async function remove(px: PlacementContext, ctx: RouteContext): Promise<RouteResult> {
  requireVersion(ctx, '1.2');
  authorize(ctx, 'placement:resource_classes:delete');
  const name = ctx.params['name'] ?? '';
  if (!isStandardResourceClass(name) && !(await findCustom(px, name))) {
    throw PlacementErrors.notFound(`No such resource class ${name}.`);
  }
  if (isStandardResourceClass(name)) {
    throw PlacementErrors.badRequest(
      `Error in delete resource class: Cannot delete standard resource class ${name}.`,
    );
  }
  await px.write(async (trx, record) => {
    const used = await trx
      .selectFrom('placement_inventories')
      .select('rp_uuid')
      .where('resource_class', '=', name)
      .executeTakeFirst();
    if (used) {
      throw PlacementErrors.conflict(
        `Error in delete resource class: Cannot delete resource class ${name}. Class is in use in inventory.`,
      );
    }
    await trx.deleteFrom('placement_resource_classes').where('name', '=', name).execute();
    record({ kind: 'resource_class', id: name, action: 'delete' });
  });
  return { status: 204 };
}

export function resourceClassRoutes(px: PlacementContext): Route[] {
  const base = `${PREFIX}/resource_classes`;
  const one = `${base}/:name`;
  return [
    { method: 'GET', path: base, handler: (ctx) => list(px, ctx) },
    { method: 'POST', path: base, handler: (ctx) => create(px, ctx) },
    { method: 'GET', path: one, handler: (ctx) => show(px, ctx) },
    { method: 'PUT', path: one, handler: (ctx) => put(px, ctx) },
    { method: 'DELETE', path: one, handler: (ctx) => remove(px, ctx) },
  ];
}
