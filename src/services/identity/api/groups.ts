// /v3/groups: CRUD and membership (list, check, add, remove), as Keystone's api/groups.py.
import { isUniqueViolation, uniqueOr } from '../../../platform/db/errors.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { type IdentityContext, parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { AssignmentType, GroupRow } from '../store/tables.ts';
import {
  assignmentKey,
  findGroup,
  getGroup,
  groupTarget,
  guardLastAdmin,
  revokeUserTokens,
  userTarget,
} from './assignments.ts';
import { filterBy as applyFilters, collection, memberOf, normalizeKeys, validateResource } from './common.ts';
import { groupCreateSchema, groupUpdateSchema } from './groups.schema.ts';
import { groupView, userView } from './views.ts';

/** Group attributes with columns of their own; anything else a client sends is kept in `extra`. */
const COLUMNS = new Set(['id', 'name', 'domain_id', 'description', 'links']);
const GROUP_ASSIGNMENT_TYPES: AssignmentType[] = ['GroupProject', 'GroupDomain', 'GroupSystem'];

const notMember = (userId: string, groupId: string) =>
  new ApiError(404, 'NotFound', `User '${userId}' not found in group '${groupId}'`);

const conflict = (name: string, domainId: string | undefined) =>
  IdentityErrors.conflict(
    'group',
    domainId === undefined
      ? `Duplicate entry found with name ${name}`
      : `Duplicate entry found with name ${name} at domain ID ${domainId}`,
  );

/** Python's str.strip(). */
const strip = (s: string) => s.replace(/^\s+|\s+$/g, '');

export function groupRoutes(ix: IdentityContext, reader: IdentityReader): Route[] {
  const db = ix.db;

  /** {group} when the group exists; Keystone defers the 404 until after enforcement. */
  const groupOnly = async (ctx: RouteContext): Promise<Record<string, unknown>> => {
    const g = await findGroup(db, ctx.params['group_id']!);
    return g ? { group: groupTarget(g) } : {};
  };
  const groupAndUser = async (ctx: RouteContext): Promise<Record<string, unknown>> => {
    const t = await groupOnly(ctx);
    const u = await reader.findUser(ctx.params['user_id']!);
    if (u) t['user'] = userTarget(u);
    return t;
  };

  return [
    {
      method: ['GET', 'HEAD'],
      path: '/v3/groups',
      async handler(ctx) {
        const a = ctx.requireAuth();
        ctx.authorize('identity:list_groups', a.domainId ? { group: { domain_id: a.domainId } } : {});
        let rows = await db.selectFrom('identity_groups').selectAll().orderBy('name').orderBy('id').execute();
        rows = applyFilters(rows, ctx.query, ['domain_id', 'name'], (g) => ({
          name: g.name,
          domain_id: g.domain_id,
        }));
        if (a.domainId) rows = rows.filter((g) => g.domain_id === a.domainId);
        const base = ctx.baseUrl();
        return {
          body: collection(
            ix,
            ctx,
            'groups',
            rows.map((g) => groupView(g, base)),
            'groups',
          ),
        };
      },
    },
    {
      method: 'POST',
      path: '/v3/groups',
      async handler(ctx) {
        const a = ctx.requireAuth();
        const raw = memberOf(ctx.body, 'group');
        ctx.authorize('identity:create_group', { group: raw });
        validateResource(groupCreateSchema, raw);
        const group = normalizeKeys(raw as Record<string, unknown>);
        // Keystone's _normalize_domain_id: the token's domain, else the default domain.
        const domainId = (group['domain_id'] as string | undefined) || a.domainId || 'default';
        await reader.getDomain(domainId);
        const id = ix.ids.hexId();
        const name = strip(group['name'] as string);
        const extra: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(group)) if (!COLUMNS.has(k)) extra[k] = v;
        const row: GroupRow = {
          id,
          name,
          domain_id: domainId,
          description: (group['description'] as string | null | undefined) ?? '',
          extra: JSON.stringify(extra),
        };
        await uniqueOr(
          ix.write(async (trx, record) => {
            await trx.insertInto('identity_groups').values(row).execute();
            record({ kind: 'group', id, action: 'create' });
          }),
          () => conflict(name, domainId),
        );
        return { status: 201, body: { group: groupView(row, ctx.baseUrl()) } };
      },
    },
    {
      method: ['GET', 'HEAD'],
      path: '/v3/groups/:group_id',
      policy: 'identity:get_group',
      target: groupOnly,
      async handler(ctx) {
        return { body: { group: groupView(await getGroup(db, ctx.params['group_id']!), ctx.baseUrl()) } };
      },
    },
    {
      method: 'PATCH',
      path: '/v3/groups/:group_id',
      policy: 'identity:update_group',
      target: groupOnly,
      async handler(ctx) {
        const id = ctx.params['group_id']!;
        const raw = memberOf(ctx.body, 'group');
        validateResource(groupUpdateSchema, raw);
        const patch = normalizeKeys(raw as Record<string, unknown>);
        if (patch['id'] !== undefined && patch['id'] !== null && patch['id'] !== id) {
          throw IdentityErrors.validation('Cannot change ID');
        }
        const cur = await getGroup(db, id);
        if ('domain_id' in patch && patch['domain_id'] !== cur.domain_id)
          throw IdentityErrors.validation('Cannot change Domain ID');
        const extra = parseJson(cur.extra);
        for (const [k, v] of Object.entries(patch)) if (!COLUMNS.has(k)) extra[k] = v;
        const next: GroupRow = {
          ...cur,
          name: typeof patch['name'] === 'string' ? strip(patch['name']) : cur.name,
          description:
            'description' in patch ? ((patch['description'] as string | null) ?? '') : cur.description,
          extra: JSON.stringify(extra),
        };
        try {
          await ix.write(async (trx, record) => {
            const res = await trx
              .updateTable('identity_groups')
              .set({ name: next.name, description: next.description, extra: next.extra })
              .where('id', '=', id)
              .executeTakeFirst();
            if (Number(res.numUpdatedRows) === 0) throw IdentityErrors.notFound('group', id);
            record({ kind: 'group', id, action: 'update' });
          });
        } catch (err) {
          if (isUniqueViolation(err))
            throw conflict(next.name, 'domain_id' in patch ? cur.domain_id : undefined);
          throw err;
        }
        return { body: { group: groupView(next, ctx.baseUrl()) } };
      },
    },
    {
      method: 'DELETE',
      path: '/v3/groups/:group_id',
      policy: 'identity:delete_group',
      // Keystone looks the group up to build the target, so an unknown group is a 404 before policy.
      target: async (ctx) => ({ group: groupTarget(await getGroup(db, ctx.params['group_id']!)) }),
      async handler(ctx) {
        const id = ctx.params['group_id']!;
        await ix.write(async (trx, record) => {
          await guardLastAdmin(trx, async () => {
            const assignments = await trx
              .selectFrom('identity_assignments')
              .selectAll()
              .where('actor_id', '=', id)
              .where('type', 'in', GROUP_ASSIGNMENT_TYPES)
              .execute();
            const members = await trx
              .selectFrom('identity_group_members')
              .select('user_id')
              .where('group_id', '=', id)
              .execute();
            const res = await trx.deleteFrom('identity_groups').where('id', '=', id).executeTakeFirst();
            if (Number(res.numDeletedRows) === 0) throw IdentityErrors.notFound('group', id);
            await trx.deleteFrom('identity_group_members').where('group_id', '=', id).execute();
            await trx
              .deleteFrom('identity_assignments')
              .where('actor_id', '=', id)
              .where('type', 'in', GROUP_ASSIGNMENT_TYPES)
              .execute();
            // Keystone revokes the members' tokens when the group carried any role.
            if (assignments.length > 0)
              await revokeUserTokens(
                ix,
                trx,
                members.map((m) => m.user_id),
              );
            for (const as of assignments)
              record({ kind: 'role_assignment', id: assignmentKey(as), action: 'delete' });
            for (const m of members)
              record({ kind: 'group_membership', id: `${id}:${m.user_id}`, action: 'delete' });
          });
          record({ kind: 'group', id, action: 'delete' });
        });
        return { status: 204 };
      },
    },
    {
      method: ['GET', 'HEAD'],
      path: '/v3/groups/:group_id/users',
      policy: 'identity:list_users_in_group',
      target: groupOnly,
      async handler(ctx) {
        const a = ctx.requireAuth();
        const id = ctx.params['group_id']!;
        await getGroup(db, id);
        let users = await db
          .selectFrom('identity_users')
          .innerJoin('identity_group_members', 'identity_group_members.user_id', 'identity_users.id')
          .selectAll('identity_users')
          .where('identity_group_members.group_id', '=', id)
          .orderBy('identity_users.name')
          .orderBy('identity_users.id')
          .execute();
        users = applyFilters(users, ctx.query, ['domain_id', 'enabled', 'name'], (u) => ({
          domain_id: u.domain_id,
          enabled: u.enabled === 1,
          name: u.name,
        }));
        if (a.domainId) users = users.filter((u) => u.domain_id === a.domainId);
        const base = ctx.baseUrl();
        return {
          body: collection(
            ix,
            ctx,
            'users',
            users.map((u) => userView(u, base)),
            `groups/${id}/users`,
          ),
        };
      },
    },
    {
      method: ['GET', 'HEAD'],
      path: '/v3/groups/:group_id/users/:user_id',
      policy: 'identity:check_user_in_group',
      target: groupAndUser,
      async handler(ctx) {
        const groupId = ctx.params['group_id']!;
        const userId = ctx.params['user_id']!;
        await getGroup(db, groupId);
        await reader.getUser(userId);
        const m = await db
          .selectFrom('identity_group_members')
          .select('user_id')
          .where('group_id', '=', groupId)
          .where('user_id', '=', userId)
          .executeTakeFirst();
        if (!m) throw notMember(userId, groupId);
        return { status: 204 };
      },
    },
    {
      method: 'PUT',
      path: '/v3/groups/:group_id/users/:user_id',
      policy: 'identity:add_user_to_group',
      target: groupAndUser,
      async handler(ctx) {
        const groupId = ctx.params['group_id']!;
        const userId = ctx.params['user_id']!;
        await ix.write(async (trx, record) => {
          await getGroup(trx, groupId);
          await reader.getUser(userId, trx);
          const res = await trx
            .insertInto('identity_group_members')
            .values({ group_id: groupId, user_id: userId })
            .onConflict((oc) => oc.doNothing())
            .executeTakeFirst();
          if (Number(res.numInsertedOrUpdatedRows ?? 0n) > 0) {
            record({ kind: 'group_membership', id: `${groupId}:${userId}`, action: 'create' });
          }
        });
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/v3/groups/:group_id/users/:user_id',
      policy: 'identity:remove_user_from_group',
      target: groupAndUser,
      async handler(ctx) {
        const groupId = ctx.params['group_id']!;
        const userId = ctx.params['user_id']!;
        const m = await db
          .selectFrom('identity_group_members')
          .select('user_id')
          .where('group_id', '=', groupId)
          .where('user_id', '=', userId)
          .executeTakeFirst();
        if (!m) {
          // Keystone names the missing entity when it can.
          await getGroup(db, groupId);
          await reader.getUser(userId);
          throw notMember(userId, groupId);
        }
        await ix.write(async (trx, record) => {
          await guardLastAdmin(trx, async () => {
            const res = await trx
              .deleteFrom('identity_group_members')
              .where('group_id', '=', groupId)
              .where('user_id', '=', userId)
              .executeTakeFirst();
            if (Number(res.numDeletedRows) === 0) throw notMember(userId, groupId);
          });
          // Keystone revokes the user's tokens on removal from a group.
          await revokeUserTokens(ix, trx, [userId]);
          record({ kind: 'group_membership', id: `${groupId}:${userId}`, action: 'delete' });
        });
        return { status: 204 };
      },
    },
  ];
}
