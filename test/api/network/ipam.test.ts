// IPAM: 50 concurrent port creates on a /28 never share an address; SLAAC/DHCPv6-stateless EUI-64 addresses
// (not requestable, added to existing ports, removable with the subnet); DHCPv6-stateful pools; the DHCP port.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;

before(async () => {
  tc = await startTestCloud();
  alice = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

async function network(): Promise<string> {
  const res = await neutron(tc, 'POST', '/networks', {
    token: alice.token,
    body: { network: { name: 'n' } },
  });
  return res.body.network.id;
}

async function subnet(body: Record<string, unknown>) {
  const res = await neutron(tc, 'POST', '/subnets', {
    token: alice.token,
    body: { subnet: { ip_version: 4, ...body } },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.subnet;
}

const port = (body: Record<string, unknown>) =>
  neutron(tc, 'POST', '/ports', { token: alice.token, body: { port: body } });

/** EUI-64 as oslo's get_ipv6_addr_by_EUI64, written independently for the test (`net64`: the four prefix words). */
function eui64(net64: string, mac: string): string {
  const b = mac.split(':').map((h) => Number.parseInt(h, 16));
  const words = [((b[0]! ^ 2) << 8) | b[1]!, (b[2]! << 8) | 0xff, 0xfe00 | b[3]!, (b[4]! << 8) | b[5]!];
  return `${net64}:${words.map((w) => w.toString(16)).join(':')}`;
}

describe('ipam', () => {
  test('50 concurrent port creates on a /28 never hand out one address twice', async () => {
    const net = await network();
    const s = await subnet({ network_id: net, cidr: '10.50.0.0/28', enable_dhcp: false });
    const results = await Promise.all(Array.from({ length: 50 }, () => port({ network_id: net })));
    const ok = results.filter((r) => r.status === 201);
    const failed = results.filter((r) => r.status !== 201);
    // 14 hosts minus the gateway.
    assert.equal(ok.length, 13);
    for (const r of failed)
      expectNeutronError(
        r,
        409,
        'IpAddressGenerationFailure',
        `No more IP addresses available on network ${net}.`,
      );
    const ips = ok.map((r) => r.body.port.fixed_ips[0].ip_address as string);
    assert.equal(new Set(ips).size, ips.length, `duplicates in ${ips.join(',')}`);
    for (const r of ok) assert.equal(r.body.port.fixed_ips[0].subnet_id, s.id);
    assert.ok(!ips.includes('10.50.0.1'), 'never the gateway');
    assert.ok(!ips.includes('10.50.0.15'), 'never the broadcast address');
    const listed = await neutron(tc, 'GET', `/ports?network_id=${net}`, { token: alice.token });
    assert.equal(listed.body.ports.length, 13);
  });

  test('always the lowest free address: a deleted port’s address, a removed fixed IP, a changed pool', async () => {
    const net = await network();
    const s = await subnet({ network_id: net, cidr: '10.51.0.0/24', enable_dhcp: false });
    const ip = (r: { body: { port: { fixed_ips: { ip_address: string }[] } } }) =>
      r.body.port.fixed_ips[0]!.ip_address;
    const made = [];
    for (let i = 0; i < 20; i++) made.push(await port({ network_id: net }));
    assert.deepEqual(
      made.map(ip),
      Array.from({ length: 20 }, (_, i) => `10.51.0.${i + 2}`),
    );
    // Free .5 and .9: the next creates take them back, lowest first, then carry on after .21.
    for (const i of [7, 3]) {
      const del = await neutron(tc, 'DELETE', `/ports/${made[i]!.body.port.id}`, { token: alice.token });
      assert.equal(del.status, 204);
    }
    assert.equal(ip(await port({ network_id: net })), '10.51.0.5');
    assert.equal(ip(await port({ network_id: net })), '10.51.0.9');
    assert.equal(ip(await port({ network_id: net })), '10.51.0.22');
    // A port moved off its address (fixed_ips update) frees it too.
    const moved = made[0]!.body.port;
    const upd = await neutron(tc, 'PUT', `/ports/${moved.id}`, {
      token: alice.token,
      body: { port: { fixed_ips: [{ subnet_id: s.id, ip_address: '10.51.0.200' }] } },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(ip(await port({ network_id: net })), '10.51.0.2');
    // New pools start over from their own start.
    const pools = await neutron(tc, 'PUT', `/subnets/${s.id}`, {
      token: alice.token,
      body: { subnet: { allocation_pools: [{ start: '10.51.0.100', end: '10.51.0.250' }] } },
    });
    assert.equal(pools.status, 200, pools.text);
    assert.equal(ip(await port({ network_id: net })), '10.51.0.100');
  });

  test('concurrent requests for one specific address: one wins, the rest get IpAddressAlreadyAllocated', async () => {
    const net = await network();
    const s = await subnet({ network_id: net, cidr: '10.51.0.0/24', enable_dhcp: false });
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        port({ network_id: net, fixed_ips: [{ subnet_id: s.id, ip_address: '10.51.0.77' }] }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 1);
    for (const r of results.filter((x) => x.status !== 201))
      expectNeutronError(r, 409, 'IpAddressAlreadyAllocated');
  });

  test('SLAAC and DHCPv6-stateless ports get their EUI-64 address; requesting one is refused', async () => {
    for (const mode of ['slaac', 'dhcpv6-stateless']) {
      const net = await network();
      const s = await subnet({
        network_id: net,
        ip_version: 6,
        cidr: '2001:db8:10::/64',
        gateway_ip: '2001:db8:10::1',
        ipv6_ra_mode: mode,
        ipv6_address_mode: mode,
      });
      const mac = 'fa:16:3e:5e:2d:01';
      const p = await port({ network_id: net, mac_address: mac });
      assert.equal(p.status, 201, p.text);
      assert.deepEqual(p.body.port.fixed_ips, [{ subnet_id: s.id, ip_address: eui64('2001:db8:10:0', mac) }]);
      expectNeutronError(
        await port({ network_id: net, fixed_ips: [{ subnet_id: s.id, ip_address: '2001:db8:10::99' }] }),
        400,
        'AllocationOnAutoAddressSubnet',
      );
    }
  });

  test('no modes: a v6 address comes from the pools, not EUI-64; stateful: requested and out-of-range', async () => {
    const net = await network();
    const s = await subnet({
      network_id: net,
      ip_version: 6,
      cidr: '2001:db8:20::/64',
      gateway_ip: '2001:db8:20::1',
    });
    const mac = 'fa:16:3e:5e:2d:02';
    const p = await port({ network_id: net, mac_address: mac });
    assert.notEqual(p.body.port.fixed_ips[0].ip_address, eui64('2001:db8:20:0', mac));
    assert.equal(s.allocation_pools[0].start, '2001:db8:20::2');
    const net2 = await network();
    const st = await subnet({
      network_id: net2,
      ip_version: 6,
      cidr: '2001:db8:21::/64',
      ipv6_ra_mode: 'dhcpv6-stateful',
      ipv6_address_mode: 'dhcpv6-stateful',
    });
    const want = await port({
      network_id: net2,
      fixed_ips: [{ subnet_id: st.id, ip_address: '2001:db8:21::abcd' }],
    });
    assert.deepEqual(want.body.port.fixed_ips, [{ subnet_id: st.id, ip_address: '2001:db8:21::abcd' }]);
    expectNeutronError(
      await port({ network_id: net2, fixed_ips: [{ subnet_id: st.id, ip_address: '2001:db8:21::abcd' }] }),
      409,
      'IpAddressAlreadyAllocated',
    );
    expectNeutronError(
      await port({ network_id: net2, fixed_ips: [{ subnet_id: st.id, ip_address: '2001:db8:22::1' }] }),
      400,
      'InvalidIpForSubnet',
    );
  });

  test('dual stack: a port gets an IPv4 address and a SLAAC address, whichever subnet came first', async () => {
    for (const order of ['slaac_first', 'v4_first']) {
      const net = await network();
      const mk = {
        slaac: () =>
          subnet({
            network_id: net,
            ip_version: 6,
            cidr: '2001:db8:30::/64',
            ipv6_ra_mode: 'slaac',
            ipv6_address_mode: 'slaac',
          }),
        v4: () => subnet({ network_id: net, cidr: '10.30.0.0/24' }),
      };
      const [a, b] =
        order === 'slaac_first' ? [await mk.slaac(), await mk.v4()] : [await mk.v4(), await mk.slaac()];
      const v6 = a.ip_version === 6 ? a : b;
      const v4 = a.ip_version === 4 ? a : b;
      const mac = 'fa:16:3e:5e:2d:03';
      const p = (await port({ network_id: net, mac_address: mac })).body.port;
      const bySubnet = Object.fromEntries(
        p.fixed_ips.map((f: { subnet_id: string; ip_address: string }) => [f.subnet_id, f.ip_address]),
      );
      assert.equal(bySubnet[v6.id], eui64('2001:db8:30:0', mac));
      assert.match(bySubnet[v4.id], /^10\.30\.0\.\d+$/);
    }
  });

  test('a new SLAAC subnet gives existing ports (and the DHCP port) an address and can be deleted under them', async () => {
    const net = await network();
    await subnet({ network_id: net, cidr: '10.40.0.0/24' });
    const p = (await port({ network_id: net })).body.port;
    const s6 = await subnet({
      network_id: net,
      ip_version: 6,
      cidr: '2001:db8:40::/64',
      ipv6_ra_mode: 'slaac',
      ipv6_address_mode: 'slaac',
    });
    const shown = (await neutron(tc, 'GET', `/ports/${p.id}`, { token: alice.token })).body.port;
    assert.ok(shown.fixed_ips.some((f: { subnet_id: string }) => f.subnet_id === s6.id));
    assert.equal(shown.revision_number, 2);
    const dhcp = (
      await neutron(tc, 'GET', `/ports?network_id=${net}&device_owner=network:dhcp`, { token: alice.token })
    ).body.ports;
    assert.equal(dhcp.length, 1);
    assert.equal(dhcp[0].fixed_ips.length, 2);
    assert.equal((await neutron(tc, 'DELETE', `/subnets/${s6.id}`, { token: alice.token })).status, 204);
    const after1 = (await neutron(tc, 'GET', `/ports/${p.id}`, { token: alice.token })).body.port;
    assert.equal(after1.fixed_ips.length, 1);
    expectNeutronError(
      await neutron(tc, 'DELETE', `/networks/${net}`, { token: alice.token }),
      409,
      'NetworkInUse',
      /There are one or more ports still in use on the network/,
    );
  });
});
