// /v2/metadefs/resource_types and /v2/metadefs/namespaces/{namespace}/resource_types[/{name}]: the resource types,
// and a namespace's associations with them (api/v2/metadef_resource_types.py,
// db/sqlalchemy/metadef_api/resource_type_association.py). Associating an unknown resource type creates it.
import { isUniqueViolation } from '../../../platform/db/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import type { MetadefNamespaceRow, MetadefTrx } from '../store/metadef-tables.ts';
import {
  associationsOf,
  associationView,
  checkMetadef,
  enforceMetadef,
  mdDb,
  mdWrite,
  NS_PATH,
  READ_ONLY_STAMPS,
  requestBody,
  requireNamespace,
} from './metadef-common.ts';
import { validateMetadef } from './metadef-schemas.ts';

type Json = Record<string, unknown>;

const duplicateAssociation = (type: string, ns: string) =>
  ImageErrors.conflict(
    `The metadata definition resource-type association of resource-type=${type} to namespace=${ns} already exists.`,
  );

/** resource_type_association.create: the resource type (made when new), then the association; 409 if present. */
export async function insertAssociation(
  ix: ImageContext,
  trx: MetadefTrx,
  ns: MetadefNamespaceRow,
  values: { name: string; prefix: string | null; properties_target: string | null },
): Promise<Json> {
  const now = ix.nowIso();
  let type = await trx
    .selectFrom('image_metadef_resource_types')
    .select('id')
    .where('name', '=', values.name)
    .executeTakeFirst();
  if (!type) {
    type = { id: ix.ids.uuid() };
    await trx
      .insertInto('image_metadef_resource_types')
      .values({ id: type.id, name: values.name, protected: 0, created_at: now, updated_at: now })
      .execute();
  }
  const present = await trx
    .selectFrom('image_metadef_associations')
    .select('namespace_id')
    .where('namespace_id', '=', ns.id)
    .where('resource_type_id', '=', type.id)
    .executeTakeFirst();
  if (present) throw duplicateAssociation(values.name, ns.namespace);
  const row = {
    namespace_id: ns.id,
    resource_type_id: type.id,
    prefix: values.prefix,
    properties_target: values.properties_target,
    created_at: now,
    updated_at: now,
  };
  await trx.insertInto('image_metadef_associations').values(row).execute();
  return associationView({ name: values.name, ...row });
}

async function listTypes(ix: ImageContext, ctx: RouteContext) {
  enforceMetadef(ctx, 'list_metadef_resource_types');
  const rows = await mdDb(ix)
    .selectFrom('image_metadef_resource_types')
    .select(['name', 'created_at', 'updated_at'])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return { body: { resource_types: rows } };
}

async function listAssociations(ix: ImageContext, ctx: RouteContext) {
  const db = mdDb(ix);
  const ns = await requireNamespace(db, ctx, ctx.params['namespace'] ?? '');
  enforceMetadef(ctx, 'list_metadef_resource_types', ns);
  const visible = checkMetadef(ctx, 'get_metadef_resource_type', ns);
  const rtas = visible ? ((await associationsOf(db, [ns.id])).get(ns.id) ?? []) : [];
  return { body: { resource_type_associations: rtas } };
}

async function associate(ix: ImageContext, ctx: RouteContext) {
  const body = requestBody(ctx, READ_ONLY_STAMPS) as Json;
  validateMetadef('resource_type_association', body);
  const nsName = ctx.params['namespace'] ?? '';
  const name = body['name'] as string;
  try {
    const view = await mdWrite(ix, async (trx, record) => {
      const ns = await requireNamespace(trx, ctx, nsName);
      enforceMetadef(ctx, 'add_metadef_resource_type_association', ns);
      const out = await insertAssociation(ix, trx, ns, {
        name,
        prefix: (body['prefix'] as string | undefined) ?? null,
        properties_target: (body['properties_target'] as string | undefined) ?? null,
      });
      record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
      return out;
    });
    return { status: 201, body: view };
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicateAssociation(name, nsName);
    throw err;
  }
}

async function dissociate(ix: ImageContext, ctx: RouteContext) {
  const nsName = ctx.params['namespace'] ?? '';
  const name = ctx.params['resource_type'] ?? '';
  await mdWrite(ix, async (trx, record) => {
    const ns = await requireNamespace(trx, ctx, nsName);
    enforceMetadef(ctx, 'remove_metadef_resource_type_association', ns);
    const type = await trx
      .selectFrom('image_metadef_associations as a')
      .innerJoin('image_metadef_resource_types as t', 't.id', 'a.resource_type_id')
      .select('t.id')
      .where('a.namespace_id', '=', ns.id)
      .where('t.name', '=', name)
      .executeTakeFirst();
    if (!type) throw ImageErrors.notFound(`Failed to find resource type ${name} to delete`);
    if (ns.protected === 1) {
      throw ImageErrors.forbidden(
        `Metadata definition resource-type-association ${name} is protected and cannot be deleted.`,
      );
    }
    await trx
      .deleteFrom('image_metadef_associations')
      .where('namespace_id', '=', ns.id)
      .where('resource_type_id', '=', type.id)
      .execute();
    record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
  });
  return { status: 204 };
}

export function metadefResourceTypeRoutes(ix: ImageContext): Route[] {
  const path = `${NS_PATH}/:namespace/resource_types`;
  return [
    { method: 'GET', path: '/image/v2/metadefs/resource_types', handler: (ctx) => listTypes(ix, ctx) },
    { method: 'GET', path, handler: (ctx) => listAssociations(ix, ctx) },
    { method: 'POST', path, handler: (ctx) => associate(ix, ctx) },
    { method: 'DELETE', path: `${path}/:resource_type`, handler: (ctx) => dissociate(ix, ctx) },
  ];
}
