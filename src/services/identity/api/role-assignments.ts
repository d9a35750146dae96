// GET /v3/role_assignments: filters, and Keystone's effective, inherited and implied-role expansion.
import type { RouteContext } from '../../../platform/http/types.ts';
import type { IdentityContext } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import {
  type AssignmentRow,
  type AssignmentType,
  GLOBAL_ROLE_DOMAIN,
  type GroupRow,
  type ProjectRow,
  SYSTEM_TARGET,
  type UserRow,
} from '../store/tables.ts';
import { findGroup, projectTarget } from './assignments.ts';
import { queryFirst, queryFlag, rawQuery } from './common.ts';
import { listBody } from './views.ts';

// ---------------------------------------------------------------------------------------------------------
// GET /v3/role_assignments
// ---------------------------------------------------------------------------------------------------------

/** One assignment as Keystone's assignment manager passes it around (before formatting). */
interface Ref {
  user_id?: string;
  group_id?: string;
  project_id?: string;
  domain_id?: string;
  system?: boolean;
  role_id: string;
  inherited?: boolean;
  indirect?: { group_id?: string; project_id?: string; domain_id?: string; role_id?: string };
}

interface ListFilters {
  roleId?: string;
  userId?: string;
  groupIds?: string[];
  domainId?: string;
  projectIds?: string[];
  /** undefined: both inherited and direct. */
  inherited?: boolean;
}

const USER_TYPES: AssignmentType[] = ['UserProject', 'UserDomain'];
const GROUP_TYPES: AssignmentType[] = ['GroupProject', 'GroupDomain'];
const PROJECT_TYPES: AssignmentType[] = ['UserProject', 'GroupProject'];
const DOMAIN_TYPES: AssignmentType[] = ['UserDomain', 'GroupDomain'];

function toRef(r: AssignmentRow): Ref {
  const ref: Ref = { role_id: r.role_id };
  if (r.type === 'UserProject' || r.type === 'UserDomain' || r.type === 'UserSystem')
    ref.user_id = r.actor_id;
  else ref.group_id = r.actor_id;
  if (r.type.endsWith('Project')) ref.project_id = r.target_id;
  else if (r.type.endsWith('Domain')) ref.domain_id = r.target_id;
  else ref.system = true;
  if (r.inherited === 1) ref.inherited = true;
  return ref;
}

function cloneRef(r: Ref): Ref {
  const c: Ref = { ...r };
  if (r.indirect) c.indirect = { ...r.indirect };
  return c;
}

function refKey(r: Ref): string {
  const i = r.indirect ?? {};
  return JSON.stringify([
    r.user_id,
    r.group_id,
    r.project_id,
    r.domain_id,
    r.system,
    r.role_id,
    r.inherited,
    i.group_id,
    i.project_id,
    i.domain_id,
    i.role_id,
  ]);
}

class AssignmentLister {
  readonly #ix: IdentityContext;
  readonly #reader: IdentityReader;
  readonly #members = new Map<string, string[]>();
  readonly #subtrees = new Map<string, string[]>();
  readonly #domainProjects = new Map<string, string[]>();

  constructor(ix: IdentityContext, reader: IdentityReader) {
    this.#ix = ix;
    this.#reader = reader;
  }

  /** The assignment driver's list_role_assignments (project and domain assignments only). */
  async driverList(f: ListFilters): Promise<Ref[]> {
    const actorTypes = f.groupIds ? GROUP_TYPES : f.userId ? USER_TYPES : [];
    const targetTypes = f.projectIds ? PROJECT_TYPES : f.domainId ? DOMAIN_TYPES : [];
    let types: AssignmentType[];
    if (actorTypes.length > 0 && targetTypes.length > 0)
      types = actorTypes.filter((t) => targetTypes.includes(t));
    else
      types =
        actorTypes.length > 0
          ? actorTypes
          : targetTypes.length > 0
            ? targetTypes
            : [...USER_TYPES, ...GROUP_TYPES];
    let q = this.#ix.db.selectFrom('identity_assignments').selectAll().where('type', 'in', types);
    if (f.roleId) q = q.where('role_id', '=', f.roleId);
    const actors = f.groupIds ?? (f.userId ? [f.userId] : undefined);
    if (actors) q = q.where('actor_id', 'in', actors);
    const targets = f.projectIds ?? (f.domainId ? [f.domainId] : undefined);
    if (targets) q = q.where('target_id', 'in', targets);
    if (f.inherited !== undefined) q = q.where('inherited', '=', f.inherited ? 1 : 0);
    const rows = await q.execute();
    return rows.map(toRef);
  }

  async systemList(
    roleId: string | undefined,
    userId: string | undefined,
    groupId: string | undefined,
  ): Promise<Ref[]> {
    let q = this.#ix.db.selectFrom('identity_assignments').selectAll().where('target_id', '=', SYSTEM_TARGET);
    if (userId) q = q.where('actor_id', '=', userId).where('type', '=', 'UserSystem');
    else if (groupId) q = q.where('actor_id', '=', groupId).where('type', '=', 'GroupSystem');
    else q = q.where('type', 'in', ['UserSystem', 'GroupSystem'] as AssignmentType[]);
    if (roleId) q = q.where('role_id', '=', roleId);
    return (await q.execute()).map(toRef);
  }

  async members(groupId: string): Promise<string[]> {
    let m = this.#members.get(groupId);
    if (!m) {
      const rows = await this.#ix.db
        .selectFrom('identity_group_members')
        .innerJoin('identity_users', 'identity_users.id', 'identity_group_members.user_id')
        .select('identity_group_members.user_id')
        .where('identity_group_members.group_id', '=', groupId)
        .execute();
      m = rows.map((r) => r.user_id);
      this.#members.set(groupId, m);
    }
    return m;
  }

  /** list_projects_in_subtree: every descendant, not the project itself. */
  async subtree(projectId: string): Promise<string[]> {
    let s = this.#subtrees.get(projectId);
    if (!s) {
      s = (await this.#reader.projectDescendants(projectId)).map((p) => p.id);
      this.#subtrees.set(projectId, s);
    }
    return s;
  }

  async projectsInDomain(domainId: string): Promise<string[]> {
    let s = this.#domainProjects.get(domainId);
    if (!s) {
      const rows = await this.#ix.db
        .selectFrom('identity_projects')
        .select('id')
        .where('domain_id', '=', domainId)
        .execute();
      s = rows.map((r) => r.id);
      this.#domainProjects.set(domainId, s);
    }
    return s;
  }

  async direct(
    roleId: string | undefined,
    userId: string | undefined,
    groupId: string | undefined,
    system: boolean,
    domainId: string | undefined,
    projectId: string | undefined,
    subtreeIds: string[] | undefined,
    inherited: boolean | undefined,
  ): Promise<Ref[]> {
    const out: Ref[] = [];
    if (!system) {
      out.push(
        ...(await this.driverList({
          roleId,
          userId,
          groupIds: groupId ? [groupId] : undefined,
          domainId,
          projectIds: projectId ? [...(subtreeIds ?? []), projectId] : undefined,
          inherited,
        })),
      );
    }
    if (system || (!projectId && !domainId)) out.push(...(await this.systemList(roleId, userId, groupId)));
    return out;
  }

  async #forActor(
    inherited: boolean | undefined,
    userId: string | undefined,
    groupIds: string[] | undefined,
    projectId: string | undefined,
    subtreeIds: string[] | undefined,
    domainId: string | undefined,
  ): Promise<Ref[]> {
    const hasSubtree = subtreeIds !== undefined && subtreeIds.length > 0;
    const ofInterest = projectId ? (hasSubtree ? [...subtreeIds, projectId] : [projectId]) : undefined;
    const direct =
      inherited !== true
        ? await this.driverList({ domainId, projectIds: ofInterest, userId, groupIds, inherited: false })
        : [];
    const inheritedRefs: Ref[] = [];
    if (inherited !== false) {
      if (projectId) {
        const project = await this.#reader.getProject(projectId);
        inheritedRefs.push(
          ...(await this.driverList({ domainId: project.domain_id, userId, groupIds, inherited: true })),
        );
        const sources = (await this.#reader.projectAncestors(project)).map((a) => a.id);
        if (hasSubtree) sources.push(...ofInterest!);
        if (sources.length > 0) {
          inheritedRefs.push(
            ...(await this.driverList({ projectIds: sources, userId, groupIds, inherited: true })),
          );
        }
      } else {
        inheritedRefs.push(...(await this.driverList({ userId, groupIds, inherited: true })));
      }
    }
    return [...direct, ...inheritedRefs];
  }

  async #expandGroup(ref: Ref, userId: string | undefined): Promise<Ref[]> {
    const users = userId ? [userId] : await this.members(ref.group_id!);
    return users.map((u) => {
      const r = cloneRef(ref);
      r.user_id = u;
      r.indirect = { ...r.indirect, group_id: ref.group_id! };
      delete r.group_id;
      return r;
    });
  }

  async #expandInherited(
    ref: Ref,
    userId: string | undefined,
    projectId: string | undefined,
    subtreeIds: string[] | undefined,
  ) {
    let projectIds: string[];
    if (projectId) {
      projectIds = [projectId];
      if (subtreeIds && subtreeIds.length > 0) {
        projectIds.push(...subtreeIds);
        if (ref.project_id && projectIds.includes(ref.project_id))
          projectIds = await this.subtree(ref.project_id);
      }
    } else if (ref.domain_id) {
      projectIds = await this.projectsInDomain(ref.domain_id);
    } else {
      projectIds = await this.subtree(ref.project_id!);
    }
    const onProject = (base: Ref, pid: string): Ref => {
      const r = cloneRef(base);
      r.indirect = { ...r.indirect };
      if (base.project_id) r.indirect.project_id = base.project_id;
      else r.indirect.domain_id = base.domain_id!;
      delete r.domain_id;
      r.project_id = pid;
      delete r.inherited;
      return r;
    };
    const out: Ref[] = [];
    const bases = ref.group_id ? await this.#expandGroup(ref, userId) : [ref];
    for (const b of bases) for (const pid of projectIds) out.push(onProject(b, pid));
    return out;
  }

  async #expand(
    ref: Ref,
    userId: string | undefined,
    projectId: string | undefined,
    subtreeIds: string[] | undefined,
  ) {
    if (ref.inherited) return this.#expandInherited(ref, userId, projectId, subtreeIds);
    if (ref.group_id) return this.#expandGroup(ref, userId);
    return [ref];
  }

  /** add_implied_roles: one more entry per implied role, its prior role recorded as indirect.role_id. */
  async #addImplied(refs: Ref[]): Promise<Ref[]> {
    const imp = await this.#reader.implications();
    const results = [...refs];
    const seen = new Set(refs.map(refKey));
    const stack = [...refs];
    const checked = new Set<string>();
    while (stack.length > 0) {
      const next = stack.pop()!;
      checked.add(refKey(next));
      for (const implied of imp.get(next.role_id) ?? []) {
        const r = cloneRef(next);
        r.role_id = implied;
        r.indirect = { ...r.indirect, role_id: next.role_id };
        const key = refKey(r);
        if (checked.has(key) || seen.has(key)) continue;
        seen.add(key);
        results.push(r);
        stack.push(r);
      }
    }
    return results;
  }

  async effective(
    roleId: string | undefined,
    userId: string | undefined,
    groupId: string | undefined,
    domainId: string | undefined,
    projectId: string | undefined,
    subtreeIds: string[] | undefined,
    inheritedIn: boolean | undefined,
  ): Promise<Ref[]> {
    if (groupId || (domainId && inheritedIn)) return [];
    const inherited = domainId ? false : inheritedIn;
    const direct = await this.#forActor(inherited, userId, undefined, projectId, subtreeIds, domainId);
    let fromGroups: Ref[] = [];
    if (userId) {
      const groups = await this.#reader.groupIdsOf(userId);
      if (groups.length > 0)
        fromGroups = await this.#forActor(inherited, undefined, groups, projectId, subtreeIds, domainId);
    }
    let refs: Ref[] = [];
    for (const r of [...direct, ...fromGroups])
      refs.push(...(await this.#expand(r, userId, projectId, subtreeIds)));
    refs = await this.#addImplied(refs);
    // Domain-specific roles only infer other roles; they never appear in effective listings (or tokens).
    const roles = await this.#reader.roles();
    refs = refs.filter((r) => roles.get(r.role_id)?.domain_id === GLOBAL_ROLE_DOMAIN);
    if (roleId) refs = refs.filter((r) => r.role_id === roleId);
    return refs;
  }
}

interface Names {
  user?: Record<string, unknown>;
  group?: Record<string, unknown>;
  project?: Record<string, unknown>;
  domain?: Record<string, unknown>;
  role?: Record<string, unknown>;
}

async function namesFor(ix: IdentityContext, reader: IdentityReader, refs: Ref[]): Promise<Map<Ref, Names>> {
  const domains = new Map<string, string>();
  const domainName = async (id: string): Promise<string> => {
    if (!domains.has(id)) domains.set(id, (await reader.findDomain(id))?.name ?? '');
    return domains.get(id)!;
  };
  const users = new Map<string, UserRow | undefined>();
  const groups = new Map<string, GroupRow | undefined>();
  const projects = new Map<string, ProjectRow | undefined>();
  const roles = await reader.roles();
  const out = new Map<Ref, Names>();
  for (const r of refs) {
    const n: Names = {};
    if (r.user_id) {
      if (!users.has(r.user_id)) users.set(r.user_id, await reader.findUser(r.user_id));
      const u = users.get(r.user_id);
      n.user = u
        ? { id: u.id, name: u.name, domain: { id: u.domain_id, name: await domainName(u.domain_id) } }
        : { id: r.user_id, name: '', domain: { id: '', name: '' } };
    }
    if (r.group_id) {
      if (!groups.has(r.group_id)) groups.set(r.group_id, await findGroup(ix.db, r.group_id));
      const g = groups.get(r.group_id);
      n.group = g
        ? { id: g.id, name: g.name, domain: { id: g.domain_id, name: await domainName(g.domain_id) } }
        : { id: r.group_id, name: '', domain: { id: '', name: '' } };
    }
    if (r.project_id) {
      if (!projects.has(r.project_id)) projects.set(r.project_id, await reader.findProject(r.project_id));
      const p = projects.get(r.project_id);
      n.project = p
        ? { id: p.id, name: p.name, domain: { id: p.domain_id, name: await domainName(p.domain_id) } }
        : { id: r.project_id, name: '', domain: { id: '', name: '' } };
    }
    if (r.domain_id) n.domain = { id: r.domain_id, name: await domainName(r.domain_id) };
    const role = roles.get(r.role_id);
    n.role = { id: r.role_id, name: role?.name ?? '' };
    if (role && role.domain_id !== GLOBAL_ROLE_DOMAIN) {
      n.role['domain'] = { id: role.domain_id, name: await domainName(role.domain_id) };
    }
    out.set(r, n);
  }
  return out;
}

/** Keystone's RoleAssignmentsResource._format_entity. */
function formatRef(r: Ref, base: string, names: Names | undefined): Record<string, unknown> {
  const url = (path: string) => `${base}/v3${path}`;
  const links: Record<string, string> = {};
  const entity: Record<string, unknown> = { links };
  let link = '';
  let inheritedAssignment = r.inherited === true;
  let scope: Record<string, unknown> = {};
  if (r.project_id) {
    scope = { project: names?.project ?? { id: r.project_id } };
    if (r.indirect?.domain_id) {
      inheritedAssignment = true;
      link = `/domains/${r.indirect.domain_id}`;
    } else if (r.indirect?.project_id) {
      inheritedAssignment = true;
      link = `/projects/${r.indirect.project_id}`;
    } else {
      link = `/projects/${r.project_id}`;
    }
  } else if (r.domain_id) {
    scope = { domain: names?.domain ?? { id: r.domain_id } };
    link = `/domains/${r.domain_id}`;
  } else if (r.system) {
    link = '/system';
    scope = { system: { all: true } };
  }
  entity['scope'] = scope;
  if (r.user_id) {
    entity['user'] = names?.user ?? { id: r.user_id };
    if (r.indirect?.group_id) {
      links['membership'] = url(`/groups/${r.indirect.group_id}/users/${r.user_id}`);
      link += `/groups/${r.indirect.group_id}`;
    } else {
      link += `/users/${r.user_id}`;
    }
  } else if (r.group_id) {
    entity['group'] = names?.group ?? { id: r.group_id };
    link += `/groups/${r.group_id}`;
  }
  entity['role'] = names?.role ?? { id: r.role_id };
  let priorRoleLink = '';
  if (r.indirect?.role_id) {
    link += `/roles/${r.indirect.role_id}`;
    // Keystone's own (odd) spelling of this link, kept for compatibility.
    priorRoleLink = `/prior_role/${r.role_id}/implies/${r.indirect.role_id}`;
  } else {
    link += `/roles/${r.role_id}`;
  }
  if (inheritedAssignment) {
    scope['OS-INHERIT:inherited_to'] = 'projects';
    link = `/OS-INHERIT${link}/inherited_to_projects`;
  }
  links['assignment'] = url(link);
  if (priorRoleLink) links['prior_role'] = url(priorRoleLink);
  return entity;
}

export async function listRoleAssignments(ix: IdentityContext, reader: IdentityReader, ctx: RouteContext) {
  const q = ctx.query;
  const a = ctx.requireAuth();
  const arg = (name: string) => queryFirst(q, name);
  const includeSubtree = queryFlag(q, 'include_subtree');
  if (includeSubtree) {
    const pid = arg('scope.project.id');
    const target = pid ? { project: projectTarget(await reader.getProject(pid)) } : {};
    ctx.authorize('identity:list_role_assignments_for_tree', target);
    if (!pid)
      throw IdentityErrors.validation(
        'scope.project.id must be specified if include_subtree is also specified',
      );
  } else {
    ctx.authorize('identity:list_role_assignments', a.domainId ? { domain_id: a.domainId } : {});
  }

  if (arg('scope.domain.id') && arg('scope.project.id'))
    throw IdentityErrors.validation('Specify a domain or project, not both');
  if (arg('scope.domain.id') && arg('scope.system'))
    throw IdentityErrors.validation('Specify system or domain, not both');
  if (arg('scope.project.id') && arg('scope.system'))
    throw IdentityErrors.validation('Specify system or project, not both');
  if (arg('user.id') && arg('group.id')) throw IdentityErrors.validation('Specify a user or group, not both');
  const effective = queryFlag(q, 'effective');
  const inherited =
    'scope.OS-INHERIT:inherited_to' in q ? arg('scope.OS-INHERIT:inherited_to') === 'projects' : undefined;
  if (effective) {
    if (arg('group.id')) {
      throw IdentityErrors.validation(
        'Combining effective and group filter will always result in an empty list.',
      );
    }
    if (inherited && arg('scope.domain.id')) {
      throw IdentityErrors.validation(
        'Combining effective, domain and inherited filters will always result in an empty list.',
      );
    }
  }
  const includeNames = queryFlag(q, 'include_names');
  const roleId = arg('role.id') || undefined;
  const userId = arg('user.id') || undefined;
  const groupId = arg('group.id') || undefined;
  const domainId = arg('scope.domain.id') || undefined;
  const projectId = arg('scope.project.id') || undefined;
  const system = arg('scope.system') === 'all';

  const lister = new AssignmentLister(ix, reader);
  const subtreeIds = projectId && includeSubtree ? await lister.subtree(projectId) : undefined;
  let refs = effective
    ? await lister.effective(roleId, userId, groupId, domainId, projectId, subtreeIds, inherited)
    : await lister.direct(roleId, userId, groupId, system, domainId, projectId, subtreeIds, inherited);

  // A domain-scoped caller sees only assignments within its domain.
  if (a.domainId && !includeSubtree) {
    const inDomain: Ref[] = [];
    for (const r of refs) {
      if (r.domain_id === a.domainId) inDomain.push(r);
      else if (r.project_id && (await reader.findProject(r.project_id))?.domain_id === a.domainId)
        inDomain.push(r);
    }
    refs = inDomain;
  }

  const names = includeNames ? await namesFor(ix, reader, refs) : undefined;
  const base = ctx.baseUrl();
  const items = refs.map((r) => formatRef(r, base, names?.get(r)));
  return { body: listBody('role_assignments', items, base, 'role_assignments', rawQuery(ctx)) };
}
