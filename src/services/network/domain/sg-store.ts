// Row-level operations on security groups and rules shared by the API, the default group and port bindings:
// inserting a group with its initial rules, bumping a group's revision, and loading rules by group.
import type { Change } from '../../../platform/db/writer.ts';
import type { NetworkContext, NetworkDb, NetworkTrx } from '../context.ts';
import type { SecurityGroupRulesTable, SecurityGroupsTable } from '../store/tables-security.ts';
import { type RuleValues, ruleKey } from './sg-rule-checks.ts';

export type Recorder = (c: Change) => void;

export interface NewRule extends RuleValues {
  description?: string;
}

/** Inserts one rule (its identity computed) and returns the row. */
export async function insertRule(
  cx: NetworkContext,
  trx: NetworkTrx,
  projectId: string,
  groupId: string,
  r: NewRule,
  now: string,
): Promise<SecurityGroupRulesTable> {
  const row: SecurityGroupRulesTable = {
    id: cx.ids.uuid(),
    project_id: projectId,
    security_group_id: groupId,
    remote_group_id: r.remote_group_id,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol,
    port_range_min: r.port_range_min,
    port_range_max: r.port_range_max,
    remote_ip_prefix: r.remote_ip_prefix,
    rule_key: ruleKey({ ...r }),
    description: r.description ?? '',
    created_at: now,
    updated_at: now,
    revision_number: 0,
  };
  await trx.insertInto('network_security_group_rules').values(row).execute();
  return row;
}

const EMPTY: Omit<RuleValues, 'direction' | 'ethertype'> = {
  protocol: null,
  port_range_min: null,
  port_range_max: null,
  remote_ip_prefix: null,
  remote_group_id: null,
};

/**
 * Inserts a group with Neutron's initial rules: egress to anywhere for IPv4 and IPv6, and for a project's default
 * group also ingress from members of the same group.
 */
export async function insertGroup(
  cx: NetworkContext,
  trx: NetworkTrx,
  g: {
    id?: string;
    projectId: string;
    name: string;
    description: string;
    stateful: boolean;
    isDefault: boolean;
  },
  record: Recorder,
): Promise<SecurityGroupsTable> {
  const now = cx.nowIso();
  const row: SecurityGroupsTable = {
    id: g.id ?? cx.ids.uuid(),
    project_id: g.projectId,
    name: g.name,
    description: g.description,
    created_at: now,
    updated_at: now,
    revision_number: 1,
    stateful: g.stateful ? 1 : 0,
  };
  await trx.insertInto('network_security_groups').values(row).execute();
  for (const ethertype of ['IPv4', 'IPv6']) {
    if (g.isDefault)
      await insertRule(
        cx,
        trx,
        g.projectId,
        row.id,
        { ...EMPTY, direction: 'ingress', ethertype, remote_group_id: row.id },
        now,
      );
    await insertRule(cx, trx, g.projectId, row.id, { ...EMPTY, direction: 'egress', ethertype }, now);
  }
  record({ kind: 'security_group', id: row.id, action: 'create', projectId: row.project_id });
  return row;
}

/** Rules change their group's revision (Neutron's revises_on_change); false when the group is gone. */
export async function touchGroup(trx: NetworkTrx, groupId: string, now: string): Promise<boolean> {
  const cur = await trx
    .selectFrom('network_security_groups')
    .select('revision_number')
    .where('id', '=', groupId)
    .executeTakeFirst();
  if (!cur) return false;
  const res = await trx
    .updateTable('network_security_groups')
    .set({ revision_number: cur.revision_number + 1, updated_at: now })
    .where('id', '=', groupId)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** The rules of these groups (all groups when ids is undefined), in creation order, by group. */
export async function rulesByGroup(
  db: NetworkDb | NetworkTrx,
  ids?: readonly string[],
): Promise<Map<string, SecurityGroupRulesTable[]>> {
  const out = new Map<string, SecurityGroupRulesTable[]>();
  if (ids !== undefined && ids.length === 0) return out;
  let q = db.selectFrom('network_security_group_rules').selectAll().orderBy('created_at').orderBy('id');
  if (ids !== undefined && ids.length <= 500) q = q.where('security_group_id', 'in', [...ids]);
  for (const r of await q.execute()) {
    const list = out.get(r.security_group_id);
    if (list) list.push(r);
    else out.set(r.security_group_id, [r]);
  }
  return out;
}

/** Whether any port carries this group. */
export async function groupInUse(db: NetworkDb | NetworkTrx, groupId: string): Promise<boolean> {
  const row = await db
    .selectFrom('network_port_security_groups')
    .select('port_id')
    .where('security_group_id', '=', groupId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
