// /v2/metadefs/namespaces/{namespace}/tags[/{tag_name}]: list (sorted, paged), create several (replacing or, with
// X-Openstack-Append, adding), create one, show, rename, delete (api/v2/metadef_tags.py, metadef_api/tag.py).
import { isUniqueViolation, uniqueOr } from '../../../platform/db/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import type { MetadefDb, MetadefNamespaceRow, MetadefTagRow, MetadefTrx } from '../store/metadef-tables.ts';
import {
  compareBy,
  enforceMetadef,
  mdDb,
  mdWrite,
  NS_PATH,
  parseMetadefLimit,
  READ_ONLY_STAMPS,
  refuseIfProtected,
  requestBody,
  requireNamespace,
  sortDir,
  tagView,
  truthy,
  visibilityFilter,
} from './metadef-common.ts';
import { validateMetadef } from './metadef-schemas.ts';

type Json = Record<string, unknown>;

const SORT_KEYS = new Set(['id', 'name', 'created_at', 'updated_at']);

const duplicate = (name: string, ns: string) =>
  ImageErrors.conflict(
    `A metadata tag with name=${name} already exists in namespace=${ns}. (Please note that metadata tag names are case insensitive).`,
  );

async function findTag(db: MetadefDb | MetadefTrx, ns: MetadefNamespaceRow, name: string) {
  const row = await db
    .selectFrom('image_metadef_tags')
    .selectAll()
    .where('namespace_id', '=', ns.id)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw ImageErrors.notFound(`Could not find metadata tag ${name}`);
  return row;
}

async function tagTaken(trx: MetadefTrx, ns: MetadefNamespaceRow, name: string): Promise<boolean> {
  const row = await trx
    .selectFrom('image_metadef_tags')
    .select('id')
    .where('namespace_id', '=', ns.id)
    .where('name', '=', name)
    .executeTakeFirst();
  return row !== undefined;
}

async function list(ix: ImageContext, ctx: RouteContext) {
  const dir = sortDir(ctx);
  const sortKey = queryOne(ctx.query, 'sort_key') ?? 'created_at';
  visibilityFilter(ctx, ['public', 'private', 'shared']);
  const markerName = queryOne(ctx.query, 'marker');
  const limitParam = queryOne(ctx.query, 'limit');
  const limit = limitParam ? parseMetadefLimit(limitParam) : undefined;
  const db = mdDb(ix);
  const ns = await requireNamespace(db, ctx, ctx.params['namespace'] ?? '');
  enforceMetadef(ctx, 'get_metadef_tags', ns);
  if (!SORT_KEYS.has(sortKey)) throw ImageErrors.badRequest('Sort key supplied was not valid.');
  const compare = compareBy<MetadefTagRow>(sortKey as keyof MetadefTagRow, dir);
  const marker = markerName ? await findTag(db, ns, markerName) : undefined;
  const rows = (
    await db.selectFrom('image_metadef_tags').selectAll().where('namespace_id', '=', ns.id).execute()
  )
    .filter((r) => marker === undefined || compare(r, marker) > 0)
    .sort(compare)
    .slice(0, limit);
  return { body: { tags: rows.map((r) => ({ name: r.name })) } };
}

/** POST …/tags/{tag_name}: one tag, its name checked against the tag schema. */
async function createOne(ix: ImageContext, ctx: RouteContext) {
  const nsName = ctx.params['namespace'] ?? '';
  const name = ctx.params['tag_name'] ?? '';
  try {
    const row = await mdWrite(ix, async (trx, record) => {
      const ns = await requireNamespace(trx, ctx, nsName);
      validateMetadef('tag', { name });
      enforceMetadef(ctx, 'add_metadef_tag', ns);
      if (await tagTaken(trx, ns, name)) throw duplicate(name, nsName);
      const now = ix.nowIso();
      const row: MetadefTagRow = {
        id: ix.ids.uuid(),
        namespace_id: ns.id,
        name,
        created_at: now,
        updated_at: now,
      };
      await trx.insertInto('image_metadef_tags').values(row).execute();
      record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
      return row;
    });
    return { status: 201, body: tagView(row) };
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate(name, nsName);
    throw err;
  }
}

/** POST …/tags {"tags": [{"name": …}, …]}: replaces the namespace's tags, or adds to them with X-Openstack-Append. */
async function createMany(ix: ImageContext, ctx: RouteContext) {
  const body = requestBody(ctx, READ_ONLY_STAMPS) as Json;
  validateMetadef('tags', body);
  const names = ((body['tags'] as { name: string }[] | undefined) ?? []).map((t) => t.name);
  const nsName = ctx.params['namespace'] ?? '';
  const append = truthy(ctx.headers['x-openstack-append']);
  let clash = names[0] ?? '';
  await uniqueOr(
    mdWrite(ix, async (trx, record) => {
      const ns = await requireNamespace(trx, ctx, nsName);
      enforceMetadef(ctx, 'add_metadef_tags', ns);
      if (names.length === 0) return;
      if (!append) await trx.deleteFrom('image_metadef_tags').where('namespace_id', '=', ns.id).execute();
      const seen = new Set<string>();
      const now = ix.nowIso();
      for (const name of names) {
        clash = name;
        if (seen.has(name) || (append && (await tagTaken(trx, ns, name)))) throw duplicate(name, nsName);
        seen.add(name);
        await trx
          .insertInto('image_metadef_tags')
          .values({ id: ix.ids.uuid(), namespace_id: ns.id, name, created_at: now, updated_at: now })
          .execute();
      }
      record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
    }),
    () => duplicate(clash, nsName),
  );
  return { status: 201, body: { tags: names.map((name) => ({ name })) } };
}

async function show(ix: ImageContext, ctx: RouteContext) {
  const db = mdDb(ix);
  const ns = await requireNamespace(db, ctx, ctx.params['namespace'] ?? '');
  enforceMetadef(ctx, 'get_metadef_tag', ns);
  return { body: tagView(await findTag(db, ns, ctx.params['tag_name'] ?? '')) };
}

async function update(ix: ImageContext, ctx: RouteContext) {
  const body = requestBody(ctx, READ_ONLY_STAMPS) as Json;
  validateMetadef('tag', body);
  const nsName = ctx.params['namespace'] ?? '';
  const newName = body['name'] as string;
  try {
    const row = await mdWrite(ix, async (trx, record) => {
      const ns = await requireNamespace(trx, ctx, nsName);
      enforceMetadef(ctx, 'modify_metadef_tag', ns);
      const old = await findTag(trx, ns, ctx.params['tag_name'] ?? '');
      if (newName !== old.name && (await tagTaken(trx, ns, newName))) throw duplicate(newName, nsName);
      const next: MetadefTagRow = { ...old, name: newName, updated_at: ix.nowIso() };
      await trx
        .updateTable('image_metadef_tags')
        .set({ name: next.name, updated_at: next.updated_at })
        .where('id', '=', old.id)
        .execute();
      record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
      return next;
    });
    return { body: tagView(row) };
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate(newName, nsName);
    throw err;
  }
}

async function remove(ix: ImageContext, ctx: RouteContext) {
  await mdWrite(ix, async (trx, record) => {
    const ns = await requireNamespace(trx, ctx, ctx.params['namespace'] ?? '');
    enforceMetadef(ctx, 'delete_metadef_tag', ns);
    const row = await findTag(trx, ns, ctx.params['tag_name'] ?? '');
    refuseIfProtected(ns, 'tag', row.name);
    await trx.deleteFrom('image_metadef_tags').where('id', '=', row.id).execute();
    record({ kind: 'metadef_namespace', id: ns.id, action: 'update', projectId: ns.owner });
  });
  return { status: 204 };
}

export function metadefTagRoutes(ix: ImageContext): Route[] {
  const path = `${NS_PATH}/:namespace/tags`;
  const one = `${path}/:tag_name`;
  return [
    { method: 'GET', path, handler: (ctx) => list(ix, ctx) },
    { method: 'POST', path, handler: (ctx) => createMany(ix, ctx) },
    { method: 'GET', path: one, handler: (ctx) => show(ix, ctx) },
    { method: 'POST', path: one, handler: (ctx) => createOne(ix, ctx) },
    { method: 'PUT', path: one, handler: (ctx) => update(ix, ctx) },
    { method: 'DELETE', path: one, handler: (ctx) => remove(ix, ctx) },
  ];
}
