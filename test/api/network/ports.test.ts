// /v2.0/ports: Neutron's attributes and defaults, MACs, fixed IPs (requested, taken, out of range), filters
// (fixed_ips, device_id, …), bulk create, update (addresses, name, state, binding, pairs, port security), delete.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
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

async function network(token: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await neutron(tc, 'POST', '/networks', { token, body: { network: { name: 'n', ...body } } });
  assert.equal(res.status, 201, res.text);
  return res.body.network.id;
}

async function subnet(token: string, body: Record<string, unknown>) {
  const res = await neutron(tc, 'POST', '/subnets', { token, body: { subnet: { ip_version: 4, ...body } } });
  assert.equal(res.status, 201, res.text);
  return res.body.subnet;
}

async function port(token: string, body: Record<string, unknown>) {
  return neutron(tc, 'POST', '/ports', { token, body: { port: body } });
}

describe('ports', () => {
  test('create shows every Neutron attribute with its default', async () => {
    const net = await network(alice.token);
    const s = await subnet(alice.token, { network_id: net, cidr: '10.0.0.0/24', enable_dhcp: false });
    const res = await port(alice.token, { network_id: net, name: 'p1' });
    assert.equal(res.status, 201, res.text);
    const p = res.body.port;
    assert.equal(p.name, 'p1');
    assert.equal(p.network_id, net);
    assert.equal(p.project_id, alice.projectId);
    assert.equal(p.tenant_id, alice.projectId);
    assert.equal(p.status, 'DOWN');
    assert.equal(p.admin_state_up, true);
    assert.match(p.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.deepEqual(p.fixed_ips, [{ subnet_id: s.id, ip_address: '10.0.0.2' }]);
    assert.equal(p.device_id, '');
    assert.equal(p.device_owner, '');
    assert.deepEqual(p.allowed_address_pairs, []);
    assert.deepEqual(p.extra_dhcp_opts, []);
    assert.ok(Array.isArray(p.security_groups));
    assert.equal(p.port_security_enabled, true);
    assert.equal(p['binding:vnic_type'], 'normal');
    assert.equal(p['binding:host_id'], undefined, 'binding:host_id is admin-only');
    assert.equal(p['binding:vif_type'], undefined);
    assert.equal(p.ip_allocation, 'immediate');
    assert.deepEqual(p.tags, []);
    assert.equal(p.revision_number, 1);
    assert.match(p.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const admin = await neutron(tc, 'GET', `/ports/${p.id}`, { token: tc.adminToken });
    assert.equal(admin.body.port['binding:vif_type'], 'unbound');
    assert.deepEqual(admin.body.port['binding:vif_details'], {});
    assert.deepEqual(admin.body.port['binding:profile'], {});
    assert.equal(admin.body.port.resource_request, null);
    // show == create (tempest test_show_port), fields select (test_show_port_fields)
    const shown = await neutron(tc, 'GET', `/ports/${p.id}`, { token: alice.token });
    assert.deepEqual(shown.body.port, p);
    const f = await neutron(tc, 'GET', `/ports/${p.id}?fields=id&fields=mac_address`, { token: alice.token });
    assert.deepEqual(f.body.port, { id: p.id, mac_address: p.mac_address });
  });

  test('bound to a host the port goes ACTIVE; unbound it goes DOWN', async () => {
    const net = await network(alice.token);
    const made = await port(tc.adminToken, {
      network_id: net,
      project_id: alice.projectId,
      device_owner: 'compute:nova',
      device_id: 'vm-unbind',
      'binding:host_id': 'h1',
    });
    assert.equal(made.status, 201, made.text);
    const id = made.body.port.id;
    const status = async () =>
      (await neutron(tc, 'GET', `/ports/${id}`, { token: alice.token })).body.port.status as string;
    for (let i = 0; i < 100 && (await status()) !== 'ACTIVE'; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(await status(), 'ACTIVE', 'the (fake) data plane wired it');
    const unbound = await neutron(tc, 'PUT', `/ports/${id}`, {
      token: tc.adminToken,
      body: { port: { 'binding:host_id': '' } },
    });
    assert.equal(unbound.status, 200, unbound.text);
    assert.equal(unbound.body.port.status, 'DOWN');
    assert.equal(unbound.body.port['binding:vif_type'], 'unbound');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await status(), 'DOWN', 'and stays DOWN');
  });

  test('a port on a network without subnets has no addresses; bulk create spans networks', async () => {
    const a = await network(alice.token);
    const b = await network(alice.token);
    const res = await neutron(tc, 'POST', '/ports', {
      token: alice.token,
      body: { ports: [{ network_id: a }, { network_id: b, admin_state_up: false }] },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.ports[0].network_id, a);
    assert.equal(res.body.ports[1].network_id, b);
    assert.equal(res.body.ports[1].admin_state_up, false);
    assert.deepEqual(res.body.ports[0].fixed_ips, []);
  });

  test('requested addresses: in the pools, outside the subnet (400), taken (409), exhausted (409)', async () => {
    const net = await network(alice.token);
    const s = await subnet(alice.token, {
      network_id: net,
      cidr: '10.1.0.0/29',
      enable_dhcp: false,
      allocation_pools: [{ start: '10.1.0.2', end: '10.1.0.3' }],
    });
    const fixed = await port(alice.token, {
      network_id: net,
      fixed_ips: [{ subnet_id: s.id, ip_address: '10.1.0.5' }],
    });
    assert.equal(fixed.status, 201, fixed.text);
    assert.deepEqual(fixed.body.port.fixed_ips, [{ subnet_id: s.id, ip_address: '10.1.0.5' }]);
    expectNeutronError(
      await port(alice.token, { network_id: net, fixed_ips: [{ subnet_id: s.id, ip_address: '10.1.0.5' }] }),
      409,
      'IpAddressAlreadyAllocated',
      `IP address 10.1.0.5 already allocated in subnet ${s.id}`,
    );
    expectNeutronError(
      await port(alice.token, { network_id: net, fixed_ips: [{ subnet_id: s.id, ip_address: '10.1.0.9' }] }),
      400,
      'InvalidIpForSubnet',
      'IP address 10.1.0.9 is not a valid IP for the specified subnet.',
    );
    expectNeutronError(
      await port(alice.token, { network_id: net, fixed_ips: [{ ip_address: '192.168.9.9' }] }),
      400,
      'InvalidIpForNetwork',
      'IP address 192.168.9.9 is not a valid IP for any of the subnets on the specified network.',
    );
    expectNeutronError(
      await port(alice.token, { network_id: net, fixed_ips: [{ ip_address: 'x' }] }),
      400,
      'HTTPBadRequest',
      "Invalid input for fixed_ips. Reason: 'x' is not a valid IP address.",
    );
    const one = await port(alice.token, { network_id: net });
    const two = await port(alice.token, { network_id: net });
    assert.equal(one.body.port.fixed_ips[0].ip_address, '10.1.0.2');
    assert.equal(two.body.port.fixed_ips[0].ip_address, '10.1.0.3');
    expectNeutronError(
      await port(alice.token, { network_id: net }),
      409,
      'IpAddressGenerationFailure',
      `No more IP addresses available on network ${net}.`,
    );
    // Deleting a port returns its address.
    await neutron(tc, 'DELETE', `/ports/${one.body.port.id}`, { token: alice.token });
    const again = await port(alice.token, { network_id: net });
    assert.equal(again.body.port.fixed_ips[0].ip_address, '10.1.0.2');
  });

  test('MAC addresses: given by the network owner, unique per network, invalid → 400', async () => {
    const net = await network(alice.token);
    const p = await port(alice.token, { network_id: net, mac_address: 'FA:16:3E:11:22:33' });
    assert.equal(p.status, 201, p.text);
    assert.equal(p.body.port.mac_address, 'fa:16:3e:11:22:33');
    expectNeutronError(
      await port(alice.token, { network_id: net, mac_address: 'fa:16:3e:11:22:33' }),
      409,
      'MacAddressInUse',
      `Unable to complete operation for network ${net}. The mac address fa:16:3e:11:22:33 is in use.`,
    );
    expectNeutronError(
      await port(alice.token, { network_id: net, mac_address: 'zz' }),
      400,
      'HTTPBadRequest',
      "Invalid input for mac_address. Reason: 'zz' is not a valid MAC address.",
    );
    const other = await network(alice.token);
    assert.equal(
      (await port(alice.token, { network_id: other, mac_address: 'fa:16:3e:11:22:33' })).status,
      201,
    );
  });

  test('update: name, admin state, fixed IPs (second address and back), device, binding (admin)', async () => {
    const net = await network(alice.token);
    const s1 = await subnet(alice.token, { network_id: net, cidr: '10.2.0.0/24', enable_dhcp: false });
    const s2 = await subnet(alice.token, { network_id: net, cidr: '10.2.1.0/24', enable_dhcp: false });
    const p = (
      await port(alice.token, { network_id: net, fixed_ips: [{ subnet_id: s1.id }, { subnet_id: s2.id }] })
    ).body.port;
    assert.equal(p.fixed_ips.length, 2);
    const put = (token: string, body: Record<string, unknown>) =>
      neutron(tc, 'PUT', `/ports/${p.id}`, { token, body: { port: body } });
    const u1 = await put(alice.token, {
      name: 'New_Port',
      admin_state_up: false,
      fixed_ips: [{ subnet_id: s1.id }],
    });
    assert.equal(u1.status, 200, u1.text);
    assert.equal(u1.body.port.name, 'New_Port');
    assert.equal(u1.body.port.admin_state_up, false);
    assert.deepEqual(
      u1.body.port.fixed_ips,
      [{ subnet_id: s1.id, ip_address: '10.2.0.2' }],
      'the kept address stays',
    );
    const u2 = await put(alice.token, { fixed_ips: [{ subnet_id: s1.id }, { subnet_id: s2.id }] });
    assert.equal(u2.body.port.fixed_ips.length, 2);
    const u3 = await put(alice.token, { fixed_ips: [{ subnet_id: s2.id, ip_address: '10.2.1.77' }] });
    assert.deepEqual(u3.body.port.fixed_ips, [{ subnet_id: s2.id, ip_address: '10.2.1.77' }]);
    // the released address is free again
    const q = await port(alice.token, { network_id: net, fixed_ips: [{ ip_address: '10.2.0.2' }] });
    assert.equal(q.status, 201, q.text);
    expectNeutronError(await put(alice.token, { 'binding:host_id': 'h1' }), 403, 'PolicyNotAuthorized');
    const bound = await put(tc.adminToken, {
      'binding:host_id': 'h1',
      device_id: 'vm1',
      device_owner: 'compute:nova',
    });
    assert.equal(bound.status, 200, bound.text);
    assert.equal(bound.body.port['binding:vif_type'], 'tap');
    assert.deepEqual(bound.body.port['binding:vif_details'], { port_filter: true });
    assert.equal(bound.body.port.device_owner, 'compute:nova');
    expectNeutronError(
      await put(alice.token, { network_id: net }),
      400,
      'HTTPBadRequest',
      'Cannot update read-only attribute network_id',
    );
  });

  test('allowed address pairs and port security rules', async () => {
    const net = await network(alice.token);
    const p = await port(alice.token, {
      network_id: net,
      allowed_address_pairs: [
        { ip_address: '10.9.9.0/24' },
        { ip_address: '10.9.8.1', mac_address: 'fa:16:3e:00:00:01' },
      ],
    });
    assert.equal(p.status, 201, p.text);
    assert.deepEqual(p.body.port.allowed_address_pairs, [
      { ip_address: '10.9.9.0/24', mac_address: p.body.port.mac_address },
      { ip_address: '10.9.8.1', mac_address: 'fa:16:3e:00:00:01' },
    ]);
    expectNeutronError(
      await port(alice.token, {
        network_id: net,
        allowed_address_pairs: [{ mac_address: 'fa:16:3e:00:00:01' }],
      }),
      400,
      'AllowedAddressPairsMissingIP',
      'AllowedAddressPair must contain ip_address',
    );
    expectNeutronError(
      await port(alice.token, {
        network_id: net,
        port_security_enabled: false,
        allowed_address_pairs: [{ ip_address: '10.1.1.1' }],
      }),
      409,
      'AddressPairAndPortSecurityRequired',
    );
    const open = await port(alice.token, { network_id: net, port_security_enabled: false });
    assert.equal(open.status, 201, open.text);
    assert.equal(open.body.port.port_security_enabled, false);
    assert.deepEqual(open.body.port.security_groups, []);
    const secured = await network(alice.token, { port_security_enabled: false });
    const dflt = await port(alice.token, { network_id: secured });
    assert.equal(dflt.body.port.port_security_enabled, false, 'default comes from the network');
    expectNeutronError(
      await neutron(tc, 'PUT', `/ports/${p.body.port.id}`, {
        token: alice.token,
        body: { port: { port_security_enabled: false } },
      }),
      409,
      'AddressPairAndPortSecurityRequired',
    );
  });

  test('filters: fixed_ips ip_address/subnet_id/substring, device_id, mac_address, network_id', async () => {
    const net = await network(alice.token);
    const s = await subnet(alice.token, { network_id: net, cidr: '10.3.0.0/24', enable_dhcp: false });
    const p1 = (
      await port(alice.token, {
        network_id: net,
        device_id: 'dev-1',
        fixed_ips: [{ ip_address: '10.3.0.11' }],
      })
    ).body.port;
    const p2 = (await port(alice.token, { network_id: net, fixed_ips: [{ ip_address: '10.3.0.12' }] })).body
      .port;
    const ids = async (q: string) =>
      (await neutron(tc, 'GET', `/ports?${q}`, { token: alice.token })).body.ports
        .map((p: { id: string }) => p.id)
        .sort();
    assert.deepEqual(await ids('fixed_ips=ip_address%3D10.3.0.11'), [p1.id]);
    assert.deepEqual(await ids(`fixed_ips=subnet_id%3D${s.id}`), [p1.id, p2.id].sort());
    assert.deepEqual(await ids('fixed_ips=ip_address_substr%3D10.3.0.1'), [p1.id, p2.id].sort());
    assert.deepEqual(await ids('device_id=dev-1'), [p1.id]);
    assert.deepEqual(await ids(`mac_address=${p2.mac_address}`), [p2.id]);
    assert.deepEqual(await ids(`network_id=${net}&fields=id`), [p1.id, p2.id].sort());
    const f = await neutron(tc, 'GET', `/ports?network_id=${net}&fields=id&fields=mac_address`, {
      token: alice.token,
    });
    for (const p of f.body.ports) assert.deepEqual(Object.keys(p).sort(), ['id', 'mac_address']);
    expectNeutronError(
      await neutron(tc, 'GET', '/ports?bogus=1', { token: alice.token }),
      400,
      'HTTPBadRequest',
    );
  });

  test("visibility: another project's port is a 404; the network owner sees ports on its network", async () => {
    const net = await network(alice.token, {});
    const p = (await port(alice.token, { network_id: net })).body.port;
    expectNeutronError(
      await neutron(tc, 'GET', `/ports/${p.id}`, { token: bob.token }),
      404,
      'PortNotFound',
      `Port ${p.id} could not be found.`,
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/ports/${p.id}`, { token: bob.token }),
      404,
      'PortNotFound',
    );
    const shared = await network(tc.adminToken, { shared: true });
    const ss = await subnet(tc.adminToken, { network_id: shared, cidr: '10.60.0.0/24', enable_dhcp: false });
    const bp = await port(bob.token, { network_id: shared, fixed_ips: [{ subnet_id: ss.id }] });
    assert.equal(bp.status, 201, bp.text);
    expectNeutronError(
      await port(bob.token, { network_id: shared, fixed_ips: [{ ip_address: '10.60.0.99' }] }),
      403,
      'PolicyNotAuthorized',
    );
    const adminSees = await neutron(tc, 'GET', `/ports?network_id=${shared}`, { token: tc.adminToken });
    assert.ok(adminSees.body.ports.some((x: { id: string }) => x.id === bp.body.port.id));
    expectNeutronError(await port(bob.token, { network_id: net }), 404, 'NetworkNotFound');
  });

  test('delete removes the port (404 after) and If-Match guards it', async () => {
    const net = await network(alice.token);
    const p = (await port(alice.token, { network_id: net })).body.port;
    expectNeutronError(
      await neutron(tc, 'DELETE', `/ports/${p.id}`, {
        token: alice.token,
        headers: { 'if-match': 'revision_number=9' },
      }),
      412,
      'RevisionNumberConstraintFailed',
    );
    assert.equal((await neutron(tc, 'DELETE', `/ports/${p.id}`, { token: alice.token })).status, 204);
    expectNeutronError(
      await neutron(tc, 'GET', `/ports/${p.id}`, { token: alice.token }),
      404,
      'PortNotFound',
    );
  });
});
