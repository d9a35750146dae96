// addSecurityGroup / removeSecurityGroup: applied to the server's ports in Neutron as Nova does; without a
// network service, the names a server carries in compute_servers.security_groups are the record.
import { ApiError } from '../../../platform/errors.ts';
import { findServer } from '../store/servers.ts';
import { parseJson } from './common.ts';
import { type ActionHandler, type ActionRequest, accepted, loadForAction } from './server-actions-common.ts';
import { changePortGroups } from './server-security-groups.ts';

/** Nova checks the name by hand: absent or blank is a 400 with its own words. */
function groupName(a: ActionRequest): string {
  const body = a.args as { name?: unknown } | null;
  if (body === null || typeof body !== 'object')
    throw new ApiError(400, 'BadRequest', 'Missing parameter dict');
  if (body.name === undefined) throw new ApiError(400, 'BadRequest', 'Security group not specified');
  const name = String(body.name);
  if (name.trim() === '') throw new ApiError(400, 'BadRequest', 'Security group name cannot be empty');
  return name;
}

function change(rule: string, add: boolean): ActionHandler {
  return async (a) => {
    const s = await loadForAction(a, rule, { lock: false });
    const name = groupName(a);
    if (a.cx.network) {
      await changePortGroups(a.cx, a.cx.network.user(a.ctx.requireAuth().token), s, name, add);
      return accepted();
    }
    await a.cx.write(async (trx, record) => {
      // Re-read inside the transaction so two concurrent changes do not lose one another.
      const row = (await findServer(trx, s.id)) ?? s;
      const groups = parseJson<string[]>(row.security_groups, []);
      const has = groups.includes(name);
      if (!add && !has)
        throw new ApiError(
          404,
          'SecurityGroupNotFound',
          `Security group ${name} not associated with the instance ${s.id}`,
        );
      if (add === has) return;
      const next = add ? [...groups, name] : groups.filter((g) => g !== name);
      await trx
        .updateTable('compute_servers')
        .set({ security_groups: JSON.stringify(next), updated_at: a.cx.nowMicro() })
        .where('id', '=', s.id)
        .execute();
      record({ kind: 'server', id: s.id, action: 'update', projectId: s.project_id });
    });
    return accepted();
  };
}

export const securityGroupActions: Record<string, ActionHandler> = {
  addSecurityGroup: change('os_compute_api:os-security-groups:add', true),
  removeSecurityGroup: change('os_compute_api:os-security-groups:remove', false),
};
