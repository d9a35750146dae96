// The l3 area: Routers, floating IPs and port forwardings.
import type { NetworkContext } from '../context.ts';
import { installL3Hooks } from '../domain/l3-hooks.ts';
import type { ApiArea } from './area.ts';
import type { ExtensionInfo } from './extensions.ts';
import { floatingIpRoutes, floatingIpTaggable } from './floating-ips.ts';
import { portForwardingRoutes } from './port-forwardings.ts';
import { routerInterfaceRoutes } from './router-interfaces.ts';
import { routerRoutes, routerTaggable } from './routers.ts';

const L3_EXTENSIONS: ExtensionInfo[] = [
  {
    alias: 'router',
    name: 'Neutron L3 Router',
    description:
      'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
  },
  {
    alias: 'ext-gw-mode',
    name: 'Neutron L3 Configurable external gateway mode',
    description:
      'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway',
  },
  {
    alias: 'extraroute',
    name: 'Neutron Extra Route',
    description: 'Extra routes configuration for L3 router',
  },
  {
    alias: 'extraroute-atomic',
    name: 'Atomically add/remove extra routes',
    description: 'Edit extra routes of a router on server side by atomically adding/removing extra routes',
  },
  {
    alias: 'router_availability_zone',
    name: 'Router Availability Zone',
    description: 'Availability zone support for router.',
  },
  {
    alias: 'fip-port-details',
    name: 'Floating IP Port Details Extension',
    description: 'Add port_details attribute to Floating IP resource',
  },
  {
    alias: 'floating-ip-port-forwarding',
    name: 'Floating IP Port Forwarding',
    description: 'Allow port forwarding from floating IP port to an internal port',
  },
  {
    alias: 'floating-ip-port-forwarding-description',
    name: 'Floating IP Port Forwarding new attribute description',
    description: 'Add a description field to Port Forwarding rules',
  },
  {
    alias: 'expose-port-forwarding-in-fip',
    name: 'Expose Floating IP port forwardings',
    description: 'Expose port forwarding fields in floating IP response',
  },
];

export function l3Area(cx: NetworkContext): ApiArea {
  installL3Hooks();
  return {
    routes: [
      ...routerRoutes(cx),
      ...routerInterfaceRoutes(cx),
      ...floatingIpRoutes(cx),
      ...portForwardingRoutes(cx),
    ],
    taggable: [routerTaggable, floatingIpTaggable],
    extensions: L3_EXTENSIONS,
  };
}
