// /v2.0/subnetpools: CRUD as tempest's test_subnetpools_extensions, prefix bounds, compaction, subnet allocation
// (next free prefix, prefixlen, specific CIDR, default pool), delete refused while allocated.
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

const pool = (token: string, body: Record<string, unknown>) =>
  neutron(tc, 'POST', '/subnetpools', { token, body: { subnetpool: body } });

async function network(): Promise<string> {
  return (await neutron(tc, 'POST', '/networks', { token: alice.token, body: { network: {} } })).body.network
    .id;
}

describe('subnet pools', () => {
  test('create, show, list, update name, delete (tempest test_create_list_show_update_delete_subnetpools)', async () => {
    const res = await pool(alice.token, { name: 'sp1', prefixes: ['1.0.0.0/16', '2.0.0.0/16'] });
    assert.equal(res.status, 201, res.text);
    const p = res.body.subnetpool;
    assert.equal(p.name, 'sp1');
    assert.deepEqual(p.prefixes, ['1.0.0.0/16', '2.0.0.0/16']);
    assert.equal(p.ip_version, 4);
    assert.equal(p.min_prefixlen, 8);
    assert.equal(p.max_prefixlen, 32);
    assert.equal(p.default_prefixlen, 8);
    assert.equal(p.shared, false);
    assert.equal(p.is_default, false);
    assert.equal(p.address_scope_id, null);
    assert.equal(p.default_quota, null);
    assert.equal(p.project_id, alice.projectId);
    const shown = await neutron(tc, 'GET', `/subnetpools/${p.id}`, { token: alice.token });
    assert.equal(shown.body.subnetpool.name, 'sp1');
    const listed = await neutron(tc, 'GET', '/subnetpools', { token: alice.token });
    assert.ok(listed.body.subnetpools.some((x: { id: string }) => x.id === p.id));
    const upd = await neutron(tc, 'PUT', `/subnetpools/${p.id}`, {
      token: alice.token,
      body: { subnetpool: { name: 'sp1-updated' } },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.subnetpool.name, 'sp1-updated');
    assert.equal(upd.body.subnetpool.revision_number, 2);
    expectNeutronError(
      await neutron(tc, 'GET', `/subnetpools/${p.id}`, { token: bob.token }),
      404,
      'SubnetPoolNotFound',
    );
    assert.equal((await neutron(tc, 'DELETE', `/subnetpools/${p.id}`, { token: alice.token })).status, 204);
    expectNeutronError(
      await neutron(tc, 'GET', `/subnetpools/${p.id}`, { token: alice.token }),
      404,
      'SubnetPoolNotFound',
      `Subnet pool ${p.id} could not be found.`,
    );
  });

  test('prefixes are compacted; bounds and versions are checked', async () => {
    const c = await pool(alice.token, {
      name: 'c',
      prefixes: ['10.0.0.0/25', '10.0.0.128/25', '10.0.0.64/26'],
    });
    assert.deepEqual(c.body.subnetpool.prefixes, ['10.0.0.0/24']);
    expectNeutronError(
      await pool(alice.token, { name: 'x', prefixes: ['10.0.0.0/24', '2001:db8::/48'] }),
      400,
      'PrefixVersionMismatch',
      'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.',
    );
    expectNeutronError(
      await pool(alice.token, { name: 'x', prefixes: ['10.0.0.0/24'], min_prefixlen: 28, max_prefixlen: 24 }),
      400,
      'IllegalSubnetPoolPrefixBounds',
      'Illegal prefix bounds: min_prefixlen=28, max_prefixlen=24.',
    );
    expectNeutronError(
      await pool(alice.token, { name: 'x', prefixes: ['10.0.0.0/24'], max_prefixlen: 33 }),
      400,
      'IllegalSubnetPoolPrefixBounds',
      'Illegal prefix bounds: max_prefixlen=33, ip_version_max=32.',
    );
    expectNeutronError(
      await pool(alice.token, { name: 'x', prefixes: [] }),
      400,
      'EmptySubnetPoolPrefixList',
    );
    expectNeutronError(await pool(alice.token, { prefixes: ['10.0.0.0/24'] }), 400, 'HTTPBadRequest');
    expectNeutronError(
      await pool(alice.token, { name: 'x', prefixes: ['10.0.0.0/24'], shared: true }),
      403,
      'PolicyNotAuthorized',
    );
    const up = await neutron(tc, 'PUT', `/subnetpools/${c.body.subnetpool.id}`, {
      token: alice.token,
      body: { subnetpool: { prefixes: ['10.0.1.0/24'] } },
    });
    expectNeutronError(
      up,
      400,
      'IllegalSubnetPoolPrefixUpdate',
      'Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.',
    );
  });

  test('subnets allocated from a pool take the next free prefix; the pool cannot go while used', async () => {
    const p = (await pool(alice.token, { name: 'alloc', prefixes: ['10.100.0.0/16'], default_prefixlen: 24 }))
      .body.subnetpool;
    const net = await network();
    const mk = (body: Record<string, unknown>) =>
      neutron(tc, 'POST', '/subnets', {
        token: alice.token,
        body: { subnet: { network_id: net, ip_version: 4, subnetpool_id: p.id, ...body } },
      });
    const a = await mk({});
    assert.equal(a.status, 201, a.text);
    assert.equal(a.body.subnet.cidr, '10.100.0.0/24');
    assert.equal(a.body.subnet.gateway_ip, '10.100.0.1');
    assert.equal(a.body.subnet.subnetpool_id, p.id);
    const b = await mk({ prefixlen: 26 });
    assert.equal(b.body.subnet.cidr, '10.100.1.0/26');
    const c = await mk({ prefixlen: 26 });
    assert.equal(c.body.subnet.cidr, '10.100.1.64/26', 'best fit: the most specific free block first');
    const d = await mk({ cidr: '10.100.9.0/24' });
    assert.equal(d.body.subnet.cidr, '10.100.9.0/24');
    expectNeutronError(
      await mk({ prefixlen: 4 }),
      400,
      'MinPrefixSubnetAllocationError',
      'Unable to allocate subnet with prefix length 4, minimum allowed prefix is 8.',
    );
    // A /12 is allowed by the bounds but the pool has no room for it (a NeutronException: 500 as Neutron).
    expectNeutronError(
      await mk({ prefixlen: 12 }),
      500,
      'SubnetAllocationError',
      'Failed to allocate subnet: Insufficient prefix space to allocate subnet size /12.',
    );
    expectNeutronError(
      await mk({ ip_version: 6 }),
      400,
      'BadRequest',
      'Bad subnets request: Cannot allocate IPv6 subnet from IPv4 subnet pool.',
    );
    expectNeutronError(
      await mk({ allocation_pools: [{ start: '10.100.0.5', end: '10.100.0.9' }] }),
      400,
      'BadRequest',
      'Bad subnets request: allocation_pools allowed only for specific subnet requests..', // sic, as Neutron
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/subnetpools/${p.id}`, { token: alice.token }),
      400,
      'SubnetPoolDeleteError',
      'Unable to delete subnet pool: Subnet pool has existing allocations.',
    );
  });

  test('the default pool (admin) serves use_default_subnetpool; only one default per family', async () => {
    const d = await pool(tc.adminToken, {
      name: 'default4',
      prefixes: ['10.200.0.0/16'],
      is_default: true,
      shared: true,
      default_prefixlen: 26,
    });
    assert.equal(d.status, 201, d.text);
    expectNeutronError(
      await pool(tc.adminToken, { name: 'another', prefixes: ['10.201.0.0/16'], is_default: true }),
      400,
      'InvalidInput',
      'Invalid input for operation: A default subnetpool for this IP family has already been set. Only one default may exist per IP family.',
    );
    const net = await network();
    const s = await neutron(tc, 'POST', '/subnets', {
      token: alice.token,
      body: { subnet: { network_id: net, ip_version: 4, use_default_subnetpool: true } },
    });
    assert.equal(s.status, 201, s.text);
    assert.equal(s.body.subnet.cidr, '10.200.0.0/26');
    expectNeutronError(
      await neutron(tc, 'POST', '/subnets', {
        token: alice.token,
        body: { subnet: { network_id: net, ip_version: 6, use_default_subnetpool: true } },
      }),
      400,
      'BadRequest',
      'Bad subnets request: No default subnetpool found for IPv6.',
    );
  });
});
