// Role grants (projects, domains, system, OS-INHERIT); also the helpers groups.ts and roles.ts share (targets,
// lookups, the last-admin guard). GET /v3/role_assignments is in role-assignments.ts.
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { type IdentityContext, type IdentityDb, type IdentityTrx, parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import {
  type AssignmentRow,
  type AssignmentType,
  type DomainRow,
  GLOBAL_ROLE_DOMAIN,
  type GroupRow,
  type ProjectRow,
  type RoleRow,
  SYSTEM_TARGET,
  type UserRow,
} from '../store/tables.ts';
import { recordRevocation } from '../tokens/revocation.ts';
import { collection } from './common.ts';
import { listRoleAssignments } from './role-assignments.ts';
import { roleView } from './views.ts';

export const roleTarget = (r: RoleRow): Record<string, unknown> => ({
  id: r.id,
  name: r.name,
  domain_id: r.domain_id === GLOBAL_ROLE_DOMAIN ? null : r.domain_id,
  description: r.description || null,
  options: parseJson(r.options),
});
export const groupTarget = (g: GroupRow): Record<string, unknown> => ({
  id: g.id,
  name: g.name,
  domain_id: g.domain_id,
  description: g.description,
});
export const userTarget = (u: UserRow): Record<string, unknown> => ({
  id: u.id,
  name: u.name,
  domain_id: u.domain_id,
  enabled: u.enabled === 1,
  default_project_id: u.default_project_id,
});
export const projectTarget = (p: ProjectRow): Record<string, unknown> => ({
  id: p.id,
  name: p.name,
  domain_id: p.domain_id,
  parent_id: p.parent_id ?? p.domain_id,
  enabled: p.enabled === 1,
  is_domain: false,
});
export const domainTarget = (d: DomainRow): Record<string, unknown> => ({
  id: d.id,
  name: d.name,
  enabled: d.enabled === 1,
});

export async function findGroup(db: IdentityDb, id: string): Promise<GroupRow | undefined> {
  return db.selectFrom('identity_groups').selectAll().where('id', '=', id).executeTakeFirst();
}
export async function getGroup(db: IdentityDb, id: string): Promise<GroupRow> {
  const g = await findGroup(db, id);
  if (!g) throw IdentityErrors.notFound('group', id);
  return g;
}
export async function findRole(db: IdentityDb, id: string): Promise<RoleRow | undefined> {
  return db.selectFrom('identity_roles').selectAll().where('id', '=', id).executeTakeFirst();
}
export async function getRole(db: IdentityDb, id: string): Promise<RoleRow> {
  const r = await findRole(db, id);
  if (!r) throw IdentityErrors.notFound('role', id);
  return r;
}

/** Invalidates every token the users hold (Keystone's persist_revocation_event_for_user). */
export async function revokeUserTokens(
  ix: IdentityContext,
  trx: IdentityTrx,
  userIds: Iterable<string>,
): Promise<void> {
  for (const userId of new Set(userIds)) await recordRevocation(ix, trx, { userId });
}

export function assignmentKey(a: AssignmentRow): string {
  return `${a.type}:${a.actor_id}:${a.target_id}:${a.role_id}:${a.inherited}`;
}

// ---------------------------------------------------------------------------------------------------------
// The last-admin guard
// ---------------------------------------------------------------------------------------------------------
//
// Keystone lets an administrator remove the very assignment that makes anyone an administrator, which leaves
// a cloud nobody can manage again short of editing the database. Monostack refuses that one change:
//
//   A change that removes role assignments, group memberships, groups, roles or role implications is
//   refused with 403 when, before it, at least one enabled user held the global `admin` role (directly, via
//   a group, or via a role implying admin; on any project, domain or the system) and, after it, none would.
//
// This covers "revoking the bootstrap admin's admin role on the admin project while it is the only admin"
// and every equivalent route to the same end (removing the admin from the admins group, deleting that group,
// deleting the admin role). The check runs inside the same transaction as the change, so the refusal rolls
// the change back and concurrent changes cannot both pass it.

export const LAST_ADMIN_MESSAGE =
  'Refusing to remove the last admin role assignment: no enabled user would hold the admin role afterwards, ' +
  'and the cloud could no longer be administered. Grant the admin role to another user first.';

/** Enabled users who hold the global admin role anywhere (directly, by group, or through an implying role). */
export async function adminHolders(db: IdentityDb): Promise<Set<string>> {
  const roles = await db.selectFrom('identity_roles').select(['id', 'name', 'domain_id']).execute();
  const granting = new Set(
    roles
      .filter((r) => r.domain_id === GLOBAL_ROLE_DOMAIN && r.name.toLowerCase() === 'admin')
      .map((r) => r.id),
  );
  if (granting.size === 0) return new Set();
  const implied = await db.selectFrom('identity_implied_roles').selectAll().execute();
  for (let changed = true; changed; ) {
    changed = false;
    for (const r of implied) {
      if (granting.has(r.implied_role_id) && !granting.has(r.prior_role_id)) {
        granting.add(r.prior_role_id);
        changed = true;
      }
    }
  }
  const rows = await db
    .selectFrom('identity_assignments')
    .select(['type', 'actor_id'])
    .where('role_id', 'in', [...granting])
    .execute();
  const users = new Set(rows.filter((r) => r.type.startsWith('User')).map((r) => r.actor_id));
  const groups = [...new Set(rows.filter((r) => r.type.startsWith('Group')).map((r) => r.actor_id))];
  if (groups.length > 0) {
    const members = await db
      .selectFrom('identity_group_members')
      .select('user_id')
      .where('group_id', 'in', groups)
      .execute();
    for (const m of members) users.add(m.user_id);
  }
  if (users.size === 0) return users;
  const enabled = await db
    .selectFrom('identity_users')
    .select('id')
    .where('id', 'in', [...users])
    .where('enabled', '=', 1)
    .execute();
  return new Set(enabled.map((u) => u.id));
}

/** Runs a removal inside the caller's transaction and refuses it (403) if it removes the last admin. */
export async function guardLastAdmin<T>(trx: IdentityTrx, change: () => Promise<T>): Promise<T> {
  const before = (await adminHolders(trx)).size;
  const result = await change();
  if (before > 0 && (await adminHolders(trx)).size === 0) throw IdentityErrors.forbidden(LAST_ADMIN_MESSAGE);
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Grants
// ---------------------------------------------------------------------------------------------------------

type ActorKind = 'user' | 'group';
type TargetKind = 'project' | 'domain' | 'system';

interface GrantKind {
  actor: ActorKind;
  target: TargetKind;
  inherited: boolean;
}

function assignmentType(k: GrantKind): AssignmentType {
  const a = k.actor === 'user' ? 'User' : 'Group';
  const t = k.target === 'project' ? 'Project' : k.target === 'domain' ? 'Domain' : 'System';
  return `${a}${t}` as AssignmentType;
}

const assignmentNotFound = (roleId: string, actorId: string, targetId: string) =>
  new ApiError(
    404,
    'RoleAssignmentNotFound',
    `Could not find role assignment with role: ${roleId}, user or group: ${actorId}, project, domain, or system: ${targetId}.`,
  );

interface GrantParams {
  actorId: string;
  targetId: string;
  roleId?: string;
}

function grantParams(ctx: RouteContext, k: GrantKind): GrantParams {
  const p = ctx.params;
  return {
    actorId: (k.actor === 'user' ? p['user_id'] : p['group_id'])!,
    targetId:
      k.target === 'system' ? SYSTEM_TARGET : (k.target === 'project' ? p['project_id'] : p['domain_id'])!,
    roleId: p['role_id'],
  };
}

export function assignmentRoutes(ix: IdentityContext, reader: IdentityReader): Route[] {
  const db = ix.db;

  const findActor = async (
    k: GrantKind,
    id: string,
    on: IdentityDb = db,
  ): Promise<UserRow | GroupRow | undefined> =>
    k.actor === 'user' ? reader.findUser(id, on) : findGroup(on, id);
  const getActor = async (k: GrantKind, id: string, on: IdentityDb = db): Promise<UserRow | GroupRow> => {
    const a = await findActor(k, id, on);
    if (!a) throw IdentityErrors.notFound(k.actor, id);
    return a;
  };
  const getTarget = async (
    k: GrantKind,
    id: string,
    on: IdentityDb = db,
  ): Promise<ProjectRow | DomainRow | undefined> => {
    if (k.target === 'project') return reader.getProject(id, on);
    if (k.target === 'domain') return reader.getDomain(id, on);
    return undefined;
  };

  /**
   * The enforcement target, in the order Keystone builds it. The direct project, domain and system routes
   * look the role, the actor (except on revoke) and the target up first and answer 404 before policy; the
   * OS-INHERIT routes leave unknown entities out of the target and check existence after policy.
   */
  const grantTarget =
    (k: GrantKind, op: 'check' | 'create' | 'revoke' | 'list') =>
    async (ctx: RouteContext): Promise<Record<string, unknown>> => {
      const { actorId, targetId, roleId } = grantParams(ctx, k);
      const t: Record<string, unknown> = {};
      const strict = !k.inherited;
      const addTarget = async () => {
        if (k.target === 'system') return;
        if (strict) {
          const row = await getTarget(k, targetId);
          t[k.target] =
            k.target === 'project' ? projectTarget(row as ProjectRow) : domainTarget(row as DomainRow);
        } else if (k.target === 'project') {
          const row = await reader.findProject(targetId);
          t['project'] = row ? projectTarget(row) : {};
        } else {
          const row = await reader.findDomain(targetId);
          t['domain'] = row ? domainTarget(row) : {};
        }
      };
      const addRole = async () => {
        if (roleId === undefined) return;
        if (strict) t['role'] = roleTarget(await getRole(db, roleId));
        else {
          const r = await findRole(db, roleId);
          t['role'] = r ? roleTarget(r) : {};
        }
      };
      const addActor = async () => {
        const a = await findActor(k, actorId);
        if (a) t[k.actor] = k.actor === 'user' ? userTarget(a as UserRow) : groupTarget(a as GroupRow);
        else if (strict && op !== 'revoke') throw IdentityErrors.notFound(k.actor, actorId);
        else if (!strict && op !== 'revoke') t[k.actor] = {};
      };
      if (k.target === 'domain' && strict) {
        await addTarget();
        await addRole();
        await addActor();
      } else {
        await addRole();
        await addActor();
        await addTarget();
      }
      return t;
    };

  const rowOf = (k: GrantKind, g: GrantParams, roleId: string): AssignmentRow => ({
    type: assignmentType(k),
    actor_id: g.actorId,
    target_id: g.targetId,
    role_id: roleId,
    inherited: k.inherited ? 1 : 0,
  });

  const findRow = (r: AssignmentRow, on: IdentityDb = db) =>
    on
      .selectFrom('identity_assignments')
      .selectAll()
      .where('type', '=', r.type)
      .where('actor_id', '=', r.actor_id)
      .where('target_id', '=', r.target_id)
      .where('role_id', '=', r.role_id)
      .where('inherited', '=', r.inherited)
      .executeTakeFirst();

  const create = (k: GrantKind) => async (ctx: RouteContext) => {
    const g = grantParams(ctx, k);
    // Every check runs in the write's transaction, so a concurrent delete cannot leave a dangling assignment.
    await ix.write(async (trx, record) => {
      const role = await getRole(trx, g.roleId!);
      const target = await getTarget(k, g.targetId, trx);
      await getActor(k, g.actorId, trx);
      if (role.domain_id !== GLOBAL_ROLE_DOMAIN) {
        if (k.target === 'system') {
          throw IdentityErrors.validation(
            `Role ${role.id} is a domain-specific role. Unable to use a domain-specific role in a system assignment.`,
          );
        }
        if (k.target === 'project' && (target as ProjectRow).domain_id !== role.domain_id) {
          throw new ApiError(
            403,
            'DomainSpecificRoleMismatch',
            `Project ${g.targetId} must be in the same domain as the role ${role.id} being assigned.`,
          );
        }
        // Keystone checks only projects; a domain-specific role granted on another domain would never reach a
        // token there either, so Monostack refuses it the same way.
        if (k.target === 'domain' && g.targetId !== role.domain_id) {
          throw new ApiError(
            403,
            'DomainSpecificRoleMismatch',
            `Domain ${g.targetId} must be the domain of the role ${role.id} being assigned.`,
          );
        }
      }
      const row = rowOf(k, g, role.id);
      // The v3 grant APIs are silent when the assignment already exists.
      const res = await trx
        .insertInto('identity_assignments')
        .values(row)
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0n) > 0) {
        record({ kind: 'role_assignment', id: assignmentKey(row), action: 'create', data: { ...row } });
      }
    });
    return { status: 204 };
  };

  const check = (k: GrantKind) => async (ctx: RouteContext) => {
    const g = grantParams(ctx, k);
    if (k.target !== 'system') {
      await getRole(db, g.roleId!);
      await getTarget(k, g.targetId);
    }
    if (!(await findRow(rowOf(k, g, g.roleId!)))) throw assignmentNotFound(g.roleId!, g.actorId, g.targetId);
    return { status: 204 };
  };

  const revoke = (k: GrantKind) => async (ctx: RouteContext) => {
    const g = grantParams(ctx, k);
    if (k.target !== 'system') await getRole(db, g.roleId!);
    const row = rowOf(k, g, g.roleId!);
    if (!(await findRow(row))) throw assignmentNotFound(g.roleId!, g.actorId, g.targetId);
    await getTarget(k, g.targetId);
    await ix.write(async (trx, record) => {
      await guardLastAdmin(trx, async () => {
        const res = await trx
          .deleteFrom('identity_assignments')
          .where('type', '=', row.type)
          .where('actor_id', '=', row.actor_id)
          .where('target_id', '=', row.target_id)
          .where('role_id', '=', row.role_id)
          .where('inherited', '=', row.inherited)
          .executeTakeFirst();
        if (Number(res.numDeletedRows) === 0)
          throw assignmentNotFound(row.role_id, row.actor_id, row.target_id);
      });
      record({ kind: 'role_assignment', id: assignmentKey(row), action: 'delete', data: { ...row } });
    });
    return { status: 204 };
  };

  const list = (k: GrantKind, path: (ctx: RouteContext) => string) => async (ctx: RouteContext) => {
    const g = grantParams(ctx, k);
    await getTarget(k, g.targetId);
    const rows = await db
      .selectFrom('identity_assignments')
      .select('role_id')
      .where('type', '=', assignmentType(k))
      .where('actor_id', '=', g.actorId)
      .where('target_id', '=', g.targetId)
      .where('inherited', '=', k.inherited ? 1 : 0)
      .execute();
    const ids = [...new Set(rows.map((r) => r.role_id))];
    const roles =
      ids.length === 0
        ? []
        : await db.selectFrom('identity_roles').selectAll().where('id', 'in', ids).orderBy('name').execute();
    const base = ctx.baseUrl();
    return {
      body: collection(
        ix,
        ctx,
        'roles',
        roles.map((r) => roleView(r, base)),
        path(ctx),
      ),
    };
  };

  const routes: Route[] = [];
  const p = (ctx: RouteContext, k: string) => ctx.params[k]!;

  // Direct and inherited grants on projects and domains.
  for (const target of ['project', 'domain'] as const) {
    for (const actor of ['user', 'group'] as const) {
      for (const inherited of [false, true]) {
        const k: GrantKind = { actor, target, inherited };
        const coll = `${target}s/:${target}_id/${actor}s/:${actor}_id/roles`;
        const base = inherited ? `/v3/OS-INHERIT/${coll}` : `/v3/${coll}`;
        const one = inherited ? `${base}/:role_id/inherited_to_projects` : `${base}/:role_id`;
        routes.push(
          {
            method: 'PUT',
            path: one,
            policy: 'identity:create_grant',
            target: grantTarget(k, 'create'),
            handler: create(k),
          },
          {
            method: ['GET', 'HEAD'],
            path: one,
            policy: 'identity:check_grant',
            target: grantTarget(k, 'check'),
            handler: check(k),
          },
          {
            method: 'DELETE',
            path: one,
            policy: 'identity:revoke_grant',
            target: grantTarget(k, 'revoke'),
            handler: revoke(k),
          },
        );
        // Keystone lists inherited grants for domains only.
        if (!inherited || target === 'domain') {
          const listPath = inherited ? `${base}/inherited_to_projects` : base;
          const selfPath = (ctx: RouteContext) => {
            const rel = `${target}s/${p(ctx, `${target}_id`)}/${actor}s/${p(ctx, `${actor}_id`)}/roles`;
            return inherited ? `OS-INHERIT/${rel}/inherited_to_projects` : rel;
          };
          routes.push({
            method: ['GET', 'HEAD'],
            path: listPath,
            policy: 'identity:list_grants',
            target: grantTarget(k, 'list'),
            handler: list(k, selfPath),
          });
        }
      }
    }
  }

  // System grants.
  for (const actor of ['user', 'group'] as const) {
    const k: GrantKind = { actor, target: 'system', inherited: false };
    const base = `/v3/system/${actor}s/:${actor}_id/roles`;
    routes.push(
      {
        method: ['GET', 'HEAD'],
        path: base,
        policy: `identity:list_system_grants_for_${actor}`,
        target: grantTarget(k, 'list'),
        handler: list(k, (ctx) => `system/${actor}s/${p(ctx, `${actor}_id`)}/roles`),
      },
      {
        method: ['GET', 'HEAD'],
        path: `${base}/:role_id`,
        policy: `identity:check_system_grant_for_${actor}`,
        target: grantTarget(k, 'check'),
        handler: check(k),
      },
      {
        method: 'PUT',
        path: `${base}/:role_id`,
        policy: `identity:create_system_grant_for_${actor}`,
        target: grantTarget(k, 'create'),
        handler: create(k),
      },
      {
        method: 'DELETE',
        path: `${base}/:role_id`,
        policy: `identity:revoke_system_grant_for_${actor}`,
        target: grantTarget(k, 'revoke'),
        handler: revoke(k),
      },
    );
  }

  routes.push({
    method: ['GET', 'HEAD'],
    path: '/v3/role_assignments',
    handler: (ctx) => listRoleAssignments(ix, reader, ctx),
  });
  return routes;
}
