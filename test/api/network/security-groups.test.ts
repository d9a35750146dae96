// /v2.0/security-groups: the default group made on first use with Neutron's four rules (and its protections),
// CRUD with stateful, standard attributes, visibility, filters/fields, tags, If-Match, and quota.
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

type Sg = { id: string; name: string; security_group_rules: Record<string, unknown>[]; [k: string]: unknown };

async function createSg(user: TestUser, body: Record<string, unknown> = {}): Promise<Sg> {
  const res = await neutron(tc, 'POST', '/security-groups', {
    token: user.token,
    body: { security_group: { name: `sg-${Math.random().toString(36).slice(2, 8)}`, ...body } },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.security_group;
}

async function listSgs(user: TestUser, query = ''): Promise<Sg[]> {
  const res = await neutron(tc, 'GET', `/security-groups${query}`, { token: user.token });
  assert.equal(res.status, 200, res.text);
  return res.body.security_groups;
}

describe('the default security group', () => {
  test('listing makes it once, with egress anywhere and ingress from itself for IPv4 and IPv6', async () => {
    const user = await tc.makeUser();
    const first = await listSgs(user);
    assert.equal(first.length, 1);
    const d = first[0]!;
    assert.equal(d.name, 'default');
    assert.equal(d.description, 'Default security group');
    assert.equal(d.stateful, true);
    assert.equal(d.project_id, user.projectId);
    assert.equal(d.tenant_id, user.projectId);
    const rules = d.security_group_rules.map((r) => ({
      direction: r['direction'],
      ethertype: r['ethertype'],
      remote_group_id: r['remote_group_id'],
      protocol: r['protocol'],
      remote_ip_prefix: r['remote_ip_prefix'],
      port_range_min: r['port_range_min'],
    }));
    const expect = (direction: string, ethertype: string, remote: string | null) => ({
      direction,
      ethertype,
      remote_group_id: remote,
      protocol: null,
      remote_ip_prefix: null,
      port_range_min: null,
    });
    assert.deepEqual(
      new Set(rules.map((r) => JSON.stringify(r))),
      new Set(
        [
          expect('ingress', 'IPv4', d.id),
          expect('egress', 'IPv4', null),
          expect('ingress', 'IPv6', d.id),
          expect('egress', 'IPv6', null),
        ].map((r) => JSON.stringify(r)),
      ),
    );
    const again = await listSgs(user);
    assert.deepEqual(
      again.map((g) => g.id),
      [d.id],
    );
  });

  test('creating a group makes the default group first', async () => {
    const user = await tc.makeUser();
    const sg = await createSg(user, { name: 'web' });
    const names = (await listSgs(user)).map((g) => g.name).sort();
    assert.deepEqual(names, ['default', 'web']);
    // A new group gets the two egress rules only.
    assert.deepEqual(
      sg.security_group_rules
        .map((r) => `${r['direction']}/${r['ethertype']}/${r['remote_group_id']}`)
        .sort(),
      ['egress/IPv4/null', 'egress/IPv6/null'],
    );
  });

  test('a second "default" is refused, by create or rename (409 SecurityGroupDefaultAlreadyExists)', async () => {
    for (const name of ['default', 'Default'])
      expectNeutronError(
        await neutron(tc, 'POST', '/security-groups', {
          token: alice.token,
          body: { security_group: { name } },
        }),
        409,
        'SecurityGroupDefaultAlreadyExists',
        'Default security group already exists.',
      );
    const sg = await createSg(alice);
    expectNeutronError(
      await neutron(tc, 'PUT', `/security-groups/${sg.id}`, {
        token: alice.token,
        body: { security_group: { name: 'default' } },
      }),
      409,
      'SecurityGroupDefaultAlreadyExists',
    );
  });

  test('its name cannot change, its description can; its project cannot delete it, an admin can', async () => {
    const user = await tc.makeUser();
    const d = (await listSgs(user)).find((g) => g.name === 'default')!;
    expectNeutronError(
      await neutron(tc, 'PUT', `/security-groups/${d.id}`, {
        token: user.token,
        body: { security_group: { name: 'other' } },
      }),
      409,
      'SecurityGroupCannotUpdateDefault',
      'Updating default security group not allowed.',
    );
    const up = await neutron(tc, 'PUT', `/security-groups/${d.id}`, {
      token: user.token,
      body: { security_group: { description: 'mine' } },
    });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.security_group.description, 'mine');
    expectNeutronError(
      await neutron(tc, 'DELETE', `/security-groups/${d.id}`, { token: user.token }),
      409,
      'SecurityGroupCannotRemoveDefault',
      'Insufficient rights for removing default security group.',
    );
    assert.equal(
      (await neutron(tc, 'DELETE', `/security-groups/${d.id}`, { token: tc.adminToken })).status,
      204,
    );
    const remade = await listSgs(user);
    assert.equal(remade.length, 1);
    assert.equal(remade[0]!.name, 'default');
    assert.notEqual(remade[0]!.id, d.id);
  });

  test("an admin listing with a project filter makes that project's default; a member's filter does not", async () => {
    const user = await tc.makeUser();
    const other = await tc.makeUser();
    assert.deepEqual(await listSgs(other, `?project_id=${user.projectId}`), []);
    const seen = await listSgs({ ...user, token: tc.adminToken }, `?project_id=${user.projectId}`);
    assert.deepEqual(
      seen.map((g) => g.name),
      ['default'],
    );
  });
});

describe('security groups', () => {
  test('create, list, update, show, delete (tempest SecGroupTest)', async () => {
    const sg = await createSg(alice, { description: 'd1' });
    assert.equal(sg.stateful, true);
    assert.equal(sg.revision_number, 1);
    assert.deepEqual(sg.tags, []);
    assert.match(String(sg.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok((await listSgs(alice)).some((g) => g.id === sg.id));
    const up = await neutron(tc, 'PUT', `/security-groups/${sg.id}`, {
      token: alice.token,
      body: { security_group: { name: 'renamed', description: 'd2' } },
    });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.security_group.name, 'renamed');
    assert.equal(up.body.security_group.description, 'd2');
    assert.equal(up.body.security_group.revision_number, 2);
    const shown = await neutron(tc, 'GET', `/security-groups/${sg.id}`, { token: alice.token });
    assert.equal(shown.body.security_group.name, 'renamed');
    assert.equal(shown.body.security_group.security_group_rules.length, 2);
    assert.equal(
      (await neutron(tc, 'DELETE', `/security-groups/${sg.id}`, { token: alice.token })).status,
      204,
    );
    assert.ok(!(await listSgs(alice)).some((g) => g.id === sg.id));
    expectNeutronError(
      await neutron(tc, 'GET', `/security-groups/${sg.id}`, { token: alice.token }),
      404,
      'SecurityGroupNotFound',
      `Security group ${sg.id} does not exist`,
    );
  });

  test('stateless groups; stateful is a boolean', async () => {
    const sg = await createSg(alice, { stateful: false });
    assert.equal(sg.stateful, false);
    const up = await neutron(tc, 'PUT', `/security-groups/${sg.id}`, {
      token: alice.token,
      body: { security_group: { stateful: 'true' } },
    });
    assert.equal(up.body.security_group.stateful, true);
    expectNeutronError(
      await neutron(tc, 'POST', '/security-groups', {
        token: alice.token,
        body: { security_group: { name: 'x', stateful: 'maybe' } },
      }),
      400,
      'InvalidInput',
      "Invalid input for operation: 'maybe' cannot be converted to boolean.",
    );
  });

  test('bad input: unknown and read-only attributes, long names, bulk create', async () => {
    expectNeutronError(
      await neutron(tc, 'POST', '/security-groups', {
        token: alice.token,
        body: { security_group: { name: 'x', security_group_rules: [] } },
      }),
      400,
      'HTTPBadRequest',
      "Attribute 'security_group_rules' not allowed in POST",
    );
    expectNeutronError(
      await neutron(tc, 'POST', '/security-groups', {
        token: alice.token,
        body: { security_group: { name: 'x'.repeat(256) } },
      }),
      400,
      'HTTPBadRequest',
      /exceeds maximum length of 255/,
    );
    const bulk = await neutron(tc, 'POST', '/security-groups', {
      token: alice.token,
      body: { security_groups: [{ name: 'b1' }, { name: 'b2' }] },
    });
    assert.equal(bulk.status, 201, bulk.text);
    assert.deepEqual(
      bulk.body.security_groups.map((g: Sg) => g.name),
      ['b1', 'b2'],
    );
  });

  test('non-existent and foreign groups are 404 SecurityGroupNotFound; admins see every project', async () => {
    const missing = '6b2b3c8e-1f0a-4a52-9d2b-3f5e0c1d2e3f';
    expectNeutronError(
      await neutron(tc, 'GET', `/security-groups/${missing}`, { token: alice.token }),
      404,
      'SecurityGroupNotFound',
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/security-groups/${missing}`, { token: alice.token }),
      404,
      'SecurityGroupNotFound',
    );
    const own = await createSg(alice);
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', { security_group: { name: 'mine' } }],
      ['DELETE', undefined],
    ] as const)
      expectNeutronError(
        await neutron(tc, method, `/security-groups/${own.id}`, { token: bob.token, body }),
        404,
        'SecurityGroupNotFound',
      );
    assert.ok(!(await listSgs(bob)).some((g) => g.id === own.id));
    const all = await neutron(tc, 'GET', '/security-groups', { token: tc.adminToken });
    assert.ok(all.body.security_groups.some((g: Sg) => g.id === own.id));
    const admin = await neutron(tc, 'PUT', `/security-groups/${own.id}`, {
      token: tc.adminToken,
      body: { security_group: { description: 'by admin' } },
    });
    assert.equal(admin.status, 200, admin.text);
  });

  test('filters, fields, sorting; unknown filter 400', async () => {
    const user = await tc.makeUser();
    for (const name of ['f-c', 'f-a', 'f-b']) await createSg(user, { name });
    const byName = await listSgs(user, '?name=f-b');
    assert.deepEqual(
      byName.map((g) => g.name),
      ['f-b'],
    );
    const sorted = await listSgs(user, '?sort_key=name&sort_dir=desc&fields=id&fields=name');
    assert.deepEqual(
      sorted.map((g) => g.name),
      ['f-c', 'f-b', 'f-a', 'default'],
    );
    assert.deepEqual(Object.keys(sorted[0]!).sort(), ['id', 'name']);
    const withRules = await listSgs(user, '?name=f-a&fields=security_group_rules');
    assert.equal((withRules[0]!.security_group_rules as unknown[]).length, 2);
    expectNeutronError(
      await neutron(tc, 'GET', '/security-groups?bogus=1', { token: user.token }),
      400,
      'HTTPBadRequest',
    );
  });

  test('tags, revision numbers and If-Match', async () => {
    const sg = await createSg(alice);
    assert.equal(
      (await neutron(tc, 'PUT', `/security-groups/${sg.id}/tags/blue`, { token: alice.token })).status,
      201,
    );
    const tagged = await listSgs(alice, '?tags=blue');
    assert.deepEqual(
      tagged.map((g) => g.id),
      [sg.id],
    );
    assert.deepEqual(tagged[0]!.tags, ['blue']);
    assert.equal(tagged[0]!.revision_number, 2);
    expectNeutronError(
      await neutron(tc, 'PUT', `/security-groups/${sg.id}/tags/blue`, { token: bob.token }),
      404,
      'SecurityGroupNotFound',
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/security-groups/${sg.id}`, {
        token: alice.token,
        headers: { 'if-match': 'revision_number=1' },
        body: { security_group: { description: 'x' } },
      }),
      412,
      'RevisionNumberConstraintFailed',
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/security-groups/${sg.id}`, {
        token: alice.token,
        headers: { 'if-match': 'revision_number=1' },
      }),
      412,
      'RevisionNumberConstraintFailed',
    );
    const del = await neutron(tc, 'DELETE', `/security-groups/${sg.id}`, {
      token: alice.token,
      headers: { 'if-match': 'revision_number=2' },
    });
    assert.equal(del.status, 204, del.text);
  });

  test('extensions: security-group, stateful-security-group, security-groups-normalized-cidr', async () => {
    const res = await neutron(tc, 'GET', '/extensions', { token: alice.token });
    const aliases = res.body.extensions.map((e: { alias: string }) => e.alias);
    for (const a of [
      'security-group',
      'stateful-security-group',
      'security-groups-normalized-cidr',
      'port-security',
    ])
      assert.ok(aliases.includes(a), a);
    const one = await neutron(tc, 'GET', '/extensions/security-group', { token: alice.token });
    assert.equal(one.body.extension.name, 'security-group');
  });
});

describe('security group quota', () => {
  let qc: TestCloud;
  before(async () => {
    qc = await startTestCloud({
      network: { quotas: { security_group: 2, security_group_rule: 7 } },
    } as never);
  });
  after(async () => {
    await qc.close();
  });

  test('the default group counts; over the group or rule limit is 409 OverQuota', async () => {
    const user = await qc.makeUser();
    const ok = await qc.request('POST', '/network/v2.0/security-groups', {
      token: user.token,
      body: { security_group: { name: 'one' } },
    });
    assert.equal(ok.status, 201, ok.text);
    expectNeutronError(
      await qc.request('POST', '/network/v2.0/security-groups', {
        token: user.token,
        body: { security_group: { name: 'two' } },
      }),
      409,
      'OverQuota',
      "Quota exceeded for resources: ['security_group'].",
    );
    // 4 default rules + 2 egress rules: one more fits, the next does not.
    const rule = (port: number) =>
      qc.request('POST', '/network/v2.0/security-group-rules', {
        token: user.token,
        body: {
          security_group_rule: {
            security_group_id: ok.body.security_group.id,
            direction: 'ingress',
            protocol: 'tcp',
            port_range_min: port,
            port_range_max: port,
          },
        },
      });
    assert.equal((await rule(22)).status, 201);
    expectNeutronError(
      await rule(23),
      409,
      'OverQuota',
      "Quota exceeded for resources: ['security_group_rule'].",
    );
  });

  test("the default group's four rules need room in the rule quota", async () => {
    const tight = await startTestCloud({ network: { quotas: { security_group_rule: 3 } } } as never);
    try {
      const user = await tight.makeUser();
      expectNeutronError(
        await tight.request('GET', '/network/v2.0/security-groups', { token: user.token }),
        409,
        'OverQuota',
        "Quota exceeded for resources: ['security_group_rule'].",
      );
    } finally {
      await tight.close();
    }
  });
});
