// os-floating-ip-pools and os-floating-ips served from Neutron (≤2.35), addFloatingIp / removeFloatingIp (≤2.43)
// through Neutron's floating IPs, and floating addresses in the server's addresses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestCloud, TestUser } from '../../support/cloud.ts';
import { expectFault, nova } from './compute-support.ts';
import {
  bootServer,
  makeNetwork,
  startNeutronCloud,
  type TestNetwork,
  uploadTestImage,
} from './neutron-support.ts';

let tc: TestCloud;
let user: TestUser;
let imageId: string;
let net: TestNetwork;

before(async () => {
  tc = await startNeutronCloud();
  imageId = await uploadTestImage(tc);
  user = await tc.makeUser();
  const ext = await makeNetwork(tc, tc.adminToken, 'public', '172.24.4.0/24', { 'router:external': true });
  net = await makeNetwork(tc, user.token, 'private', '10.40.0.0/24');
  const router = await tc.request('POST', '/network/v2.0/routers', {
    token: user.token,
    body: { router: { name: 'r1', external_gateway_info: { network_id: ext.id } } },
  });
  assert.equal(router.status, 201, router.text);
  const itf = await tc.request('PUT', `/network/v2.0/routers/${router.body.router.id}/add_router_interface`, {
    token: user.token,
    body: { subnet_id: net.subnetId },
  });
  assert.equal(itf.status, 200, itf.text);
});
after(async () => {
  await tc.close();
});

const call = (method: string, path: string, body?: unknown, mv?: string) =>
  nova(tc, method, path, { token: user.token, body, ...(mv ? { mv } : {}) });

describe('floating IPs through Neutron', () => {
  test('pools are the external networks; allocate, list, show, release', async () => {
    const pools = await call('GET', '/os-floating-ip-pools');
    assert.deepEqual(pools.body, { floating_ip_pools: [{ name: 'public' }] });
    const made = await call('POST', '/os-floating-ips', { pool: 'public' });
    assert.equal(made.status, 200, made.text);
    const fip = made.body.floating_ip;
    assert.equal(fip.pool, 'public');
    assert.match(fip.ip, /^172\.24\.4\.\d+$/);
    assert.equal(fip.fixed_ip, null);
    assert.equal(fip.instance_id, null);
    const list = await call('GET', '/os-floating-ips');
    assert.deepEqual(
      list.body.floating_ips.map((f: { id: string }) => f.id),
      [fip.id],
    );
    assert.equal((await call('GET', `/os-floating-ips/${fip.id}`)).body.floating_ip.ip, fip.ip);
    expectFault(
      await call('POST', '/os-floating-ips', { pool: 'nowhere' }),
      404,
      'Floating IP pool not found.',
    );
    assert.equal((await call('DELETE', `/os-floating-ips/${fip.id}`)).status, 202);
    expectFault(
      await call('GET', `/os-floating-ips/${fip.id}`),
      404,
      `Floating IP not found for ID ${fip.id}`,
    );
    expectFault(await call('GET', '/os-floating-ips', undefined, '2.36'), 404);
  });

  test('addFloatingIp puts the address on the server; removeFloatingIp takes it off', async () => {
    const s = await bootServer(tc, user, imageId, { networks: [{ uuid: net.id }] });
    const id = String(s['id']);
    const fip = (await call('POST', '/os-floating-ips', { pool: 'public' })).body.floating_ip;
    const add = await call('POST', `/servers/${id}/action`, { addFloatingIp: { address: fip.ip } });
    assert.equal(add.status, 202, add.text);
    const shown = await nova(tc, 'GET', `/servers/${id}`, { token: user.token, mv: '2.1' });
    const addrs = shown.body.server.addresses.private as Record<string, unknown>[];
    assert.equal(addrs.length, 2);
    assert.equal(addrs[1]!['addr'], fip.ip);
    assert.equal(addrs[1]!['OS-EXT-IPS:type'], 'floating');
    const again = await call('GET', `/os-floating-ips/${fip.id}`);
    assert.equal(again.body.floating_ip.instance_id, id);
    assert.equal(again.body.floating_ip.fixed_ip, addrs[0]!['addr']);
    expectFault(
      await call('POST', `/servers/${id}/action`, { addFloatingIp: { address: '172.24.4.250' } }),
      404,
      'floating IP not found',
    );
    const rm = await call('POST', `/servers/${id}/action`, { removeFloatingIp: { address: fip.ip } });
    assert.equal(rm.status, 202, rm.text);
    const after = await nova(tc, 'GET', `/servers/${id}`, { token: user.token });
    assert.equal(after.body.server.addresses.private.length, 1);
    expectFault(
      await call('POST', `/servers/${id}/action`, { removeFloatingIp: { address: fip.ip } }),
      409,
      `Floating IP ${fip.ip} is not associated with instance ${id}.`,
    );
    expectFault(
      await call('POST', `/servers/${id}/action`, { addFloatingIp: { address: fip.ip } }, '2.44'),
      404,
    );
  });
});
