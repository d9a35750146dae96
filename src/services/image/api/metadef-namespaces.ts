// /v2/metadefs/namespaces[/{namespace}]: list, create (with its resource types, objects, properties and tags),
// show, update, delete, and the DELETE of a namespace's objects, properties or tags (api/v2/metadef_namespaces.py,
// db/sqlalchemy/metadef_api/namespace.py).
import { isUniqueViolation, uniqueOr } from '../../../platform/db/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import type { MetadefNamespaceRow, MetadefTrx } from '../store/metadef-tables.ts';
import { resourceNotFound } from './images.ts';
import {
  associationsOf,
  callerOf,
  enforceMetadef,
  lookupNamespace,
  mdDb,
  mdWrite,
  NS_PATH,
  namespaceLocation,
  namespaceMissing,
  namespaceView,
  objectView,
  parseJson,
  propertyType,
  propertyTypes,
  READ_ONLY_WITH_LINKS,
  requestBody,
  requireNamespace,
  visibilityFilter,
} from './metadef-common.ts';
import { listNamespaces } from './metadef-namespace-list.ts';
import { insertAssociation } from './metadef-resource-types.ts';
import { validateMetadef } from './metadef-schemas.ts';

type Json = Record<string, unknown>;

const duplicateNamespace = (name: string) =>
  ImageErrors.conflict(`The metadata definition namespace=${name} already exists.`);

// --- create ---------------------------------------------------------------------------------------------------

function listOf(v: unknown): Json[] {
  return Array.isArray(v) ? (v as Json[]) : [];
}

function nonEmpty(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== null && typeof v === 'object' && Object.keys(v).length > 0;
}

/** Each contained item needs the name Glance's models make mandatory. */
function requireNames(items: Json[]): string[] {
  return items.map((item) => {
    const name = item['name'];
    if (typeof name !== 'string') {
      throw ImageErrors.badRequest(`Couldn't create metadata namespace: 'name' is a required property`);
    }
    return name;
  });
}

/** The first name that occurs twice, if any. */
function duplicateIn(names: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) return n;
    seen.add(n);
  }
  return undefined;
}

async function create(ix: ImageContext, ctx: RouteContext) {
  const body = requestBody(ctx, READ_ONLY_WITH_LINKS) as Json;
  validateMetadef('namespace', body);
  const caller = callerOf(ctx);
  enforceMetadef(ctx, 'add_metadef_namespace');
  const rtas = listOf(body['resource_type_associations']);
  const objects = listOf(body['objects']);
  const tags = listOf(body['tags']);
  const properties = (body['properties'] as Json | undefined) ?? {};
  if (rtas.length > 0) enforceMetadef(ctx, 'add_metadef_resource_type_association');
  if (objects.length > 0) enforceMetadef(ctx, 'add_metadef_object');
  if (nonEmpty(properties)) enforceMetadef(ctx, 'add_metadef_property');
  if (tags.length > 0) enforceMetadef(ctx, 'add_metadef_tag');
  const rtaNames = requireNames(rtas);
  const objectNames = requireNames(objects);
  const tagNames = requireNames(tags);

  const name = body['namespace'] as string;
  const now = ix.nowIso();
  const row: MetadefNamespaceRow = {
    id: ix.ids.uuid(),
    namespace: name,
    display_name: (body['display_name'] as string | undefined) ?? null,
    description: (body['description'] as string | undefined) ?? null,
    visibility: (body['visibility'] as MetadefNamespaceRow['visibility'] | undefined) || 'private',
    protected: body['protected'] === true ? 1 : 0,
    owner: 'owner' in body ? (body['owner'] as string) : (caller.projectId ?? null),
    created_at: now,
    updated_at: now,
  };
  await uniqueOr(
    mdWrite(ix, async (trx, record) => {
      const taken = await trx
        .selectFrom('image_metadef_namespaces')
        .select('id')
        .where('namespace', '=', name)
        .executeTakeFirst();
      if (taken) throw duplicateNamespace(name);
      await trx.insertInto('image_metadef_namespaces').values(row).execute();
      for (const [i, rta] of rtas.entries()) {
        await insertAssociation(ix, trx, row, {
          name: rtaNames[i] ?? '',
          prefix: (rta['prefix'] as string | undefined) ?? null,
          properties_target: (rta['properties_target'] as string | undefined) ?? null,
        });
      }
      const dupObject = duplicateIn(objectNames);
      if (dupObject !== undefined) {
        throw ImageErrors.conflict(
          `A metadata definition object with name=${dupObject} already exists in namespace=${name}.`,
        );
      }
      const dupTag = duplicateIn(tagNames);
      if (dupTag !== undefined) {
        throw ImageErrors.conflict(
          `A metadata tag with name=${dupTag} already exists in namespace=${name}. (Please note that metadata tag names are case insensitive).`,
        );
      }
      const base = { namespace_id: row.id, created_at: now, updated_at: now };
      for (const [i, o] of objects.entries()) {
        const required = o['required'] as string[] | undefined;
        await trx
          .insertInto('image_metadef_objects')
          .values({
            ...base,
            id: ix.ids.uuid(),
            name: objectNames[i] ?? '',
            description: (o['description'] as string | undefined) ?? null,
            required: required?.length ? JSON.stringify(required) : null,
            properties: JSON.stringify(propertyTypes(o['properties'])),
          })
          .execute();
      }
      for (const [propName, def] of Object.entries(properties)) {
        await trx
          .insertInto('image_metadef_properties')
          .values({ ...base, id: ix.ids.uuid(), name: propName, schema: JSON.stringify(propertyType(def)) })
          .execute();
      }
      for (const tagName of tagNames) {
        await trx
          .insertInto('image_metadef_tags')
          .values({ ...base, id: ix.ids.uuid(), name: tagName })
          .execute();
      }
      record({ kind: 'metadef_namespace', id: row.id, action: 'create', projectId: row.owner });
    }),
    () => duplicateNamespace(name),
  );

  // The response repeats what the request contained, as Glance's controller returns it.
  const out: Json = namespaceView(row);
  if ('resource_type_associations' in body) {
    out['resource_type_associations'] = rtas.map((a) => pick(a, ['name', 'prefix', 'properties_target']));
  }
  if ('properties' in body) out['properties'] = propertyTypes(properties);
  if ('objects' in body) {
    out['objects'] = objects.map((o) => {
      const view = pick(o, ['name', 'description', 'required']);
      if ('properties' in o) view['properties'] = propertyTypes(o['properties']);
      return view;
    });
  }
  if ('tags' in body) out['tags'] = tags.map((t) => pick(t, ['name']));
  return { status: 201, body: out, headers: { location: namespaceLocation(ctx, name) } };
}

function pick(src: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const k of keys) if (src[k] !== undefined) out[k] = src[k];
  return out;
}

// --- show, update, delete -------------------------------------------------------------------------------------

async function show(ix: ImageContext, ctx: RouteContext) {
  visibilityFilter(ctx, ['public', 'private']);
  const name = ctx.params['namespace'] ?? '';
  const db = mdDb(ix);
  const found = await lookupNamespace(db, name, callerOf(ctx));
  if (found === 'missing') throw namespaceMissing(name);
  if (found === 'hidden') throw resourceNotFound();
  const ns = found;
  enforceMetadef(ctx, 'get_metadef_namespace', ns);
  for (const rule of [
    'list_metadef_resource_types',
    'get_metadef_objects',
    'get_metadef_properties',
    'get_metadef_tags',
  ]) {
    enforceMetadef(ctx, rule, ns);
  }
  const out: Json = namespaceView(ns);
  const objects = await db
    .selectFrom('image_metadef_objects')
    .selectAll()
    .where('namespace_id', '=', ns.id)
    .orderBy('created_at')
    .orderBy('name')
    .execute();
  const objectViews = objects.map((o) => objectView(ns.namespace, o));
  if (objectViews.length > 0) out['objects'] = objectViews;
  const rtas = (await associationsOf(db, [ns.id])).get(ns.id) ?? [];
  if (rtas.length > 0) out['resource_type_associations'] = rtas;
  const props = await db
    .selectFrom('image_metadef_properties')
    .select(['name', 'schema'])
    .where('namespace_id', '=', ns.id)
    .orderBy('name')
    .execute();
  const properties: Json = {};
  for (const p of props) properties[p.name] = propertyType(parseJson(p.schema, {}));
  if (props.length > 0) out['properties'] = properties;

  // _prefix_property_name: ?resource_type= shows names as that resource type sees them.
  const resourceType = queryOne(ctx.query, 'resource_type');
  const prefix = resourceType ? rtas.find((a) => a['name'] === resourceType)?.['prefix'] : undefined;
  if (typeof prefix === 'string' && prefix !== '') {
    if (out['properties']) out['properties'] = prefixKeys(properties, prefix);
    for (const o of objectViews) {
      o['properties'] = prefixKeys(o['properties'] as Json, prefix);
      const required = o['required'] as string[];
      if (required.length > 0) o['required'] = required.map((r) => prefix + r);
    }
  }
  const tags = await db
    .selectFrom('image_metadef_tags')
    .select('name')
    .where('namespace_id', '=', ns.id)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  if (tags.length > 0) out['tags'] = tags.map((t) => ({ name: t.name }));
  return { body: out };
}

function prefixKeys(obj: Json, prefix: string): Json {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [prefix + k, v]));
}

async function update(ix: ImageContext, ctx: RouteContext) {
  const body = requestBody(ctx, READ_ONLY_WITH_LINKS) as Json;
  validateMetadef('namespace', body);
  const caller = callerOf(ctx);
  const name = ctx.params['namespace'] ?? '';
  const newName = body['namespace'] as string;
  const duplicate = () =>
    ImageErrors.conflict(
      `Invalid update. It would result in a duplicate metadata definition namespace with the same name of ${newName}`,
    );
  try {
    const row = await mdWrite(ix, async (trx, record) => {
      const ns = await requireNamespace(trx, ctx, name);
      enforceMetadef(ctx, 'modify_metadef_namespace', ns);
      if (newName !== ns.namespace) {
        const taken = await trx
          .selectFrom('image_metadef_namespaces')
          .select('id')
          .where('namespace', '=', newName)
          .executeTakeFirst();
        if (taken) throw duplicate();
      }
      const next: MetadefNamespaceRow = {
        ...ns,
        namespace: newName,
        display_name: (body['display_name'] as string | undefined) ?? null,
        description: (body['description'] as string | undefined) ?? null,
        visibility: (body['visibility'] as MetadefNamespaceRow['visibility'] | undefined) || 'private',
        protected: body['protected'] === true ? 1 : 0,
        owner: (body['owner'] as string | undefined) || (caller.projectId ?? null),
        updated_at: ix.nowIso(),
      };
      const { id, created_at: _created, ...values } = next;
      await trx.updateTable('image_metadef_namespaces').set(values).where('id', '=', id).execute();
      record({ kind: 'metadef_namespace', id, action: 'update', projectId: next.owner });
      return next;
    });
    return { body: namespaceView(row) };
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate();
    throw err;
  }
}

type Contents = 'all' | 'objects' | 'properties' | 'tags';
const CONTENT_TABLES = {
  objects: 'image_metadef_objects',
  properties: 'image_metadef_properties',
  tags: 'image_metadef_tags',
} as const;

async function deleteContents(trx: MetadefTrx, ns: MetadefNamespaceRow, what: Contents): Promise<void> {
  for (const [key, table] of Object.entries(CONTENT_TABLES)) {
    if (what === 'all' || what === key)
      await trx.deleteFrom(table).where('namespace_id', '=', ns.id).execute();
  }
  if (what === 'all') {
    await trx.deleteFrom('image_metadef_associations').where('namespace_id', '=', ns.id).execute();
    await trx.deleteFrom('image_metadef_namespaces').where('id', '=', ns.id).execute();
  }
}

/** DELETE of a namespace (cascading) or of one kind of its contents: the namespace's rule, and its protection. */
async function remove(ix: ImageContext, ctx: RouteContext, what: Contents) {
  const name = ctx.params['namespace'] ?? '';
  await mdWrite(ix, async (trx, record) => {
    const ns = await requireNamespace(trx, ctx, name);
    enforceMetadef(ctx, 'delete_metadef_namespace', ns);
    if (what === 'tags') enforceMetadef(ctx, 'delete_metadef_tags', ns);
    if (ns.protected === 1) {
      throw ImageErrors.forbidden(
        `Metadata definition namespace ${ns.namespace} is protected and cannot be deleted.`,
      );
    }
    await deleteContents(trx, ns, what);
    record({
      kind: 'metadef_namespace',
      id: ns.id,
      action: what === 'all' ? 'delete' : 'update',
      projectId: ns.owner,
    });
  });
  return { status: 204 };
}

export function metadefNamespaceRoutes(ix: ImageContext): Route[] {
  const one = `${NS_PATH}/:namespace`;
  return [
    { method: 'GET', path: NS_PATH, handler: (ctx) => listNamespaces(ix, ctx) },
    { method: 'POST', path: NS_PATH, handler: (ctx) => create(ix, ctx) },
    { method: 'GET', path: one, handler: (ctx) => show(ix, ctx) },
    { method: 'PUT', path: one, handler: (ctx) => update(ix, ctx) },
    { method: 'DELETE', path: one, handler: (ctx) => remove(ix, ctx, 'all') },
    { method: 'DELETE', path: `${one}/objects`, handler: (ctx) => remove(ix, ctx, 'objects') },
    { method: 'DELETE', path: `${one}/properties`, handler: (ctx) => remove(ix, ctx, 'properties') },
    { method: 'DELETE', path: `${one}/tags`, handler: (ctx) => remove(ix, ctx, 'tags') },
  ];
}
