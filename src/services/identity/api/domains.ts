// /v3/domains: Keystone's domain API (keystone/api/domains.py; resource/core.py create/update/delete_domain).
import { isUniqueViolation } from '../../../platform/db/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { type IdentityContext, type IdentityDb, type IdentityTrx, parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import { deleteExtrasOf } from '../store/extras-tables.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { AssignmentType, DomainRow } from '../store/tables.ts';
import { applyFilters, extraOf, normalizeKeys, rawQuery, truncate } from './common.ts';
import { domainCreateSchema, domainUpdateSchema } from './domains.schema.ts';
import { checkOptions, checkUniqueTags, EntityValidator } from './projects.schema.ts';
import { deleteProjectRows } from './projects.ts';
import { domainView, listBody } from './views.ts';

type Body = Record<string, unknown>;

// Attributes that are columns, or that a domain cannot have (it is a project acting as a domain upstream).
const DOMAIN_COLUMNS = [
  'id',
  'name',
  'description',
  'enabled',
  'tags',
  'options',
  'explicit_domain_id',
  'domain_id',
  'parent_id',
  'is_domain',
];
const DOMAIN_ASSIGNMENTS: AssignmentType[] = ['UserDomain', 'GroupDomain'];

const nameConflict = (name: string) =>
  IdentityErrors.conflict(
    'project',
    `it is not permitted to have two projects acting as domains with the same name: ${name}`,
  );

/** Runs fn over ids in slices, so IN lists stay under every dialect's parameter limit. */
async function inSlices(ids: string[], fn: (slice: string[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) await fn(ids.slice(i, i + 500));
}

/**
 * Deletes everything a domain owns, as Keystone does on domain deletion: its projects (with their tags,
 * assignments and credentials), users, groups, domain-specific roles, and the assignments on the domain.
 */
export async function deleteDomainContents(
  trx: IdentityTrx,
  domainId: string,
  record: (c: { kind: string; id: string; action: string }) => void,
): Promise<void> {
  const ids = async (table: 'identity_projects' | 'identity_users' | 'identity_groups' | 'identity_roles') =>
    (await trx.selectFrom(table).select('id').where('domain_id', '=', domainId).execute()).map((r) => r.id);
  const projects = await ids('identity_projects');
  const users = await ids('identity_users');
  const groups = await ids('identity_groups');
  const roles = await ids('identity_roles');

  await inSlices(projects, (s) => deleteProjectRows(trx, s));
  await inSlices(users, async (s) => {
    await trx.deleteFrom('identity_password_history').where('user_id', 'in', s).execute();
    await trx.deleteFrom('identity_group_members').where('user_id', 'in', s).execute();
    await trx.deleteFrom('identity_assignments').where('actor_id', 'in', s).execute();
    await trx.deleteFrom('identity_credentials').where('user_id', 'in', s).execute();
    const acs = (
      await trx.selectFrom('identity_app_credentials').select('id').where('user_id', 'in', s).execute()
    ).map((a) => a.id);
    if (acs.length > 0) {
      await trx.deleteFrom('identity_app_credential_roles').where('app_cred_id', 'in', acs).execute();
      await trx.deleteFrom('identity_app_credentials').where('id', 'in', acs).execute();
    }
    await trx.deleteFrom('identity_users').where('id', 'in', s).execute();
  });
  await inSlices(groups, async (s) => {
    await trx.deleteFrom('identity_group_members').where('group_id', 'in', s).execute();
    await trx.deleteFrom('identity_assignments').where('actor_id', 'in', s).execute();
    await trx.deleteFrom('identity_groups').where('id', 'in', s).execute();
  });
  await inSlices(roles, async (s) => {
    await trx
      .deleteFrom('identity_implied_roles')
      .where((eb) => eb.or([eb('prior_role_id', 'in', s), eb('implied_role_id', 'in', s)]))
      .execute();
    await trx.deleteFrom('identity_assignments').where('role_id', 'in', s).execute();
    await trx.deleteFrom('identity_app_credential_roles').where('role_id', 'in', s).execute();
    await trx.deleteFrom('identity_roles').where('id', 'in', s).execute();
  });
  await trx
    .deleteFrom('identity_assignments')
    .where('target_id', '=', domainId)
    .where('type', 'in', DOMAIN_ASSIGNMENTS)
    .execute();
  await trx.deleteFrom('identity_project_tags').where('project_id', '=', domainId).execute();
  await deleteExtrasOf(trx, { domainId });
  await trx.deleteFrom('identity_domains').where('id', '=', domainId).execute();

  for (const id of projects) record({ kind: 'project', id, action: 'delete' });
  for (const id of users) record({ kind: 'user', id, action: 'delete' });
  for (const id of groups) record({ kind: 'group', id, action: 'delete' });
  for (const id of roles) record({ kind: 'role', id, action: 'delete' });
  record({ kind: 'domain', id: domainId, action: 'delete' });
}

export function domainRoutes(ix: IdentityContext, reader: IdentityReader): Route[] {
  const v = new EntityValidator();

  async function tagsOf(id: string, db: IdentityDb = ix.db): Promise<string[]> {
    return (await reader.projectTags([id], db)).get(id) ?? [];
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

  /** The domain when it exists (GET defers the 404 past policy, as Keystone does). */
  async function softTarget(ctx: RouteContext): Promise<Body> {
    const id = ctx.params['domain_id'] ?? '';
    const d = await reader.findDomain(id);
    if (!d) return {};
    return { domain: domainView(d, ctx.baseUrl(), await tagsOf(id)) };
  }

  /** PATCH and DELETE load the member before enforcement, so a missing domain is a 404 for everyone. */
  async function hardTarget(ctx: RouteContext): Promise<Body> {
    const id = ctx.params['domain_id'] ?? '';
    const d = await reader.getDomain(id);
    return { domain: domainView(d, ctx.baseUrl(), await tagsOf(id)) };
  }

  async function create(ctx: RouteContext) {
    const d = normalizeKeys(v.entity(ctx, 'domain', domainCreateSchema, {}));
    v.validate(domainCreateSchema, d);
    if (Array.isArray(d['tags'])) checkUniqueTags(d['tags'] as string[], 'tags');
    checkOptions(d['options']);
    const explicit = d['explicit_domain_id'];
    if (
      explicit !== undefined &&
      explicit !== null &&
      (typeof explicit !== 'string' || !/^[0-9a-f]{32}$/.test(explicit))
    ) {
      throw IdentityErrors.validation('Domain ID does not conform to required UUID format.');
    }
    const id = typeof explicit === 'string' ? explicit : ix.ids.hexId();
    const name = (d['name'] as string).trim();
    const tags = (d['tags'] as string[] | undefined) ?? [];
    const base = ctx.baseUrl();
    try {
      const row = await ix.write(async (trx, record) => {
        // Domains and projects share one id space upstream (a domain is a project acting as a domain).
        if ((await reader.findDomain(id, trx)) || (await reader.findProject(id, trx)))
          throw nameConflict(name);
        if (await reader.findDomainByName(name, trx)) throw nameConflict(name);
        const row: DomainRow = {
          id,
          name,
          description: (d['description'] as string | null | undefined) ?? '',
          enabled: d['enabled'] === false ? 0 : 1,
          extra: JSON.stringify(extraOf(d, DOMAIN_COLUMNS)),
          created_at: ix.nowIso(),
        };
        await trx.insertInto('identity_domains').values(row).execute();
        await replaceTags(trx, id, tags);
        record({ kind: 'domain', id, action: 'create' });
        return row;
      });
      return { status: 201, body: { domain: domainView(row, base, tags) } };
    } catch (err) {
      if (isUniqueViolation(err)) throw nameConflict(name);
      throw err;
    }
  }

  async function list(ctx: RouteContext) {
    const base = ctx.baseUrl();
    const rows = await ix.db.selectFrom('identity_domains').selectAll().execute();
    const tags = await reader.projectTags(rows.map((r) => r.id));
    const items = applyFilters(
      ctx,
      rows.map((r) => domainView(r, base, tags.get(r.id) ?? [])),
      ['name', 'enabled'],
    );
    const page = truncate(items, ix.config.list_limit);
    const body = listBody('domains', page.items, base, 'domains', rawQuery(ctx));
    if (page.truncated) body['truncated'] = true;
    return { body };
  }

  async function show(ctx: RouteContext) {
    const id = ctx.params['domain_id'] ?? '';
    const row = await reader.getDomain(id);
    return { body: { domain: domainView(row, ctx.baseUrl(), await tagsOf(id)) } };
  }

  async function update(ctx: RouteContext) {
    const id = ctx.params['domain_id'] ?? '';
    const d = normalizeKeys(v.entity(ctx, 'domain', domainUpdateSchema, {}));
    v.validate(domainUpdateSchema, d);
    if (Array.isArray(d['tags'])) checkUniqueTags(d['tags'] as string[], 'tags');
    checkOptions(d['options']);
    const base = ctx.baseUrl();
    let name = '';
    try {
      const { row, tags } = await ix.write(async (trx, record) => {
        const orig = await reader.getDomain(id, trx);
        name = typeof d['name'] === 'string' ? d['name'].trim() : orig.name;
        if (name !== orig.name) {
          const other = await reader.findDomainByName(name, trx);
          if (other && other.id !== id) throw nameConflict(name);
        }
        const row: DomainRow = {
          ...orig,
          name,
          description: 'description' in d ? ((d['description'] as string | null) ?? '') : orig.description,
          enabled: typeof d['enabled'] === 'boolean' ? (d['enabled'] ? 1 : 0) : orig.enabled,
          extra: JSON.stringify({ ...parseJson(orig.extra), ...extraOf(d, DOMAIN_COLUMNS) }),
        };
        await trx
          .updateTable('identity_domains')
          .set({ name: row.name, description: row.description, enabled: row.enabled, extra: row.extra })
          .where('id', '=', id)
          .execute();
        let tags: string[];
        if (Array.isArray(d['tags'])) {
          tags = d['tags'] as string[];
          await replaceTags(trx, id, tags);
        } else {
          tags = await tagsOf(id, trx);
        }
        // Tokens scoped to (or owned within) a disabled domain stop validating; the event lets caches drop them.
        const disabled = orig.enabled === 1 && row.enabled === 0;
        record({ kind: 'domain', id, action: 'update', data: disabled ? { enabled: false } : undefined });
        return { row, tags };
      });
      return { body: { domain: domainView(row, base, tags) } };
    } catch (err) {
      if (isUniqueViolation(err)) throw nameConflict(name);
      throw err;
    }
  }

  async function remove(ctx: RouteContext) {
    const id = ctx.params['domain_id'] ?? '';
    await ix.write(async (trx, record) => {
      const d = await reader.getDomain(id, trx);
      // Insisting on a disabled domain avoids accidents, and stops a user deleting their own domain.
      if (d.enabled === 1) {
        throw IdentityErrors.forbidden('Cannot delete a domain that is enabled, please disable it first.');
      }
      await deleteDomainContents(trx, id, record);
    });
    return { status: 204 };
  }

  const D = '/v3/domains/:domain_id';
  return [
    { method: 'GET', path: '/v3/domains', policy: 'identity:list_domains', handler: list },
    { method: 'POST', path: '/v3/domains', policy: 'identity:create_domain', handler: create },
    { method: 'GET', path: D, policy: 'identity:get_domain', target: softTarget, handler: show },
    { method: 'PATCH', path: D, policy: 'identity:update_domain', target: hardTarget, handler: update },
    { method: 'DELETE', path: D, policy: 'identity:delete_domain', target: hardTarget, handler: remove },
  ];
}
