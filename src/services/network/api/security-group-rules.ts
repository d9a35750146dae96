// /v2.0/security-group-rules: create (single or bulk, one group and project per request; Neutron's checks and
// duplicate detection), list (making the caller's default group on first use), show, delete.
import { isUniqueViolation } from '../../../platform/db/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkDb, NetworkTrx } from '../context.ts';
import { countQuotaIn, enforceQuota } from '../domain/quota-check.ts';
import { isForeignKeyViolation, sgErrors } from '../domain/sg-errors.ts';
import { checkRule, type RuleValues, ruleKey } from '../domain/sg-rule-checks.ts';
import { insertRule, touchGroup } from '../domain/sg-store.ts';
import type { SecurityGroupRulesTable } from '../store/tables-security.ts';
import { callerOf, targetOf } from './common.ts';
import { listBody, parseListQuery } from './listing.ts';
import { type Caller, parseCreate, showBody, view } from './resource.ts';
import { renderRule, ruleSpec } from './security-group-rules-spec.ts';
import { ensureDefaultForList } from './security-groups.ts';
import { checkRevision } from './standard-attrs.ts';

countQuotaIn('security_group_rule', 'network_security_group_rules');

/** Whether the caller sees a rule: admins all; others the rules they own and the rules of their groups. */
async function visibleRule(
  db: NetworkDb | NetworkTrx,
  caller: Caller,
  id: string,
): Promise<SecurityGroupRulesTable> {
  const row = await db
    .selectFrom('network_security_group_rules')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw sgErrors.ruleNotFound(id);
  if (caller.isAdmin || row.project_id === caller.projectId) return row;
  const g = await db
    .selectFrom('network_security_groups')
    .select('project_id')
    .where('id', '=', row.security_group_id)
    .executeTakeFirst();
  if (g?.project_id !== caller.projectId) throw sgErrors.ruleNotFound(id);
  return row;
}

/** A group a rule of `projectId` may name (as its group or its remote group): its project's, or any for admins. */
async function usableGroup(trx: NetworkTrx, caller: Caller, projectId: string, id: string): Promise<void> {
  const g = await trx
    .selectFrom('network_security_groups')
    .select('project_id')
    .where('id', '=', id)
    .executeTakeFirst();
  if (!g || !(caller.isAdmin || g.project_id === projectId)) throw sgErrors.notFound(id);
}

async function existingRuleId(
  db: NetworkDb | NetworkTrx,
  groupId: string,
  key: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('network_security_group_rules')
    .select('id')
    .where('security_group_id', '=', groupId)
    .where('rule_key', '=', key)
    .executeTakeFirst();
  return row?.id;
}

async function createRules(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const { items, bulk } = parseCreate(ruleSpec, caller, ctx.body);
  if (bulk) {
    if (new Set(items.map((i) => i.values['security_group_id'])).size > 1) throw sgErrors.notSingleGroup();
    if (new Set(items.map((i) => i.values['project_id'])).size > 1) throw sgErrors.notSingleTenant();
  }
  for (const item of items) ctx.authorize('create_security_group_rule', targetOf(item.values));
  const rules = items.map(({ values: v }) => {
    const r: RuleValues & { description: string } = {
      direction: v['direction'],
      ethertype: v['ethertype'],
      protocol: v['protocol'],
      port_range_min: v['port_range_min'],
      port_range_max: v['port_range_max'],
      remote_ip_prefix: v['remote_ip_prefix'],
      remote_group_id: v['remote_group_id'],
      description: v['description'],
    };
    checkRule(r);
    return r;
  });
  const groupId: string = items[0]!.values['security_group_id'];
  const projectId: string = items[0]!.values['project_id'];
  const keys = rules.map((r) => ruleKey(r));
  if (new Set(keys).size < keys.length) throw sgErrors.duplicateInPost();
  let rows: SecurityGroupRulesTable[];
  try {
    rows = await cx.write(async (trx, record) => {
      await enforceQuota(cx, trx, projectId, 'security_group_rule', rules.length);
      for (const r of rules)
        if (r.remote_group_id) await usableGroup(trx, caller, projectId, r.remote_group_id);
      await usableGroup(trx, caller, projectId, groupId);
      for (const key of keys) {
        const dup = await existingRuleId(trx, groupId, key);
        if (dup) throw sgErrors.ruleExists(dup);
      }
      const now = cx.nowIso();
      // Bumping the group's revision first also locks its row (PostgreSQL) against a concurrent delete.
      if (!(await touchGroup(trx, groupId, now))) throw sgErrors.notFound(groupId);
      const out: SecurityGroupRulesTable[] = [];
      for (const r of rules) {
        const row = await insertRule(cx, trx, projectId, groupId, r, now);
        record({ kind: 'security_group_rule', id: row.id, action: 'create', projectId });
        out.push(row);
      }
      record({ kind: 'security_group', id: groupId, action: 'update', projectId });
      return out;
    });
  } catch (e) {
    if (isUniqueViolation(e)) {
      // The same rule committed meanwhile by a racing request.
      for (const key of keys) {
        const dup = await existingRuleId(cx.db, groupId, key);
        if (dup) throw sgErrors.ruleExists(dup);
      }
    }
    if (isForeignKeyViolation(e)) throw sgErrors.notFound(groupId);
    throw e;
  }
  const views = rows.map((r) => view(ctx, ruleSpec, renderRule(r)));
  return bulk
    ? { status: 201, body: { security_group_rules: views } }
    : { status: 201, body: { security_group_rule: views[0] } };
}

async function listRules(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const q = parseListQuery(ctx, ruleSpec);
  await ensureDefaultForList(cx, caller, q.filters.get('project_id'));
  let sel = cx.db.selectFrom('network_security_group_rules').selectAll().orderBy('created_at').orderBy('id');
  if (!caller.isAdmin) {
    const project = caller.projectId ?? '';
    sel = sel.where((eb) =>
      eb.or([
        eb('project_id', '=', project),
        eb(
          'security_group_id',
          'in',
          eb.selectFrom('network_security_groups').select('id').where('project_id', '=', project),
        ),
      ]),
    );
  }
  const groupFilter = q.filters.get('security_group_id');
  if (groupFilter && groupFilter.length > 0)
    sel = sel.where(
      'security_group_id',
      'in',
      groupFilter.map((g) => String(g)),
    );
  return listBody(ctx, ruleSpec, (await sel.execute()).map(renderRule), q);
}

async function deleteRule(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const id = ctx.params['id']!;
  const row = await visibleRule(cx.db, caller, id);
  ctx.authorize('delete_security_group_rule', targetOf(renderRule(row)));
  checkRevision(ctx, row.revision_number);
  await cx.write(async (trx, record) => {
    const res = await trx.deleteFrom('network_security_group_rules').where('id', '=', id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw sgErrors.ruleNotFound(id);
    await touchGroup(trx, row.security_group_id, cx.nowIso());
    record({ kind: 'security_group_rule', id, action: 'delete', projectId: row.project_id });
    record({
      kind: 'security_group',
      id: row.security_group_id,
      action: 'update',
      projectId: row.project_id,
    });
  });
  return { status: 204 };
}

export function securityGroupRuleRoutes(cx: NetworkContext): Route[] {
  const base = '/network/v2.0/security-group-rules';
  return [
    { method: 'POST', path: base, handler: (ctx) => createRules(cx, ctx) },
    { method: 'GET', path: base, handler: (ctx) => listRules(cx, ctx) },
    {
      method: 'GET',
      path: `${base}/:id`,
      async handler(ctx) {
        const row = await visibleRule(cx.db, callerOf(ctx), ctx.params['id']!);
        return showBody(ctx, ruleSpec, renderRule(row));
      },
    },
    { method: 'DELETE', path: `${base}/:id`, handler: (ctx) => deleteRule(cx, ctx) },
  ];
}
