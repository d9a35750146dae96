// The security area's implementation of the port ↔ security group seam: binding requested groups (or the
// project's default group), reading them back for port views, and dropping them with the port.
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { compiledInsert } from '../store/compiled.ts';
import { ensureDefaultGroupIn } from './default-security-group.ts';
import type { PortSecurityGroupOps } from './port-security-groups.ts';
import { isForeignKeyViolation, sgErrors } from './sg-errors.ts';

/** Ports Neutron trusts (DHCP, router, …) carry no security groups. */
export function isTrustedOwner(deviceOwner: string | undefined): boolean {
  return !!deviceOwner && (deviceOwner.startsWith('network:') || deviceOwner.startsWith('neutron:'));
}

async function chosenGroups(
  cx: NetworkContext,
  trx: NetworkTrx,
  port: { projectId: string; isAdmin?: boolean },
  requested: string[] | undefined,
): Promise<string[]> {
  // The default group is made in this transaction; the port's own feed event tells the data plane.
  if (requested === undefined) return [await ensureDefaultGroupIn(cx, trx, port.projectId, () => {})];
  const ids = [...new Set(requested)];
  if (ids.length === 0) return [];
  const rows = await trx
    .selectFrom('network_security_groups')
    .select(['id', 'project_id', 'stateful'])
    .where('id', 'in', ids)
    .execute();
  const usable = new Map(
    rows.filter((g) => port.isAdmin || g.project_id === port.projectId).map((g) => [g.id, g]),
  );
  const missing = ids.filter((id) => !usable.has(id));
  if (missing.length > 0) throw sgErrors.notFound(missing.join(', '));
  if (new Set([...usable.values()].map((g) => g.stateful)).size > 1)
    throw sgErrors.conflict(
      'Cannot apply both stateful and stateless security groups on the same port at the same time',
    );
  return ids;
}

const insertBinding = compiledInsert('network_port_security_groups');

export const sgPortBindings: PortSecurityGroupOps = {
  async bind(cx, trx, port, requested) {
    const ids = isTrustedOwner(port.deviceOwner) ? [] : await chosenGroups(cx, trx, port, requested);
    if (!port.created)
      await trx.deleteFrom('network_port_security_groups').where('port_id', '=', port.id).execute();
    if (ids.length > 0) {
      try {
        if (ids.length === 1) await insertBinding(trx, { port_id: port.id, security_group_id: ids[0]! });
        else
          await trx
            .insertInto('network_port_security_groups')
            .values(ids.map((security_group_id) => ({ port_id: port.id, security_group_id })))
            .execute();
      } catch (e) {
        // A requested group deleted meanwhile.
        if (isForeignKeyViolation(e)) throw sgErrors.notFound(ids.join(', '));
        throw e;
      }
    }
    return ids;
  },

  async groupsOf(_cx, db, portIds) {
    const out = new Map<string, string[]>();
    if (portIds.length === 0) return out;
    let q = db
      .selectFrom('network_port_security_groups')
      .select(['port_id', 'security_group_id'])
      .orderBy('port_id')
      .orderBy('security_group_id');
    if (portIds.length <= 500) q = q.where('port_id', 'in', portIds);
    const wanted = new Set(portIds);
    for (const r of await q.execute()) {
      if (!wanted.has(r.port_id)) continue;
      const list = out.get(r.port_id);
      if (list) list.push(r.security_group_id);
      else out.set(r.port_id, [r.security_group_id]);
    }
    return out;
  },

  async unbind(_cx, trx, portId) {
    await trx.deleteFrom('network_port_security_groups').where('port_id', '=', portId).execute();
  },
};
