// /servers/{id}/os-interface over Neutron: list, show, attach by network (with an address) or by port, detach
// (compute's port deleted, the user's unbound), and Nova's errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeDriver } from '../../../src/agent/compute/drivers/fake/fake-driver.ts';
import type { TestCloud, TestUser } from '../../support/cloud.ts';
import { expectFault, nova } from './compute-support.ts';
import {
  bootServer,
  makeNetwork,
  ports,
  startNeutronCloud,
  type TestNetwork,
  uploadTestImage,
} from './neutron-support.ts';

let tc: TestCloud;
let user: TestUser;
let imageId: string;
let net: TestNetwork;
let net2: TestNetwork;

before(async () => {
  tc = await startNeutronCloud();
  imageId = await uploadTestImage(tc);
  user = await tc.makeUser();
  net = await makeNetwork(tc, user.token, 'first', '10.60.0.0/24');
  net2 = await makeNetwork(tc, user.token, 'second', '10.61.0.0/24');
});
after(async () => {
  await tc.close();
});

const call = (method: string, path: string, body?: unknown, mv = '2.70') =>
  nova(tc, method, path, { token: user.token, body, mv });

describe('os-interface', () => {
  test('list and show the server’s ports; attach a network with an address; detach deletes the port', async () => {
    const s = await bootServer(tc, user, imageId, { networks: [{ uuid: net.id }] });
    const id = String(s['id']);
    const list = await call('GET', `/servers/${id}/os-interface`);
    assert.equal(list.body.interfaceAttachments.length, 1);
    const first = list.body.interfaceAttachments[0];
    assert.deepEqual(Object.keys(first).sort(), [
      'fixed_ips',
      'mac_addr',
      'net_id',
      'port_id',
      'port_state',
      'tag',
    ]);
    assert.equal(first.net_id, net.id);
    assert.equal(first.port_state, 'ACTIVE');
    const shown = await call('GET', `/servers/${id}/os-interface/${first.port_id}`);
    assert.equal(shown.body.interfaceAttachment.port_id, first.port_id);
    const att = await call('POST', `/servers/${id}/os-interface`, {
      interfaceAttachment: { net_id: net2.id, fixed_ips: [{ ip_address: '10.61.0.50' }], tag: 'eth1' },
    });
    assert.equal(att.status, 200, att.text);
    const a = att.body.interfaceAttachment;
    assert.equal(a.net_id, net2.id);
    assert.equal(a.fixed_ips[0].ip_address, '10.61.0.50');
    assert.equal(a.tag, 'eth1');
    const [p] = await ports(tc, `id=${a.port_id}`);
    assert.equal(p!['device_id'], id);
    const server = await nova(tc, 'GET', `/servers/${id}`, { token: user.token, mv: '2.93' });
    assert.deepEqual(Object.keys(server.body.server.addresses).sort(), ['first', 'second']);
    const actions = await call('GET', `/servers/${id}/os-instance-actions`);
    assert.equal(actions.body.instanceActions[0].action, 'attach_interface');
    assert.equal((await call('DELETE', `/servers/${id}/os-interface/${a.port_id}`)).status, 202);
    assert.equal((await ports(tc, `id=${a.port_id}`)).length, 0);
    const after = await nova(tc, 'GET', `/servers/${id}`, { token: user.token, mv: '2.93' });
    assert.deepEqual(Object.keys(after.body.server.addresses), ['first']);
    expectFault(
      await call('DELETE', `/servers/${id}/os-interface/${a.port_id}`),
      404,
      `Port id ${a.port_id} could not be found.`,
    );
  });

  test('attach a user port: bound, then unbound (kept) on detach; bad requests', async () => {
    const s = await bootServer(tc, user, imageId, { networks: [{ uuid: net.id }] });
    const id = String(s['id']);
    const made = await tc.request('POST', '/network/v2.0/ports', {
      token: user.token,
      body: { port: { network_id: net2.id } },
    });
    const portId = made.body.port.id;
    const att = await call('POST', `/servers/${id}/os-interface`, {
      interfaceAttachment: { port_id: portId },
    });
    assert.equal(att.status, 200, att.text);
    expectFault(
      await call('POST', `/servers/${id}/os-interface`, { interfaceAttachment: { port_id: portId } }),
      409,
      `Port ${portId} is still in use.`,
    );
    assert.equal((await call('DELETE', `/servers/${id}/os-interface/${portId}`)).status, 202);
    const [kept] = await ports(tc, `id=${portId}`);
    assert.equal(kept!['device_id'], '');
    expectFault(
      await call('POST', `/servers/${id}/os-interface`, {
        interfaceAttachment: { net_id: net.id, port_id: portId },
      }),
      400,
      'Must not input both network_id and port_id',
    );
    expectFault(
      await call('POST', `/servers/${id}/os-interface`, {}),
      400,
      'Multiple possible networks found, use a Network ID to be more specific.',
    );
    expectFault(await call('GET', `/servers/${id}/os-interface/6b9a1f70-1e38-4a49-8d0f-1e7cb6a8e9a1`), 404);
  });
  test('a port deleted in Neutron leaves the running guest (network-vif-deleted) and its addresses', async () => {
    const s = await bootServer(tc, user, imageId, { networks: [{ uuid: net.id }] });
    const id = String(s['id']);
    const att = await call('POST', `/servers/${id}/os-interface`, {
      interfaceAttachment: { net_id: net2.id },
    });
    assert.equal(att.status, 200, att.text);
    const host = (await nova(tc, 'GET', `/servers/${id}`, { token: tc.adminToken, mv: '2.93' })).body.server[
      'OS-EXT-SRV-ATTR:host'
    ];
    const driver = tc.cloud.compute.agent!.reconciler(host)!.driver as FakeDriver;
    const nics = async () => driver.devices(id).nics.length;
    assert.equal(await nics(), 2);
    const del = await tc.request('DELETE', `/network/v2.0/ports/${att.body.interfaceAttachment.port_id}`, {
      token: tc.adminToken,
    });
    assert.equal(del.status, 204, del.text);
    const networks = async () =>
      Object.keys(
        (await nova(tc, 'GET', `/servers/${id}`, { token: user.token, mv: '2.93' })).body.server.addresses,
      );
    for (let i = 0; i < 100 && ((await nics()) !== 1 || (await networks()).length !== 1); i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(await nics(), 1, 'the guest lost the deleted port’s NIC');
    assert.deepEqual(await networks(), ['first']);
  });
});
