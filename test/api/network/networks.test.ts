// /v2.0/networks: create/list/show/update/delete with Neutron's attribute rules, admin-only provider attributes,
// visibility (own, shared, external), filters/fields/sort/pagination, tags and If-Match.
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

describe('networks', () => {
  test('create gets a tenant VXLAN segment, Neutron defaults and standard attributes', async () => {
    const res = await neutron(tc, 'POST', '/networks', {
      token: alice.token,
      body: { network: { name: 'n1' } },
    });
    assert.equal(res.status, 201, res.text);
    const n = res.body.network;
    assert.equal(n.name, 'n1');
    assert.equal(n.status, 'ACTIVE');
    assert.equal(n.admin_state_up, true);
    assert.equal(n.shared, false);
    assert.equal(n['router:external'], false);
    assert.equal(n.mtu, 1450);
    assert.equal(n.project_id, alice.projectId);
    assert.equal(n.tenant_id, alice.projectId);
    assert.equal(n.revision_number, 1);
    assert.deepEqual(n.subnets, []);
    assert.deepEqual(n.tags, []);
    assert.match(n.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(n['provider:network_type'], undefined, 'provider attributes are admin-only');
    const shown = await neutron(tc, 'GET', `/networks/${n.id}`, { token: tc.adminToken });
    assert.equal(shown.body.network['provider:network_type'], 'vxlan');
    assert.ok(shown.body.network['provider:segmentation_id'] >= 1);
  });

  test('bad input: unknown attribute, read-only attribute, wrong types, admin-only attributes', async () => {
    expectNeutronError(
      await neutron(tc, 'POST', '/networks', { token: alice.token, body: { network: { foo: 1 } } }),
      400,
      'HTTPBadRequest',
      "Unrecognized attribute(s) 'foo'",
    );
    expectNeutronError(
      await neutron(tc, 'POST', '/networks', { token: alice.token, body: { network: { status: 'DOWN' } } }),
      400,
      'HTTPBadRequest',
      "Attribute 'status' not allowed in POST",
    );
    expectNeutronError(
      await neutron(tc, 'POST', '/networks', {
        token: alice.token,
        body: { network: { admin_state_up: 'x' } },
      }),
      400,
      'InvalidInput',
      "Invalid input for operation: 'x' cannot be converted to boolean.",
    );
    expectNeutronError(
      await neutron(tc, 'POST', '/networks', { token: alice.token, body: { network: { shared: true } } }),
      403,
      'PolicyNotAuthorized',
    );
    expectNeutronError(
      await neutron(tc, 'POST', '/networks', { token: alice.token, body: {} }),
      400,
      'HTTPBadRequest',
    );
  });

  test('visibility: another project sees neither the network nor can delete it; shared is visible', async () => {
    const own = (
      await neutron(tc, 'POST', '/networks', { token: alice.token, body: { network: { name: 'p' } } })
    ).body.network;
    expectNeutronError(
      await neutron(tc, 'GET', `/networks/${own.id}`, { token: bob.token }),
      404,
      'NetworkNotFound',
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/networks/${own.id}`, { token: bob.token }),
      404,
      'NetworkNotFound',
    );
    const shared = (
      await neutron(tc, 'POST', '/networks', {
        token: tc.adminToken,
        body: { network: { name: 'sh', shared: true } },
      })
    ).body.network;
    const list = await neutron(tc, 'GET', '/networks', { token: bob.token });
    const ids = list.body.networks.map((n: { id: string }) => n.id);
    assert.ok(ids.includes(shared.id));
    assert.ok(!ids.includes(own.id));
  });

  test('filters, fields, sorting and pagination with links', async () => {
    const names = ['pg-c', 'pg-a', 'pg-b'];
    for (const name of names)
      await neutron(tc, 'POST', '/networks', { token: bob.token, body: { network: { name } } });
    const sorted = await neutron(tc, 'GET', '/networks?sort_key=name&sort_dir=asc&fields=name&fields=id', {
      token: bob.token,
    });
    const got = sorted.body.networks
      .map((n: { name: string }) => n.name)
      .filter((n: string) => n.startsWith('pg-'));
    assert.deepEqual(got, ['pg-a', 'pg-b', 'pg-c']);
    assert.deepEqual(Object.keys(sorted.body.networks[0]).sort(), ['id', 'name']);
    const filtered = await neutron(tc, 'GET', '/networks?name=pg-b', { token: bob.token });
    // Neutron's format suffix on any path: the same answers with .json.
    const suffixed = await neutron(tc, 'GET', '/networks.json?name=pg-b', { token: bob.token });
    assert.deepEqual(suffixed.body, filtered.body);
    const one = filtered.body.networks[0];
    const shownSuffixed = await neutron(tc, 'GET', `/networks/${one.id}.json`, { token: bob.token });
    assert.equal(shownSuffixed.status, 200, shownSuffixed.text);
    assert.equal(shownSuffixed.body.network.id, one.id);
    assert.equal(filtered.body.networks.length, 1);
    const page = await neutron(
      tc,
      'GET',
      '/networks?name=pg-a&name=pg-b&name=pg-c&limit=2&sort_key=name&sort_dir=asc',
      {
        token: bob.token,
      },
    );
    assert.equal(page.body.networks.length, 2);
    const next = page.body.networks_links.find((l: { rel: string }) => l.rel === 'next');
    assert.ok(next);
    const url = new URL(next.href);
    const second = await tc.request('GET', `${url.pathname}${url.search}`, { token: bob.token });
    assert.deepEqual(
      second.body.networks.map((n: { name: string }) => n.name),
      ['pg-c'],
    );
    expectNeutronError(
      await neutron(tc, 'GET', '/networks?bogus=1', { token: bob.token }),
      400,
      'HTTPBadRequest',
    );
  });

  test('update bumps revision; If-Match with a stale revision is 412; tags; delete', async () => {
    const n = (
      await neutron(tc, 'POST', '/networks', { token: alice.token, body: { network: { name: 'u' } } })
    ).body.network;
    const up = await neutron(tc, 'PUT', `/networks/${n.id}`, {
      token: alice.token,
      body: { network: { name: 'u2' } },
      headers: { 'if-match': 'revision_number=1' },
    });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.network.revision_number, 2);
    expectNeutronError(
      await neutron(tc, 'PUT', `/networks/${n.id}`, {
        token: alice.token,
        body: { network: { name: 'u3' } },
        headers: { 'if-match': 'revision_number=1' },
      }),
      412,
      'RevisionNumberConstraintFailed',
    );
    assert.equal(
      (await neutron(tc, 'PUT', `/networks/${n.id}/tags/red`, { token: alice.token })).status,
      201,
    );
    // A tag is a standard attribute: adding one bumps the revision.
    const afterTag = await neutron(tc, 'GET', `/networks/${n.id}`, { token: alice.token });
    assert.equal(afterTag.body.network.revision_number, 3);
    const tagged = await neutron(tc, 'GET', '/networks?tags=red', { token: alice.token });
    assert.deepEqual(
      tagged.body.networks.map((x: { id: string }) => x.id),
      [n.id],
    );
    assert.equal((await neutron(tc, 'DELETE', `/networks/${n.id}`, { token: alice.token })).status, 204);
    expectNeutronError(
      await neutron(tc, 'GET', `/networks/${n.id}`, { token: alice.token }),
      404,
      'NetworkNotFound',
    );
  });
});
