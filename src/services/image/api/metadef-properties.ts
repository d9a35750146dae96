// /v2/metadefs/namespaces/{namespace}/properties[/{property_name}]: list, create, show (optionally as a resource
// type's prefixed name), update, delete (api/v2/metadef_properties.py, db/sqlalchemy/metadef_api/property.py).
import { isUniqueViolation } from '../../../platform/db/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import type {
  MetadefDb,
  MetadefNamespaceRow,
  MetadefPropertyRow,
  MetadefTrx,
} from '../store/metadef-tables.ts';
import {
  enforceMetadef,
  mdDb,
  mdWrite,
  NS_PATH,
  parseJson,
  propertyType,
  READ_ONLY_STAMPS,
  refuseIfProtected,
  requestBody,
  requireNamespace,
} from './metadef-common.ts';
import { validateMetadef } from './metadef-schemas.ts';

type Json = Record<string, unknown>;

async function findProperty(db: MetadefDb | MetadefTrx, ns: MetadefNamespaceRow, name: string) {
  const row = await db
    .selectFrom('image_metadef_properties')
    .selectAll()
    .where('namespace_id', '=', ns.id)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw ImageErrors.notFound(`Could not find property ${name}`);
  return row;
}

/** _to_model: the stored definition as a PropertyType, named by its row. */
function propertyView(row: Pick<MetadefPropertyRow, 'name' | 'schema'>): Json {
  return { ...propertyType(parseJson(row.schema, {})), name: row.name };
}

async function list(ix: ImageContext, ctx: RouteContext) {
  const db = mdDb(ix);
  const ns = await requireNamespace(db, ctx, ctx.params['namespace'] ?? '');
  enforceMetadef(ctx, 'get_metadef_properties', ns);
  const rows = await db
    .selectFrom('image_metadef_properties')
    .select(['name', 'schema'])
    .where('namespace_id', '=', ns.id)
    .orderBy('name')
    .execute();
  const properties: Json = {};
  for (const r of rows) properties[r.name] = propertyType(parseJson(r.schema, {}));
  return { body: { properties } };
}

/** ?resource_type=: the name without the prefix of that resource type's association with the namespace. */
async function unprefixed(db: MetadefDb, ns: MetadefNamespaceRow, name: string, resourceType: string) {
  const type = await db
    .selectFrom('image_metadef_resource_types')
    .select('id')
    .where('name', '=', resourceType)
    .executeTakeFirst();
  if (!type) {
    throw ImageErrors.notFound(
      `The metadata definition resource-type with name=${resourceType}, was not found.`,
    );
  }
  const association = await db
    .selectFrom('image_metadef_associations')
    .select('prefix')
    .where('namespace_id', '=', ns.id)
    .where('resource_type_id', '=', type.id)
    .executeTakeFirst();
  if (!association) {
    throw ImageErrors.notFound(
      `The metadata definition resource-type association of resource-type=${resourceType} to namespace=${ns.namespace}, was not found.`,
    );
  }
  const prefix = association.prefix;
  if (prefix && name.startsWith(prefix)) return name.slice(prefix.length);
  throw ImageErrors.notFound(
    `Property ${name} does not start with the expected resource type association prefix of '${prefix ?? 'None'}'.`,
  );
}

async function show(ix: ImageContext, ctx: RouteContext) {
  const db = mdDb(ix);
  const ns = await requireNamespace(db, ctx, ctx.params['namespace'] ?? '');
  enforceMetadef(ctx, 'get_metadef_property', ns);
  let name = ctx.params['property_name'] ?? '';
  const resourceType = queryOne(ctx.query, 'resource_type');
  if (resourceType) {
    enforceMetadef(ctx, 'get_metadef_resource_type', ns);
    name = await unprefixed(db, ns, name, resourceType);
  }
  return { body: propertyView(await findProperty(db, ns, name)) };
}

function validBody(ctx: RouteContext): Json {
  const body = requestBody(ctx, READ_ONLY_STAMPS) as Json;
  validateMetadef('property', body);
  return body;
}

async function create(ix: ImageContext, ctx: RouteContext) {
  const body = validBody(ctx);
  const nsName = ctx.params['namespace'] ?? '';
  const name = body['name'] as string;
  const duplicate = () =>
    ImageErrors.conflict(
      `A metadata definition property with name=${name} already exists in namespace=${nsName}.`,
    );
  try {
    const row = await mdWrite(ix, async (trx, record) => {
      const ns = await requireNamespace(trx, ctx, nsName);
      enforceMetadef(ctx, 'add_metadef_property', ns);
      const taken = await trx
        .selectFrom('image_metadef_properties')
        .select('id')
        .where('namespace_id', '=', ns.id)
        .where('name', '=', name)
        .executeTakeFirst();
      if (taken) throw duplicate();
      const now = ix.nowIso();
      const row: MetadefPropertyRow = {
        id: ix.ids.uuid(),
        namespace_id: ns.id,
        name,
        schema: JSON.stringify(propertyType(body)),
        created_at: now,
        updated_at: now,
      };
      await trx.insertInto('image_metadef_properties').values(row).execute();
      record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
      return row;
    });
    return { status: 201, body: propertyView(row) };
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate();
    throw err;
  }
}

async function update(ix: ImageContext, ctx: RouteContext) {
  const body = validBody(ctx);
  const nsName = ctx.params['namespace'] ?? '';
  const newName = body['name'] as string;
  const conflict = () =>
    ImageErrors.conflict(
      `Invalid update. It would result in a duplicate metadata definition property with the same name=${newName} in namespace=${nsName}.`,
    );
  try {
    const row = await mdWrite(ix, async (trx, record) => {
      const ns = await requireNamespace(trx, ctx, nsName);
      enforceMetadef(ctx, 'modify_metadef_property', ns);
      const old = await findProperty(trx, ns, ctx.params['property_name'] ?? '');
      if (newName !== old.name) {
        const taken = await trx
          .selectFrom('image_metadef_properties')
          .select('id')
          .where('namespace_id', '=', ns.id)
          .where('name', '=', newName)
          .executeTakeFirst();
        if (taken) throw conflict();
      }
      const values = { name: newName, schema: JSON.stringify(propertyType(body)), updated_at: ix.nowIso() };
      await trx.updateTable('image_metadef_properties').set(values).where('id', '=', old.id).execute();
      record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
      return values;
    });
    return { body: propertyView(row) };
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict();
    throw err;
  }
}

async function remove(ix: ImageContext, ctx: RouteContext) {
  await mdWrite(ix, async (trx, record) => {
    const ns = await requireNamespace(trx, ctx, ctx.params['namespace'] ?? '');
    enforceMetadef(ctx, 'remove_metadef_property', ns);
    const row = await findProperty(trx, ns, ctx.params['property_name'] ?? '');
    refuseIfProtected(ns, 'property', row.name);
    await trx.deleteFrom('image_metadef_properties').where('id', '=', row.id).execute();
    record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
  });
  return { status: 204 };
}

export function metadefPropertyRoutes(ix: ImageContext): Route[] {
  const path = `${NS_PATH}/:namespace/properties`;
  return [
    { method: 'GET', path, handler: (ctx) => list(ix, ctx) },
    { method: 'POST', path, handler: (ctx) => create(ix, ctx) },
    { method: 'GET', path: `${path}/:property_name`, handler: (ctx) => show(ix, ctx) },
    { method: 'PUT', path: `${path}/:property_name`, handler: (ctx) => update(ix, ctx) },
    { method: 'DELETE', path: `${path}/:property_name`, handler: (ctx) => remove(ix, ctx) },
  ];
}
