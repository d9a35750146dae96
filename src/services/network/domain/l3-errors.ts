// Neutron's L3 errors (neutron_lib.exceptions.l3 / extraroute, port forwarding), with their types and messages.
import { ApiError } from '../../../platform/errors.ts';
import { badResourceRequest } from '../errors.ts';

export const routerNotFound = (id: string) =>
  new ApiError(404, 'RouterNotFound', `Router ${id} could not be found`);

export const floatingIpNotFound = (id: string) =>
  new ApiError(404, 'FloatingIPNotFound', `Floating IP ${id} could not be found`);

export const portForwardingNotFound = (id: string) =>
  new ApiError(404, 'PortForwardingNotFound', `Port Forwarding ${id} could not be found.`);

export const routerBadRequest = (msg: string) => badResourceRequest('router', msg);
export const floatingIpBadRequest = (msg: string) => badResourceRequest('floatingip', msg);
export const portForwardingBadRequest = (msg: string) => badResourceRequest('port_forwarding', msg);

export const routerInUse = (id: string, reason = 'still has ports') =>
  new ApiError(409, 'RouterInUse', `Router ${id} ${reason}`);

export const routerInterfaceNotFound = (routerId: string, portId: string) =>
  new ApiError(
    404,
    'RouterInterfaceNotFound',
    `Router ${routerId} does not have an interface with id ${portId}`,
  );

export const routerInterfaceNotFoundForSubnet = (routerId: string, subnetId: string) =>
  new ApiError(
    404,
    'RouterInterfaceNotFoundForSubnet',
    `Router ${routerId} has no interface on subnet ${subnetId}`,
  );

export const routerInterfaceInUseByFloatingIp = (routerId: string, subnetId: string) =>
  new ApiError(
    409,
    'RouterInterfaceInUseByFloatingIP',
    `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more floating IPs.`,
  );

export const routerInterfaceInUseByRoute = (routerId: string, subnetId: string) =>
  new ApiError(
    409,
    'RouterInterfaceInUseByRoute',
    `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more routes.`,
  );

export const gatewayInUseByFloatingIp = (routerId: string, netId: string) =>
  new ApiError(
    409,
    'RouterExternalGatewayInUseByFloatingIp',
    `Gateway cannot be updated for router ${routerId}, since a gateway to external network ${netId} is required by one or more floating IPs.`,
  );

export const externalGatewayForFipNotFound = (netId: string, subnetId: string, portId: string) =>
  new ApiError(
    404,
    'ExternalGatewayForFloatingIPNotFound',
    `External network ${netId} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${portId} with a Floating IP.`,
  );

export const floatingIpPortAlreadyAssociated = (o: {
  floatingIpAddress: string;
  fipId: string;
  portId: string;
  fixedIp: string;
  netId: string;
}) =>
  new ApiError(
    409,
    'FloatingIPPortAlreadyAssociated',
    `Cannot associate floating IP ${o.floatingIpAddress} (${o.fipId}) with port ${o.portId} using fixed IP ${o.fixedIp}, as that fixed IP already has a floating IP on external network ${o.netId}.`,
  );

export const portInUse = (portId: string, netId: string, deviceId: string) =>
  new ApiError(
    409,
    'PortInUse',
    `Unable to complete operation on port ${portId} for network ${netId}. Port already has an attached device ${deviceId}.`,
  );

export const servicePortInUse = (portId: string, reason: string) =>
  new ApiError(
    409,
    'ServicePortInUse',
    `Port ${portId} cannot be deleted directly via the port API: ${reason}.`,
  );

export const subnetInUse = (subnetId: string) =>
  new ApiError(
    409,
    'SubnetInUse',
    `Unable to complete operation on subnet ${subnetId}: One or more ports have an IP allocation from this subnet.`,
  );

export const subnetMismatchForPort = (portId: string, subnetId: string) =>
  new ApiError(
    400,
    'SubnetMismatchForPort',
    `Subnet on port ${portId} does not match the requested subnet ${subnetId}.`,
  );

export const externalIpExhausted = (netId: string) =>
  new ApiError(
    400,
    'ExternalIpAddressExhausted',
    `Unable to find any IP address on external network ${netId}.`,
  );

export const fipInUseByPortForwarding = (fipId: string) =>
  new ApiError(409, 'FipInUseByPortForwarding', `Floating IP ${fipId} in use by Port Forwarding resources.`);

export const portHasBindingFloatingIp = (o: {
  floatingIpAddress: string;
  fipId: string;
  portId: string;
  fixedIp: string;
}) =>
  new ApiError(
    409,
    'PortHasBindingFloatingIP',
    `Cannot create port forwarding to floating IP ${o.floatingIpAddress} (${o.fipId}) with port ${o.portId} using fixed IP ${o.fixedIp}, as that port already has a binding floating IP.`,
  );

export const externalNetworkInUse = (netId: string) =>
  new ApiError(
    409,
    'ExternalNetworkInUse',
    `External network ${netId} cannot be updated to be made non-external, since it has existing gateway ports.`,
  );

/** Python's repr of a list of route dicts, as InvalidRoutes renders it. */
export function routesRepr(routes: readonly { destination: string; nexthop: string }[]): string {
  return `[${routes.map((r) => `{'destination': '${r.destination}', 'nexthop': '${r.nexthop}'}`).join(', ')}]`;
}

export const invalidRoutes = (routes: readonly { destination: string; nexthop: string }[], reason: string) =>
  new ApiError(400, 'InvalidRoutes', `Invalid format for routes: ${routesRepr(routes)}, ${reason}`);

export const routesExhausted = (routerId: string, quota: number) =>
  new ApiError(
    400,
    'RoutesExhausted',
    `Unable to complete operation for ${routerId}. The number of routes exceeds the maximum ${quota}.`,
  );
