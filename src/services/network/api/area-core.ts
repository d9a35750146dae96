// The core area: networks, subnets, subnet pools, address scopes, ports (and the port operations other areas use).

import type { NetworkContext } from '../context.ts';
import { installPortOps } from '../domain/port-create.ts';
import { addressScopeRoutes } from './address-scopes.ts';
import type { ApiArea } from './area.ts';
import type { ExtensionInfo } from './extensions.ts';
import { networkRoutes, networkTaggable, setNetworkDeleteHook, setSubnetIdsSource } from './networks.ts';
import { portRoutes, portTaggable } from './ports.ts';
import { subnetpoolPrefixRoutes } from './subnetpool-prefixes.ts';
import { subnetpoolRoutes, subnetpoolTaggable } from './subnetpools.ts';
import { cascadeNetworkDelete, subnetRoutes, subnetTaggable } from './subnets.ts';
import { subnetIdsOf } from './subnets-spec.ts';

/** Extensions this area truly implements (aliases, names and descriptions as Neutron's). */
const coreExtensions: ExtensionInfo[] = [
  {
    alias: 'subnet_allocation',
    name: 'Subnet Allocation',
    description: 'Enables allocation of subnets from a subnet pool',
  },
  {
    alias: 'subnetpool-prefix-ops',
    name: 'Subnet Pool Prefix Operations',
    description: 'Provides support for adjusting the prefix list of subnet pools',
  },
  { alias: 'address-scope', name: 'Address scope', description: 'Address scopes extension.' },
  {
    alias: 'binding',
    name: 'Port Binding',
    description: 'Expose port bindings of a virtual port to external application',
  },
  {
    alias: 'allowed-address-pairs',
    name: 'Allowed Address Pairs',
    description: 'Provides allowed address pairs',
  },
  {
    alias: 'extra_dhcp_opt',
    name: 'Neutron Extra DHCP options',
    description:
      'Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)',
  },
  {
    alias: 'subnet-service-types',
    name: 'Subnet service types',
    description: 'Provides ability to set the subnet service_types field',
  },
  {
    alias: 'ip-substring-filtering',
    name: 'IP address substring filtering',
    description: 'Provides IP address substring filtering when listing ports',
  },
];

export function coreArea(cx: NetworkContext): ApiArea {
  installPortOps();
  setSubnetIdsSource(subnetIdsOf);
  setNetworkDeleteHook(cascadeNetworkDelete);
  return {
    routes: [
      ...networkRoutes(cx),
      ...subnetRoutes(cx),
      ...subnetpoolRoutes(cx),
      ...subnetpoolPrefixRoutes(cx),
      ...addressScopeRoutes(cx),
      ...portRoutes(cx),
    ],
    taggable: [networkTaggable, subnetTaggable, subnetpoolTaggable, portTaggable],
    extensions: coreExtensions,
  };
}
