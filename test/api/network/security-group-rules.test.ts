// /v2.0/security-group-rules: tempest's SecGroupTest and NegativeSecGroupTest checks (protocols by name and number,
// ICMP type/code, remote group and prefix, Neutron's exact 400/404/409 errors), duplicates, visibility, bulk,
// revision bumps on the group, and cascades when groups go.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestResponse, type TestUser } from '../../support/cloud.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  // Room for the many groups these tests make in one project.
  tc = await startTestCloud({
    network: { quotas: { security_group: 100, security_group_rule: 1000 } },
  } as never);
  alice = await tc.makeUser();
  bob = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

async function newSg(user: TestUser = alice): Promise<string> {
  const res = await neutron(tc, 'POST', '/security-groups', {
    token: user.token,
    body: { security_group: { name: `sg-${Math.random().toString(36).slice(2, 8)}` } },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.security_group.id;
}

function addRule(sgId: string, rule: Record<string, unknown>, user: TestUser = alice): Promise<TestResponse> {
  return neutron(tc, 'POST', '/security-group-rules', {
    token: user.token,
    body: { security_group_rule: { security_group_id: sgId, direction: 'ingress', ...rule } },
  });
}

async function created(res: TestResponse): Promise<Record<string, unknown>> {
  assert.equal(res.status, 201, res.text);
  return res.body.security_group_rule;
}

async function ruleIds(user: TestUser, query = ''): Promise<string[]> {
  const res = await neutron(tc, 'GET', `/security-group-rules${query}`, { token: user.token });
  assert.equal(res.status, 200, res.text);
  return res.body.security_group_rules.map((r: { id: string }) => r.id);
}

describe('security group rules', () => {
  test('create, show, list, delete for tcp, udp and icmp (IPv4 and IPv6)', async () => {
    const sg = await newSg();
    for (const ethertype of ['IPv4', 'IPv6'])
      for (const protocol of ['tcp', 'udp', 'icmp']) {
        const r = await created(await addRule(sg, { protocol, ethertype }));
        assert.equal(r['protocol'], ethertype === 'IPv6' && protocol === 'icmp' ? 'ipv6-icmp' : protocol);
        const shown = await neutron(tc, 'GET', `/security-group-rules/${r['id']}`, { token: alice.token });
        assert.deepEqual(shown.body.security_group_rule, r);
        assert.ok((await ruleIds(alice)).includes(r['id'] as string));
        assert.equal(
          (await neutron(tc, 'DELETE', `/security-group-rules/${r['id']}`, { token: alice.token })).status,
          204,
        );
        assert.ok(!(await ruleIds(alice)).includes(r['id'] as string));
      }
  });

  test('the wire form: every attribute, standard attributes, no tags', async () => {
    const sg = await newSg();
    const r = await created(
      await addRule(sg, { protocol: 'tcp', port_range_min: 77, port_range_max: 77, description: 'ssh-ish' }),
    );
    assert.deepEqual(Object.keys(r).sort(), [
      'created_at',
      'description',
      'direction',
      'ethertype',
      'id',
      'normalized_cidr',
      'port_range_max',
      'port_range_min',
      'project_id',
      'protocol',
      'remote_group_id',
      'remote_ip_prefix',
      'revision_number',
      'security_group_id',
      'tenant_id',
      'updated_at',
    ]);
    assert.equal(r['ethertype'], 'IPv4');
    assert.equal(r['port_range_min'], 77);
    assert.equal(r['port_range_max'], 77);
    assert.equal(r['remote_ip_prefix'], null);
    assert.equal(r['normalized_cidr'], null);
    assert.equal(r['project_id'], alice.projectId);
    assert.equal(r['description'], 'ssh-ish');
  });

  test('ICMP type and code (tempest icmp_type_code), legacy IPv6 names canonicalised', async () => {
    const sg = await newSg();
    for (const [ethertype, protocol] of [
      ['IPv4', 'icmp'],
      ['IPv6', 'ipv6-icmp'],
    ] as const)
      for (const [min, max] of [
        [3, 2],
        [3, 0],
        [8, 0],
        [0, 0],
        [11, null],
      ]) {
        const r = await created(
          await addRule(sg, { ethertype, protocol, port_range_min: min, port_range_max: max }),
        );
        assert.equal(r['protocol'], protocol);
        assert.equal(r['port_range_min'], min);
        assert.equal(r['port_range_max'], max);
      }
    const legacy = await created(
      await addRule(sg, { ethertype: 'IPv6', protocol: 'icmpv6', direction: 'egress' }),
    );
    assert.equal(legacy['protocol'], 'ipv6-icmp');
    const num = await created(
      await addRule(sg, { ethertype: 'IPv6', protocol: '1', direction: 'egress', port_range_min: 128 }),
    );
    assert.equal(num['protocol'], '58');
  });

  test('protocol as an integer or numeric string is kept as text; names are case-insensitive', async () => {
    const sg = await newSg();
    const r = await created(await addRule(sg, { protocol: 17 }));
    assert.equal(r['protocol'], '17');
    assert.equal((await created(await addRule(sg, { protocol: 'GRE' })))['protocol'], 'gre');
    assert.equal(
      (await created(await addRule(sg, { protocol: '132', port_range_min: 5, port_range_max: 6 })))[
        'protocol'
      ],
      '132',
    );
    // The whole port range is no range.
    const all = await created(
      await addRule(sg, { protocol: 'tcp', port_range_min: 1, port_range_max: 65535 }),
    );
    assert.equal(all['port_range_min'], null);
    assert.equal(all['port_range_max'], null);
  });

  test('remote group and remote prefix (host bits kept, normalized_cidr cleared)', async () => {
    const sg1 = await newSg();
    const sg2 = await newSg();
    const byGroup = await created(
      await addRule(sg1, { protocol: 'udp', port_range_min: 50, port_range_max: 55, remote_group_id: sg2 }),
    );
    assert.equal(byGroup['remote_group_id'], sg2);
    assert.equal(byGroup['remote_ip_prefix'], null);
    const net = await created(
      await addRule(sg1, {
        protocol: 'tcp',
        port_range_min: 76,
        port_range_max: 77,
        remote_ip_prefix: '10.100.0.0/16',
      }),
    );
    assert.equal(net['remote_ip_prefix'], '10.100.0.0/16');
    assert.equal(net['normalized_cidr'], '10.100.0.0/16');
    const host = await created(await addRule(sg1, { protocol: 'tcp', remote_ip_prefix: '10.0.0.1/24' }));
    assert.equal(host['remote_ip_prefix'], '10.0.0.1/24');
    assert.equal(host['normalized_cidr'], '10.0.0.0/24');
    const bare = await created(await addRule(sg1, { protocol: 'tcp', remote_ip_prefix: '192.0.2.7' }));
    assert.equal(bare['remote_ip_prefix'], '192.0.2.7/32');
    const v6 = await created(
      await addRule(sg1, { ethertype: 'IPv6', protocol: 'tcp', remote_ip_prefix: '2001:DB8:0::5/64' }),
    );
    assert.equal(v6['remote_ip_prefix'], '2001:db8::5/64');
    assert.equal(v6['normalized_cidr'], '2001:db8::/64');
  });

  test('the group shows its rules and its revision moves with them', async () => {
    const sg = await newSg();
    const show = async () =>
      (await neutron(tc, 'GET', `/security-groups/${sg}`, { token: alice.token })).body.security_group;
    const before = await show();
    const r = await created(await addRule(sg, { protocol: 'tcp', port_range_min: 80, port_range_max: 80 }));
    const mid = await show();
    assert.equal(mid.revision_number, before.revision_number + 1);
    assert.ok(mid.security_group_rules.some((x: { id: string }) => x.id === r['id']));
    await neutron(tc, 'DELETE', `/security-group-rules/${r['id']}`, { token: alice.token });
    const last = await show();
    assert.equal(last.revision_number, before.revision_number + 2);
    assert.equal(last.security_group_rules.length, 2);
  });

  test('duplicates: 409 SecurityGroupRuleExists naming the rule; tcp equals 6, no prefix equals 0.0.0.0/0', async () => {
    const sg = await newSg();
    const first = await created(
      await addRule(sg, { protocol: 'tcp', port_range_min: 66, port_range_max: 67 }),
    );
    expectNeutronError(
      await addRule(sg, { protocol: 'tcp', port_range_min: 66, port_range_max: 67 }),
      409,
      'SecurityGroupRuleExists',
      `Security group rule already exists. Rule id is ${first['id']}.`,
    );
    expectNeutronError(
      await addRule(sg, {
        protocol: '6',
        port_range_min: 66,
        port_range_max: 67,
        remote_ip_prefix: '0.0.0.0/0',
      }),
      409,
      'SecurityGroupRuleExists',
    );
    // The default egress rules are there already.
    expectNeutronError(await addRule(sg, { direction: 'egress' }), 409, 'SecurityGroupRuleExists');
    expectNeutronError(
      await neutron(tc, 'POST', '/security-group-rules', {
        token: alice.token,
        body: {
          security_group_rules: [
            { security_group_id: sg, direction: 'ingress', protocol: 'udp' },
            { security_group_id: sg, direction: 'ingress', protocol: 'UDP' },
          ],
        },
      }),
      409,
      'DuplicateSecurityGroupRuleInPost',
      'Duplicate Security Group Rule in POST.',
    );
  });

  test('concurrent identical rules: exactly one is created', async () => {
    const sg = await newSg();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        addRule(sg, { protocol: 'tcp', port_range_min: 443, port_range_max: 443 }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 1);
    for (const r of results.filter((x) => x.status !== 201))
      expectNeutronError(r, 409, 'SecurityGroupRuleExists');
  });

  test('bulk create: one group and project per request', async () => {
    const sg = await newSg();
    const other = await newSg();
    const ok = await neutron(tc, 'POST', '/security-group-rules', {
      token: alice.token,
      body: {
        security_group_rules: [
          {
            security_group_id: sg,
            direction: 'ingress',
            protocol: 'tcp',
            port_range_min: 1,
            port_range_max: 2,
          },
          { security_group_id: sg, direction: 'ingress', protocol: 'udp' },
        ],
      },
    });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.security_group_rules.length, 2);
    expectNeutronError(
      await neutron(tc, 'POST', '/security-group-rules', {
        token: alice.token,
        body: {
          security_group_rules: [
            { security_group_id: sg, direction: 'ingress', protocol: 'sctp' },
            { security_group_id: other, direction: 'ingress', protocol: 'sctp' },
          ],
        },
      }),
      400,
      'SecurityGroupNotSingleGroupRules',
    );
  });

  test('visibility: rules of my groups and rules I own; others are 404', async () => {
    const sg = await newSg();
    const r = await created(await addRule(sg, { protocol: 'tcp' }));
    assert.ok(!(await ruleIds(bob)).includes(r['id'] as string));
    expectNeutronError(
      await neutron(tc, 'GET', `/security-group-rules/${r['id']}`, { token: bob.token }),
      404,
      'SecurityGroupRuleNotFound',
      `Security group rule ${r['id']} does not exist`,
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/security-group-rules/${r['id']}`, { token: bob.token }),
      404,
      'SecurityGroupRuleNotFound',
    );
    // Bob cannot add to Alice's group, nor name it as his remote group.
    expectNeutronError(await addRule(sg, { protocol: 'udp' }, bob), 404, 'SecurityGroupNotFound');
    const bobs = await newSg(bob);
    expectNeutronError(
      await addRule(bobs, { protocol: 'udp', remote_group_id: sg }, bob),
      404,
      'SecurityGroupNotFound',
    );
    // An admin's rule in Alice's group is visible to Alice (her group) and to every admin.
    const byAdmin = await created(await addRule(sg, { protocol: 'udp' }, { ...alice, token: tc.adminToken }));
    assert.ok((await ruleIds(alice)).includes(byAdmin['id'] as string));
    assert.ok((await ruleIds({ ...alice, token: tc.adminToken })).includes(r['id'] as string));
  });

  test('filters and fields', async () => {
    const sg = await newSg();
    await created(await addRule(sg, { protocol: 'tcp', port_range_min: 22, port_range_max: 22 }));
    await created(await addRule(sg, { protocol: 'udp', port_range_min: 53, port_range_max: 53 }));
    const tcp = await neutron(tc, 'GET', `/security-group-rules?security_group_id=${sg}&protocol=tcp`, {
      token: alice.token,
    });
    assert.deepEqual(
      tcp.body.security_group_rules.map((r: { port_range_min: number }) => r.port_range_min),
      [22],
    );
    const egress = await neutron(
      tc,
      'GET',
      `/security-group-rules?security_group_id=${sg}&direction=egress&fields=ethertype`,
      {
        token: alice.token,
      },
    );
    assert.deepEqual(egress.body.security_group_rules.map((r: { ethertype: string }) => r.ethertype).sort(), [
      'IPv4',
      'IPv6',
    ]);
    assert.deepEqual(Object.keys(egress.body.security_group_rules[0]), ['ethertype']);
    expectNeutronError(
      await neutron(tc, 'GET', '/security-group-rules?tags=x&bogus=1', { token: alice.token }),
      400,
      'HTTPBadRequest',
    );
  });

  test('deleting a group takes its rules and the rules naming it as remote group', async () => {
    const target = await newSg();
    const holder = await newSg();
    const own = await created(await addRule(target, { protocol: 'tcp' }));
    const referring = await created(await addRule(holder, { protocol: 'tcp', remote_group_id: target }));
    assert.equal(
      (await neutron(tc, 'DELETE', `/security-groups/${target}`, { token: alice.token })).status,
      204,
    );
    const left = await ruleIds(alice);
    assert.ok(!left.includes(own['id'] as string));
    assert.ok(!left.includes(referring['id'] as string));
  });
});
