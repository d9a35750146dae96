// /v3/OS-EP-FILTER: endpoint groups, their project associations, and project-endpoint associations
// (keystone/api/os_ep_filter.py, catalog/core.py and catalog/backends/sql.py).
//
// Stored and listed only: the token catalog is NOT filtered by these associations yet (Keystone's
// endpoint_filter.sql catalog driver would show a project only its associated endpoints).
// Deleting a project or an endpoint does not yet remove its association rows here (Keystone does so through
// notifications); every read skips associations whose project or endpoint no longer exists.
import { isUniqueViolation, uniqueOr } from '../../../platform/db/errors.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { type IdentityContext, parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { EndpointGroupRow, ExtrasDb, ExtrasTrx } from '../store/extras-tables.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { EndpointRow, ProjectRow } from '../store/tables.ts';
import { applyFilters, requireMatchingId, truncate } from './common.ts';
import { EntityValidator } from './projects.schema.ts';
import { endpointView, listBody, projectView } from './views.ts';

type Body = Record<string, unknown>;
type Schema = Record<string, unknown>;

// keystone/catalog/schema.py (no additionalProperties: Keystone's model takes only these attributes).
const endpointGroupProperties: Schema = {
  description: { type: ['string', 'null'] },
  filters: { type: 'object' },
  name: { type: 'string', minLength: 1, maxLength: 255, pattern: '[\\S]+' },
};
export const endpointGroupCreateSchema: Schema = {
  type: 'object',
  properties: endpointGroupProperties,
  required: ['name', 'filters'],
};
export const endpointGroupUpdateSchema: Schema = {
  type: 'object',
  properties: endpointGroupProperties,
  minProperties: 1,
};

const VALID_FILTERS = ['service_id', 'region_id', 'interface'] as const;
const EPG = 'OS-EP-FILTER/endpoint_groups';

export function endpointGroupView(r: EndpointGroupRow, base: string): Body {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    filters: parseJson(r.filters),
    links: { self: `${base}/v3/${EPG}/${r.id}` },
  };
}

const groupNotFound = (id: string) => IdentityErrors.notFound('Endpoint Group', id);
const endpointNotFound = (id: string) => IdentityErrors.notFound('endpoint', id);
const projectNotFound = (id: string) => IdentityErrors.notFound('project', id);
const groupProjectNotFound = () =>
  new ApiError(404, 'NotFound', 'Endpoint Group Project Association not found');
const projectEndpointNotFound = (endpointId: string, projectId: string) =>
  new ApiError(404, 'NotFound', `Endpoint ${endpointId} not found in project ${projectId}`);

/** EndpointGroupsResource._require_valid_filter. */
function requireValidFilters(filters: unknown): void {
  for (const key of Object.keys((filters ?? {}) as Body)) {
    if (!(VALID_FILTERS as readonly string[]).includes(key)) {
      throw IdentityErrors.expecting(VALID_FILTERS.join(' or '), 'endpoint_group');
    }
  }
}

/** Whether an endpoint matches every filter of a group (catalog get_endpoints_filtered_by_endpoint_group). */
function matches(e: EndpointRow, filters: Body): boolean {
  const attrs: Record<string, unknown> = {
    service_id: e.service_id,
    region_id: e.region_id,
    interface: e.interface,
  };
  return Object.entries(filters).every(([k, v]) => k in attrs && attrs[k] === v);
}

/** The request path under /v3, for a collection's self link (Keystone's full_url of PATH_INFO). */
function selfPath(ctx: RouteContext): { path: string; query: string } {
  const url = ctx.request.url;
  const i = url.indexOf('?');
  const path = (i < 0 ? url : url.slice(0, i)).replace(/^\/v3\//, '');
  return { path, query: i < 0 ? '' : url.slice(i + 1) };
}

export function endpointGroupRoutes(ix: IdentityContext, reader: IdentityReader): Route[] {
  const v = new EntityValidator();
  const db = () => ix.db as unknown as ExtrasDb;
  const findGroup = (id: string, from: ExtrasDb = db()) =>
    from.selectFrom('identity_endpoint_groups').selectAll().where('id', '=', id).executeTakeFirst();
  const getGroup = async (id: string, from: ExtrasDb = db()) => {
    const g = await findGroup(id, from);
    if (!g) throw groupNotFound(id);
    return g;
  };
  const findEndpoint = (id: string) =>
    ix.db.selectFrom('identity_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
  const getEndpoint = async (id: string) => {
    const e = await findEndpoint(id);
    if (!e) throw endpointNotFound(id);
    return e;
  };
  const getProject = async (id: string) => {
    const p = await reader.findProject(id);
    if (!p) throw projectNotFound(id);
    return p;
  };

  const collection = (ctx: RouteContext, key: string, items: unknown[]) => {
    const { path, query } = selfPath(ctx);
    return { body: listBody(key, items, ctx.baseUrl(), path, query) };
  };

  /** Existing projects among ids, in the given order, rendered (dangling ids skipped). */
  async function projectsBody(ctx: RouteContext, ids: string[]) {
    const rows: ProjectRow[] = [];
    if (ids.length > 0) {
      const found = await ix.db.selectFrom('identity_projects').selectAll().where('id', 'in', ids).execute();
      const byId = new Map(found.map((p) => [p.id, p]));
      for (const id of ids) {
        const p = byId.get(id);
        if (p) rows.push(p);
      }
    }
    const tags = await reader.projectTags(rows.map((p) => p.id));
    const base = ctx.baseUrl();
    return collection(
      ctx,
      'projects',
      rows.map((p) => projectView(p, base, tags.get(p.id) ?? [])),
    );
  }

  async function endpointsOfGroup(g: EndpointGroupRow): Promise<EndpointRow[]> {
    const filters = parseJson(g.filters);
    const all = await ix.db.selectFrom('identity_endpoints').selectAll().orderBy('id').execute();
    return all.filter((e) => matches(e, filters));
  }

  // ---- endpoint groups

  async function createGroup(ctx: RouteContext) {
    const g = v.entity(ctx, 'endpoint_group', endpointGroupCreateSchema, {});
    const filters = g['filters'] as Body;
    if (Object.keys(filters).length === 0) {
      throw IdentityErrors.validation('filters field is required and cannot be empty');
    }
    requireValidFilters(filters);
    const row: EndpointGroupRow = {
      id: ix.ids.hexId(),
      name: g['name'] as string,
      description: (g['description'] as string | null | undefined) ?? null,
      filters: JSON.stringify(filters),
    };
    await ix.write(async (trx, record) => {
      await (trx as unknown as ExtrasTrx).insertInto('identity_endpoint_groups').values(row).execute();
      record({ kind: 'endpoint_group', id: row.id, action: 'create' });
    });
    return { status: 201, body: { endpoint_group: endpointGroupView(row, ctx.baseUrl()) } };
  }

  async function listGroups(ctx: RouteContext) {
    const rows = await db().selectFrom('identity_endpoint_groups').selectAll().orderBy('id').execute();
    const base = ctx.baseUrl();
    // The api-ref's `name` filter (Keystone itself passes the string 'name' where a list is expected, so it
    // never applies it).
    const items = applyFilters(
      ctx,
      rows.map((r) => endpointGroupView(r, base)),
      ['name'],
    );
    const page = truncate(items, ix.config.list_limit);
    const res = collection(ctx, 'endpoint_groups', page.items);
    if (page.truncated) res.body['truncated'] = true;
    return res;
  }

  async function showGroup(ctx: RouteContext) {
    const g = await getGroup(ctx.params['endpoint_group_id'] ?? '');
    return { body: { endpoint_group: endpointGroupView(g, ctx.baseUrl()) } };
  }

  async function updateGroup(ctx: RouteContext) {
    const id = ctx.params['endpoint_group_id'] ?? '';
    const g = v.entity(ctx, 'endpoint_group', endpointGroupUpdateSchema, {});
    if ('filters' in g) requireValidFilters(g['filters']);
    requireMatchingId(g, id);
    const row = await ix.write(async (trx, record) => {
      const t = trx as unknown as ExtrasTrx;
      const orig = await getGroup(id, t);
      const row: EndpointGroupRow = {
        id,
        name: typeof g['name'] === 'string' ? g['name'] : orig.name,
        description: 'description' in g ? ((g['description'] as string | null) ?? null) : orig.description,
        filters: 'filters' in g ? JSON.stringify(g['filters']) : orig.filters,
      };
      await t
        .updateTable('identity_endpoint_groups')
        .set({ name: row.name, description: row.description, filters: row.filters })
        .where('id', '=', id)
        .execute();
      record({ kind: 'endpoint_group', id, action: 'update' });
      return row;
    });
    return { body: { endpoint_group: endpointGroupView(row, ctx.baseUrl()) } };
  }

  async function deleteGroup(ctx: RouteContext) {
    const id = ctx.params['endpoint_group_id'] ?? '';
    await ix.write(async (trx, record) => {
      const t = trx as unknown as ExtrasTrx;
      await getGroup(id, t);
      await t.deleteFrom('identity_project_endpoint_groups').where('endpoint_group_id', '=', id).execute();
      await t.deleteFrom('identity_endpoint_groups').where('id', '=', id).execute();
      record({ kind: 'endpoint_group', id, action: 'delete' });
    });
    return { status: 204 };
  }

  async function groupEndpoints(ctx: RouteContext) {
    const g = await getGroup(ctx.params['endpoint_group_id'] ?? '');
    const base = ctx.baseUrl();
    return collection(
      ctx,
      'endpoints',
      (await endpointsOfGroup(g)).map((e) => endpointView(e, base)),
    );
  }

  async function groupProjects(ctx: RouteContext) {
    // Keystone does not check that the group exists: an unknown group has no projects.
    const rows = await db()
      .selectFrom('identity_project_endpoint_groups')
      .select('project_id')
      .where('endpoint_group_id', '=', ctx.params['endpoint_group_id'] ?? '')
      .orderBy('project_id')
      .execute();
    return projectsBody(
      ctx,
      rows.map((r) => r.project_id),
    );
  }

  // ---- endpoint group ↔ project

  const groupProjectKeys = (ctx: RouteContext) => ({
    groupId: ctx.params['endpoint_group_id'] ?? '',
    projectId: ctx.params['project_id'] ?? '',
  });
  const findGroupProject = (groupId: string, projectId: string, from: ExtrasDb = db()) =>
    from
      .selectFrom('identity_project_endpoint_groups')
      .selectAll()
      .where('endpoint_group_id', '=', groupId)
      .where('project_id', '=', projectId)
      .executeTakeFirst();

  async function showGroupProject(ctx: RouteContext) {
    const { groupId, projectId } = groupProjectKeys(ctx);
    await getProject(projectId);
    await getGroup(groupId);
    if (!(await findGroupProject(groupId, projectId))) throw groupProjectNotFound();
    // Keystone's own self link for this member is relative (EPFilterGroupsProjectsResource).
    return {
      body: {
        project_endpoint_group: {
          endpoint_group_id: groupId,
          project_id: projectId,
          links: { self: `/${EPG}/${groupId}/projects/${projectId}` },
        },
      },
    };
  }

  async function addGroupProject(ctx: RouteContext) {
    const { groupId, projectId } = groupProjectKeys(ctx);
    await getProject(projectId);
    const conflict = () => IdentityErrors.conflict('project_endpoint_group', 'Duplicate entry');
    await uniqueOr(
      ix.write(async (trx, record) => {
        const t = trx as unknown as ExtrasTrx;
        await getGroup(groupId, t);
        if (await findGroupProject(groupId, projectId, t)) throw conflict();
        await t
          .insertInto('identity_project_endpoint_groups')
          .values({ endpoint_group_id: groupId, project_id: projectId })
          .execute();
        record({ kind: 'project_endpoint_group', id: `${groupId}:${projectId}`, action: 'create' });
      }),
      () => conflict(),
    );
    return { status: 204 };
  }

  async function removeGroupProject(ctx: RouteContext) {
    const { groupId, projectId } = groupProjectKeys(ctx);
    await getProject(projectId);
    await ix.write(async (trx, record) => {
      const t = trx as unknown as ExtrasTrx;
      await getGroup(groupId, t);
      const res = await t
        .deleteFrom('identity_project_endpoint_groups')
        .where('endpoint_group_id', '=', groupId)
        .where('project_id', '=', projectId)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw groupProjectNotFound();
      record({ kind: 'project_endpoint_group', id: `${groupId}:${projectId}`, action: 'delete' });
    });
    return { status: 204 };
  }

  /** The existing endpoint groups associated with a project, in association order. */
  async function groupsOfProject(projectId: string): Promise<EndpointGroupRow[]> {
    const rows = await db()
      .selectFrom('identity_project_endpoint_groups as pg')
      .innerJoin('identity_endpoint_groups as g', 'g.id', 'pg.endpoint_group_id')
      .selectAll('g')
      .where('pg.project_id', '=', projectId)
      .orderBy('g.id')
      .execute();
    return rows;
  }

  async function projectGroups(ctx: RouteContext) {
    const projectId = ctx.params['project_id'] ?? '';
    await getProject(projectId);
    const base = ctx.baseUrl();
    return collection(
      ctx,
      'endpoint_groups',
      (await groupsOfProject(projectId)).map((g) => endpointGroupView(g, base)),
    );
  }

  // ---- project ↔ endpoint

  const projectEndpointKeys = (ctx: RouteContext) => ({
    projectId: ctx.params['project_id'] ?? '',
    endpointId: ctx.params['endpoint_id'] ?? '',
  });

  async function checkProjectEndpoint(ctx: RouteContext) {
    const { projectId, endpointId } = projectEndpointKeys(ctx);
    await getEndpoint(endpointId);
    await getProject(projectId);
    const row = await db()
      .selectFrom('identity_project_endpoints')
      .selectAll()
      .where('endpoint_id', '=', endpointId)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    if (!row) throw projectEndpointNotFound(endpointId, projectId);
    return { status: 204 };
  }

  async function addProjectEndpoint(ctx: RouteContext) {
    const { projectId, endpointId } = projectEndpointKeys(ctx);
    await getEndpoint(endpointId);
    await getProject(projectId);
    // Adding an existing association again is a no-op (Keystone answers 500 on the duplicate key).
    try {
      await ix.write(async (trx, record) => {
        const t = trx as unknown as ExtrasTrx;
        const exists = await t
          .selectFrom('identity_project_endpoints')
          .select('endpoint_id')
          .where('endpoint_id', '=', endpointId)
          .where('project_id', '=', projectId)
          .executeTakeFirst();
        if (exists) return;
        await t
          .insertInto('identity_project_endpoints')
          .values({ endpoint_id: endpointId, project_id: projectId })
          .execute();
        record({ kind: 'project_endpoint', id: `${projectId}:${endpointId}`, action: 'create' });
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    return { status: 204 };
  }

  async function removeProjectEndpoint(ctx: RouteContext) {
    // Keystone checks neither the endpoint nor the project here, only the association.
    const { projectId, endpointId } = projectEndpointKeys(ctx);
    await ix.write(async (trx, record) => {
      const res = await (trx as unknown as ExtrasTrx)
        .deleteFrom('identity_project_endpoints')
        .where('endpoint_id', '=', endpointId)
        .where('project_id', '=', projectId)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw projectEndpointNotFound(endpointId, projectId);
      record({ kind: 'project_endpoint', id: `${projectId}:${endpointId}`, action: 'delete' });
    });
    return { status: 204 };
  }

  async function projectEndpoints(ctx: RouteContext) {
    const projectId = ctx.params['project_id'] ?? '';
    await getProject(projectId);
    // Directly associated endpoints first, then those of the project's endpoint groups, each once.
    const direct = await db()
      .selectFrom('identity_project_endpoints')
      .select('endpoint_id')
      .where('project_id', '=', projectId)
      .orderBy('endpoint_id')
      .execute();
    const out = new Map<string, EndpointRow>();
    const ids = direct.map((d) => d.endpoint_id);
    if (ids.length > 0) {
      const rows = await ix.db.selectFrom('identity_endpoints').selectAll().where('id', 'in', ids).execute();
      const byId = new Map(rows.map((e) => [e.id, e]));
      for (const id of ids) {
        const e = byId.get(id);
        if (e) out.set(id, e);
      }
    }
    for (const g of await groupsOfProject(projectId)) {
      for (const e of await endpointsOfGroup(g)) if (!out.has(e.id)) out.set(e.id, e);
    }
    const base = ctx.baseUrl();
    return collection(
      ctx,
      'endpoints',
      [...out.values()].map((e) => endpointView(e, base)),
    );
  }

  async function endpointProjects(ctx: RouteContext) {
    const endpointId = ctx.params['endpoint_id'] ?? '';
    await getEndpoint(endpointId);
    const rows = await db()
      .selectFrom('identity_project_endpoints')
      .select('project_id')
      .where('endpoint_id', '=', endpointId)
      .orderBy('project_id')
      .execute();
    return projectsBody(
      ctx,
      rows.map((r) => r.project_id),
    );
  }

  const G = `/v3/${EPG}/:endpoint_group_id`;
  const PE = '/v3/OS-EP-FILTER/projects/:project_id/endpoints';
  return [
    { method: 'GET', path: `/v3/${EPG}`, policy: 'identity:list_endpoint_groups', handler: listGroups },
    { method: 'POST', path: `/v3/${EPG}`, policy: 'identity:create_endpoint_group', handler: createGroup },
    { method: 'GET', path: G, policy: 'identity:get_endpoint_group', handler: showGroup },
    { method: 'PATCH', path: G, policy: 'identity:update_endpoint_group', handler: updateGroup },
    { method: 'DELETE', path: G, policy: 'identity:delete_endpoint_group', handler: deleteGroup },
    {
      method: 'GET',
      path: `${G}/projects`,
      policy: 'identity:list_projects_associated_with_endpoint_group',
      handler: groupProjects,
    },
    {
      method: 'GET',
      path: `${G}/endpoints`,
      policy: 'identity:list_endpoints_associated_with_endpoint_group',
      handler: groupEndpoints,
    },
    {
      method: 'GET',
      path: `${G}/projects/:project_id`,
      policy: 'identity:get_endpoint_group_in_project',
      handler: showGroupProject,
    },
    {
      method: 'PUT',
      path: `${G}/projects/:project_id`,
      policy: 'identity:add_endpoint_group_to_project',
      handler: addGroupProject,
    },
    {
      method: 'DELETE',
      path: `${G}/projects/:project_id`,
      policy: 'identity:remove_endpoint_group_from_project',
      handler: removeGroupProject,
    },
    {
      method: 'GET',
      path: '/v3/OS-EP-FILTER/projects/:project_id/endpoint_groups',
      policy: 'identity:list_endpoint_groups_for_project',
      handler: projectGroups,
    },
    { method: 'GET', path: PE, policy: 'identity:list_endpoints_for_project', handler: projectEndpoints },
    {
      method: 'GET',
      path: `${PE}/:endpoint_id`,
      policy: 'identity:check_endpoint_in_project',
      handler: checkProjectEndpoint,
    },
    {
      method: 'PUT',
      path: `${PE}/:endpoint_id`,
      policy: 'identity:add_endpoint_to_project',
      handler: addProjectEndpoint,
    },
    {
      method: 'DELETE',
      path: `${PE}/:endpoint_id`,
      policy: 'identity:remove_endpoint_from_project',
      handler: removeProjectEndpoint,
    },
    {
      method: 'GET',
      path: '/v3/OS-EP-FILTER/endpoints/:endpoint_id/projects',
      policy: 'identity:list_projects_for_endpoint',
      handler: endpointProjects,
    },
  ];
}
