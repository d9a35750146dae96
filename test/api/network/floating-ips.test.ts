// /v2.0/floatingips: create/list/show/update/delete, association through a router (and the 404 when none
// reaches the external network), moving between routers, ports deleted underneath, and tempest's interop checks
// of test_floating_ips / test_floating_ips_negative.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import {
  addInterface,
  externalNet,
  type Json,
  makePort,
  makeRouter,
  type Net,
  routedNet,
  tenantNet,
} from './l3-support.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;
let bob: TestUser;
let ext: Net;
let net: Net;
let router: Json;

before(async () => {
  tc = await startTestCloud();
  alice = await tc.makeUser();
  bob = await tc.makeUser();
  ext = await externalNet(tc);
  ({ net, router } = await routedNet(tc, alice, ext, '10.10.0.0/24'));
});
after(async () => {
  await tc.close();
});

const createFip = (user: TestUser | string, body: Record<string, unknown>) =>
  neutron(tc, 'POST', '/floatingips', {
    token: typeof user === 'string' ? user : user.token,
    body: { floatingip: { floating_network_id: ext.networkId, ...body } },
  });
const updateFip = (user: TestUser, id: string, body: Record<string, unknown>) =>
  neutron(tc, 'PUT', `/floatingips/${id}`, { token: user.token, body: { floatingip: body } });

describe('floating IPs', () => {
  test('create associated, show, list, move to another port, disassociate, delete', async () => {
    const p0 = await makePort(tc, alice, net.networkId);
    const p1 = await makePort(tc, alice, net.networkId);
    const res = await createFip(alice, { port_id: p0.id });
    assert.equal(res.status, 201, res.text);
    const fip = res.body.floatingip;
    assert.equal(fip.project_id, alice.projectId);
    assert.equal(fip.floating_network_id, ext.networkId);
    assert.match(fip.floating_ip_address, /^172\.24\.4\.\d+$/);
    assert.equal(fip.port_id, p0.id);
    assert.equal(fip.fixed_ip_address, p0.fixed_ips[0]!.ip_address);
    assert.equal(fip.router_id, router.id);
    assert.equal(fip.status, 'ACTIVE');
    assert.equal(fip.subnet_id, undefined, 'subnet_id is input only');
    assert.equal(fip.port_details.network_id, net.networkId);
    assert.equal(fip.port_details.mac_address, p0.mac_address);
    assert.deepEqual(fip.port_forwardings, []);

    const shown = await neutron(tc, 'GET', `/floatingips/${fip.id}`, { token: alice.token });
    assert.equal(shown.body.floatingip.floating_ip_address, fip.floating_ip_address);
    const list = await neutron(tc, 'GET', `/floatingips?port_id=${p0.id}`, { token: alice.token });
    assert.deepEqual(
      list.body.floatingips.map((f: { id: string }) => f.id),
      [fip.id],
    );
    const fipPort = await neutron(tc, 'GET', `/ports?device_id=${fip.id}`, { token: tc.adminToken });
    assert.equal(fipPort.body.ports.length, 1);
    assert.equal(fipPort.body.ports[0].device_owner, 'network:floatingip');
    assert.equal(fipPort.body.ports[0].fixed_ips[0].ip_address, fip.floating_ip_address);

    const moved = await updateFip(alice, fip.id, { port_id: p1.id });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body.floatingip.port_id, p1.id);
    assert.equal(moved.body.floatingip.fixed_ip_address, p1.fixed_ips[0]!.ip_address);
    assert.equal(moved.body.floatingip.router_id, router.id);
    assert.equal(moved.body.floatingip.revision_number, fip.revision_number + 1);

    const off = await updateFip(alice, fip.id, { port_id: null });
    assert.equal(off.body.floatingip.port_id, null);
    assert.equal(off.body.floatingip.fixed_ip_address, null);
    assert.equal(off.body.floatingip.router_id, null);
    assert.equal(off.body.floatingip.status, 'DOWN');
    assert.equal(off.body.floatingip.port_details, null);

    assert.equal((await neutron(tc, 'DELETE', `/floatingips/${fip.id}`, { token: alice.token })).status, 204);
    expectNeutronError(
      await neutron(tc, 'GET', `/floatingips/${fip.id}`, { token: alice.token }),
      404,
      'FloatingIPNotFound',
      `Floating IP ${fip.id} could not be found`,
    );
    const gone = await neutron(tc, 'GET', `/ports?device_id=${fip.id}`, { token: tc.adminToken });
    assert.deepEqual(gone.body.ports, [], 'the floating IP port is released');
  });

  test('deleting the associated port disassociates the floating IP', async () => {
    const fip = (await createFip(alice, {})).body.floatingip;
    assert.equal(fip.status, 'DOWN');
    const p = await makePort(tc, alice, net.networkId);
    assert.equal((await updateFip(alice, fip.id, { port_id: p.id })).status, 200);
    assert.equal((await neutron(tc, 'DELETE', `/ports/${p.id}`, { token: alice.token })).status, 204);
    const shown = (await neutron(tc, 'GET', `/floatingips/${fip.id}`, { token: alice.token })).body
      .floatingip;
    assert.equal(shown.port_id, null);
    assert.equal(shown.fixed_ip_address, null);
    assert.equal(shown.router_id, null);
  });

  test('moving to a port behind another router changes router_id', async () => {
    const p = await makePort(tc, alice, net.networkId);
    const fip = (await createFip(alice, { port_id: p.id })).body.floatingip;
    assert.equal(fip.router_id, router.id);
    // The same CIDR on another network behind another router.
    const other = await routedNet(tc, alice, ext, '10.10.0.0/24');
    const q = await makePort(tc, alice, other.net.networkId);
    const moved = await updateFip(alice, fip.id, { port_id: q.id });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body.floatingip.router_id, other.router.id);
    assert.equal(moved.body.floatingip.port_id, q.id);
    assert.ok(moved.body.floatingip.fixed_ip_address);
  });

  test('fixed_ip_address picks one of several addresses; without it such a port is 400', async () => {
    const p = await makePort(tc, alice, net.networkId, {
      fixed_ips: [{ ip_address: '10.10.0.50' }, { ip_address: '10.10.0.51' }],
    });
    expectNeutronError(
      await createFip(alice, { port_id: p.id }),
      400,
      'BadRequest',
      `Bad floatingip request: Port ${p.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP.`,
    );
    const res = await createFip(alice, { port_id: p.id, fixed_ip_address: '10.10.0.50' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.floatingip.fixed_ip_address, '10.10.0.50');
    const up = await updateFip(alice, res.body.floatingip.id, {
      port_id: p.id,
      fixed_ip_address: '10.10.0.51',
    });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.floatingip.fixed_ip_address, '10.10.0.51');
    expectNeutronError(
      await createFip(alice, { port_id: p.id, fixed_ip_address: '10.10.0.51' }),
      409,
      'FloatingIPPortAlreadyAssociated',
      new RegExp(
        `with port ${p.id} using fixed IP 10\\.10\\.0\\.51, as that fixed IP already has a floating IP`,
      ),
    );
    expectNeutronError(
      await createFip(alice, { port_id: p.id, fixed_ip_address: '10.10.0.99' }),
      400,
      'BadRequest',
      `Bad floatingip request: Port ${p.id} does not have fixed ip 10.10.0.99.`,
    );
    expectNeutronError(
      await createFip(alice, { fixed_ip_address: '10.10.0.50' }),
      400,
      'BadRequest',
      'Bad floatingip request: fixed_ip_address cannot be specified without a port_id.',
    );
  });

  test('negative: unreachable external network 404, private network 400, unknown network 404', async () => {
    const lonely = await tenantNet(tc, alice, '10.11.0.0/24');
    const noGw = await makeRouter(tc, alice);
    await addInterface(tc, alice, noGw.id, { subnet_id: lonely.subnetId });
    const p = await makePort(tc, alice, lonely.networkId);
    const msg = `External network ${ext.networkId} is not reachable from subnet ${lonely.subnetId}.  Therefore, cannot associate Port ${p.id} with a Floating IP.`;
    expectNeutronError(
      await createFip(alice, { port_id: p.id, fixed_ip_address: p.fixed_ips[0]!.ip_address }),
      404,
      'ExternalGatewayForFloatingIPNotFound',
      msg,
    );
    const fip = (await createFip(alice, {})).body.floatingip;
    expectNeutronError(
      await updateFip(alice, fip.id, { port_id: p.id, fixed_ip_address: p.fixed_ips[0]!.ip_address }),
      404,
      'ExternalGatewayForFloatingIPNotFound',
      msg,
    );
    expectNeutronError(
      await createFip(alice, { floating_network_id: lonely.networkId, port_id: p.id }),
      400,
      'BadRequest',
      `Bad floatingip request: Network ${lonely.networkId} is not a valid external network.`,
    );
    expectNeutronError(
      await createFip(alice, { floating_network_id: noGw.id }),
      404,
      'NetworkNotFound',
      `Network ${noGw.id} could not be found.`,
    );
    expectNeutronError(await createFip(alice, { floating_network_id: 'x' }), 400, 'HTTPBadRequest');
  });

  test('floating_ip_address is admin-only; admins pick the address', async () => {
    expectNeutronError(
      await createFip(alice, { floating_ip_address: '172.24.4.77' }),
      403,
      'PolicyNotAuthorized',
    );
    const res = await createFip(tc.adminToken, { floating_ip_address: '172.24.4.77' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.floatingip.floating_ip_address, '172.24.4.77');
    const again = await createFip(tc.adminToken, { floating_ip_address: '172.24.4.77' });
    assert.equal(again.status, 409, again.text);
  });

  test('visibility: another project sees no floating IP and cannot use foreign ports', async () => {
    const fip = (await createFip(alice, {})).body.floatingip;
    expectNeutronError(
      await neutron(tc, 'GET', `/floatingips/${fip.id}`, { token: bob.token }),
      404,
      'FloatingIPNotFound',
    );
    expectNeutronError(await updateFip(bob, fip.id, { port_id: null }), 404, 'FloatingIPNotFound');
    const list = await neutron(tc, 'GET', '/floatingips', { token: bob.token });
    assert.ok(!list.body.floatingips.some((f: { id: string }) => f.id === fip.id));
    const p = await makePort(tc, alice, net.networkId);
    expectNeutronError(await createFip(bob, { port_id: p.id }), 404, 'PortNotFound');
  });

  test('what a floating IP holds cannot go: its port, the interface, the gateway', async () => {
    const p = await makePort(tc, alice, net.networkId);
    const fip = (await createFip(alice, { port_id: p.id })).body.floatingip;
    const fipPort = (await neutron(tc, 'GET', `/ports?device_id=${fip.id}`, { token: tc.adminToken })).body
      .ports[0];
    expectNeutronError(
      await neutron(tc, 'DELETE', `/ports/${fipPort.id}`, { token: tc.adminToken }),
      409,
      'ServicePortInUse',
      `Port ${fipPort.id} cannot be deleted directly via the port API: has device owner network:floatingip.`,
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/routers/${router.id}/remove_router_interface`, {
        token: alice.token,
        body: { subnet_id: net.subnetId },
      }),
      409,
      'RouterInterfaceInUseByFloatingIP',
      `Router interface for subnet ${net.subnetId} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`,
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/routers/${router.id}`, {
        token: alice.token,
        body: { router: { external_gateway_info: {} } },
      }),
      409,
      'RouterExternalGatewayInUseByFloatingIp',
    );
    assert.equal((await neutron(tc, 'DELETE', `/floatingips/${fip.id}`, { token: alice.token })).status, 204);
  });

  test('an external network takes its unassociated floating IPs with it', async () => {
    const ext2 = await externalNet(tc, '198.51.100.0/24');
    const fip = (await createFip(alice, { floating_network_id: ext2.networkId })).body.floatingip;
    assert.equal(
      (await neutron(tc, 'DELETE', `/networks/${ext2.networkId}`, { token: tc.adminToken })).status,
      204,
    );
    expectNeutronError(
      await neutron(tc, 'GET', `/floatingips/${fip.id}`, { token: alice.token }),
      404,
      'FloatingIPNotFound',
    );
  });
});
