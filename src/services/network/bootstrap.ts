// First use, as DevStack: the external network `public` (flat, on the `public` physical network, a subnet from a
// documentation range) and, for the demo project, `private` with a subnet and `router1` whose gateway is on
// `public`. Made through the network API itself (in-process, with the service token), once: a cloud that has
// an external network already is left alone.
import type { NetworkConfig } from '../../platform/config.ts';
import type { Logger } from '../../platform/log.ts';
import type { TokenSource, Transport, TransportResponse } from '../../platform/transport.ts';

export interface NetworkBootstrapOptions {
  transport: Transport;
  token: TokenSource;
  config: NetworkConfig;
  adminProjectId: string;
  demoProjectId: string;
  log: Logger;
}

export interface NetworkBootstrapResult {
  created: boolean;
  publicNetworkId?: string;
  privateNetworkId?: string;
  routerId?: string;
}

async function call(
  o: NetworkBootstrapOptions,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
) {
  const res: TransportResponse = await o.transport({
    method,
    path: `/network/v2.0${path}`,
    headers: { 'x-auth-token': await o.token() },
    ...(body === undefined ? {} : { body }),
  });
  if (res.status >= 300)
    throw new Error(`network bootstrap: ${method} ${path} answered ${res.status}: ${res.text}`);
  return res.body;
}

/** The first host address of a CIDR's allocation range after the gateway, and the last usable one. */
function poolAfterGateway(cidr: string, gateway: string): { start: string; end: string } | undefined {
  const [base, lenText] = cidr.split('/');
  const len = Number(lenText);
  const parts = (base ?? '').split('.').map(Number);
  if (parts.length !== 4 || !(len >= 8 && len <= 30)) return undefined;
  const toInt = (p: number[]) => ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
  const toIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  const net = toInt(parts);
  const size = 2 ** (32 - len);
  const gw = toInt(gateway.split('.').map(Number));
  const first = net + 1;
  const last = net + size - 2;
  // DevStack leaves the gateway out of the pool: the pool starts after it when it is the first address.
  return gw === first ? { start: toIp(first + 1), end: toIp(last) } : { start: toIp(first), end: toIp(last) };
}

export async function bootstrapNetworks(o: NetworkBootstrapOptions): Promise<NetworkBootstrapResult> {
  const b = o.config.bootstrap;
  if (!b.enabled) return { created: false };
  const existing = (await call(o, 'GET', '/networks?router:external=true')) as { networks: { id: string }[] };
  if (existing.networks.length > 0) return { created: false, publicNetworkId: existing.networks[0]!.id };

  const pub = (await call(o, 'POST', '/networks', {
    network: {
      name: 'public',
      project_id: o.adminProjectId,
      'router:external': true,
      is_default: true,
      'provider:network_type': 'flat',
      'provider:physical_network': b.public_physical_network,
    },
  })) as { network: { id: string } };
  const pool = poolAfterGateway(b.public_cidr, b.public_gateway);
  await call(o, 'POST', '/subnets', {
    subnet: {
      name: 'public-subnet',
      project_id: o.adminProjectId,
      network_id: pub.network.id,
      ip_version: 4,
      cidr: b.public_cidr,
      gateway_ip: b.public_gateway,
      enable_dhcp: false,
      ...(pool ? { allocation_pools: [pool] } : {}),
    },
  });
  const priv = (await call(o, 'POST', '/networks', {
    network: { name: 'private', project_id: o.demoProjectId },
  })) as { network: { id: string } };
  const privSubnet = (await call(o, 'POST', '/subnets', {
    subnet: {
      name: 'private-subnet',
      project_id: o.demoProjectId,
      network_id: priv.network.id,
      ip_version: 4,
      cidr: b.private_cidr,
    },
  })) as { subnet: { id: string } };
  const router = (await call(o, 'POST', '/routers', {
    router: {
      name: 'router1',
      project_id: o.demoProjectId,
      external_gateway_info: { network_id: pub.network.id },
    },
  })) as { router: { id: string } };
  await call(o, 'PUT', `/routers/${router.router.id}/add_router_interface`, {
    subnet_id: privSubnet.subnet.id,
  });
  o.log.info({ public: pub.network.id, private: priv.network.id }, 'first-use networks created');
  return {
    created: true,
    publicNetworkId: pub.network.id,
    privateNetworkId: priv.network.id,
    routerId: router.router.id,
  };
}
