// /v2.0/security-groups: create (with the project's default group made first), list (making the caller's default
// group on first use), show, update, delete; tags through the tag registry.
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkDb, NetworkTrx } from '../context.ts';
import {
  DEFAULT_SG_NAME,
  ensureDefaultGroup,
  ensureDefaultGroupIn,
} from '../domain/default-security-group.ts';
import { countQuotaIn, enforceQuota } from '../domain/quota-check.ts';
import { isForeignKeyViolation, sgErrors } from '../domain/sg-errors.ts';
import { groupInUse, insertGroup } from '../domain/sg-store.ts';
import type { SecurityGroupsTable } from '../store/tables-security.ts';
import { callerOf, targetOf } from './common.ts';
import { listBody, parseListQuery } from './listing.ts';
import { bodyJson } from './raw-json.ts';
import { type Caller, parseCreate, parseUpdate, showBody, view } from './resource.ts';
import { renderedRulesByGroup } from './security-group-rules-spec.ts';
import { groupSpec, renderGroup, renderGroupWith } from './security-groups-spec.ts';
import { checkRevision, dropTags, loadTags } from './standard-attrs.ts';
import type { TaggableResource } from './tags.ts';

countQuotaIn('security_group', 'network_security_groups');

const TAG_TYPE = 'security_groups';

/** A group the caller may see (its project's, or any for admins), or SecurityGroupNotFound. */
export async function findVisibleGroup(
  db: NetworkDb | NetworkTrx,
  caller: Caller,
  id: string,
): Promise<SecurityGroupsTable> {
  const row = await db
    .selectFrom('network_security_groups')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row || !(caller.isAdmin || row.project_id === caller.projectId)) throw sgErrors.notFound(id);
  return row;
}

export async function renderGroups(
  cx: NetworkContext,
  rows: SecurityGroupsTable[],
): Promise<Record<string, unknown>[]> {
  const ids = rows.map((r) => r.id);
  const [rules, tags] = await Promise.all([renderedRulesByGroup(cx, ids), loadTags(cx.db, TAG_TYPE, ids)]);
  return rows.map((r) => renderGroupWith(r, rules.get(r.id) ?? [], tags.get(r.id) ?? []));
}

/**
 * Neutron makes the default group of the project a list is about (the filter's, else the caller's) when the caller
 * may: its own project, or any project for admins.
 */
export async function ensureDefaultForList(
  cx: NetworkContext,
  caller: Caller,
  projectFilter: unknown[] | undefined,
) {
  const project = projectFilter?.[0] !== undefined ? String(projectFilter[0]) : caller.projectId;
  if (!project || (project !== caller.projectId && !caller.isAdmin)) return;
  await ensureDefaultGroup(cx, project);
}

async function createGroups(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const { items, bulk } = parseCreate(groupSpec, caller, ctx.body);
  for (const item of items) ctx.authorize('create_security_group', targetOf(item.values));
  const rows = await cx.write(async (trx, record) => {
    const out: SecurityGroupsTable[] = [];
    for (const { values: v } of items) {
      await enforceQuota(cx, trx, v['project_id'], 'security_group');
      await ensureDefaultGroupIn(cx, trx, v['project_id'], record);
      await enforceQuota(cx, trx, v['project_id'], 'security_group_rule', 2);
      out.push(
        await insertGroup(
          cx,
          trx,
          {
            projectId: v['project_id'],
            name: v['name'],
            description: v['description'],
            stateful: v['stateful'],
            isDefault: false,
          },
          record,
        ),
      );
    }
    return out;
  });
  const views = (await renderGroups(cx, rows)).map((g) => view(ctx, groupSpec, g));
  return bulk
    ? { status: 201, body: { security_groups: views } }
    : { status: 201, body: { security_group: views[0] } };
}

async function updateGroup(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const item = parseUpdate(groupSpec, caller, ctx.body);
  const id = ctx.params['id']!;
  const before = await findVisibleGroup(cx.db, caller, id);
  ctx.authorize('update_security_group', targetOf({ ...renderGroup(before, [], []), ...item.values }));
  checkRevision(ctx, before.revision_number);
  const v = item.values;
  const row = await cx.write(async (trx, record) => {
    const cur = await findVisibleGroup(trx, caller, id);
    const set: Partial<SecurityGroupsTable> = {};
    if (v['stateful'] !== undefined && (v['stateful'] ? 1 : 0) !== cur.stateful) {
      if (await groupInUse(trx, id)) throw sgErrors.inUse(id);
      set.stateful = v['stateful'] ? 1 : 0;
    }
    if (cur.name === DEFAULT_SG_NAME && v['name'] !== undefined) throw sgErrors.cannotUpdateDefault();
    if (v['name'] !== undefined) set.name = v['name'];
    if (v['description'] !== undefined) set.description = v['description'];
    const next = { ...cur, ...set, updated_at: cx.nowIso(), revision_number: cur.revision_number + 1 };
    await trx
      .updateTable('network_security_groups')
      .set({ ...set, updated_at: next.updated_at, revision_number: next.revision_number })
      .where('id', '=', id)
      .execute();
    record({ kind: 'security_group', id, action: 'update', projectId: cur.project_id });
    return next;
  });
  return { body: { security_group: view(ctx, groupSpec, (await renderGroups(cx, [row]))[0]!) } };
}

async function deleteGroup(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const id = ctx.params['id']!;
  const row = await findVisibleGroup(cx.db, caller, id);
  ctx.authorize('delete_security_group', targetOf(renderGroup(row, [], [])));
  checkRevision(ctx, row.revision_number);
  try {
    await cx.write(async (trx, record) => {
      if (await groupInUse(trx, id)) throw sgErrors.inUse(id);
      const cur = await findVisibleGroup(trx, caller, id);
      if (cur.name === DEFAULT_SG_NAME && !caller.isAdmin) throw sgErrors.cannotRemoveDefault();
      const now = cx.nowIso();
      // Rules of other groups naming this one as their remote go with it (Neutron's cascade); their groups change.
      const referring = await trx
        .selectFrom('network_security_group_rules')
        .select(['id', 'security_group_id', 'project_id'])
        .where('remote_group_id', '=', id)
        .where('security_group_id', '!=', id)
        .execute();
      for (const r of referring) {
        await trx.deleteFrom('network_security_group_rules').where('id', '=', r.id).execute();
        record({ kind: 'security_group_rule', id: r.id, action: 'delete', projectId: r.project_id });
      }
      for (const gid of new Set(referring.map((r) => r.security_group_id))) {
        const g = await trx
          .selectFrom('network_security_groups')
          .select(['revision_number', 'project_id'])
          .where('id', '=', gid)
          .executeTakeFirst();
        if (!g) continue;
        await trx
          .updateTable('network_security_groups')
          .set({ revision_number: g.revision_number + 1, updated_at: now })
          .where('id', '=', gid)
          .execute();
        record({ kind: 'security_group', id: gid, action: 'update', projectId: g.project_id });
      }
      await trx.deleteFrom('network_security_group_rules').where('security_group_id', '=', id).execute();
      await trx.deleteFrom('network_default_security_groups').where('security_group_id', '=', id).execute();
      await trx.deleteFrom('network_security_groups').where('id', '=', id).execute();
      await dropTags(trx, TAG_TYPE, id);
      record({ kind: 'security_group', id, action: 'delete', projectId: cur.project_id });
    });
  } catch (e) {
    // A port bound to the group meanwhile: the binding's reference refuses the delete.
    if (isForeignKeyViolation(e)) throw sgErrors.inUse(id);
    throw e;
  }
  return { status: 204 };
}

export function securityGroupRoutes(cx: NetworkContext): Route[] {
  const base = '/network/v2.0/security-groups';
  return [
    { method: 'POST', path: base, handler: (ctx) => createGroups(cx, ctx) },
    {
      method: 'GET',
      path: base,
      async handler(ctx) {
        const caller = callerOf(ctx);
        const q = parseListQuery(ctx, groupSpec);
        await ensureDefaultForList(cx, caller, q.filters.get('project_id'));
        let sel = cx.db.selectFrom('network_security_groups').selectAll().orderBy('created_at').orderBy('id');
        if (!caller.isAdmin) sel = sel.where('project_id', '=', caller.projectId ?? '');
        // The rules' JSON text goes into the response as the database built it.
        const { body } = listBody(ctx, groupSpec, await renderGroups(cx, await sel.execute()), q);
        return { json: bodyJson(body as Record<string, unknown>) };
      },
    },
    {
      method: 'GET',
      path: `${base}/:id`,
      async handler(ctx) {
        const row = await findVisibleGroup(cx.db, callerOf(ctx), ctx.params['id']!);
        return showBody(ctx, groupSpec, (await renderGroups(cx, [row]))[0]!);
      },
    },
    { method: 'PUT', path: `${base}/:id`, handler: (ctx) => updateGroup(cx, ctx) },
    { method: 'DELETE', path: `${base}/:id`, handler: (ctx) => deleteGroup(cx, ctx) },
  ];
}

export const securityGroupTaggable: TaggableResource = {
  collection: TAG_TYPE,
  path: 'security-groups',
  async find(cx, ctx, id) {
    try {
      return { projectId: (await findVisibleGroup(cx.db, callerOf(ctx), id)).project_id };
    } catch {
      return undefined;
    }
  },
  notFound: sgErrors.notFound,
  table: 'network_security_groups',
};
