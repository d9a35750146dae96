// /v2.0/subnets: Neutron's defaults (gateway, pools), validation errors, IPv6 modes, overlap, update, delete
// (SubnetInUse), the DHCP port kept in step, visibility, and network delete cascading (NetworkInUse).
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
  return neutron(tc, 'POST', '/subnets', { token, body: { subnet: { ip_version: 4, ...body } } });
}

async function dhcpPorts(networkId: string) {
  const res = await neutron(tc, 'GET', `/ports?network_id=${networkId}&device_owner=network:dhcp`, {
    token: tc.adminToken,
  });
  return res.body.ports as {
    id: string;
    fixed_ips: { subnet_id: string; ip_address: string }[];
    device_id: string;
    project_id: string;
  }[];
}

describe('subnets', () => {
  test('create normalises the CIDR and defaults gateway, pools, DHCP and standard attributes', async () => {
    const net = await network(alice.token);
    const res = await subnet(alice.token, { network_id: net, cidr: '10.1.0.7/24', name: 's1' });
    assert.equal(res.status, 201, res.text);
    const s = res.body.subnet;
    assert.equal(s.cidr, '10.1.0.0/24');
    assert.equal(s.gateway_ip, '10.1.0.1');
    assert.deepEqual(s.allocation_pools, [{ start: '10.1.0.2', end: '10.1.0.254' }]);
    assert.equal(s.enable_dhcp, true);
    assert.deepEqual(s.dns_nameservers, []);
    assert.deepEqual(s.host_routes, []);
    assert.equal(s.ipv6_ra_mode, null);
    assert.equal(s.subnetpool_id, null);
    assert.equal(s.project_id, alice.projectId);
    assert.equal(s.revision_number, 1);
    assert.deepEqual(s.service_types, []);
    const shown = await neutron(tc, 'GET', `/networks/${net}`, { token: alice.token });
    assert.deepEqual(shown.body.network.subnets, [s.id]);
  });

  test('gateway null, explicit pools, DNS servers and host routes are kept', async () => {
    const net = await network(alice.token);
    const res = await subnet(alice.token, {
      network_id: net,
      cidr: '10.2.0.0/28',
      gateway_ip: null,
      allocation_pools: [{ start: '10.2.0.3', end: '10.2.0.7' }],
      dns_nameservers: ['8.8.4.4', '8.8.8.8'],
      host_routes: [{ destination: '10.20.0.0/32', nexthop: '10.100.1.1' }],
      enable_dhcp: false,
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.subnet.gateway_ip, null);
    assert.deepEqual(res.body.subnet.allocation_pools, [{ start: '10.2.0.3', end: '10.2.0.7' }]);
    assert.deepEqual(res.body.subnet.dns_nameservers, ['8.8.4.4', '8.8.8.8']);
    assert.deepEqual(res.body.subnet.host_routes, [{ destination: '10.20.0.0/32', nexthop: '10.100.1.1' }]);
    assert.equal((await dhcpPorts(net)).length, 0, 'no DHCP port without a DHCP subnet');
  });

  test('invalid input gets Neutron errors', async () => {
    const net = await network(alice.token);
    expectNeutronError(
      await subnet(alice.token, { network_id: net, cidr: '10.3.0.0' }),
      400,
      'HTTPBadRequest',
      "Invalid input for cidr. Reason: '10.3.0.0' isn't a recognized IP subnet cidr, '10.3.0.0/32' is recommended.",
    );
    expectNeutronError(
      await subnet(alice.token, { network_id: net, cidr: 'banana' }),
      400,
      'HTTPBadRequest',
      "Invalid input for cidr. Reason: 'banana' is not a valid IP subnet.",
    );
    expectNeutronError(
      await subnet(alice.token, { network_id: net, cidr: '2001:db8::/64' }),
      400,
      'InvalidInput',
      "Invalid input for operation: cidr '2001:db8::/64' does not match the ip_version '4'.",
    );
    expectNeutronError(
      await subnet(alice.token, { network_id: net, cidr: '10.3.0.0/24', gateway_ip: '10.3.0.255' }),
      400,
      'InvalidInput',
      'Invalid input for operation: Gateway is not valid on subnet.',
    );
    expectNeutronError(
      await subnet(alice.token, {
        network_id: net,
        cidr: '10.3.0.0/24',
        allocation_pools: [{ start: '10.3.0.10', end: '10.3.1.5' }],
      }),
      400,
      'OutOfBoundsAllocationPool',
      'The allocation pool 10.3.0.10-10.3.1.5 spans beyond the subnet cidr 10.3.0.0/24.',
    );
    expectNeutronError(
      await subnet(alice.token, {
        network_id: net,
        cidr: '10.3.0.0/24',
        allocation_pools: [
          { start: '10.3.0.10', end: '10.3.0.20' },
          { start: '10.3.0.15', end: '10.3.0.30' },
        ],
      }),
      409,
      'OverlappingAllocationPools',
      'Found overlapping allocation pools: 10.3.0.10-10.3.0.20 10.3.0.15-10.3.0.30 for subnet 10.3.0.0/24.',
    );
    expectNeutronError(
      await subnet(alice.token, {
        network_id: net,
        cidr: '10.3.0.0/24',
        gateway_ip: '10.3.0.12',
        allocation_pools: [{ start: '10.3.0.10', end: '10.3.0.20' }],
      }),
      409,
      'GatewayConflictWithAllocationPools',
      'Gateway ip 10.3.0.12 conflicts with allocation pool 10.3.0.10-10.3.0.20.',
    );
    expectNeutronError(
      await subnet(alice.token, { network_id: net, cidr: '10.3.0.0/31' }),
      400,
      'InvalidInput',
      'Invalid input for operation: Subnet has a prefix length that is incompatible with DHCP service enabled.',
    );
    expectNeutronError(
      await subnet(alice.token, { network_id: net }),
      400,
      'BadRequest',
      'Bad subnets request: a subnetpool must be specified in the absence of a cidr.',
    );
    expectNeutronError(
      await subnet(alice.token, { network_id: net, cidr: '10.3.0.0/24', ipv6_ra_mode: 'slaac' }),
      400,
      'InvalidInput',
      'Invalid input for operation: ipv6_ra_mode is not valid when ip_version is 4.',
    );
  });

  test('overlapping subnets on one network are refused with the message tempest looks for', async () => {
    const net = await network(alice.token);
    assert.equal((await subnet(alice.token, { network_id: net, cidr: '10.4.0.0/24' })).status, 201);
    const res = await subnet(alice.token, { network_id: net, cidr: '10.4.0.128/25' });
    expectNeutronError(
      res,
      400,
      'InvalidInput',
      `Invalid input for operation: Requested subnet with cidr: 10.4.0.128/25 for network: ${net} overlaps with another subnet.`,
    );
    // Another network may reuse the range.
    const other = await network(alice.token);
    assert.equal((await subnet(alice.token, { network_id: other, cidr: '10.4.0.0/24' })).status, 201);
  });

  test('IPv6: modes must agree, need DHCP and a /64; the default gateway is the subnet-router address', async () => {
    const net = await network(alice.token);
    const v6 = (body: Record<string, unknown>) =>
      subnet(alice.token, { network_id: net, ip_version: 6, ...body });
    for (const [ra, am] of [
      ['dhcpv6-stateless', 'dhcpv6-stateful'],
      ['slaac', 'dhcpv6-stateless'],
      ['dhcpv6-stateful', 'slaac'],
    ])
      expectNeutronError(
        await v6({ cidr: '2001:db8:1::/64', ipv6_ra_mode: ra, ipv6_address_mode: am }),
        400,
        'InvalidInput',
        `Invalid input for operation: ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${am}' is not valid. If both attributes are set, they must be the same value.`,
      );
    expectNeutronError(
      await v6({ cidr: '2001:db8:1::/64', ipv6_address_mode: 'slaac', enable_dhcp: false }),
      400,
      'InvalidInput',
      'Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.',
    );
    expectNeutronError(
      await v6({ cidr: '2001:db8:1::/80', ipv6_address_mode: 'slaac' }),
      400,
      'InvalidInput',
      'Invalid input for operation: Invalid CIDR 2001:db8:1::/80 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64.',
    );
    expectNeutronError(
      await v6({ cidr: '2001:db8:1::/64', ipv6_address_mode: 'bogus' }),
      400,
      'HTTPBadRequest',
    );
    const ok = await v6({ cidr: '2001:DB8:1:0::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.subnet.cidr, '2001:db8:1::/64');
    assert.equal(ok.body.subnet.gateway_ip, '2001:db8:1::');
    assert.deepEqual(ok.body.subnet.allocation_pools, [
      { start: '2001:db8:1::1', end: '2001:db8:1:0:ffff:ffff:ffff:ffff' },
    ]);
  });

  test('update of name, gateway, DNS, routes, pools and DHCP; DHCP toggles the DHCP port', async () => {
    const net = await network(alice.token);
    const s = (
      await subnet(alice.token, {
        network_id: net,
        cidr: '10.5.0.0/24',
        enable_dhcp: false,
        allocation_pools: [{ start: '10.5.0.3', end: '10.5.0.7' }],
      })
    ).body.subnet;
    const res = await neutron(tc, 'PUT', `/subnets/${s.id}`, {
      token: alice.token,
      body: {
        subnet: {
          name: 'New_subnet',
          gateway_ip: '10.5.0.2',
          dns_nameservers: ['7.8.8.8', '7.8.4.4'],
          host_routes: [{ destination: '10.20.0.0/32', nexthop: '10.100.1.2' }],
          enable_dhcp: true,
        },
      },
    });
    assert.equal(res.status, 200, res.text);
    const u = res.body.subnet;
    assert.equal(u.name, 'New_subnet');
    assert.equal(u.gateway_ip, '10.5.0.2');
    assert.deepEqual(u.dns_nameservers, ['7.8.8.8', '7.8.4.4']);
    assert.equal(u.enable_dhcp, true);
    assert.equal(u.revision_number, 2);
    const ports = await dhcpPorts(net);
    assert.equal(ports.length, 1);
    assert.deepEqual(ports[0]!.fixed_ips, [{ subnet_id: s.id, ip_address: '10.5.0.3' }]);
    assert.match(ports[0]!.device_id, new RegExp(`^dhcp[0-9a-f-]{36}-${net}$`));
    assert.equal(ports[0]!.project_id, alice.projectId);
    expectNeutronError(
      await neutron(tc, 'PUT', `/subnets/${s.id}`, {
        token: alice.token,
        body: { subnet: { gateway_ip: '10.5.0.5' } },
      }),
      409,
      'GatewayConflictWithAllocationPools',
    );
    const pools = await neutron(tc, 'PUT', `/subnets/${s.id}`, {
      token: alice.token,
      body: { subnet: { allocation_pools: [{ start: '10.5.0.50', end: '10.5.0.60' }] } },
    });
    assert.deepEqual(pools.body.subnet.allocation_pools, [{ start: '10.5.0.50', end: '10.5.0.60' }]);
    expectNeutronError(
      await neutron(tc, 'PUT', `/subnets/${s.id}`, {
        token: alice.token,
        body: { subnet: { cidr: '10.9.0.0/24' } },
      }),
      400,
      'HTTPBadRequest',
      'Cannot update read-only attribute cidr',
    );
    await neutron(tc, 'PUT', `/subnets/${s.id}`, {
      token: alice.token,
      body: { subnet: { enable_dhcp: false } },
    });
    assert.equal((await dhcpPorts(net)).length, 0, 'the DHCP port goes with the last DHCP subnet');
  });

  test('delete: 409 SubnetInUse while a user port holds an address; the DHCP port does not block', async () => {
    const net = await network(alice.token);
    const s = (await subnet(alice.token, { network_id: net, cidr: '10.6.0.0/24' })).body.subnet;
    assert.equal((await dhcpPorts(net)).length, 1);
    const port = await neutron(tc, 'POST', '/ports', {
      token: alice.token,
      body: { port: { network_id: net } },
    });
    expectNeutronError(
      await neutron(tc, 'DELETE', `/subnets/${s.id}`, { token: alice.token }),
      409,
      'SubnetInUse',
      `Unable to complete operation on subnet ${s.id}: One or more ports have an IP allocation from this subnet.`,
    );
    await neutron(tc, 'DELETE', `/ports/${port.body.port.id}`, { token: alice.token });
    assert.equal((await neutron(tc, 'DELETE', `/subnets/${s.id}`, { token: alice.token })).status, 204);
    assert.equal((await dhcpPorts(net)).length, 0);
    expectNeutronError(
      await neutron(tc, 'GET', `/subnets/${s.id}`, { token: alice.token }),
      404,
      'SubnetNotFound',
      `Subnet ${s.id} could not be found.`,
    );
  });

  test('network delete cascades subnets and the DHCP port, refuses with NetworkInUse for other ports', async () => {
    const net = await network(alice.token);
    const s = (await subnet(alice.token, { network_id: net, cidr: '10.7.0.0/24' })).body.subnet;
    const port = await neutron(tc, 'POST', '/ports', {
      token: alice.token,
      body: { port: { network_id: net } },
    });
    expectNeutronError(
      await neutron(tc, 'DELETE', `/networks/${net}`, { token: alice.token }),
      409,
      'NetworkInUse',
      `Unable to complete operation on network ${net}. There are one or more ports still in use on the network.`,
    );
    await neutron(tc, 'DELETE', `/ports/${port.body.port.id}`, { token: alice.token });
    assert.equal((await neutron(tc, 'DELETE', `/networks/${net}`, { token: alice.token })).status, 204);
    assert.equal((await neutron(tc, 'GET', `/subnets/${s.id}`, { token: alice.token })).status, 404);
    const left = await neutron(tc, 'GET', `/ports?network_id=${net}`, { token: tc.adminToken });
    assert.deepEqual(left.body.ports, []);
  });

  test("visibility: another project's subnet is a 404; shared networks' subnets are listed; fields work", async () => {
    const net = await network(alice.token);
    const s = (await subnet(alice.token, { network_id: net, cidr: '10.8.0.0/24' })).body.subnet;
    expectNeutronError(
      await neutron(tc, 'GET', `/subnets/${s.id}`, { token: bob.token }),
      404,
      'SubnetNotFound',
    );
    const mine = await neutron(tc, 'GET', '/subnets', { token: bob.token });
    assert.ok(!mine.body.subnets.some((x: { id: string }) => x.id === s.id));
    expectNeutronError(
      await subnet(bob.token, { network_id: net, cidr: '10.8.1.0/24' }),
      404,
      'NetworkNotFound',
    );
    const shared = await network(tc.adminToken, { shared: true });
    const ss = (await subnet(tc.adminToken, { network_id: shared, cidr: '10.9.0.0/24' })).body.subnet;
    const seen = await neutron(tc, 'GET', `/subnets?network_id=${shared}&fields=id&fields=network_id`, {
      token: bob.token,
    });
    assert.deepEqual(seen.body.subnets, [{ id: ss.id, network_id: shared }]);
  });

  test('bulk create and tags', async () => {
    const a = await network(alice.token);
    const b = await network(alice.token);
    const res = await neutron(tc, 'POST', '/subnets', {
      token: alice.token,
      body: {
        subnets: [
          { network_id: a, cidr: '10.10.0.0/24', ip_version: 4, name: 'x' },
          { network_id: b, cidr: '10.10.1.0/24', ip_version: 4 },
        ],
      },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.subnets.length, 2);
    const id = res.body.subnets[0].id;
    assert.equal((await neutron(tc, 'PUT', `/subnets/${id}/tags/red`, { token: alice.token })).status, 201);
    const shown = await neutron(tc, 'GET', `/subnets/${id}`, { token: alice.token });
    assert.deepEqual(shown.body.subnet.tags, ['red']);
    assert.equal(shown.body.subnet.revision_number, 2);
  });
});
