// /v2/metadefs/namespaces/{namespace}/objects[/{object_name}]: list, create, show, update, delete
// (api/v2/metadef_objects.py, db/sqlalchemy/metadef_api/object.py).
import { isUniqueViolation } from '../../../platform/db/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import type {
  MetadefDb,
  MetadefNamespaceRow,
  MetadefObjectRow,
  MetadefTrx,
} from '../store/metadef-tables.ts';
import {
  checkMetadef,
  enforceMetadef,
  mdDb,
  mdWrite,
  NS_PATH,
  objectHref,
  objectView,
  parseMetadefLimit,
  propertyTypes,
  READ_ONLY_WITH_LINKS,
  refuseIfProtected,
  requestBody,
  requireNamespace,
  sortDir,
  visibilityFilter,
} from './metadef-common.ts';
import { validateMetadef } from './metadef-schemas.ts';

type Json = Record<string, unknown>;

const objectMissing = (name: string) => ImageErrors.notFound(`Could not find metadata object ${name}`);

async function findObject(trx: MetadefDb | MetadefTrx, ns: MetadefNamespaceRow, name: string) {
  const row = await trx
    .selectFrom('image_metadef_objects')
    .selectAll()
    .where('namespace_id', '=', ns.id)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw objectMissing(name);
  return row;
}

/** The stored columns of a request's object: required as a JSON list (or null when empty), properties typed. */
function columns(body: Json): Pick<MetadefObjectRow, 'name' | 'description' | 'required' | 'properties'> {
  const required = body['required'] as string[] | undefined;
  return {
    name: body['name'] as string,
    description: (body['description'] as string | undefined) ?? null,
    required: required?.length ? JSON.stringify(required) : null,
    properties: JSON.stringify(propertyTypes(body['properties'])),
  };
}

/** MetadefObject.to_wsme_model of the domain object a request made: what it did not set is left out. */
function requestView(nsName: string, body: Json, row: MetadefObjectRow): Json {
  const out: Json = { name: row.name };
  if (row.description !== null) out['description'] = row.description;
  if (body['required'] != null) out['required'] = body['required'];
  if (body['properties'] != null) out['properties'] = propertyTypes(body['properties']);
  out['created_at'] = row.created_at;
  out['updated_at'] = row.updated_at;
  out['self'] = objectHref(nsName, row.name);
  out['schema'] = '/v2/schemas/metadefs/object';
  return out;
}

const duplicate = (name: string, ns: string) =>
  ImageErrors.conflict(`A metadata definition object with name=${name} already exists in namespace=${ns}.`);

async function create(ix: ImageContext, ctx: RouteContext) {
  const body = requestBody(ctx, READ_ONLY_WITH_LINKS) as Json;
  validateMetadef('object', body);
  const props = body['properties'];
  if (props && typeof props === 'object') {
    for (const def of Object.values(props as Json)) validateMetadef('objectProperty', def);
  }
  const nsName = ctx.params['namespace'] ?? '';
  const name = body['name'] as string;
  try {
    const row = await mdWrite(ix, async (trx, record) => {
      const ns = await requireNamespace(trx, ctx, nsName, 'named');
      enforceMetadef(ctx, 'add_metadef_object', ns);
      const taken = await trx
        .selectFrom('image_metadef_objects')
        .select('id')
        .where('namespace_id', '=', ns.id)
        .where('name', '=', name)
        .executeTakeFirst();
      if (taken) throw duplicate(name, nsName);
      const now = ix.nowIso();
      const row: MetadefObjectRow = {
        id: ix.ids.uuid(),
        namespace_id: ns.id,
        ...columns(body),
        created_at: now,
        updated_at: now,
      };
      await trx.insertInto('image_metadef_objects').values(row).execute();
      record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
      return row;
    });
    return { status: 201, body: requestView(nsName, body, row) };
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate(name, nsName);
    throw err;
  }
}

async function list(ix: ImageContext, ctx: RouteContext) {
  // The deserializer checks these parameters; the object list itself is neither paged nor sorted.
  const limit = queryOne(ctx.query, 'limit');
  if (limit !== undefined) parseMetadefLimit(limit, true);
  sortDir(ctx);
  visibilityFilter(ctx, ['public', 'private', 'shared']);
  const nsName = ctx.params['namespace'] ?? '';
  const db = mdDb(ix);
  const ns = await requireNamespace(db, ctx, nsName, 'named');
  enforceMetadef(ctx, 'get_metadef_objects', ns);
  const rows = checkMetadef(ctx, 'get_metadef_object', ns)
    ? await db
        .selectFrom('image_metadef_objects')
        .selectAll()
        .where('namespace_id', '=', ns.id)
        .orderBy('created_at')
        .orderBy('name')
        .execute()
    : [];
  return {
    body: { objects: rows.map((o) => objectView(ns.namespace, o)), schema: 'v2/schemas/metadefs/objects' },
  };
}

async function show(ix: ImageContext, ctx: RouteContext) {
  const nsName = ctx.params['namespace'] ?? '';
  const db = mdDb(ix);
  const ns = await requireNamespace(db, ctx, nsName, 'named');
  enforceMetadef(ctx, 'get_metadef_object', ns);
  const row = await findObject(db, ns, ctx.params['object_name'] ?? '');
  return { body: objectView(ns.namespace, row) };
}

async function update(ix: ImageContext, ctx: RouteContext) {
  const body = requestBody(ctx, READ_ONLY_WITH_LINKS) as Json;
  validateMetadef('object', body);
  const nsName = ctx.params['namespace'] ?? '';
  const newName = body['name'] as string;
  const conflict = () =>
    ImageErrors.conflict(
      `Invalid update. It would result in a duplicate metadata definition object with the same name=${newName} in namespace=${nsName}.`,
    );
  try {
    const row = await mdWrite(ix, async (trx, record) => {
      const ns = await requireNamespace(trx, ctx, nsName, 'named');
      enforceMetadef(ctx, 'modify_metadef_object', ns);
      const old = await findObject(trx, ns, ctx.params['object_name'] ?? '');
      if (newName !== old.name) {
        const taken = await trx
          .selectFrom('image_metadef_objects')
          .select('id')
          .where('namespace_id', '=', ns.id)
          .where('name', '=', newName)
          .executeTakeFirst();
        if (taken) throw conflict();
      }
      const next: MetadefObjectRow = { ...old, ...columns(body), updated_at: ix.nowIso() };
      const { id, namespace_id: _ns, created_at: _c, ...values } = next;
      await trx.updateTable('image_metadef_objects').set(values).where('id', '=', id).execute();
      record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
      return next;
    });
    return { body: requestView(nsName, body, row) };
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict();
    throw err;
  }
}

async function remove(ix: ImageContext, ctx: RouteContext) {
  const nsName = ctx.params['namespace'] ?? '';
  await mdWrite(ix, async (trx, record) => {
    const ns = await requireNamespace(trx, ctx, nsName, 'named');
    enforceMetadef(ctx, 'delete_metadef_object', ns);
    const row = await findObject(trx, ns, ctx.params['object_name'] ?? '');
    refuseIfProtected(ns, 'object', row.name);
    await trx.deleteFrom('image_metadef_objects').where('id', '=', row.id).execute();
    record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
  });
  return { status: 204 };
}

export function metadefObjectRoutes(ix: ImageContext): Route[] {
  const path = `${NS_PATH}/:namespace/objects`;
  return [
    { method: 'GET', path, handler: (ctx) => list(ix, ctx) },
    { method: 'POST', path, handler: (ctx) => create(ix, ctx) },
    { method: 'GET', path: `${path}/:object_name`, handler: (ctx) => show(ix, ctx) },
    { method: 'PUT', path: `${path}/:object_name`, handler: (ctx) => update(ix, ctx) },
    { method: 'DELETE', path: `${path}/:object_name`, handler: (ctx) => remove(ix, ctx) },
  ];
}
