// The L3 area's answers to other areas' changes: router and floating IP ports cannot be deleted through the port
// API, a port that goes takes its floating IP associations and forwardings with it, a subnet with a router
// interface cannot go, and a network's unassociated floating IPs go with the network.
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { disassociatePort, dropFloatingIpsOfPort, dropForwardings } from './floating-ip-cleanup.ts';
import { hooks, type PortRef } from './hooks.ts';
import { L3_OWNERS, OWNER_FLOATINGIP, OWNER_ROUTER_INTERFACE } from './l3-core.ts';
import { servicePortInUse, subnetInUse } from './l3-errors.ts';
import { deletePortIn } from './port-ops.ts';

/** Neutron's prevent_l3_port_deletion. */
async function preventL3PortDeletion(_cx: NetworkContext, trx: NetworkTrx, port: PortRef): Promise<void> {
  if (!L3_OWNERS.has(port.device_owner)) return;
  // A port without addresses, or whose router / floating IP is gone, is stale and may go.
  const ip = await trx
    .selectFrom('network_ip_allocations')
    .select('ip_address')
    .where('port_id', '=', port.id)
    .executeTakeFirst();
  if (!ip) return;
  const owner =
    port.device_owner === OWNER_FLOATINGIP
      ? await trx
          .selectFrom('network_floatingips')
          .select('id')
          .where('id', '=', port.device_id)
          .executeTakeFirst()
      : await trx
          .selectFrom('network_routers')
          .select('id')
          .where('id', '=', port.device_id)
          .executeTakeFirst();
  if (!owner) return;
  throw servicePortInUse(port.id, `has device owner ${port.device_owner}`);
}

/** Everything hanging off a port that is being deleted (by any path). */
async function releasePort(cx: NetworkContext, trx: NetworkTrx, port: PortRef): Promise<void> {
  await disassociatePort(trx, port.id, cx.nowIso());
  const pfs = await trx
    .selectFrom('network_port_forwardings')
    .select('id')
    .where('internal_port_id', '=', port.id)
    .execute();
  await dropForwardings(
    trx,
    pfs.map((p) => p.id),
  );
  await trx.deleteFrom('network_router_ports').where('port_id', '=', port.id).execute();
  await trx
    .updateTable('network_routers')
    .set({ gw_port_id: null })
    .where('gw_port_id', '=', port.id)
    .execute();
  if (port.device_owner === OWNER_FLOATINGIP) await dropFloatingIpsOfPort(trx, port.id);
}

/** Neutron's _subnet_check_ip_allocations_internal_router_ports. */
async function subnetHasRouterInterface(
  _cx: NetworkContext,
  trx: NetworkTrx,
  subnet: { id: string },
): Promise<void> {
  const hit = await trx
    .selectFrom('network_ip_allocations as a')
    .innerJoin('network_router_ports as rp', 'rp.port_id', 'a.port_id')
    .select('a.port_id')
    .where('a.subnet_id', '=', subnet.id)
    .where('rp.port_type', '=', OWNER_ROUTER_INTERFACE)
    .executeTakeFirst();
  if (hit) throw subnetInUse(subnet.id);
}

/** Neutron's delete_disassociated_floatingips before a network goes. */
async function dropDisassociatedFloatingIps(
  cx: NetworkContext,
  trx: NetworkTrx,
  network: { id: string },
): Promise<void> {
  const fips = await trx
    .selectFrom('network_floatingips')
    .select(['id', 'floating_port_id'])
    .where('floating_network_id', '=', network.id)
    .where('fixed_port_id', 'is', null)
    .execute();
  for (const f of fips) {
    const pf = await trx
      .selectFrom('network_port_forwardings')
      .select('id')
      .where('floatingip_id', '=', f.id)
      .executeTakeFirst();
    if (pf) continue;
    await trx.deleteFrom('network_floatingips').where('id', '=', f.id).execute();
    await deletePortIn(cx, trx, f.floating_port_id);
  }
}

let installed = false;

/** Joins the cross-area hooks (once per process). */
export function installL3Hooks(): void {
  if (installed) return;
  installed = true;
  hooks.portDeleteChecks.push(preventL3PortDeletion);
  hooks.portDeleted.push(releasePort);
  hooks.subnetDeleteChecks.push(subnetHasRouterInterface);
  hooks.networkDeleteChecks.push(dropDisassociatedFloatingIps);
}
