// Helpers of the compute-with-Neutron tests: a test cloud whose compute uses the network service, networks and
// subnets made through Neutron's API, and servers booted on them.
import assert from 'node:assert/strict';
import { NetworkClient } from '../../../src/clients/network.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { uploadTestImage, V, waitForStatus } from './compute-support.ts';

/** A test cloud whose compute talks to its network service (wired here until the composition root does it). */
export async function startNeutronCloud(): Promise<TestCloud> {
  const tc = await startTestCloud();
  const cx = tc.cloud.compute.context;
  cx.network ??= new NetworkClient(tc.cloud.transport, tc.cloud.serviceToken);
  tc.cloud.network.context.notifier ??= tc.cloud.compute.notifier;
  return tc;
}

export interface TestNetwork {
  id: string;
  name: string;
  subnetId: string;
  cidr: string;
}

/** A network with one IPv4 subnet, made with `token` (shared/external when asked, which needs an admin). */
export async function makeNetwork(
  tc: TestCloud,
  token: string,
  name: string,
  cidr: string,
  extra: Record<string, unknown> = {},
): Promise<TestNetwork> {
  const n = await tc.request('POST', '/network/v2.0/networks', {
    token,
    body: { network: { name, ...extra } },
  });
  assert.equal(n.status, 201, n.text);
  const s = await tc.request('POST', '/network/v2.0/subnets', {
    token,
    body: { subnet: { network_id: n.body.network.id, cidr, ip_version: 4, name: `${name}-subnet` } },
  });
  assert.equal(s.status, 201, s.text);
  return { id: n.body.network.id, name, subnetId: s.body.subnet.id, cidr };
}

/** Boots a server as `user` and waits for `status` (default ACTIVE); returns the server body. */
export async function bootServer(
  tc: TestCloud,
  user: TestUser,
  imageId: string,
  server: Record<string, unknown>,
  opts: { mv?: string; status?: string } = {},
): Promise<Record<string, unknown>> {
  const r = await tc.request('POST', `${V}/servers`, {
    token: user.token,
    headers: { 'openstack-api-version': `compute ${opts.mv ?? '2.93'}` },
    body: { server: { name: 'vm', flavorRef: '1', imageRef: imageId, ...server } },
  });
  assert.equal(r.status, 202, r.text);
  return waitForStatus(tc, r.body.server.id, user.token, opts.status ?? 'ACTIVE');
}

export async function ports(tc: TestCloud, query: string): Promise<Record<string, unknown>[]> {
  const r = await tc.request('GET', `/network/v2.0/ports?${query}`, { token: tc.adminToken });
  assert.equal(r.status, 200, r.text);
  return r.body.ports;
}

export { uploadTestImage };
