// Builders of desired-state objects for the agent tests (random ids, documentation/tenant address ranges).
import { randomBytes, randomUUID } from 'node:crypto';
import type {
  DpNetwork,
  DpPort,
  DpRouter,
  DpSecurityGroup,
  DpSecurityGroupRule,
  DpSubnet,
} from '../../../src/agent/network/desired-state.ts';

export function mac(): string {
  return `fa:16:3e:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

export function subnet(cidr: string, gatewayIp: string | undefined, over: Partial<DpSubnet> = {}): DpSubnet {
  return {
    id: randomUUID(),
    cidr,
    ipVersion: 4,
    gatewayIp,
    enableDhcp: true,
    dnsNameservers: [],
    hostRoutes: [],
    ...over,
  };
}

export function network(subnets: DpSubnet[], over: Partial<DpNetwork> = {}): DpNetwork {
  return { id: randomUUID(), mtu: 1500, type: 'local', external: false, subnets, ...over };
}

export function port(
  net: DpNetwork,
  ip: string | undefined,
  over: Partial<DpPort> = {},
  subnetIndex = 0,
): DpPort {
  const s = net.subnets[subnetIndex];
  return {
    id: randomUUID(),
    networkId: net.id,
    macAddress: mac(),
    fixedIps: ip && s ? [{ subnetId: s.id, ipAddress: ip }] : [],
    deviceOwner: 'compute:nova',
    deviceId: randomUUID(),
    adminStateUp: true,
    portSecurityEnabled: true,
    securityGroupIds: [],
    allowedAddressPairs: [],
    boundHere: true,
    ...over,
  };
}

export function dhcpPort(net: DpNetwork, ip: string): DpPort {
  return port(net, ip, {
    deviceOwner: 'network:dhcp',
    deviceId: `dhcp-test-${net.id}`,
    portSecurityEnabled: false,
  });
}

/** A router port entry plus the Neutron port behind it. */
export function routerPort(net: DpNetwork, ip: string, owner = 'network:router_interface') {
  const p = port(net, ip, { deviceOwner: owner, portSecurityEnabled: false, boundHere: false });
  const s = net.subnets[0] as DpSubnet;
  return {
    port: p,
    entry: {
      portId: p.id,
      networkId: net.id,
      macAddress: p.macAddress,
      ips: [{ ipAddress: ip, cidr: s.cidr }],
    },
  };
}

export function router(over: Partial<DpRouter> = {}): DpRouter {
  return {
    id: randomUUID(),
    adminStateUp: true,
    interfaces: [],
    routes: [],
    floatingIps: [],
    portForwardings: [],
    ...over,
  };
}

export function rule(over: Partial<DpSecurityGroupRule>): DpSecurityGroupRule {
  return { id: randomUUID(), direction: 'ingress', ethertype: 'IPv4', ...over };
}

/** Neutron's default group: all egress, ingress from members of the group itself. */
export function defaultGroup(memberIps: string[] = []): DpSecurityGroup {
  const id = randomUUID();
  return {
    id,
    stateful: true,
    memberIps,
    rules: [
      rule({ direction: 'egress', ethertype: 'IPv4' }),
      rule({ direction: 'egress', ethertype: 'IPv6' }),
      rule({ direction: 'ingress', ethertype: 'IPv4', remoteGroupId: id }),
      rule({ direction: 'ingress', ethertype: 'IPv6', remoteGroupId: id }),
    ],
  };
}
