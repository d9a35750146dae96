// Each project's `default` security group, made on first use (listing groups or rules, creating a group or a
// port) exactly once: the default-group row is claimed first (primary key on the project), and only its winner
// creates the group with Neutron's four rules.
import type { NetworkContext, NetworkDb, NetworkTrx } from '../context.ts';
import { compiled } from '../store/compiled.ts';
import { enforceQuota } from './quota-check.ts';
import { insertGroup, type Recorder } from './sg-store.ts';

export const DEFAULT_SG_NAME = 'default';
export const DEFAULT_SG_DESCRIPTION = 'Default security group';

const defaultGroupRow = compiled(1, (db, projectId: string) =>
  db
    .selectFrom('network_default_security_groups')
    .select('security_group_id')
    .where('project_id', '=', projectId),
);

export async function defaultGroupId(
  db: NetworkDb | NetworkTrx,
  projectId: string,
): Promise<string | undefined> {
  const [row] = await defaultGroupRow(db, projectId);
  return row?.security_group_id;
}

/** Inside a write: the project's default group id, creating the group when the project has none. */
export async function ensureDefaultGroupIn(
  cx: NetworkContext,
  trx: NetworkTrx,
  projectId: string,
  record: Recorder,
): Promise<string> {
  const have = await defaultGroupId(trx, projectId);
  if (have) return have;
  const id = cx.ids.uuid();
  // Racing first uses: the row's primary key lets one claim win; the others wait for it and read its group.
  await trx
    .insertInto('network_default_security_groups')
    .values({ project_id: projectId, security_group_id: id })
    .onConflict((oc) => oc.column('project_id').doNothing())
    .execute();
  const winner = await defaultGroupId(trx, projectId);
  if (winner !== id) return winner!;
  // Neutron checks the four rules against the project's rule quota (the group itself is not counted here).
  await enforceQuota(cx, trx, projectId, 'security_group_rule', 4);
  await insertGroup(
    cx,
    trx,
    {
      id,
      projectId,
      name: DEFAULT_SG_NAME,
      description: DEFAULT_SG_DESCRIPTION,
      stateful: true,
      isDefault: true,
    },
    record,
  );
  return id;
}

/** Outside any write: reads first, and writes only when the project has no default group yet. */
export async function ensureDefaultGroup(cx: NetworkContext, projectId: string): Promise<string> {
  const have = await defaultGroupId(cx.db, projectId);
  if (have) return have;
  return cx.write((trx, record) => ensureDefaultGroupIn(cx, trx, projectId, record));
}
