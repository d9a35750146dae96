// Attaching subnets and ports to a router and detaching them (Neutron's add/remove_router_interface).
import type { Change } from '../../../platform/db/writer.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import type { SubnetsTable } from '../store/tables-core.ts';
import type { RoutersTable } from '../store/tables-l3.ts';
import {
  dropPortAddress,
  type L3Port,
  loadPort,
  loadSubnets,
  OWNER_ROUTER_INTERFACE,
  portNotFound,
  setPortDevice,
  subnetNotFound,
} from './l3-core.ts';
import {
  portInUse,
  routerBadRequest,
  routerInterfaceInUseByFloatingIp,
  routerInterfaceInUseByRoute,
  routerInterfaceNotFound,
  routerInterfaceNotFoundForSubnet,
  subnetMismatchForPort,
} from './l3-errors.ts';
import { cidrContains, inRange } from './l3-ip.ts';
import { createPortIn, deletePortIn } from './port-ops.ts';
import {
  attachedPorts,
  checkDupRouterSubnets,
  checkSubnetAddressMode,
  hasIpv6,
  routesOf,
} from './router-ports.ts';

type Record = (c: Change) => void;

/** The answer of add/remove_router_interface. */
export interface InterfaceInfo {
  id: string;
  tenant_id: string;
  project_id: string;
  port_id: string;
  network_id: string;
  subnet_id: string;
  subnet_ids: string[];
}

function info(
  routerId: string,
  port: L3Port,
  subnets: readonly SubnetsTable[],
  last: boolean,
): InterfaceInfo {
  const subnet = last ? subnets[subnets.length - 1] : subnets[0];
  return {
    id: routerId,
    tenant_id: port.project_id,
    project_id: port.project_id,
    port_id: port.id,
    network_id: port.network_id,
    subnet_id: subnet?.id ?? '',
    subnet_ids: subnets.map((s) => s.id),
  };
}

/** Attaches `subnet` (already found visible and usable by the caller): a new port holding its gateway address. */
export async function addInterfaceBySubnet(
  cx: NetworkContext,
  trx: NetworkTrx,
  router: RoutersTable,
  subnetId: string,
  record: Record,
): Promise<InterfaceInfo> {
  const subnet = (await loadSubnets(trx, [subnetId])).get(subnetId);
  if (!subnet) throw subnetNotFound(subnetId);
  if (!subnet.gateway_ip) throw routerBadRequest('Subnet for router interface must have a gateway IP');
  checkSubnetAddressMode(subnet);
  await checkDupRouterSubnets(trx, await attachedPorts(trx, router.id), [subnet]);
  const created = await createPortIn(
    cx,
    trx,
    {
      projectId: router.project_id,
      networkId: subnet.network_id,
      name: '',
      fixedIps: [{ subnetId: subnet.id, ipAddress: subnet.gateway_ip }],
      deviceId: router.id,
      deviceOwner: OWNER_ROUTER_INTERFACE,
      adminStateUp: true,
    },
    record,
  );
  await trx
    .insertInto('network_router_ports')
    .values({ port_id: created.id, router_id: router.id, port_type: OWNER_ROUTER_INTERFACE })
    .execute();
  const port = await loadPort(trx, created.id);
  if (!port) throw portNotFound(created.id);
  return info(router.id, port, [subnet], true);
}

/** Attaches an existing, unused port (already found visible to the caller). */
export async function addInterfaceByPort(
  cx: NetworkContext,
  trx: NetworkTrx,
  router: RoutersTable,
  portId: string,
  caller: { isAdmin: boolean; projectId: string | undefined },
  record: Record,
): Promise<InterfaceInfo> {
  const port = await loadPort(trx, portId);
  if (!port) throw portNotFound(portId);
  if (port.device_id !== '') throw portInUse(port.id, port.network_id, port.device_id);
  if (port.fixedIps.length === 0) throw routerBadRequest('Router port must have at least one fixed IP');
  const subnetMap = await loadSubnets(
    trx,
    port.fixedIps.map((ip) => ip.subnet_id),
  );
  const subnets = [...new Set(port.fixedIps.map((ip) => ip.subnet_id))].flatMap((id) => {
    const s = subnetMap.get(id);
    return s ? [s] : [];
  });
  for (const s of subnets) checkSubnetAddressMode(s);
  const attached = await attachedPorts(trx, router.id);
  if (hasIpv6(port)) {
    const other = attached.find((a) => a.port.network_id === port.network_id && hasIpv6(a.port));
    if (other)
      throw routerBadRequest(
        `Cannot have multiple router ports with the same network id if both contain IPv6 subnets. Existing port ${other.port.id} has IPv6 subnet(s) and network id ${other.port.network_id}`,
      );
  }
  await checkDupRouterSubnets(trx, attached, subnets);
  if (subnets.filter((s) => s.ip_version === 4).length > 1)
    throw routerBadRequest('Cannot have multiple IPv4 subnets on router port');
  if (!caller.isAdmin) {
    for (const ip of port.fixedIps) {
      const s = subnetMap.get(ip.subnet_id);
      if (!s) continue;
      const pools = JSON.parse(s.allocation_pools || '[]') as { start: string; end: string }[];
      const inPool = pools.some((p) => inRange(ip.ip_address, p.start, p.end));
      if (!inPool && s.project_id !== caller.projectId)
        throw routerBadRequest(
          `Cannot add interface to router because specified port ${port.id} has an IP address out of the allocation pool of subnet ${s.id}, which is not owned by the project making the request`,
        );
    }
  }
  await setPortDevice(cx, trx, port, router.id, OWNER_ROUTER_INTERFACE);
  await trx
    .insertInto('network_router_ports')
    .values({ port_id: port.id, router_id: router.id, port_type: OWNER_ROUTER_INTERFACE })
    .execute();
  record({ kind: 'port', id: port.id, action: 'update', projectId: port.project_id });
  return info(router.id, port, subnets, true);
}

/** Neutron's _confirm_router_interface_not_in_use: no floating IP, port forwarding or route needs the subnet. */
async function confirmNotInUse(trx: NetworkTrx, routerId: string, subnet: SubnetsTable): Promise<void> {
  const portsOnSubnet = new Set(
    (
      await trx
        .selectFrom('network_ip_allocations')
        .select('port_id')
        .where('subnet_id', '=', subnet.id)
        .execute()
    ).map((r) => r.port_id),
  );
  const fips = await trx
    .selectFrom('network_floatingips')
    .select(['id', 'fixed_port_id', 'fixed_ip_address'])
    .where('router_id', '=', routerId)
    .execute();
  const pfs =
    fips.length === 0
      ? []
      : await trx
          .selectFrom('network_port_forwardings')
          .select(['internal_port_id', 'internal_ip_address'])
          .where(
            'floatingip_id',
            'in',
            fips.map((f) => f.id),
          )
          .execute();
  for (const pf of pfs) {
    if (cidrContains(subnet.cidr, pf.internal_ip_address) && portsOnSubnet.has(pf.internal_port_id))
      throw routerInterfaceInUseByFloatingIp(routerId, subnet.id);
  }
  for (const f of fips) {
    if (
      f.fixed_ip_address &&
      f.fixed_port_id &&
      cidrContains(subnet.cidr, f.fixed_ip_address) &&
      portsOnSubnet.has(f.fixed_port_id)
    )
      throw routerInterfaceInUseByFloatingIp(routerId, subnet.id);
  }
  const routes = (await routesOf(trx, [routerId])).get(routerId) ?? [];
  if (routes.some((r) => cidrContains(subnet.cidr, r.nexthop)))
    throw routerInterfaceInUseByRoute(routerId, subnet.id);
}

async function detach(cx: NetworkContext, trx: NetworkTrx, port: L3Port, record: Record): Promise<void> {
  await trx.deleteFrom('network_router_ports').where('port_id', '=', port.id).execute();
  await deletePortIn(cx, trx, port.id, record);
}

export async function removeInterfaceByPort(
  cx: NetworkContext,
  trx: NetworkTrx,
  router: RoutersTable,
  portId: string,
  subnetId: string | undefined,
  record: Record,
): Promise<InterfaceInfo> {
  const attached = await attachedPorts(trx, router.id);
  const found = attached.find((a) => a.port.id === portId && a.portType === OWNER_ROUTER_INTERFACE);
  if (!found) throw routerInterfaceNotFound(router.id, portId);
  const port = found.port;
  const subnetIds = [...new Set(port.fixedIps.map((ip) => ip.subnet_id))];
  if (subnetId && !subnetIds.includes(subnetId)) throw subnetMismatchForPort(portId, subnetId);
  const subnetMap = await loadSubnets(trx, subnetIds);
  const subnets = subnetIds.flatMap((id) => {
    const s = subnetMap.get(id);
    return s ? [s] : [];
  });
  for (const s of subnets) await confirmNotInUse(trx, router.id, s);
  await detach(cx, trx, port, record);
  return info(router.id, port, subnets, false);
}

export async function removeInterfaceBySubnet(
  cx: NetworkContext,
  trx: NetworkTrx,
  router: RoutersTable,
  subnetId: string,
  record: Record,
): Promise<InterfaceInfo> {
  const subnet = (await loadSubnets(trx, [subnetId])).get(subnetId);
  if (!subnet) throw subnetNotFound(subnetId);
  const ports = (await attachedPorts(trx, router.id)).filter(
    (a) => a.portType === OWNER_ROUTER_INTERFACE && a.port.network_id === subnet.network_id,
  );
  if (ports.length > 0) await confirmNotInUse(trx, router.id, subnet);
  for (const { port } of ports) {
    const portSubnets = new Set(port.fixedIps.map((ip) => ip.subnet_id));
    if (!portSubnets.has(subnetId)) continue;
    if (portSubnets.size > 1) {
      // A port spanning several (IPv6) subnets keeps its other addresses.
      await dropPortAddress(cx, trx, port, subnetId);
      record({ kind: 'port', id: port.id, action: 'update', projectId: port.project_id });
    } else {
      await detach(cx, trx, port, record);
    }
    return info(router.id, port, [subnet], false);
  }
  throw routerInterfaceNotFoundForSubnet(router.id, subnetId);
}
