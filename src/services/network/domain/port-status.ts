// What the data plane reads and reports about ports: status changes (ACTIVE when wired, DOWN when not) with
// Nova's vif events, and the ports of a set of networks with their addresses and security groups.
import type { NetworkContext } from '../context.ts';
import type { PortsTable } from '../store/tables-core.ts';
import { type Allocation, allocationsOf } from './ipam.ts';
import { portSecurityGroups } from './port-security-groups.ts';

export type PortStatus = 'ACTIVE' | 'DOWN' | 'BUILD' | 'ERROR';

/**
 * Sets a port's status as the data plane reports it (a no-op when unchanged or the port is gone). A compute
 * port going ACTIVE sends Nova network-vif-plugged; going DOWN from ACTIVE sends network-vif-unplugged.
 */
export async function setPortStatus(
  cx: NetworkContext,
  portId: string,
  status: PortStatus,
): Promise<boolean> {
  const changed = await cx.write(async (trx, record) => {
    const cur = await trx
      .selectFrom('network_ports')
      .select(['id', 'status', 'revision_number', 'project_id', 'device_owner', 'device_id'])
      .where('id', '=', portId)
      .executeTakeFirst();
    if (!cur || cur.status === status) return undefined;
    await trx
      .updateTable('network_ports')
      .set({ status, revision_number: cur.revision_number + 1, updated_at: cx.nowIso() })
      .where('id', '=', portId)
      .execute();
    record({ kind: 'port', id: portId, action: 'update', projectId: cur.project_id });
    return cur;
  });
  if (!changed) return false;
  if (changed.device_owner.startsWith('compute:') && changed.device_id) {
    if (status === 'ACTIVE')
      cx.notifier?.portEvent({
        name: 'network-vif-plugged',
        serverId: changed.device_id,
        portId,
        status: 'completed',
      });
    else if (status === 'DOWN' && changed.status === 'ACTIVE')
      cx.notifier?.portEvent({
        name: 'network-vif-unplugged',
        serverId: changed.device_id,
        portId,
        status: 'completed',
      });
  }
  return true;
}

export interface PortWithAddresses {
  port: PortsTable;
  fixedIps: Allocation[];
  securityGroups: string[];
  allowedAddressPairs: { ip_address: string; mac_address: string }[];
}

/** Every port of these networks with its addresses, security groups and allowed address pairs. */
export async function portsOfNetworks(
  cx: NetworkContext,
  networkIds: readonly string[],
): Promise<PortWithAddresses[]> {
  if (networkIds.length === 0) return [];
  const ports = await cx.db
    .selectFrom('network_ports')
    .selectAll()
    .where('network_id', 'in', [...networkIds])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const ids = ports.map((p) => p.id);
  const [ips, groups] = await Promise.all([
    allocationsOf(cx.db, ids),
    portSecurityGroups().groupsOf(cx, cx.db, ids),
  ]);
  return ports.map((port) => ({
    port,
    fixedIps: ips.get(port.id) ?? [],
    securityGroups: groups.get(port.id) ?? [],
    allowedAddressPairs: JSON.parse(port.allowed_address_pairs),
  }));
}
