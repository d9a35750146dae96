// add_router_interface / remove_router_interface by subnet and by port, the 400/404/409s Neutron gives, and the
// ports and subnets a router holds (cannot be deleted underneath it).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { addInterface, makePort, makeRouter, tenantNet } from './l3-support.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  tc = await startTestCloud();
  alice = await tc.makeUser();
  bob = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

const put = (user: TestUser, routerId: string, action: string, body: unknown) =>
  neutron(tc, 'PUT', `/routers/${routerId}/${action}`, { token: user.token, body });

describe('router interfaces', () => {
  test('by subnet: a port with the gateway address, answer fields, then removal', async () => {
    const net = await tenantNet(tc, alice, '10.1.0.0/24');
    const r = await makeRouter(tc, alice);
    const info = await addInterface(tc, alice, r.id, { subnet_id: net.subnetId });
    assert.deepEqual(Object.keys(info).sort(), [
      'id',
      'network_id',
      'port_id',
      'project_id',
      'subnet_id',
      'subnet_ids',
      'tenant_id',
    ]);
    assert.equal(info.id, r.id);
    assert.equal(info.subnet_id, net.subnetId);
    assert.deepEqual(info.subnet_ids, [net.subnetId]);
    assert.equal(info.network_id, net.networkId);
    assert.equal(info.tenant_id, alice.projectId);
    const port = (await neutron(tc, 'GET', `/ports/${info.port_id}`, { token: alice.token })).body.port;
    assert.equal(port.device_id, r.id);
    assert.equal(port.device_owner, 'network:router_interface');
    assert.deepEqual(port.fixed_ips, [{ subnet_id: net.subnetId, ip_address: '10.1.0.1' }]);
    const byDevice = await neutron(tc, 'GET', `/ports?device_id=${r.id}`, { token: alice.token });
    assert.deepEqual(
      byDevice.body.ports.map((p: { id: string }) => p.id),
      [info.port_id],
    );

    expectNeutronError(
      await put(alice, r.id, 'add_router_interface', { subnet_id: net.subnetId }),
      400,
      'BadRequest',
      `Bad router request: Router already has a port on subnet ${net.subnetId}.`,
    );
    const removed = await put(alice, r.id, 'remove_router_interface', { subnet_id: net.subnetId });
    assert.equal(removed.status, 200, removed.text);
    assert.equal(removed.body.subnet_id, net.subnetId);
    assert.equal(removed.body.port_id, info.port_id);
    expectNeutronError(
      await neutron(tc, 'GET', `/ports/${info.port_id}`, { token: alice.token }),
      404,
      'PortNotFound',
    );
    expectNeutronError(
      await put(alice, r.id, 'remove_router_interface', { subnet_id: net.subnetId }),
      404,
      'RouterInterfaceNotFoundForSubnet',
      `Router ${r.id} has no interface on subnet ${net.subnetId}`,
    );
  });

  test('overlapping subnets on one router are 400; the same CIDR on two routers is fine', async () => {
    const a = await tenantNet(tc, alice, '10.2.0.0/24');
    const b = await tenantNet(tc, alice, '10.2.0.0/24');
    const r = await makeRouter(tc, alice);
    await addInterface(tc, alice, r.id, { subnet_id: a.subnetId });
    expectNeutronError(
      await put(alice, r.id, 'add_router_interface', { subnet_id: b.subnetId }),
      400,
      'BadRequest',
      `Bad router request: Cidr 10.2.0.0/24 of subnet ${b.subnetId} overlaps with cidr 10.2.0.0/24 of subnet ${a.subnetId}.`,
    );
    const r2 = await makeRouter(tc, alice);
    await addInterface(tc, alice, r2.id, { subnet_id: b.subnetId });
  });

  test('by port: the port becomes the interface; a port in use is 409; removal deletes it', async () => {
    const net = await tenantNet(tc, alice, '10.3.0.0/24');
    const r = await makeRouter(tc, alice);
    const p = await makePort(tc, alice, net.networkId);
    const info = await addInterface(tc, alice, r.id, { port_id: p.id });
    assert.equal(info.port_id, p.id);
    assert.equal(info.subnet_id, net.subnetId);
    const port = (await neutron(tc, 'GET', `/ports/${p.id}`, { token: alice.token })).body.port;
    assert.equal(port.device_id, r.id);
    assert.equal(port.device_owner, 'network:router_interface');

    const busy = await makePort(tc, alice, net.networkId, { device_id: 'some-server' });
    expectNeutronError(
      await put(alice, r.id, 'add_router_interface', { port_id: busy.id }),
      409,
      'PortInUse',
      `Unable to complete operation on port ${busy.id} for network ${net.networkId}. Port already has an attached device some-server.`,
    );
    const other = await makeRouter(tc, alice);
    expectNeutronError(
      await put(alice, other.id, 'remove_router_interface', { port_id: p.id }),
      404,
      'RouterInterfaceNotFound',
      `Router ${other.id} does not have an interface with id ${p.id}`,
    );
    const removed = await put(alice, r.id, 'remove_router_interface', { port_id: p.id });
    assert.equal(removed.status, 200, removed.text);
    assert.equal(removed.body.port_id, p.id);
    expectNeutronError(
      await neutron(tc, 'GET', `/ports/${p.id}`, { token: alice.token }),
      404,
      'PortNotFound',
    );
  });

  test('request errors: neither, both, bad UUID, unknown subnet, subnet without gateway', async () => {
    const r = await makeRouter(tc, alice);
    expectNeutronError(
      await put(alice, r.id, 'add_router_interface', {}),
      400,
      'BadRequest',
      'Bad router request: Either subnet_id or port_id must be specified.',
    );
    const net = await tenantNet(tc, alice, '10.4.0.0/24');
    const p = await makePort(tc, alice, net.networkId);
    expectNeutronError(
      await put(alice, r.id, 'add_router_interface', { subnet_id: net.subnetId, port_id: p.id }),
      400,
      'BadRequest',
      'Bad router request: Cannot specify both subnet-id and port-id.',
    );
    expectNeutronError(
      await put(alice, r.id, 'add_router_interface', { subnet_id: 'nope' }),
      400,
      'BadRequest',
      "Bad router request: 'nope' is not a valid UUID.",
    );
    expectNeutronError(
      await put(alice, r.id, 'add_router_interface', { subnet_id: '0b3f4a9e-6f6c-4d8a-9d59-2b1c8b0e0000' }),
      404,
      'SubnetNotFound',
    );
    const noGw = await tenantNet(tc, alice, '10.5.0.0/24', { gateway_ip: null });
    expectNeutronError(
      await put(alice, r.id, 'add_router_interface', { subnet_id: noGw.subnetId }),
      400,
      'BadRequest',
      'Bad router request: Subnet for router interface must have a gateway IP.',
    );
    // Another project's router and subnet stay invisible.
    expectNeutronError(
      await put(bob, r.id, 'add_router_interface', { subnet_id: net.subnetId }),
      404,
      'RouterNotFound',
    );
    const bobs = await makeRouter(tc, bob);
    expectNeutronError(
      await put(bob, bobs.id, 'add_router_interface', { subnet_id: net.subnetId }),
      404,
      'SubnetNotFound',
    );
  });

  test('a router with interfaces cannot be deleted; its ports and subnets cannot go underneath it', async () => {
    const net = await tenantNet(tc, alice, '10.6.0.0/24');
    const r = await makeRouter(tc, alice);
    const info = await addInterface(tc, alice, r.id, { subnet_id: net.subnetId });
    expectNeutronError(
      await neutron(tc, 'DELETE', `/routers/${r.id}`, { token: alice.token }),
      409,
      'RouterInUse',
      `Router ${r.id} has ports still attached: ${info.port_id}`,
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/ports/${info.port_id}`, { token: alice.token }),
      409,
      'ServicePortInUse',
      `Port ${info.port_id} cannot be deleted directly via the port API: has device owner network:router_interface.`,
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/subnets/${net.subnetId}`, { token: alice.token }),
      409,
      'SubnetInUse',
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/networks/${net.networkId}`, { token: alice.token }),
      409,
      'NetworkInUse',
    );
    await put(alice, r.id, 'remove_router_interface', { subnet_id: net.subnetId });
    assert.equal((await neutron(tc, 'DELETE', `/routers/${r.id}`, { token: alice.token })).status, 204);
    assert.equal(
      (await neutron(tc, 'DELETE', `/networks/${net.networkId}`, { token: alice.token })).status,
      204,
    );
  });

  test('IPv6 subnets attach too, with the subnet-router anycast gateway Neutron picks', async () => {
    const r = await makeRouter(tc, alice);
    const n = await neutron(tc, 'POST', '/networks', {
      token: alice.token,
      body: { network: { name: 'v6' } },
    });
    const s = await neutron(tc, 'POST', '/subnets', {
      token: alice.token,
      body: { subnet: { network_id: n.body.network.id, ip_version: 6, cidr: '2001:db8:1::/64' } },
    });
    assert.equal(s.status, 201, s.text);
    const info = await addInterface(tc, alice, r.id, { subnet_id: s.body.subnet.id });
    const port = (await neutron(tc, 'GET', `/ports/${info.port_id}`, { token: alice.token })).body.port;
    assert.deepEqual(port.fixed_ips, [{ subnet_id: s.body.subnet.id, ip_address: '2001:db8:1::' }]);
  });
});
