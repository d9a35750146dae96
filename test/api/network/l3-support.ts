// Helpers for the L3 API tests: an external network, tenant networks with a subnet, ports and routers.
import assert from 'node:assert/strict';
import type { TestCloud, TestUser } from '../../support/cloud.ts';
import { neutron } from './network-support.ts';

/** A resource as the API answers it. */
// biome-ignore lint/suspicious/noExplicitAny: JSON response bodies.
export type Json = Record<string, any>;

export interface Net {
  networkId: string;
  subnetId: string;
  cidr: string;
}

let seq = 0;

/** An admin-owned external network (router:external) with one IPv4 subnet. */
export async function externalNet(tc: TestCloud, cidr = '172.24.4.0/24'): Promise<Net> {
  const n = await neutron(tc, 'POST', '/networks', {
    token: tc.adminToken,
    body: { network: { name: `public-${++seq}`, 'router:external': true } },
  });
  assert.equal(n.status, 201, n.text);
  const s = await neutron(tc, 'POST', '/subnets', {
    token: tc.adminToken,
    body: { subnet: { network_id: n.body.network.id, ip_version: 4, cidr, enable_dhcp: false } },
  });
  assert.equal(s.status, 201, s.text);
  return { networkId: n.body.network.id, subnetId: s.body.subnet.id, cidr };
}

/** A tenant network with one subnet (gateway .1). */
export async function tenantNet(
  tc: TestCloud,
  user: TestUser | string,
  cidr = '10.0.0.0/24',
  subnet: Record<string, unknown> = {},
): Promise<Net> {
  const token = typeof user === 'string' ? user : user.token;
  const n = await neutron(tc, 'POST', '/networks', { token, body: { network: { name: `net-${++seq}` } } });
  assert.equal(n.status, 201, n.text);
  const s = await neutron(tc, 'POST', '/subnets', {
    token,
    body: { subnet: { network_id: n.body.network.id, ip_version: 4, cidr, enable_dhcp: false, ...subnet } },
  });
  assert.equal(s.status, 201, s.text);
  return { networkId: n.body.network.id, subnetId: s.body.subnet.id, cidr };
}

export async function makePort(
  tc: TestCloud,
  user: TestUser | string,
  networkId: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; mac_address: string; fixed_ips: { subnet_id: string; ip_address: string }[] }> {
  const token = typeof user === 'string' ? user : user.token;
  const res = await neutron(tc, 'POST', '/ports', {
    token,
    body: { port: { network_id: networkId, ...extra } },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.port;
}

export async function makeRouter(
  tc: TestCloud,
  user: TestUser | string,
  body: Record<string, unknown> = {},
): Promise<Json> {
  const token = typeof user === 'string' ? user : user.token;
  const res = await neutron(tc, 'POST', '/routers', {
    token,
    body: { router: { name: `r-${++seq}`, ...body } },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.router;
}

export async function addInterface(
  tc: TestCloud,
  user: TestUser | string,
  routerId: string,
  body: Record<string, unknown>,
): Promise<Json> {
  const token = typeof user === 'string' ? user : user.token;
  const res = await neutron(tc, 'PUT', `/routers/${routerId}/add_router_interface`, { token, body });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

/** A router with a gateway on `ext` and an interface on `net`: the path floating IPs take. */
export async function routedNet(
  tc: TestCloud,
  user: TestUser,
  ext: Net,
  cidr: string,
): Promise<{ net: Net; router: Json }> {
  const net = await tenantNet(tc, user, cidr);
  const router = await makeRouter(tc, user, { external_gateway_info: { network_id: ext.networkId } });
  await addInterface(tc, user, router['id'], { subnet_id: net.subnetId });
  return { net, router };
}
