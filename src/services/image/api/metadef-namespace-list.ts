// GET /v2/metadefs/namespaces: the namespaces the caller may see, filtered by visibility and resource types, sorted
// (sort_key, then created_at and id, as oslo.db pages) and paged by namespace name, with first and next links
// (api/v2/metadef_namespaces.py index, db/sqlalchemy/metadef_api/namespace.py get_all).
import { queryOne } from '../../../platform/http/pagination.ts';
import type { RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import type { MetadefNamespaceRow } from '../store/metadef-tables.ts';
import {
  associationsOf,
  callerOf,
  checkMetadef,
  compareBy,
  enforceMetadef,
  lookupNamespace,
  mdDb,
  namespaceMissing,
  namespaceView,
  parseMetadefLimit,
  sortDir,
  visibilityFilter,
} from './metadef-common.ts';

type Json = Record<string, unknown>;

const SORT_KEYS = new Set([
  'id',
  'namespace',
  'display_name',
  'description',
  'visibility',
  'protected',
  'owner',
  'created_at',
  'updated_at',
]);

/** GET /v2/metadefs/namespaces: visible namespaces, filtered, sorted and paged, with their associations. */
export async function listNamespaces(ix: ImageContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const dir = sortDir(ctx);
  const visibility = visibilityFilter(ctx, ['public', 'private']);
  const limitParam = queryOne(ctx.query, 'limit');
  const limit = Math.min(
    ix.config.api_limit_max,
    limitParam === undefined ? ix.config.limit_param_default : parseMetadefLimit(limitParam),
  );
  const sortKey = queryOne(ctx.query, 'sort_key') ?? 'created_at';
  if (!SORT_KEYS.has(sortKey)) throw ImageErrors.badRequest('Sort key supplied was not valid.');
  enforceMetadef(ctx, 'get_metadef_namespaces');
  enforceMetadef(ctx, 'list_metadef_resource_types');

  const db = mdDb(ix);
  const compare = compareBy<MetadefNamespaceRow>(sortKey as keyof MetadefNamespaceRow, dir);
  const markerName = queryOne(ctx.query, 'marker');
  let marker: MetadefNamespaceRow | undefined;
  if (markerName) {
    const found = await lookupNamespace(db, markerName, caller);
    if (found === 'missing') throw namespaceMissing(markerName);
    if (found === 'hidden') {
      throw ImageErrors.forbidden(
        `Forbidding request, metadata definition namespace=${markerName} is not visible.`,
      );
    }
    marker = found;
  }
  let q = db.selectFrom('image_metadef_namespaces').selectAll();
  if (!caller.isAdmin) {
    const project = caller.projectId;
    q = q.where((eb) =>
      project === undefined
        ? eb('visibility', '=', 'public')
        : eb.or([eb('owner', '=', project), eb('visibility', '=', 'public')]),
    );
  }
  if (visibility) q = q.where('visibility', '=', visibility as MetadefNamespaceRow['visibility']);
  const resourceTypes = queryOne(ctx.query, 'resource_types');
  if (resourceTypes !== undefined) {
    const names = resourceTypes.split(',');
    q = q.where('id', 'in', (eb) =>
      eb
        .selectFrom('image_metadef_associations as a')
        .innerJoin('image_metadef_resource_types as t', 't.id', 'a.resource_type_id')
        .select('a.namespace_id')
        .where('t.name', 'in', names),
    );
  }
  const rows = (await q.execute())
    .filter((r) => marker === undefined || compare(r, marker) > 0)
    .sort(compare)
    .slice(0, limit)
    .filter((r) => checkMetadef(ctx, 'get_metadef_namespace', r));
  const associations = await associationsOf(
    db,
    rows.map((r) => r.id),
  );
  const namespaces = rows.map((r) => {
    const view = namespaceView(r);
    const rtas = associations.get(r.id);
    return rtas ? { ...view, resource_type_associations: rtas } : view;
  });

  // ResponseSerializer.index: first and next repeat the request's parameters (next with the new marker).
  const params = new URLSearchParams();
  for (const key of Object.keys(ctx.query)) {
    if (key === 'marker') continue;
    params.set(key, queryOne(ctx.query, key) ?? '');
  }
  const body: Json = { namespaces };
  const query = params.toString();
  body['first'] = `/v2/metadefs/namespaces${query ? `?${query}` : ''}`;
  body['schema'] = '/v2/schemas/metadefs/namespaces';
  const last = rows[rows.length - 1];
  if (last && rows.length === limit) {
    params.set('marker', last.namespace);
    body['next'] = `/v2/metadefs/namespaces?${params.toString()}`;
  }
  return { body };
}
