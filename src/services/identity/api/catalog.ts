// /v3/regions, /v3/services and /v3/endpoints: Keystone's catalog API (keystone/api/{regions,services,endpoints}.py,
// catalog/core.py and catalog/backends/sql.py).
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { type IdentityContext, type IdentityDb, type IdentityTrx, parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import { deleteExtrasOf } from '../store/extras-tables.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { EndpointRow, RegionRow, ServiceRow } from '../store/tables.ts';
import {
  checkEndpointUrl,
  endpointCreateSchema,
  endpointUpdateSchema,
  regionCreateSchema,
  regionUpdateSchema,
  serviceCreateSchema,
  serviceUpdateSchema,
} from './catalog.schema.ts';
import { applyFilters, extraOf, normalizeKeys, rawQuery, requireMatchingId, truncate } from './common.ts';
import { EntityValidator } from './projects.schema.ts';
import { endpointView, listBody, regionView, serviceView } from './views.ts';

type Body = Record<string, unknown>;

const REGION_COLUMNS = ['id', 'description', 'parent_region_id'];
const SERVICE_COLUMNS = ['id', 'type', 'enabled'];
const ENDPOINT_COLUMNS = [
  'id',
  'interface',
  'region_id',
  'region',
  'service_id',
  'url',
  'enabled',
  'legacy_endpoint_id',
];
const REGION_ID_MAX = 255;

const regionNotFound = (id: string) => IdentityErrors.notFound('region', id);
const serviceNotFound = (id: string) => IdentityErrors.notFound('service', id);
const endpointNotFound = (id: string) => IdentityErrors.notFound('endpoint', id);

export function catalogRoutes(ix: IdentityContext, _reader: IdentityReader): Route[] {
  const v = new EntityValidator();

  const findRegion = (id: string, db: IdentityDb = ix.db) =>
    db.selectFrom('identity_regions').selectAll().where('id', '=', id).executeTakeFirst();
  const findService = (id: string, db: IdentityDb = ix.db) =>
    db.selectFrom('identity_services').selectAll().where('id', '=', id).executeTakeFirst();
  const findEndpoint = (id: string, db: IdentityDb = ix.db) =>
    db.selectFrom('identity_endpoints').selectAll().where('id', '=', id).executeTakeFirst();

  const listResult = (ctx: RouteContext, key: string, items: Body[]) => {
    const page = truncate(items, ix.config.list_limit);
    const body = listBody(key, page.items, ctx.baseUrl(), key, rawQuery(ctx));
    if (page.truncated) body['truncated'] = true;
    return { body };
  };

  // ---- regions

  async function createRegion(ctx: RouteContext, urlId?: string) {
    const r = normalizeKeys(v.entity(ctx, 'region', regionCreateSchema));
    v.validate(regionCreateSchema, r);
    if (urlId !== undefined && r['id'] !== undefined && r['id'] !== urlId) {
      throw IdentityErrors.validation(`Conflicting region IDs specified: "${urlId}" != "${String(r['id'])}"`);
    }
    const id = urlId ?? ((r['id'] as string | undefined) || ix.ids.hexId());
    if (id.length > REGION_ID_MAX) {
      throw IdentityErrors.validation(
        `String length exceeded. The length of string '${id}' exceeds the limit of column id(CHAR(${REGION_ID_MAX})).`,
      );
    }
    const parentId = (r['parent_region_id'] as string | null | undefined) ?? null;
    const row = await ix.write(async (trx, record) => {
      if (await findRegion(id, trx)) throw IdentityErrors.conflict('region', `Duplicate ID, ${id}`);
      if (parentId !== null && !(await findRegion(parentId, trx))) throw regionNotFound(parentId);
      const row: RegionRow = {
        id,
        description: (r['description'] as string | null | undefined) ?? '',
        parent_region_id: parentId,
        extra: JSON.stringify(extraOf(r, REGION_COLUMNS)),
      };
      await trx.insertInto('identity_regions').values(row).execute();
      record({ kind: 'region', id, action: 'create' });
      return row;
    });
    return { status: 201, body: { region: regionView(row, ctx.baseUrl()) } };
  }

  async function listRegions(ctx: RouteContext) {
    const rows = await ix.db.selectFrom('identity_regions').selectAll().execute();
    const base = ctx.baseUrl();
    return listResult(
      ctx,
      'regions',
      applyFilters(
        ctx,
        rows.map((r) => regionView(r, base)),
        ['parent_region_id'],
      ),
    );
  }

  async function showRegion(ctx: RouteContext) {
    const id = ctx.params['region_id'] ?? '';
    const row = await findRegion(id);
    if (!row) throw regionNotFound(id);
    return { body: { region: regionView(row, ctx.baseUrl()) } };
  }

  async function updateRegion(ctx: RouteContext) {
    const id = ctx.params['region_id'] ?? '';
    const r = normalizeKeys(v.entity(ctx, 'region', regionUpdateSchema));
    v.validate(regionUpdateSchema, r);
    requireMatchingId(r, id);
    const row = await ix.write(async (trx, record) => {
      const parentId = r['parent_region_id'] as string | null | undefined;
      if (typeof parentId === 'string' && !(await findRegion(parentId, trx))) throw regionNotFound(parentId);
      const orig = await findRegion(id, trx);
      if (!orig) throw regionNotFound(id);
      const row: RegionRow = {
        ...orig,
        description: 'description' in r ? ((r['description'] as string | null) ?? '') : orig.description,
        parent_region_id: parentId === undefined ? orig.parent_region_id : parentId,
        extra: JSON.stringify({ ...parseJson(orig.extra), ...extraOf(r, REGION_COLUMNS) }),
      };
      // Walk up from the new parent; meeting this region again would close a loop.
      let up = row.parent_region_id;
      const seen = new Set<string>();
      while (up && !seen.has(up)) {
        if (up === id) {
          throw IdentityErrors.validation(
            `The specified parent region ${up} would create a circular region hierarchy.`,
          );
        }
        seen.add(up);
        up = (await findRegion(up, trx))?.parent_region_id ?? null;
      }
      await trx
        .updateTable('identity_regions')
        .set({ description: row.description, parent_region_id: row.parent_region_id, extra: row.extra })
        .where('id', '=', id)
        .execute();
      record({ kind: 'region', id, action: 'update' });
      return row;
    });
    return { body: { region: regionView(row, ctx.baseUrl()) } };
  }

  async function deleteRegion(ctx: RouteContext) {
    const id = ctx.params['region_id'] ?? '';
    await ix.write(async (trx, record) => {
      if (!(await findRegion(id, trx))) throw regionNotFound(id);
      // The region and its whole subtree go, unless an endpoint lives anywhere in it.
      const subtree = [id];
      for (let i = 0; i < subtree.length; i++) {
        const kids = await trx
          .selectFrom('identity_regions')
          .select('id')
          .where('parent_region_id', '=', subtree[i] as string)
          .execute();
        for (const k of kids) if (!subtree.includes(k.id)) subtree.push(k.id);
      }
      const used = await trx
        .selectFrom('identity_endpoints')
        .select('id')
        .where('region_id', 'in', subtree)
        .executeTakeFirst();
      if (used) {
        throw IdentityErrors.forbidden(
          `Unable to delete region ${id} because it or its child regions have associated endpoints.`,
        );
      }
      await trx.deleteFrom('identity_regions').where('id', 'in', subtree).execute();
      for (const rid of subtree) record({ kind: 'region', id: rid, action: 'delete' });
    });
    return { status: 204 };
  }

  // ---- services

  async function createService(ctx: RouteContext) {
    const s = normalizeKeys(v.entity(ctx, 'service', serviceCreateSchema));
    v.validate(serviceCreateSchema, s);
    const row: ServiceRow = {
      id: ix.ids.hexId(),
      type: s['type'] as string,
      enabled: s['enabled'] === false ? 0 : 1,
      extra: JSON.stringify({ name: '', ...extraOf(s, SERVICE_COLUMNS) }),
    };
    await ix.write(async (trx, record) => {
      await trx.insertInto('identity_services').values(row).execute();
      record({ kind: 'service', id: row.id, action: 'create' });
    });
    return { status: 201, body: { service: serviceView(row, ctx.baseUrl()) } };
  }

  async function listServices(ctx: RouteContext) {
    const rows = await ix.db.selectFrom('identity_services').selectAll().execute();
    const base = ctx.baseUrl();
    return listResult(
      ctx,
      'services',
      applyFilters(
        ctx,
        rows.map((r) => serviceView(r, base)),
        ['type', 'name'],
      ),
    );
  }

  async function showService(ctx: RouteContext) {
    const id = ctx.params['service_id'] ?? '';
    const row = await findService(id);
    if (!row) throw serviceNotFound(id);
    return { body: { service: serviceView(row, ctx.baseUrl()) } };
  }

  async function updateService(ctx: RouteContext) {
    const id = ctx.params['service_id'] ?? '';
    const s = normalizeKeys(v.entity(ctx, 'service', serviceUpdateSchema));
    v.validate(serviceUpdateSchema, s);
    requireMatchingId(s, id);
    const row = await ix.write(async (trx, record) => {
      const orig = await findService(id, trx);
      if (!orig) throw serviceNotFound(id);
      const row: ServiceRow = {
        ...orig,
        type: typeof s['type'] === 'string' ? s['type'] : orig.type,
        enabled: typeof s['enabled'] === 'boolean' ? (s['enabled'] ? 1 : 0) : orig.enabled,
        extra: JSON.stringify({ ...parseJson(orig.extra), ...extraOf(s, SERVICE_COLUMNS) }),
      };
      await trx
        .updateTable('identity_services')
        .set({ type: row.type, enabled: row.enabled, extra: row.extra })
        .where('id', '=', id)
        .execute();
      record({ kind: 'service', id, action: 'update' });
      return row;
    });
    return { body: { service: serviceView(row, ctx.baseUrl()) } };
  }

  async function deleteService(ctx: RouteContext) {
    const id = ctx.params['service_id'] ?? '';
    await ix.write(async (trx, record) => {
      if (!(await findService(id, trx))) throw serviceNotFound(id);
      const endpoints = await trx
        .selectFrom('identity_endpoints')
        .select('id')
        .where('service_id', '=', id)
        .execute();
      await deleteExtrasOf(trx, { endpointIds: endpoints.map((e) => e.id) });
      await trx.deleteFrom('identity_endpoints').where('service_id', '=', id).execute();
      await trx.deleteFrom('identity_services').where('id', '=', id).execute();
      for (const e of endpoints) record({ kind: 'endpoint', id: e.id, action: 'delete' });
      record({ kind: 'service', id, action: 'delete' });
    });
    return { status: 204 };
  }

  // ---- endpoints

  /**
   * The legacy `region` attribute names a region that is created on the fly when missing; `region_id` must exist.
   * Returns the region id to store (undefined: not given).
   */
  async function endpointRegion(
    trx: IdentityTrx,
    e: Body,
    record: (c: { kind: string; id: string; action: string }) => void,
  ) {
    let regionId = e['region_id'] as string | undefined;
    if (regionId === undefined && typeof e['region'] === 'string') {
      regionId = e['region'];
      if (!(await findRegion(regionId, trx))) {
        await trx
          .insertInto('identity_regions')
          .values({ id: regionId, description: '', parent_region_id: null, extra: '{}' })
          .execute();
        record({ kind: 'region', id: regionId, action: 'create' });
      }
    }
    if (regionId !== undefined && !(await findRegion(regionId, trx))) {
      throw IdentityErrors.expecting('endpoint region_id', 'region table');
    }
    return regionId;
  }

  async function createEndpoint(ctx: RouteContext) {
    const e = normalizeKeys(v.entity(ctx, 'endpoint', endpointCreateSchema));
    v.validate(endpointCreateSchema, e);
    checkEndpointUrl(e['url'] as string);
    const row = await ix.write(async (trx, record) => {
      const regionId = await endpointRegion(trx, e, record);
      if (!(await findService(e['service_id'] as string, trx))) {
        throw IdentityErrors.expecting('endpoint service_id', 'service table');
      }
      const row: EndpointRow = {
        id: ix.ids.hexId(),
        service_id: e['service_id'] as string,
        interface: e['interface'] as string,
        url: e['url'] as string,
        region_id: regionId ?? null,
        enabled: e['enabled'] === false ? 0 : 1,
        extra: JSON.stringify(extraOf(e, ENDPOINT_COLUMNS)),
      };
      await trx.insertInto('identity_endpoints').values(row).execute();
      record({ kind: 'endpoint', id: row.id, action: 'create' });
      return row;
    });
    return { status: 201, body: { endpoint: endpointView(row, ctx.baseUrl()) } };
  }

  async function listEndpoints(ctx: RouteContext) {
    const rows = await ix.db.selectFrom('identity_endpoints').selectAll().execute();
    const base = ctx.baseUrl();
    const items = applyFilters(
      ctx,
      rows.map((r) => endpointView(r, base)),
      ['interface', 'service_id', 'region_id'],
    );
    return listResult(ctx, 'endpoints', items);
  }

  async function showEndpoint(ctx: RouteContext) {
    const id = ctx.params['endpoint_id'] ?? '';
    const row = await findEndpoint(id);
    if (!row) throw endpointNotFound(id);
    return { body: { endpoint: endpointView(row, ctx.baseUrl()) } };
  }

  async function updateEndpoint(ctx: RouteContext) {
    const id = ctx.params['endpoint_id'] ?? '';
    const e = normalizeKeys(v.entity(ctx, 'endpoint', endpointUpdateSchema));
    v.validate(endpointUpdateSchema, e);
    requireMatchingId(e, id);
    const row = await ix.write(async (trx, record) => {
      const regionId = await endpointRegion(trx, e, record);
      if (typeof e['service_id'] === 'string' && !(await findService(e['service_id'], trx))) {
        throw IdentityErrors.expecting('endpoint service_id', 'service table');
      }
      const orig = await findEndpoint(id, trx);
      if (!orig) throw endpointNotFound(id);
      const row: EndpointRow = {
        ...orig,
        service_id: typeof e['service_id'] === 'string' ? e['service_id'] : orig.service_id,
        interface: typeof e['interface'] === 'string' ? e['interface'] : orig.interface,
        url: typeof e['url'] === 'string' ? e['url'] : orig.url,
        region_id: regionId === undefined ? orig.region_id : regionId,
        enabled: typeof e['enabled'] === 'boolean' ? (e['enabled'] ? 1 : 0) : orig.enabled,
        extra: JSON.stringify({ ...parseJson(orig.extra), ...extraOf(e, ENDPOINT_COLUMNS) }),
      };
      await trx
        .updateTable('identity_endpoints')
        .set({
          service_id: row.service_id,
          interface: row.interface,
          url: row.url,
          region_id: row.region_id,
          enabled: row.enabled,
          extra: row.extra,
        })
        .where('id', '=', id)
        .execute();
      record({ kind: 'endpoint', id, action: 'update' });
      return row;
    });
    return { body: { endpoint: endpointView(row, ctx.baseUrl()) } };
  }

  async function deleteEndpoint(ctx: RouteContext) {
    const id = ctx.params['endpoint_id'] ?? '';
    await ix.write(async (trx, record) => {
      if (!(await findEndpoint(id, trx))) throw endpointNotFound(id);
      await deleteExtrasOf(trx, { endpointIds: [id] });
      await trx.deleteFrom('identity_endpoints').where('id', '=', id).execute();
      record({ kind: 'endpoint', id, action: 'delete' });
    });
    return { status: 204 };
  }

  /** Endpoints are loaded before enforcement (get_member_from_driver), so a missing one is a 404 for everyone. */
  async function endpointTarget(ctx: RouteContext): Promise<Body> {
    const id = ctx.params['endpoint_id'] ?? '';
    const row = await findEndpoint(id);
    if (!row) throw endpointNotFound(id);
    return { endpoint: endpointView(row, ctx.baseUrl()) };
  }

  const R = '/v3/regions/:region_id';
  const S = '/v3/services/:service_id';
  const E = '/v3/endpoints/:endpoint_id';
  return [
    { method: 'GET', path: '/v3/regions', policy: 'identity:list_regions', handler: listRegions },
    {
      method: 'POST',
      path: '/v3/regions',
      policy: 'identity:create_region',
      handler: (ctx) => createRegion(ctx),
    },
    { method: 'GET', path: R, policy: 'identity:get_region', handler: showRegion },
    {
      method: 'PUT',
      path: R,
      policy: 'identity:create_region',

      handler: (ctx) => createRegion(ctx, ctx.params['region_id'] ?? ''),
    },
    { method: 'PATCH', path: R, policy: 'identity:update_region', handler: updateRegion },
    { method: 'DELETE', path: R, policy: 'identity:delete_region', handler: deleteRegion },
    { method: 'GET', path: '/v3/services', policy: 'identity:list_services', handler: listServices },
    { method: 'POST', path: '/v3/services', policy: 'identity:create_service', handler: createService },
    { method: 'GET', path: S, policy: 'identity:get_service', handler: showService },
    { method: 'PATCH', path: S, policy: 'identity:update_service', handler: updateService },
    { method: 'DELETE', path: S, policy: 'identity:delete_service', handler: deleteService },
    { method: 'GET', path: '/v3/endpoints', policy: 'identity:list_endpoints', handler: listEndpoints },
    { method: 'POST', path: '/v3/endpoints', policy: 'identity:create_endpoint', handler: createEndpoint },
    {
      method: 'GET',
      path: E,
      policy: 'identity:get_endpoint',
      target: endpointTarget,
      handler: showEndpoint,
    },
    {
      method: 'PATCH',
      path: E,
      policy: 'identity:update_endpoint',
      target: endpointTarget,
      handler: updateEndpoint,
    },
    {
      method: 'DELETE',
      path: E,
      policy: 'identity:delete_endpoint',
      target: endpointTarget,
      handler: deleteEndpoint,
    },
  ];
}
