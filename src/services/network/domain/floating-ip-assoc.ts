// Which internal port and address a floating IP maps to, and through which router (Neutron's
// _check_and_get_fip_assoc / get_router_for_floatingip): the router needs a gateway on the floating IP's network
// and an interface on the internal address's subnet.
import type { NetworkTrx } from '../context.ts';
import type { FloatingIpsTable } from '../store/tables-l3.ts';
import {
  type L3Port,
  loadPort,
  loadSubnets,
  OWNER_DHCP,
  OWNER_ROUTER_INTERFACE,
  portNotFound,
} from './l3-core.ts';
import {
  externalGatewayForFipNotFound,
  floatingIpBadRequest,
  floatingIpPortAlreadyAssociated,
} from './l3-errors.ts';
import { ipVersion } from './l3-ip.ts';

export interface Association {
  portId: string | null;
  fixedIp: string | null;
  routerId: string | null;
}

/** What the request says about the association: undefined = not given (keep), null = disassociate. */
export interface AssociationRequest {
  port_id?: string | null;
  fixed_ip_address?: string | null;
}

type Fip = Pick<
  FloatingIpsTable,
  'id' | 'project_id' | 'floating_network_id' | 'floating_ip_address' | 'fixed_port_id' | 'router_id'
>;

/** The router serving `subnetId` that has a gateway on `externalNetworkId` (the subnet's gateway router first). */
export async function routerForFloatingIp(
  trx: NetworkTrx,
  port: L3Port,
  subnetId: string,
  externalNetworkId: string,
): Promise<string> {
  const candidates = await trx
    .selectFrom('network_router_ports as rp')
    .innerJoin('network_ip_allocations as a', 'a.port_id', 'rp.port_id')
    .innerJoin('network_routers as r', 'r.id', 'rp.router_id')
    .innerJoin('network_ports as gw', 'gw.id', 'r.gw_port_id')
    .select(['rp.router_id as router_id', 'a.ip_address as ip_address'])
    .where('rp.port_type', '=', OWNER_ROUTER_INTERFACE)
    .where('a.subnet_id', '=', subnetId)
    .where('a.network_id', '=', port.network_id)
    .where('gw.network_id', '=', externalNetworkId)
    .orderBy('r.created_at')
    .orderBy('r.id')
    .execute();
  if (candidates.length === 0) throw externalGatewayForFipNotFound(externalNetworkId, subnetId, port.id);
  const gatewayIp = (await loadSubnets(trx, [subnetId])).get(subnetId)?.gateway_ip;
  return (candidates.find((c) => c.ip_address === gatewayIp) ?? candidates[0]!).router_id;
}

/** Neutron's _internal_fip_assoc_data + router lookup for one requested port. */
async function assocData(
  trx: NetworkTrx,
  fip: Fip,
  portId: string,
  fixedIp: string | null | undefined,
  isAdmin: boolean,
): Promise<{ portId: string; fixedIp: string; routerId: string }> {
  const port = await loadPort(trx, portId);
  if (!port) throw portNotFound(portId);
  if (port.project_id !== fip.project_id && !isAdmin)
    throw floatingIpBadRequest(
      `Cannot process floating IP association with Port ${portId}, since that port is owned by a different tenant`,
    );
  if (port.device_owner === OWNER_DHCP)
    throw floatingIpBadRequest(`Port ${port.id} is unable to be assigned a floating IP`);
  let address: string;
  let subnetId: string;
  if (fixedIp) {
    if (ipVersion(fixedIp) !== 4)
      throw floatingIpBadRequest(
        `Cannot process floating IP association with ${fixedIp}, since that is not an IPv4 address`,
      );
    const match = port.fixedIps.find((ip) => ip.ip_address === fixedIp);
    if (!match) throw floatingIpBadRequest(`Port ${port.id} does not have fixed ip ${fixedIp}`);
    address = fixedIp;
    subnetId = match.subnet_id;
  } else {
    const v4 = port.fixedIps.filter((ip) => ipVersion(ip.ip_address) === 4);
    if (v4.length === 0)
      throw floatingIpBadRequest(
        `Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses`,
      );
    if (v4.length > 1)
      throw floatingIpBadRequest(
        `Port ${port.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`,
      );
    address = v4[0]!.ip_address;
    subnetId = v4[0]!.subnet_id;
  }
  const routerId = await routerForFloatingIp(trx, port, subnetId, fip.floating_network_id);
  return { portId: port.id, fixedIp: address, routerId };
}

/** The association a create/update asks for, checked against the ports, routers and other floating IPs. */
export async function resolveAssociation(
  trx: NetworkTrx,
  fip: Fip,
  req: AssociationRequest,
  isAdmin: boolean,
): Promise<Association> {
  if (req.fixed_ip_address && !req.port_id)
    throw floatingIpBadRequest('fixed_ip_address cannot be specified without a port_id');
  if (req.port_id) {
    const a = await assocData(trx, fip, req.port_id, req.fixed_ip_address, isAdmin);
    if (a.portId !== fip.fixed_port_id) {
      const taken = await trx
        .selectFrom('network_floatingips')
        .select('id')
        .where('fixed_port_id', '=', a.portId)
        .where('floating_network_id', '=', fip.floating_network_id)
        .where('fixed_ip_address', '=', a.fixedIp)
        .where('id', '!=', fip.id)
        .executeTakeFirst();
      if (taken)
        throw floatingIpPortAlreadyAssociated({
          floatingIpAddress: fip.floating_ip_address,
          fipId: fip.id,
          portId: a.portId,
          fixedIp: a.fixedIp,
          netId: fip.floating_network_id,
        });
    }
    return a;
  }
  if (req.port_id === undefined && fip.fixed_port_id) {
    // Not mentioned: the current association stays (re-derived, as Neutron does).
    return assocData(trx, fip, fip.fixed_port_id, req.fixed_ip_address, true);
  }
  // Disassociated (or never associated); a floating IP serving port forwardings keeps its router.
  return {
    portId: null,
    fixedIp: null,
    routerId: !fip.fixed_port_id && fip.router_id ? fip.router_id : null,
  };
}
