// /v2.0/network-ip-availabilities: totals from allocation pools (or the whole CIDR), used addresses from the
// allocations, per subnet and summed per network, exact for IPv6; filters; admin only.
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

/** A subnet row and `used` allocations on it, stored as the subnet and port APIs store them. */
async function subnet(
  networkId: string,
  projectId: string,
  o: { name: string; cidr: string; version: 4 | 6; pools: { start: string; end: string }[]; used: string[] },
): Promise<string> {
  const cx = tc.cloud.network.context;
  const id = cx.ids.uuid();
  const now = cx.nowIso();
  await cx.write(async (trx) => {
    await trx
      .insertInto('network_subnets')
      .values({
        id,
        project_id: projectId,
        name: o.name,
        description: '',
        created_at: now,
        updated_at: now,
        revision_number: 1,
        network_id: networkId,
        ip_version: o.version,
        cidr: o.cidr,
        gateway_ip: null,
        enable_dhcp: 0,
        ipv6_ra_mode: null,
        ipv6_address_mode: null,
        subnetpool_id: null,
        allocation_pools: JSON.stringify(o.pools),
        dns_nameservers: '[]',
        host_routes: '[]',
        service_types: '[]',
      })
      .execute();
    for (const ip of o.used)
      await trx
        .insertInto('network_ip_allocations')
        .values({ network_id: networkId, ip_address: ip, subnet_id: id, port_id: cx.ids.uuid() })
        .execute();
  });
  return id;
}

async function network(name: string): Promise<string> {
  const r = await neutron(tc, 'POST', '/networks', { token: alice.token, body: { network: { name } } });
  assert.equal(r.status, 201, r.text);
  return r.body.network.id as string;
}

describe('network IP availability', () => {
  test('per subnet and per network: pools, whole CIDR without pools, IPv6 counts exactly', async () => {
    const net = await network('avail');
    const v4 = await subnet(net, alice.projectId, {
      name: 'v4',
      cidr: '10.1.0.0/24',
      version: 4,
      pools: [
        { start: '10.1.0.2', end: '10.1.0.100' },
        { start: '10.1.0.200', end: '10.1.0.254' },
      ],
      used: ['10.1.0.2', '10.1.0.3', '10.1.0.4'],
    });
    const bare = await subnet(net, alice.projectId, {
      name: 'bare',
      cidr: '10.2.0.0/28',
      version: 4,
      pools: [],
      used: [],
    });
    const v6 = await subnet(net, alice.projectId, {
      name: 'v6',
      cidr: 'fd00:1::/64',
      version: 6,
      pools: [{ start: 'fd00:1::2', end: 'fd00:1::ffff:ffff:ffff:ffff' }],
      used: ['fd00:1::2'],
    });
    const res = await neutron(tc, 'GET', `/network-ip-availabilities/${net}`, { token: tc.adminToken });
    assert.equal(res.status, 200, res.text);
    // 2^64 - 2 does not fit a double: the body carries it digit for digit.
    assert.match(res.text, /"total_ips":18446744073709551614\b/);
    const a = res.body.network_ip_availability;
    assert.equal(a.network_id, net);
    assert.equal(a.network_name, 'avail');
    assert.equal(a.project_id, alice.projectId);
    assert.equal(a.tenant_id, alice.projectId);
    assert.equal(a.used_ips, 4);
    assert.match(res.text, /"total_ips":18446744073709551784\b/, 'the network total is 154 + 16 + 2^64 - 2');
    const bySubnet = new Map(a.subnet_ip_availability.map((s: { subnet_id: string }) => [s.subnet_id, s]));
    assert.deepEqual(bySubnet.get(v4), {
      subnet_id: v4,
      ip_version: 4,
      cidr: '10.1.0.0/24',
      subnet_name: 'v4',
      used_ips: 3,
      total_ips: 99 + 55,
    });
    assert.equal((bySubnet.get(bare) as { total_ips: number }).total_ips, 16);
    assert.equal((bySubnet.get(v6) as { used_ips: number }).used_ips, 1);
  });

  test('through the subnet and port APIs: the default pool and every port address count', async () => {
    const net = await network('api-made');
    const sub = await neutron(tc, 'POST', '/subnets', {
      token: alice.token,
      body: { subnet: { network_id: net, cidr: '10.9.0.0/24', ip_version: 4, name: 'api-sub' } },
    });
    assert.equal(sub.status, 201, sub.text);
    for (let i = 0; i < 2; i++) {
      const port = await neutron(tc, 'POST', '/ports', {
        token: alice.token,
        body: { port: { network_id: net } },
      });
      assert.equal(port.status, 201, port.text);
    }
    const ports = await neutron(tc, 'GET', `/ports?network_id=${net}`, { token: tc.adminToken });
    const addresses = ports.body.ports.reduce(
      (n: number, p: { fixed_ips: unknown[] }) => n + p.fixed_ips.length,
      0,
    );
    assert.ok(addresses >= 2, ports.text);
    const res = await neutron(tc, 'GET', `/network-ip-availabilities/${net}`, { token: tc.adminToken });
    assert.equal(res.status, 200, res.text);
    const a = res.body.network_ip_availability;
    assert.equal(a.used_ips, addresses, 'the two ports and the DHCP port, if any');
    assert.equal(a.total_ips, 253, 'the default pool 10.9.0.2-10.9.0.254');
    assert.deepEqual(a.subnet_ip_availability, [
      {
        subnet_id: sub.body.subnet.id,
        ip_version: 4,
        cidr: '10.9.0.0/24',
        subnet_name: 'api-sub',
        used_ips: addresses,
        total_ips: 253,
      },
    ]);
  });

  test('list with filters; a network without subnets has zero totals', async () => {
    const empty = await network('empty');
    const other = await network('v4-only');
    await subnet(other, alice.projectId, {
      name: 's',
      cidr: '192.168.5.0/24',
      version: 4,
      pools: [{ start: '192.168.5.10', end: '192.168.5.19' }],
      used: ['192.168.5.10'],
    });
    const all = await neutron(tc, 'GET', '/network-ip-availabilities', { token: tc.adminToken });
    assert.equal(all.status, 200, all.text);
    const e = all.body.network_ip_availabilities.find((n: { network_id: string }) => n.network_id === empty);
    assert.deepEqual(
      { used: e.used_ips, total: e.total_ips, subnets: e.subnet_ip_availability },
      { used: 0, total: 0, subnets: [] },
    );
    const byName = await neutron(tc, 'GET', '/network-ip-availabilities?network_name=v4-only', {
      token: tc.adminToken,
    });
    assert.deepEqual(
      byName.body.network_ip_availabilities.map((n: { network_id: string; total_ips: number }) => [
        n.network_id,
        n.total_ips,
      ]),
      [[other, 10]],
    );
    const v6 = await neutron(tc, 'GET', `/network-ip-availabilities?ip_version=6&network_id=${other}`, {
      token: tc.adminToken,
    });
    assert.deepEqual(v6.body.network_ip_availabilities, [], 'no IPv6 subnet: the network drops out');
    const byProject = await neutron(tc, 'GET', `/network-ip-availabilities?project_id=${alice.projectId}`, {
      token: tc.adminToken,
    });
    assert.ok(byProject.body.network_ip_availabilities.length >= 2);
    const fields = await neutron(tc, 'GET', `/network-ip-availabilities/${other}?fields=used_ips`, {
      token: tc.adminToken,
    });
    assert.deepEqual(fields.body.network_ip_availability, { used_ips: 1 });
  });

  test('admin only: others list nothing and get 404s; unknown networks are NetworkNotFound', async () => {
    const net = await network('mine');
    const list = await neutron(tc, 'GET', '/network-ip-availabilities', { token: alice.token });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.network_ip_availabilities, []);
    expectNeutronError(
      await neutron(tc, 'GET', `/network-ip-availabilities/${net}`, { token: alice.token }),
      404,
      'HTTPNotFound',
    );
    const missing = '0e8f7c6a-2b1d-4e3f-8a9b-1c2d3e4f5a6b';
    expectNeutronError(
      await neutron(tc, 'GET', `/network-ip-availabilities/${missing}`, { token: tc.adminToken }),
      404,
      'NetworkNotFound',
      `Network ${missing} could not be found.`,
    );
  });
});
