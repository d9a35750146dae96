// What happens to floating IPs and port forwardings when the ports they hang on go away.
import type { NetworkTrx } from '../context.ts';

/** Drops forwardings; a floating IP left with none and no association loses its router. Returns the IPs touched. */
export async function dropForwardings(trx: NetworkTrx, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await trx
    .selectFrom('network_port_forwardings')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
  await trx
    .deleteFrom('network_port_forwardings')
    .where('id', 'in', [...ids])
    .execute();
  const touched = [...new Set(rows.map((r) => r.floatingip_id))];
  for (const fipId of touched) {
    const left = await trx
      .selectFrom('network_port_forwardings')
      .select('id')
      .where('floatingip_id', '=', fipId)
      .executeTakeFirst();
    if (!left)
      await trx
        .updateTable('network_floatingips')
        .set({ router_id: null, status: 'DOWN' })
        .where('id', '=', fipId)
        .where('fixed_port_id', 'is', null)
        .execute();
  }
  return touched;
}

/** Neutron's disassociate_floatingips: the floating IPs of a port that goes lose their association. */
export async function disassociatePort(trx: NetworkTrx, portId: string, now: string): Promise<string[]> {
  const fips = await trx
    .selectFrom('network_floatingips')
    .select(['id', 'router_id', 'revision_number'])
    .where('fixed_port_id', '=', portId)
    .execute();
  for (const f of fips)
    await trx
      .updateTable('network_floatingips')
      .set({
        fixed_port_id: null,
        fixed_ip_address: null,
        router_id: null,
        last_known_router_id: f.router_id,
        status: 'DOWN',
        updated_at: now,
        revision_number: f.revision_number + 1,
      })
      .where('id', '=', f.id)
      .execute();
  return fips.map((f) => f.id);
}

/** A floating IP whose own port is gone goes with it (Neutron's foreign-key cascade). */
export async function dropFloatingIpsOfPort(trx: NetworkTrx, floatingPortId: string): Promise<void> {
  const fips = await trx
    .selectFrom('network_floatingips')
    .select('id')
    .where('floating_port_id', '=', floatingPortId)
    .execute();
  for (const f of fips) {
    await trx.deleteFrom('network_port_forwardings').where('floatingip_id', '=', f.id).execute();
    await trx.deleteFrom('network_floatingips').where('id', '=', f.id).execute();
    await trx
      .deleteFrom('network_tags')
      .where('resource_type', '=', 'floatingips')
      .where('resource_id', '=', f.id)
      .execute();
  }
}
