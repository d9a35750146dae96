// Servers on Neutron networks: the build creates and binds ports (networks by uuid, port, auto, none), the
// info cache shows addresses and groups, delete gives ports back, and Nova's 400/409s for bad requests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestCloud, TestUser } from '../../support/cloud.ts';
import { expectFault, V, waitForStatus } from './compute-support.ts';
import {
  bootServer,
  makeNetwork,
  ports,
  startNeutronCloud,
  type TestNetwork,
  uploadTestImage,
} from './neutron-support.ts';

let tc: TestCloud;
let imageId: string;
let user: TestUser;
let net: TestNetwork;
const MV = { 'openstack-api-version': 'compute 2.93' };

before(async () => {
  tc = await startNeutronCloud();
  imageId = await uploadTestImage(tc);
  user = await tc.makeUser();
  net = await makeNetwork(tc, user.token, 'private', '10.20.0.0/24');
});
after(async () => {
  await tc.close();
});

const create = (body: Record<string, unknown>, token = user.token, mv = '2.93') =>
  tc.request('POST', `${V}/servers`, {
    token,
    headers: { 'openstack-api-version': `compute ${mv}` },
    body: { server: { name: 'vm', flavorRef: '1', imageRef: imageId, ...body } },
  });

describe('servers on Neutron networks', () => {
  test('networks [{uuid}]: a bound port with the server as device, addresses and groups from it', async () => {
    const s = await bootServer(tc, user, imageId, { networks: [{ uuid: net.id }] });
    const id = String(s['id']);
    const mine = await ports(tc, `device_id=${id}`);
    assert.equal(mine.length, 1);
    const p = mine[0]!;
    assert.equal(p['network_id'], net.id);
    assert.equal(p['device_owner'], 'compute:nova');
    const asAdmin = await tc.request('GET', `${V}/servers/${id}`, { token: tc.adminToken, headers: MV });
    assert.match(String(p['binding:host_id']), /^fake-host-/);
    assert.equal(p['binding:host_id'], asAdmin.body.server['OS-EXT-SRV-ATTR:host']);
    assert.equal(p['project_id'], user.projectId);
    assert.equal(p['status'], 'ACTIVE');
    const ip = (p['fixed_ips'] as { ip_address: string }[])[0]!.ip_address;
    assert.match(ip, /^10\.20\.0\.\d+$/);
    assert.deepEqual(s['addresses'], {
      private: [
        { version: 4, addr: ip, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': p['mac_address'] },
      ],
    });
    assert.deepEqual(s['security_groups'], [{ name: 'default' }]);
    const ips = await tc.request('GET', `${V}/servers/${id}/ips`, { token: user.token });
    assert.deepEqual(ips.body, { addresses: { private: [{ version: 4, addr: ip }] } });
    const byNet = await tc.request('GET', `${V}/servers/${id}/ips/private`, { token: user.token });
    assert.deepEqual(byNet.body, { private: [{ version: 4, addr: ip }] });
    expectFault(await tc.request('GET', `${V}/servers/${id}/ips/nope`, { token: user.token }), 404);
    const found = await tc.request('GET', `${V}/servers?ip=${ip.replaceAll('.', '\\.')}$`, {
      token: user.token,
    });
    assert.deepEqual(
      found.body.servers.map((x: { id: string }) => x.id),
      [id],
    );
    const events = await tc.request('GET', `${V}/servers/${id}/os-instance-actions`, { token: user.token });
    assert.equal(events.body.instanceActions[0].action, 'create');
    // Delete: the port compute made goes.
    assert.equal((await tc.request('DELETE', `${V}/servers/${id}`, { token: user.token })).status, 204);
    await waitForStatus(tc, id, user.token, 'DELETED');
    assert.equal((await ports(tc, `device_id=${id}`)).length, 0);
    assert.equal((await ports(tc, `id=${p['id']}`)).length, 0);
  });

  test('networks [{port}]: the user port is bound, then left (unbound) on delete; a used port is 409', async () => {
    const made = await tc.request('POST', '/network/v2.0/ports', {
      token: user.token,
      body: { port: { network_id: net.id, name: 'mine' } },
    });
    assert.equal(made.status, 201, made.text);
    const portId = made.body.port.id;
    const s = await bootServer(tc, user, imageId, { networks: [{ port: portId }] });
    const id = String(s['id']);
    const [p] = await ports(tc, `id=${portId}`);
    assert.equal(p!['device_id'], id);
    assert.equal(p!['device_owner'], 'compute:nova');
    expectFault(await create({ networks: [{ port: portId }] }), 409, `Port ${portId} is still in use.`);
    await tc.request('DELETE', `${V}/servers/${id}`, { token: user.token });
    await waitForStatus(tc, id, user.token, 'DELETED');
    const [left] = await ports(tc, `id=${portId}`);
    assert.ok(left, 'the user port stays');
    assert.equal(left!['device_id'], '');
    assert.equal(left!['device_owner'], '');
  });

  test('auto: the one usable network; two are ambiguous (409); none is 400; none (no networks) is no port', async () => {
    const s = await bootServer(tc, user, imageId, { networks: 'auto' });
    assert.deepEqual(Object.keys(s['addresses'] as object), ['private']);
    const other = await tc.makeUser();
    expectFault(
      await create({ networks: 'auto' }, other.token),
      400,
      `Unable to automatically allocate a network for project ${other.projectId}`,
    );
    const none = await bootServer(tc, other, imageId, { networks: 'none' });
    assert.deepEqual(none['addresses'], {});
    assert.equal((await ports(tc, `device_id=${none['id']}`)).length, 0);
    // Without networks (2.1) and no network: a server without ports, as Nova.
    const old = await bootServer(tc, other, imageId, {}, { mv: '2.1' });
    assert.deepEqual(old['addresses'], {});
    await makeNetwork(tc, user.token, 'second', '10.21.0.0/24');
    expectFault(
      await create({ networks: 'auto' }),
      409,
      'Multiple possible networks found, use a Network ID to be more specific.',
    );
    expectFault(await create({}, user.token, '2.1'), 409);
  });

  test('bad requests: unknown network (400), unknown group (400), fixed IP in use (400)', async () => {
    const ghost = '6b9a1f70-1e38-4a49-8d0f-1e7cb6a8e9a1';
    expectFault(await create({ networks: [{ uuid: ghost }] }), 400, `Network ${ghost} could not be found.`);
    expectFault(
      await create({ networks: [{ uuid: net.id }], security_groups: [{ name: 'nope' }] }),
      400,
      "Unable to find security_group with name or id 'nope'",
    );
    const s = await bootServer(tc, user, imageId, { networks: [{ uuid: net.id, fixed_ip: '10.20.0.77' }] });
    assert.equal((s['addresses'] as Record<string, { addr: string }[]>)['private']![0]!.addr, '10.20.0.77');
    expectFault(
      await create({ networks: [{ uuid: net.id, fixed_ip: '10.20.0.77' }] }),
      400,
      `Fixed IP address 10.20.0.77 is already in use on instance ${s['id']}.`,
    );
  });

  test('external events: network-changed refreshes the cache; an unknown server is 404 in a 207', async () => {
    const s = await bootServer(tc, user, imageId, { networks: [{ uuid: net.id }] });
    const [p] = await ports(tc, `device_id=${s['id']}`);
    const r = await tc.request('POST', `${V}/os-server-external-events`, {
      token: tc.adminToken,
      headers: MV,
      body: {
        events: [
          { name: 'network-changed', server_uuid: s['id'], tag: p!['id'] },
          { name: 'network-vif-plugged', server_uuid: '6b9a1f70-1e38-4a49-8d0f-1e7cb6a8e9a1', tag: p!['id'] },
        ],
      },
    });
    assert.equal(r.status, 207, r.text);
    assert.equal(r.body.events[0].code, 200);
    assert.equal(r.body.events[0].status, 'completed');
    assert.equal(r.body.events[1].code, 404);
  });
});
