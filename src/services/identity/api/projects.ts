// /v3/projects and /v3/projects/{id}/tags: Keystone's project API (keystone/api/projects.py, resource/core.py).
import { isUniqueViolation } from '../../../platform/db/errors.ts';
import { queryAll, queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { type IdentityContext, type IdentityDb, type IdentityTrx, parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import { deleteExtrasOf } from '../store/extras-tables.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { AssignmentType, DomainRow, ProjectRow } from '../store/tables.ts';
import { deleteTrustRows } from '../store/trusts.ts';
import {
  applyFilters,
  attrBool,
  extraOf,
  flagTrue,
  normalizeKeys,
  rawQuery,
  requireMatchingId,
  truncate,
} from './common.ts';
import { deleteDomainContents } from './domains.ts';
import {
  checkOptions,
  checkUniqueTags,
  EntityValidator,
  projectCreateSchema,
  projectUpdateSchema,
  tagSchema,
  tagsSchema,
} from './projects.schema.ts';
import { listBody, projectView } from './views.ts';

type Body = Record<string, unknown>;

/** Keystone's [DEFAULT] max_project_tree_depth: projects below a domain, counting the new one. */
export const MAX_PROJECT_TREE_DEPTH = 5;

const PROJECT_COLUMNS = [
  'id',
  'name',
  'domain_id',
  'parent_id',
  'description',
  'enabled',
  'is_domain',
  'tags',
  'options',
];
const PROJECT_ASSIGNMENTS: AssignmentType[] = ['UserProject', 'GroupProject'];

const nameConflict = (name: string, id: string) =>
  IdentityErrors.conflict(
    'project',
    `it is not permitted to have two projects with either the same name or same id in the same domain: name is ${name}, project id ${id}`,
  );
const forbidden = (message: string) => IdentityErrors.forbidden(message);

/** Deletes projects and everything that hangs off them: tags, assignments, credentials, app credentials. */
export async function deleteProjectRows(trx: IdentityTrx, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await deleteExtrasOf(trx, { projectIds: ids });
  await trx.deleteFrom('identity_project_tags').where('project_id', 'in', ids).execute();
  await trx
    .deleteFrom('identity_assignments')
    .where('target_id', 'in', ids)
    .where('type', 'in', PROJECT_ASSIGNMENTS)
    .execute();
  await trx.deleteFrom('identity_credentials').where('project_id', 'in', ids).execute();
  const appCreds = await trx
    .selectFrom('identity_app_credentials')
    .select('id')
    .where('project_id', 'in', ids)
    .execute();
  if (appCreds.length > 0) {
    const acIds = appCreds.map((a) => a.id);
    await trx.deleteFrom('identity_app_credential_roles').where('app_cred_id', 'in', acIds).execute();
    await trx.deleteFrom('identity_app_credentials').where('id', 'in', acIds).execute();
  }
  await deleteTrustRows(trx, { projectIds: ids });
  await trx.deleteFrom('identity_projects').where('id', 'in', ids).execute();
}

/** A domain as Keystone lists it among projects when asked for is_domain=true. */
function domainAsProject(d: DomainRow, base: string, tags: string[]): Body {
  return {
    ...parseJson(d.extra),
    id: d.id,
    name: d.name,
    domain_id: null,
    description: d.description,
    enabled: d.enabled === 1,
    parent_id: null,
    is_domain: true,
    tags,
    options: {},
    links: { self: `${base}/v3/projects/${d.id}` },
  };
}

export function projectRoutes(ix: IdentityContext, reader: IdentityReader): Route[] {
  const v = new EntityValidator();

  async function tagsOf(id: string, db: IdentityDb = ix.db): Promise<string[]> {
    return (await reader.projectTags([id], db)).get(id) ?? [];
  }

  /** Keystone's _build_project_target_enforcement: the project when it exists, nothing otherwise. */
  async function projectTarget(ctx: RouteContext): Promise<Body> {
    const id = ctx.params['project_id'] ?? '';
    const p = await reader.findProject(id);
    if (!p) return {};
    return { project: projectView(p, ctx.baseUrl(), await tagsOf(id)) };
  }

  /** Whether the user holds any role on the project (list_projects_for_user), for parents/subtree lists. */
  async function hasRoleOn(userId: string, projectId: string): Promise<boolean> {
    return (await reader.effectiveRoleIds(userId, { kind: 'project', projectId })).length > 0;
  }

  async function create(ctx: RouteContext) {
    const p = normalizeKeys(v.entity(ctx, 'project', projectCreateSchema, {}));
    v.validate(projectCreateSchema, p);
    if (Array.isArray(p['tags'])) checkUniqueTags(p['tags'] as string[], 'tags');
    checkOptions(p['options']);
    // A project acting as a domain is a domain: stored as one, shown in project form.
    if (p['is_domain'] === true) return createDomainProject(ctx, p);
    const name = (p['name'] as string).trim();
    const parentId = (p['parent_id'] as string | null | undefined) || undefined;
    const tags = (p['tags'] as string[] | undefined) ?? [];
    const id = ix.ids.hexId();
    const base = ctx.baseUrl();
    try {
      const row = await ix.write(async (trx, record) => {
        let parent: ProjectRow | undefined;
        let parentDomain: DomainRow | undefined;
        const resolveParent = async () => {
          if (!parentId || parent || parentDomain) return;
          parent = await reader.findProject(parentId, trx);
          if (!parent) parentDomain = await reader.findDomain(parentId, trx);
          if (!parent && !parentDomain)
            throw IdentityErrors.validation(`Could not find project: ${parentId}.`);
        };
        let domainId = (p['domain_id'] as string | null | undefined) || undefined;
        if (!domainId && parentId) {
          // api-ref: without a domain_id, the parent's domain is used.
          await resolveParent();
          domainId = parent?.domain_id ?? parentDomain?.id;
        }
        domainId ??= ctx.auth?.domainId ?? 'default';
        const domain = await reader.findDomain(domainId, trx);
        if (!domain) throw IdentityErrors.validation(`Could not find domain: ${domainId}.`);
        await resolveParent();
        if (parentDomain && parentDomain.id !== domain.id) {
          throw IdentityErrors.validation(
            `Cannot create project, the parent (${parentDomain.id}) is acting as a domain, but this project's domain id (${domain.id}) does not match the parent's id.`,
          );
        }
        if (parent && parent.domain_id !== domain.id) {
          throw IdentityErrors.validation(
            `Cannot create project, since it specifies its domain_id ${domain.id}, but specifies a parent in a different domain (${parent.domain_id}).`,
          );
        }
        // The whole branch above must be enabled, and not too deep (the domain counts as a level).
        const chain: { id: string; enabled: number }[] = parent
          ? [...(await reader.projectAncestors(parent, trx)), domain, parent]
          : [domain];
        const disabled = chain.find((c) => c.enabled !== 1);
        if (disabled) {
          throw IdentityErrors.validation(
            `cannot create a project in a branch containing a disabled project: ${disabled.id}`,
          );
        }
        if (chain.length > MAX_PROJECT_TREE_DEPTH) {
          throw forbidden(`Max hierarchy depth reached for ${parent?.id ?? domain.id} branch.`);
        }
        if (await reader.findProjectByName(domain.id, name, trx)) throw nameConflict(name, id);
        const row: ProjectRow = {
          id,
          name,
          domain_id: domain.id,
          parent_id: parent?.id ?? null,
          description: (p['description'] as string | null | undefined) ?? '',
          enabled: p['enabled'] === false ? 0 : 1,
          extra: JSON.stringify(extraOf(p, PROJECT_COLUMNS)),
          created_at: ix.nowIso(),
        };
        await trx.insertInto('identity_projects').values(row).execute();
        if (tags.length > 0) {
          await trx
            .insertInto('identity_project_tags')
            .values(tags.map((tag) => ({ project_id: id, tag })))
            .execute();
        }
        record({ kind: 'project', id, action: 'create' });
        return row;
      });
      return { status: 201, body: { project: projectView(row, base, tags) } };
    } catch (err) {
      if (isUniqueViolation(err)) throw nameConflict(name, id);
      throw err;
    }
  }

  async function list(ctx: RouteContext) {
    const base = ctx.baseUrl();
    const scopeDomain = ctx.auth?.domainId;
    const isDomain = queryOne(ctx.query, 'is_domain');
    let items: Body[];
    if (isDomain !== undefined && attrBool(isDomain)) {
      const domains = await ix.db.selectFrom('identity_domains').selectAll().execute();
      const tags = await reader.projectTags(domains.map((d) => d.id));
      items = domains.map((d) => domainAsProject(d, base, tags.get(d.id) ?? []));
    } else {
      let q = ix.db.selectFrom('identity_projects').selectAll();
      if (scopeDomain) q = q.where('domain_id', '=', scopeDomain);
      const rows = await q.execute();
      const tags = await reader.projectTags(rows.map((r) => r.id));
      items = rows.map((r) => projectView(r, base, tags.get(r.id) ?? []));
    }
    // A domain-scoped token lists its own domain's projects only.
    if (scopeDomain) items = items.filter((b) => b['domain_id'] === scopeDomain);
    items = applyFilters(ctx, items, ['domain_id', 'enabled', 'name', 'parent_id']);
    items = filterByTags(ctx, items);
    const page = truncate(items, ix.config.list_limit);
    const body = listBody('projects', page.items, base, 'projects', rawQuery(ctx));
    if (page.truncated) body['truncated'] = true;
    return { body };
  }

  async function show(ctx: RouteContext) {
    const id = ctx.params['project_id'] ?? '';
    const base = ctx.baseUrl();
    const asDomain = await domainInsteadOfProject(id);
    if (asDomain) return { body: { project: domainAsProject(asDomain, base, await tagsOf(id)) } };
    const row = await reader.getProject(id);
    const body = projectView(row, base, await tagsOf(id));
    const parentsList = flagTrue(ctx, 'parents_as_list');
    const parentsIds = flagTrue(ctx, 'parents_as_ids');
    const subtreeList = flagTrue(ctx, 'subtree_as_list');
    const subtreeIds = flagTrue(ctx, 'subtree_as_ids');
    if (parentsList && parentsIds) {
      throw IdentityErrors.validation(
        'Cannot use parents_as_list and parents_as_ids query params at the same time.',
      );
    }
    if (subtreeList && subtreeIds) {
      throw IdentityErrors.validation(
        'Cannot use subtree_as_list and subtree_as_ids query params at the same time.',
      );
    }
    const userId = ctx.auth?.userId ?? '';
    const visible = async (rows: ProjectRow[]) => {
      const out: Body[] = [];
      const tags = await reader.projectTags(rows.map((r) => r.id));
      for (const r of rows) {
        if (await hasRoleOn(userId, r.id)) out.push({ project: projectView(r, base, tags.get(r.id) ?? []) });
      }
      return out;
    };
    if (parentsList || parentsIds) {
      const ancestors = await reader.projectAncestors(row);
      if (parentsList) {
        body['parents'] = await visible(ancestors);
      } else {
        // Nested from the nearest parent up to the domain: {parent: {grandparent: {domain: null}}}.
        let acc: Body = { [row.domain_id]: null };
        for (const a of [...ancestors].reverse()) acc = { [a.id]: acc };
        body['parents'] = acc;
      }
    }
    if (subtreeList || subtreeIds) {
      const descendants = await reader.projectDescendants(id);
      if (subtreeList) {
        body['subtree'] = await visible(descendants);
      } else {
        const byParent = new Map<string, string[]>();
        for (const d of descendants) {
          if (d.parent_id) byParent.set(d.parent_id, [...(byParent.get(d.parent_id) ?? []), d.id]);
        }
        const nest = (pid: string): Body | null => {
          const kids = byParent.get(pid);
          if (!kids) return null;
          return Object.fromEntries(kids.map((k) => [k, nest(k)]));
        };
        body['subtree'] = nest(id);
      }
    }
    return { body: { project: body } };
  }

  async function update(ctx: RouteContext) {
    const id = ctx.params['project_id'] ?? '';
    const p = normalizeKeys(v.entity(ctx, 'project', projectUpdateSchema, {}));
    v.validate(projectUpdateSchema, p);
    requireMatchingId(p, id);
    const asDomain = await domainInsteadOfProject(id);
    if (asDomain) return updateDomainProject(ctx, asDomain, p);
    if (Array.isArray(p['tags'])) checkUniqueTags(p['tags'] as string[], 'tags');
    checkOptions(p['options']);
    const base = ctx.baseUrl();
    let name = '';
    try {
      const { row, tags } = await ix.write(async (trx, record) => {
        const orig = await reader.getProject(id, trx);
        if ('domain_id' in p && p['domain_id'] !== orig.domain_id) {
          throw IdentityErrors.validation('Cannot change Domain ID');
        }
        if ('parent_id' in p && p['parent_id'] !== (orig.parent_id ?? orig.domain_id)) {
          throw forbidden('Update of `parent_id` is not allowed.');
        }
        if ('is_domain' in p && p['is_domain'] !== false) {
          throw IdentityErrors.validation('Update of `is_domain` is not allowed.');
        }
        const enabling = orig.enabled !== 1 && p['enabled'] === true;
        const disabling = orig.enabled === 1 && p['enabled'] === false;
        if (enabling) {
          const domain = await reader.getDomain(orig.domain_id, trx);
          const ancestors = await reader.projectAncestors(orig, trx);
          if ([...ancestors, domain].some((a) => a.enabled !== 1)) {
            throw forbidden(`Cannot enable project ${id} since it has disabled parents`);
          }
        }
        if (disabling && (await reader.projectDescendants(id, trx)).some((d) => d.enabled === 1)) {
          throw forbidden(`Cannot disable project ${id} since its subtree contains enabled projects.`);
        }
        name = typeof p['name'] === 'string' ? p['name'].trim() : orig.name;
        if (name !== orig.name) {
          const other = await reader.findProjectByName(orig.domain_id, name, trx);
          if (other && other.id !== id) throw nameConflict(name, id);
        }
        const row: ProjectRow = {
          ...orig,
          name,
          description: 'description' in p ? ((p['description'] as string | null) ?? '') : orig.description,
          enabled: typeof p['enabled'] === 'boolean' ? (p['enabled'] ? 1 : 0) : orig.enabled,
          extra: JSON.stringify({ ...parseJson(orig.extra), ...extraOf(p, PROJECT_COLUMNS) }),
        };
        await trx
          .updateTable('identity_projects')
          .set({ name: row.name, description: row.description, enabled: row.enabled, extra: row.extra })
          .where('id', '=', id)
          .execute();
        let tags: string[];
        if (Array.isArray(p['tags'])) {
          tags = p['tags'] as string[];
          await replaceTags(trx, id, tags);
        } else {
          tags = await tagsOf(id, trx);
        }
        record({ kind: 'project', id, action: 'update', data: disabling ? { enabled: false } : undefined });
        return { row, tags };
      });
      return { body: { project: projectView(row, base, tags) } };
    } catch (err) {
      if (isUniqueViolation(err)) throw nameConflict(name, id);
      throw err;
    }
  }

  async function remove(ctx: RouteContext) {
    const id = ctx.params['project_id'] ?? '';
    const asDomain = await domainInsteadOfProject(id);
    if (asDomain) {
      ctx.authorize('identity:delete_domain', { domain: { id } });
      if (asDomain.enabled === 1) {
        throw IdentityErrors.forbidden('Cannot delete a domain that is enabled, please disable it first.');
      }
      await ix.write((trx, record) => deleteDomainContents(trx, id, record));
      return { status: 204 };
    }
    await ix.write(async (trx, record) => {
      await reader.getProject(id, trx);
      const child = await trx
        .selectFrom('identity_projects')
        .select('id')
        .where('parent_id', '=', id)
        .executeTakeFirst();
      if (child) {
        throw forbidden(
          `Cannot delete the project ${id} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.`,
        );
      }
      await deleteProjectRows(trx, [id]);
      record({ kind: 'project', id, action: 'delete' });
    });
    return { status: 204 };
  }

  /** The domain behind a project id, when the id names a domain (a project acting as a domain). */
  async function domainInsteadOfProject(id: string): Promise<DomainRow | undefined> {
    if (await reader.findProject(id)) return undefined;
    return reader.findDomain(id);
  }

  async function createDomainProject(ctx: RouteContext, p: Body) {
    ctx.authorize('identity:create_domain');
    if (p['parent_id'] || p['domain_id']) {
      throw IdentityErrors.validation('only root projects are allowed to act as domains.');
    }
    const name = (p['name'] as string).trim();
    const row: DomainRow = {
      id: ix.ids.hexId(),
      name,
      description: (p['description'] as string | null | undefined) ?? '',
      enabled: p['enabled'] === false ? 0 : 1,
      extra: JSON.stringify(extraOf(p, PROJECT_COLUMNS)),
      created_at: ix.nowIso(),
    };
    try {
      await ix.write(async (trx, record) => {
        await trx.insertInto('identity_domains').values(row).execute();
        record({ kind: 'domain', id: row.id, action: 'create' });
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw IdentityErrors.conflict('domain', `Duplicate entry found with name ${name}`);
      }
      throw err;
    }
    return { status: 201, body: { project: domainAsProject(row, ctx.baseUrl(), []) } };
  }

  async function updateDomainProject(ctx: RouteContext, d: DomainRow, p: Body) {
    ctx.authorize('identity:update_domain', { domain: { id: d.id } });
    if ('is_domain' in p && p['is_domain'] !== true) {
      throw IdentityErrors.validation('Update of `is_domain` is not allowed.');
    }
    const row: DomainRow = {
      ...d,
      name: typeof p['name'] === 'string' ? p['name'].trim() : d.name,
      description: 'description' in p ? ((p['description'] as string | null) ?? '') : d.description,
      enabled: typeof p['enabled'] === 'boolean' ? (p['enabled'] ? 1 : 0) : d.enabled,
    };
    try {
      await ix.write(async (trx, record) => {
        await trx
          .updateTable('identity_domains')
          .set({ name: row.name, description: row.description, enabled: row.enabled })
          .where('id', '=', d.id)
          .execute();
        record({
          kind: 'domain',
          id: d.id,
          action: 'update',
          data: row.enabled === 0 ? { enabled: false } : undefined,
        });
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw IdentityErrors.conflict('domain', `Duplicate entry found with name ${row.name}`);
      }
      throw err;
    }
    return { body: { project: domainAsProject(row, ctx.baseUrl(), await tagsOf(d.id)) } };
  }

  async function replaceTags(trx: IdentityTrx, id: string, tags: string[]): Promise<void> {
    await trx.deleteFrom('identity_project_tags').where('project_id', '=', id).execute();
    if (tags.length > 0) {
      await trx
        .insertInto('identity_project_tags')
        .values(tags.map((tag) => ({ project_id: id, tag })))
        .execute();
    }
  }

  const tagsBody = (ctx: RouteContext, id: string, tags: string[]) => ({
    tags,
    links: { self: `${ctx.baseUrl()}/v3/projects/${id}/tags` },
  });

  async function listTags(ctx: RouteContext) {
    const id = ctx.params['project_id'] ?? '';
    await reader.getProject(id);
    return { body: tagsBody(ctx, id, await tagsOf(id)) };
  }

  async function putTags(ctx: RouteContext) {
    const id = ctx.params['project_id'] ?? '';
    const raw = ctx.body as Body | undefined;
    const given =
      raw && typeof raw === 'object' && !Array.isArray(raw) && raw['tags'] !== undefined ? raw['tags'] : {};
    v.validate(tagsSchema, given);
    checkUniqueTags(given as string[]);
    const tags = [...new Set((given as string[]).map((t) => t.trim()))];
    await ix.write(async (trx, record) => {
      await reader.getProject(id, trx);
      await replaceTags(trx, id, tags);
      record({ kind: 'project', id, action: 'update' });
    });
    return { body: tagsBody(ctx, id, tags) };
  }

  async function deleteTags(ctx: RouteContext) {
    const id = ctx.params['project_id'] ?? '';
    await ix.write(async (trx, record) => {
      await reader.getProject(id, trx);
      await replaceTags(trx, id, []);
      record({ kind: 'project', id, action: 'update' });
    });
    return { status: 204 };
  }

  async function checkTag(ctx: RouteContext) {
    const id = ctx.params['project_id'] ?? '';
    const value = ctx.params['value'] ?? '';
    await reader.getProject(id);
    if (!(await tagsOf(id)).includes(value)) throw IdentityErrors.notFound('project tag', value);
    return { status: 204 };
  }

  async function addTag(ctx: RouteContext) {
    const id = ctx.params['project_id'] ?? '';
    const value = ctx.params['value'] ?? '';
    v.validate(tagSchema, value);
    const tag = value.trim();
    await ix.write(async (trx, record) => {
      await reader.getProject(id, trx);
      const tags = [...(await tagsOf(id, trx)), value];
      v.validate(tagsSchema, tags);
      checkUniqueTags(tags);
      if (!tags.slice(0, -1).includes(tag)) {
        await trx.insertInto('identity_project_tags').values({ project_id: id, tag }).execute();
      }
      record({ kind: 'project', id, action: 'update' });
    });
    return {
      status: 201,
      headers: { location: `${ctx.baseUrl()}/v3/projects/${id}/tags/${encodeURIComponent(tag)}` },
    };
  }

  async function deleteTag(ctx: RouteContext) {
    const id = ctx.params['project_id'] ?? '';
    const value = ctx.params['value'] ?? '';
    await ix.write(async (trx, record) => {
      await reader.getProject(id, trx);
      const gone = await trx
        .deleteFrom('identity_project_tags')
        .where('project_id', '=', id)
        .where('tag', '=', value)
        .executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) throw IdentityErrors.notFound('project tag', value);
      record({ kind: 'project', id, action: 'update' });
    });
    return { status: 204 };
  }

  const P = '/v3/projects/:project_id';
  const listTarget = (ctx: RouteContext): Body =>
    ctx.auth?.domainId ? { domain_id: ctx.auth.domainId } : {};
  const createTarget = (ctx: RouteContext): Body => {
    const raw = ctx.body as Body | undefined;
    const project = raw && typeof raw === 'object' ? raw['project'] : undefined;
    return { project: project && typeof project === 'object' ? project : {} };
  };

  return [
    {
      method: 'GET',
      path: '/v3/projects',
      policy: 'identity:list_projects',
      target: listTarget,
      handler: list,
    },
    {
      method: 'POST',
      path: '/v3/projects',
      policy: 'identity:create_project',
      target: createTarget,
      handler: create,
    },
    { method: 'GET', path: P, policy: 'identity:get_project', target: projectTarget, handler: show },
    { method: 'PATCH', path: P, policy: 'identity:update_project', target: projectTarget, handler: update },
    { method: 'DELETE', path: P, policy: 'identity:delete_project', target: projectTarget, handler: remove },
    {
      method: 'GET',
      path: `${P}/tags`,
      policy: 'identity:list_project_tags',
      target: projectTarget,
      handler: listTags,
    },
    {
      method: 'PUT',
      path: `${P}/tags`,
      policy: 'identity:update_project_tags',
      target: projectTarget,
      handler: putTags,
    },
    {
      method: 'DELETE',
      path: `${P}/tags`,
      policy: 'identity:delete_project_tags',
      target: projectTarget,
      handler: deleteTags,
    },
    {
      method: 'GET',
      path: `${P}/tags/:value`,
      policy: 'identity:get_project_tag',
      target: projectTarget,
      handler: checkTag,
    },
    {
      method: 'PUT',
      path: `${P}/tags/:value`,
      policy: 'identity:create_project_tag',
      target: projectTarget,
      handler: addTag,
    },
    {
      method: 'DELETE',
      path: `${P}/tags/:value`,
      policy: 'identity:delete_project_tag',
      target: projectTarget,
      handler: deleteTag,
    },
  ];
}

/** tags (all of), tags-any, not-tags (not all of), not-tags-any (none of); comma-separated, first value counts. */
function filterByTags(ctx: RouteContext, items: Body[]): Body[] {
  const arg = (k: string) => {
    const v = queryAll(ctx.query, k)[0];
    return v === undefined ? undefined : v.split(',');
  };
  const all = arg('tags');
  const any = arg('tags-any');
  const notAll = arg('not-tags');
  const notAny = arg('not-tags-any');
  return items.filter((b) => {
    const have = new Set(b['tags'] as string[]);
    if (all && !all.every((t) => have.has(t))) return false;
    if (any && !any.some((t) => have.has(t))) return false;
    if (notAll?.every((t) => have.has(t))) return false;
    if (notAny?.some((t) => have.has(t))) return false;
    return true;
  });
}
