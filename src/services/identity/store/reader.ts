// Read queries shared across identity handlers and token validation; getX throws the 404, findX returns undefined.
// Roles and implications are small and read on every validation, so they are cached per identity generation.
import type { IdentityContext, IdentityDb } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import {
  type AssignmentType,
  type DomainRow,
  type ProjectRow,
  type RoleRow,
  SYSTEM_TARGET,
  type UserRow,
} from './tables.ts';

export type Scope =
  | { kind: 'unscoped' }
  | { kind: 'project'; projectId: string }
  | { kind: 'domain'; domainId: string }
  | { kind: 'system' };

interface Cached<T> {
  gen: number;
  value: T;
}

export class IdentityReader {
  readonly #ix: IdentityContext;
  #roles: Cached<Map<string, RoleRow>> | undefined;
  #implied: Cached<Map<string, string[]>> | undefined;

  constructor(ix: IdentityContext) {
    this.#ix = ix;
  }

  get db(): IdentityDb {
    return this.#ix.db;
  }

  async findDomain(id: string, db: IdentityDb = this.db): Promise<DomainRow | undefined> {
    return db.selectFrom('identity_domains').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async getDomain(id: string, db: IdentityDb = this.db): Promise<DomainRow> {
    const r = await this.findDomain(id, db);
    if (!r) throw IdentityErrors.notFound('domain', id);
    return r;
  }
  async findDomainByName(name: string, db: IdentityDb = this.db): Promise<DomainRow | undefined> {
    return db.selectFrom('identity_domains').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async findProject(id: string, db: IdentityDb = this.db): Promise<ProjectRow | undefined> {
    return db.selectFrom('identity_projects').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async getProject(id: string, db: IdentityDb = this.db): Promise<ProjectRow> {
    const r = await this.findProject(id, db);
    if (!r) throw IdentityErrors.notFound('project', id);
    return r;
  }
  async findProjectByName(
    domainId: string,
    name: string,
    db: IdentityDb = this.db,
  ): Promise<ProjectRow | undefined> {
    return db
      .selectFrom('identity_projects')
      .selectAll()
      .where('domain_id', '=', domainId)
      .where('name', '=', name)
      .executeTakeFirst();
  }
  /** Parent chain of a project, nearest first (excludes the project and its domain). */
  async projectAncestors(p: ProjectRow, db: IdentityDb = this.db): Promise<ProjectRow[]> {
    const out: ProjectRow[] = [];
    let cur = p;
    const seen = new Set([p.id]);
    while (cur.parent_id && !seen.has(cur.parent_id)) {
      const parent = await this.findProject(cur.parent_id, db);
      if (!parent) break;
      out.push(parent);
      seen.add(parent.id);
      cur = parent;
    }
    return out;
  }
  /** Every descendant of a project, breadth first. */
  async projectDescendants(id: string, db: IdentityDb = this.db): Promise<ProjectRow[]> {
    const out: ProjectRow[] = [];
    let frontier = [id];
    while (frontier.length > 0) {
      const kids = await db
        .selectFrom('identity_projects')
        .selectAll()
        .where('parent_id', 'in', frontier)
        .execute();
      out.push(...kids);
      frontier = kids.map((k) => k.id);
    }
    return out;
  }
  async projectTags(ids: string[], db: IdentityDb = this.db): Promise<Map<string, string[]>> {
    const m = new Map<string, string[]>();
    if (ids.length === 0) return m;
    const rows = await db
      .selectFrom('identity_project_tags')
      .selectAll()
      .where('project_id', 'in', ids)
      .execute();
    for (const r of rows) {
      const l = m.get(r.project_id) ?? [];
      l.push(r.tag);
      m.set(r.project_id, l);
    }
    return m;
  }

  async findUser(id: string, db: IdentityDb = this.db): Promise<UserRow | undefined> {
    return db.selectFrom('identity_users').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async getUser(id: string, db: IdentityDb = this.db): Promise<UserRow> {
    const r = await this.findUser(id, db);
    if (!r) throw IdentityErrors.notFound('user', id);
    return r;
  }
  async findUserByName(
    domainId: string,
    name: string,
    db: IdentityDb = this.db,
  ): Promise<UserRow | undefined> {
    return db
      .selectFrom('identity_users')
      .selectAll()
      .where('domain_id', '=', domainId)
      .where('name', '=', name)
      .executeTakeFirst();
  }
  async groupIdsOf(userId: string, db: IdentityDb = this.db): Promise<string[]> {
    const rows = await db
      .selectFrom('identity_group_members')
      .select('group_id')
      .where('user_id', '=', userId)
      .execute();
    return rows.map((r) => r.group_id);
  }

  /** All roles by id (cached until the next identity write). */
  async roles(): Promise<Map<string, RoleRow>> {
    const gen = this.#ix.generation;
    if (this.#roles?.gen === gen) return this.#roles.value;
    const rows = await this.db.selectFrom('identity_roles').selectAll().execute();
    const value = new Map(rows.map((r) => [r.id, r]));
    this.#roles = { gen, value };
    return value;
  }
  async getRole(id: string): Promise<RoleRow> {
    const r = (await this.roles()).get(id);
    if (!r) throw IdentityErrors.notFound('role', id);
    return r;
  }
  /** prior role id → directly implied role ids. */
  async implications(): Promise<Map<string, string[]>> {
    const gen = this.#ix.generation;
    if (this.#implied?.gen === gen) return this.#implied.value;
    const rows = await this.db.selectFrom('identity_implied_roles').selectAll().execute();
    const value = new Map<string, string[]>();
    for (const r of rows)
      value.set(r.prior_role_id, [...(value.get(r.prior_role_id) ?? []), r.implied_role_id]);
    this.#implied = { gen, value };
    return value;
  }
  /** The closure of role ids under implication (admin → member → reader). */
  async expandRoles(ids: Iterable<string>): Promise<string[]> {
    const imp = await this.implications();
    const out = new Set<string>();
    const stack = [...ids];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (out.has(id)) continue;
      out.add(id);
      for (const next of imp.get(id) ?? []) stack.push(next);
    }
    return [...out];
  }

  /**
   * Role ids a user holds on a scope, directly or through groups, inherited from parent projects and the
   * domain, with implications expanded. Empty for unscoped.
   */
  async effectiveRoleIds(userId: string, scope: Scope, db: IdentityDb = this.db): Promise<string[]> {
    if (scope.kind === 'unscoped') return [];
    const actors = [userId, ...(await this.groupIdsOf(userId, db))];
    let q = db.selectFrom('identity_assignments').select('role_id').where('actor_id', 'in', actors);
    if (scope.kind === 'system') {
      q = q
        .where('target_id', '=', SYSTEM_TARGET)
        .where('type', 'in', ['UserSystem', 'GroupSystem'] as AssignmentType[]);
    } else if (scope.kind === 'domain') {
      q = q
        .where('target_id', '=', scope.domainId)
        .where('inherited', '=', 0)
        .where('type', 'in', ['UserDomain', 'GroupDomain'] as AssignmentType[]);
    } else {
      const p = await this.findProject(scope.projectId, db);
      if (!p) return [];
      const inheritedFrom = [...(await this.projectAncestors(p, db)).map((a) => a.id), p.domain_id];
      q = q
        .where('type', 'in', ['UserProject', 'GroupProject', 'UserDomain', 'GroupDomain'] as AssignmentType[])
        .where((eb) =>
          eb.or([
            eb.and([eb('target_id', '=', p.id), eb('inherited', '=', 0)]),
            eb.and([eb('target_id', 'in', inheritedFrom), eb('inherited', '=', 1)]),
          ]),
        );
    }
    const rows = await q.execute();
    return this.expandRoles(new Set(rows.map((r) => r.role_id)));
  }
}
