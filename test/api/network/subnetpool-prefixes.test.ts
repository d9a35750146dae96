// PUT /v2.0/subnetpools/{id}/add_prefixes and remove_prefixes: merged and compacted results, Neutron's errors,
// policy, address scope rules, revisions and feed events, and subnet allocation from the changed pool.
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

async function pool(token: string, body: Record<string, unknown>) {
  const res = await neutron(tc, 'POST', '/subnetpools', {
    token,
    body: { subnetpool: { name: 'p', ...body } },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.subnetpool as { id: string; revision_number: number };
}

const add = (token: string, id: string, body: unknown, headers?: Record<string, string>) =>
  neutron(tc, 'PUT', `/subnetpools/${id}/add_prefixes`, { token, body, ...(headers ? { headers } : {}) });
const remove = (token: string, id: string, body: unknown) =>
  neutron(tc, 'PUT', `/subnetpools/${id}/remove_prefixes`, { token, body });
const show = async (token: string, id: string) =>
  (await neutron(tc, 'GET', `/subnetpools/${id}`, { token })).body.subnetpool;

async function network(token: string): Promise<string> {
  return (await neutron(tc, 'POST', '/networks', { token, body: { network: {} } })).body.network.id;
}

const subnet = (token: string, net: string, poolId: string, extra: Record<string, unknown> = {}) =>
  neutron(tc, 'POST', '/subnets', {
    token,
    body: { subnet: { network_id: net, ip_version: 4, subnetpool_id: poolId, ...extra } },
  });

describe('subnetpool-prefix-ops', () => {
  test('the extension is announced', async () => {
    const res = await neutron(tc, 'GET', '/extensions/subnetpool-prefix-ops', { token: alice.token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.extension.name, 'Subnet Pool Prefix Operations');
  });

  test('add_prefixes merges and compacts, bumps the revision and emits a subnetpool update', async () => {
    const p = await pool(alice.token, { prefixes: ['10.10.0.0/24'] });
    const head = await tc.cloud.feed.head();
    const res = await add(alice.token, p.id, { prefixes: ['10.10.1.0/24', '10.20.0.0/16'] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { prefixes: ['10.10.0.0/23', '10.20.0.0/16'] });
    const shown = await show(alice.token, p.id);
    assert.deepEqual(shown.prefixes, ['10.10.0.0/23', '10.20.0.0/16']);
    assert.equal(shown.revision_number, p.revision_number + 1);
    await tc.settle();
    const events = (await tc.cloud.feed.read(head)).filter((e) => e.resourceId === p.id);
    assert.deepEqual(
      events.map((e) => [e.kind, e.action]),
      [['subnetpool', 'update']],
    );
    // netaddr's leniency: host bits are dropped and a bare address is a /32.
    const lenient = await add(alice.token, p.id, { prefixes: ['10.30.0.9/24', '10.40.0.1'] });
    assert.deepEqual(lenient.body.prefixes, ['10.10.0.0/23', '10.20.0.0/16', '10.30.0.0/24', '10.40.0.1/32']);
    // Prefixes already covered change nothing but still count as an update.
    const same = await add(alice.token, p.id, { prefixes: ['10.20.5.0/24'] });
    assert.deepEqual(same.body.prefixes, lenient.body.prefixes);
    assert.equal((await show(alice.token, p.id)).revision_number, p.revision_number + 3);
  });

  test('a subnet is allocated from an added prefix', async () => {
    const p = await pool(alice.token, { prefixes: ['10.50.0.0/24'], default_prefixlen: 24 });
    const net = await network(alice.token);
    const first = await subnet(alice.token, net, p.id);
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.subnet.cidr, '10.50.0.0/24');
    expectNeutronError(
      await subnet(alice.token, net, p.id),
      500,
      'SubnetAllocationError',
      'Failed to allocate subnet: Insufficient prefix space to allocate subnet size /24.',
    );
    assert.equal((await add(alice.token, p.id, { prefixes: ['10.51.0.0/23'] })).status, 200);
    const second = await subnet(alice.token, net, p.id);
    assert.equal(second.status, 201, second.text);
    assert.equal(second.body.subnet.cidr, '10.51.0.0/24');
    const specific = await subnet(alice.token, net, p.id, { cidr: '10.51.1.0/24' });
    assert.equal(specific.status, 201, specific.text);
  });

  test('add_prefixes errors: body, CIDR, family, unknown pool', async () => {
    const p = await pool(alice.token, { prefixes: ['10.11.0.0/24'] });
    for (const body of [{ prefixes: [] }, {}, { prefixes: '10.12.0.0/24' }, { subnetpool: {} }, undefined])
      expectNeutronError(
        await add(alice.token, p.id, body),
        400,
        'HTTPBadRequest',
        'Request body contains invalid data',
      );
    expectNeutronError(
      await add(alice.token, p.id, ['10.12.0.0/24']),
      400,
      'HTTPBadRequest',
      'Body contains invalid data',
    );
    expectNeutronError(
      await add(alice.token, p.id, { prefixes: ['10.12.0.0/24', 'foo'] }),
      400,
      'AddrFormatError',
      'invalid IPNetwork foo',
    );
    expectNeutronError(
      await add(alice.token, p.id, { prefixes: ['10.12.0.0/33'] }),
      400,
      'AddrFormatError',
      'invalid IPNetwork 10.12.0.0/33',
    );
    expectNeutronError(
      await add(alice.token, p.id, { prefixes: ['2001:db8::/64'] }),
      400,
      'PrefixVersionMismatch',
      'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.',
    );
    const missing = '3b2d7a5e-5c6f-4bb1-9d5e-0f0e1d2c3b4a';
    expectNeutronError(
      await add(alice.token, missing, { prefixes: ['10.12.0.0/24'] }),
      404,
      'SubnetPoolNotFound',
      `Subnet pool ${missing} could not be found.`,
    );
    // Nothing of the refused requests stuck.
    const shown = await show(alice.token, p.id);
    assert.deepEqual(shown.prefixes, ['10.11.0.0/24']);
    assert.equal(shown.revision_number, p.revision_number);
  });

  test('policy: owner or admin; others get 404 for a private pool and 403 for a shared one', async () => {
    const mine = await pool(alice.token, { prefixes: ['10.13.0.0/24'] });
    const body = { prefixes: ['10.14.0.0/24'] };
    expectNeutronError(await add(bob.token, mine.id, body), 404, 'SubnetPoolNotFound');
    expectNeutronError(await remove(bob.token, mine.id, body), 404, 'SubnetPoolNotFound');
    const byAdmin = await add(tc.adminToken, mine.id, body);
    assert.equal(byAdmin.status, 200, byAdmin.text);
    assert.deepEqual(byAdmin.body.prefixes, ['10.13.0.0/24', '10.14.0.0/24']);
    const shared = await pool(tc.adminToken, { prefixes: ['10.15.0.0/24'], shared: true });
    expectNeutronError(
      await add(alice.token, shared.id, { prefixes: ['10.16.0.0/24'] }),
      403,
      'PolicyNotAuthorized',
      '(rule:add_prefixes) is disallowed by policy',
    );
    expectNeutronError(
      await remove(alice.token, shared.id, { prefixes: ['10.15.0.0/24'] }),
      403,
      'PolicyNotAuthorized',
      '(rule:remove_prefixes) is disallowed by policy',
    );
  });

  test('If-Match with a stale revision is 412', async () => {
    const p = await pool(alice.token, { prefixes: ['10.17.0.0/24'] });
    expectNeutronError(
      await add(alice.token, p.id, { prefixes: ['10.18.0.0/24'] }, { 'if-match': 'revision_number=9' }),
      412,
      'RevisionNumberConstraintFailed',
      `Constrained to 9, but current revision is ${p.revision_number}`,
    );
    const ok = await add(
      alice.token,
      p.id,
      { prefixes: ['10.18.0.0/24'] },
      { 'if-match': `revision_number=${p.revision_number}` },
    );
    assert.equal(ok.status, 200, ok.text);
  });

  test('address scopes: prefixes stay unique in a scope; a shared scope of another project blocks owners', async () => {
    const scope = (
      await neutron(tc, 'POST', '/address-scopes', {
        token: alice.token,
        body: { address_scope: { name: 's', ip_version: 4 } },
      })
    ).body.address_scope;
    const a = await pool(alice.token, { prefixes: ['10.60.0.0/24'], address_scope_id: scope.id });
    await pool(alice.token, { prefixes: ['10.61.0.0/24'], address_scope_id: scope.id });
    expectNeutronError(
      await add(alice.token, a.id, { prefixes: ['10.61.0.0/25'] }),
      409,
      'AddressScopePrefixConflict',
      'Failed to associate address scope: subnetpools within an address scope must have unique prefixes.',
    );
    assert.deepEqual((await show(alice.token, a.id)).prefixes, ['10.60.0.0/24']);
    assert.deepEqual((await add(alice.token, a.id, { prefixes: ['10.62.0.0/24'] })).body.prefixes, [
      '10.60.0.0/24',
      '10.62.0.0/24',
    ]);

    const sharedScope = (
      await neutron(tc, 'POST', '/address-scopes', {
        token: tc.adminToken,
        body: { address_scope: { name: 'shared', ip_version: 4, shared: true } },
      })
    ).body.address_scope;
    const inShared = await pool(alice.token, {
      prefixes: ['10.63.0.0/24'],
      address_scope_id: sharedScope.id,
    });
    expectNeutronError(
      await add(alice.token, inShared.id, { prefixes: ['10.64.0.0/24'] }),
      400,
      'IllegalSubnetPoolUpdate',
      `Illegal subnetpool update : subnetpool ${inShared.id} cannot be updated when associated with shared address scope ${sharedScope.id}.`,
    );
    assert.deepEqual((await show(alice.token, inShared.id)).prefixes, ['10.63.0.0/24']);
    assert.equal((await add(tc.adminToken, inShared.id, { prefixes: ['10.64.0.0/24'] })).status, 200);
    // Removing is not an update of the pool: the owner may still shrink it.
    const shrunk = await remove(alice.token, inShared.id, { prefixes: ['10.64.0.0/24'] });
    assert.deepEqual(shrunk.body.prefixes, ['10.63.0.0/24']);
  });

  test('remove_prefixes: difference compacted; disjoint or other-family input is a no-op', async () => {
    const p = await pool(alice.token, { prefixes: ['10.70.0.0/16'] });
    const res = await remove(alice.token, p.id, { prefixes: ['10.70.128.0/17', '10.70.64.0/18'] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { prefixes: ['10.70.0.0/18'] });
    const shown = await show(alice.token, p.id);
    assert.deepEqual(shown.prefixes, ['10.70.0.0/18']);
    assert.equal(shown.revision_number, p.revision_number + 1);
    const head = await tc.cloud.feed.head();
    for (const prefixes of [['10.99.0.0/24'], ['2001:db8::/64']]) {
      const noop = await remove(alice.token, p.id, { prefixes });
      assert.equal(noop.status, 200, noop.text);
      assert.deepEqual(noop.body.prefixes, ['10.70.0.0/18']);
    }
    assert.equal((await show(alice.token, p.id)).revision_number, p.revision_number + 1);
    await tc.settle();
    assert.equal((await tc.cloud.feed.read(head)).filter((e) => e.resourceId === p.id).length, 0);
    // A hole in the middle splits the prefix.
    const split = await remove(alice.token, p.id, { prefixes: ['10.70.16.0/20'] });
    assert.deepEqual(split.body.prefixes, ['10.70.0.0/20', '10.70.32.0/19']);
  });

  test('remove_prefixes errors: body, CIDR, a prefix in use by a subnet', async () => {
    const p = await pool(alice.token, { prefixes: ['10.80.0.0/16'], default_prefixlen: 24 });
    expectNeutronError(
      await remove(alice.token, p.id, { prefixes: [] }),
      400,
      'HTTPBadRequest',
      'Request body contains invalid data',
    );
    expectNeutronError(
      await remove(alice.token, p.id, { prefixes: ['10.80.0.0/x'] }),
      400,
      'AddrFormatError',
      'invalid IPNetwork 10.80.0.0/x',
    );
    const net = await network(alice.token);
    assert.equal((await subnet(alice.token, net, p.id)).body.subnet.cidr, '10.80.0.0/24');
    expectNeutronError(
      await remove(alice.token, p.id, { prefixes: ['10.80.0.0/20'] }),
      400,
      'IllegalSubnetPoolPrefixUpdate',
      'Illegal update to prefixes: One or more the prefixes to be removed is in use by a subnet..',
    );
    assert.deepEqual((await show(alice.token, p.id)).prefixes, ['10.80.0.0/16']);
  });

  test('a pool after remove_prefixes still answers and allocates only from what is left', async () => {
    const p = await pool(alice.token, { prefixes: ['10.90.0.0/23', '10.91.0.0/24'], default_prefixlen: 24 });
    const res = await remove(alice.token, p.id, { prefixes: ['10.90.0.0/24'] });
    assert.deepEqual(res.body.prefixes, ['10.90.1.0/24', '10.91.0.0/24']);
    const listed = await neutron(tc, 'GET', `/subnetpools?id=${p.id}`, { token: alice.token });
    assert.deepEqual(
      listed.body.subnetpools.map((x: { prefixes: string[] }) => x.prefixes),
      [['10.90.1.0/24', '10.91.0.0/24']],
    );
    const upd = await neutron(tc, 'PUT', `/subnetpools/${p.id}`, {
      token: alice.token,
      body: { subnetpool: { name: 'renamed' } },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.deepEqual(upd.body.subnetpool.prefixes, ['10.90.1.0/24', '10.91.0.0/24']);
    const net = await network(alice.token);
    expectNeutronError(
      await subnet(alice.token, net, p.id, { cidr: '10.90.0.0/24' }),
      500,
      'SubnetAllocationError',
      'Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.',
    );
    const got = [
      (await subnet(alice.token, net, p.id)).body.subnet.cidr,
      (await subnet(alice.token, net, p.id)).body.subnet.cidr,
    ];
    assert.deepEqual(got, ['10.90.1.0/24', '10.91.0.0/24']);
    // Removing everything left unused empties the pool, which still shows.
    const q = await pool(alice.token, { prefixes: ['10.92.0.0/24'] });
    assert.deepEqual((await remove(alice.token, q.id, { prefixes: ['10.0.0.0/8'] })).body.prefixes, []);
    assert.deepEqual((await show(alice.token, q.id)).prefixes, []);
    assert.deepEqual((await add(alice.token, q.id, { prefixes: ['10.93.0.0/24'] })).body.prefixes, [
      '10.93.0.0/24',
    ]);
    assert.equal((await neutron(tc, 'DELETE', `/subnetpools/${q.id}`, { token: alice.token })).status, 204);
  });
});
