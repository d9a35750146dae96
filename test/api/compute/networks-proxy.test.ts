// os-networks and os-tenant-networks served from Neutron (list and show, ≤2.35); what nova-network could
// change is 410 Gone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestCloud, TestUser } from '../../support/cloud.ts';
import { expectFault, nova } from './compute-support.ts';
import { makeNetwork, startNeutronCloud, type TestNetwork } from './neutron-support.ts';

let tc: TestCloud;
let user: TestUser;
let net: TestNetwork;

before(async () => {
  tc = await startNeutronCloud();
  user = await tc.makeUser();
  net = await makeNetwork(tc, user.token, 'mine', '10.50.0.0/24');
});
after(async () => {
  await tc.close();
});

describe('nova-network proxies over Neutron', () => {
  test('os-networks: the caller’s networks with only id and label filled', async () => {
    const list = await nova(tc, 'GET', '/os-networks', { token: user.token });
    assert.equal(list.status, 200, list.text);
    const mine = list.body.networks.find((n: { id: string }) => n.id === net.id);
    assert.equal(mine.label, 'mine');
    assert.equal(mine.cidr, null);
    assert.ok(!('project_id' in mine), 'admin fields stay hidden from members');
    const shown = await nova(tc, 'GET', `/os-networks/${net.id}`, { token: user.token });
    assert.equal(shown.body.network.id, net.id);
    const asAdmin = await nova(tc, 'GET', `/os-networks/${net.id}`, { token: tc.adminToken });
    assert.ok('project_id' in asAdmin.body.network);
    expectFault(
      await nova(tc, 'GET', '/os-networks/6b9a1f70-1e38-4a49-8d0f-1e7cb6a8e9a1', { token: user.token }),
      404,
      'Network not found',
    );
    expectFault(await nova(tc, 'GET', '/os-networks', { token: user.token, mv: '2.36' }), 404);
    assert.equal(
      (await nova(tc, 'POST', '/os-networks', { token: tc.adminToken, body: { network: {} } })).status,
      410,
    );
    assert.equal((await nova(tc, 'DELETE', `/os-networks/${net.id}`, { token: tc.adminToken })).status, 410);
  });

  test('os-tenant-networks: id, label and the cidr "None"', async () => {
    const list = await nova(tc, 'GET', '/os-tenant-networks', { token: user.token });
    assert.deepEqual(
      list.body.networks.filter((n: { id: string }) => n.id === net.id),
      [{ id: net.id, cidr: 'None', label: 'mine' }],
    );
    const shown = await nova(tc, 'GET', `/os-tenant-networks/${net.id}`, { token: user.token });
    assert.deepEqual(shown.body, { network: { id: net.id, cidr: 'None', label: 'mine' } });
    expectFault(
      await nova(tc, 'GET', `/os-tenant-networks/${net.id}`, { token: user.token, mv: '2.36' }),
      404,
    );
    assert.equal(
      (await nova(tc, 'POST', '/os-tenant-networks', { token: user.token, body: {} })).status,
      410,
    );
  });
});
