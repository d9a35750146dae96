// /v2.0/security-group-rules errors as tempest's NegativeSecGroupTest reads them: Neutron's exact 400/404 types and
// messages for bad protocols, ethertypes, prefixes, ports (ICMP type/code too) and unknown groups.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestResponse, type TestUser } from '../../support/cloud.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;

before(async () => {
  // Room for the many groups these tests make in one project.
  tc = await startTestCloud({ network: { quotas: { security_group: 100 } } } as never);
  alice = await tc.makeUser();
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

describe('security group rule errors (tempest NegativeSecGroupTest)', () => {
  test('non-existent rule, group, remote group', async () => {
    const missing = 'f0e1d2c3-b4a5-4697-8879-6a5b4c3d2e1f';
    expectNeutronError(
      await neutron(tc, 'GET', `/security-group-rules/${missing}`, { token: alice.token }),
      404,
      'SecurityGroupRuleNotFound',
    );
    expectNeutronError(
      await addRule(missing, { ethertype: 'IPv4' }),
      404,
      'SecurityGroupNotFound',
      `Security group ${missing} does not exist`,
    );
    const sg = await newSg();
    for (const remote of ['bad_group_id', missing])
      expectNeutronError(
        await addRule(sg, { protocol: 'tcp', remote_group_id: remote }),
        404,
        'SecurityGroupNotFound',
        `Security group ${remote} does not exist`,
      );
  });

  test('bad protocol and ethertype', async () => {
    const sg = await newSg();
    const bad = await addRule(sg, { protocol: 'bad_protocol_name' });
    expectNeutronError(bad, 400, 'SecurityGroupRuleInvalidProtocol');
    assert.equal(
      bad.body.NeutronError.message,
      "Security group rule protocol bad_protocol_name not supported. Only protocol values [None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp'] and integer representations [0 to 255] are supported.",
    );
    expectNeutronError(await addRule(sg, { protocol: 256 }), 400, 'SecurityGroupRuleInvalidProtocol');
    expectNeutronError(
      await addRule(sg, { protocol: 'udp', ethertype: 'bad_ethertype' }),
      400,
      'SecurityGroupRuleInvalidEtherType',
      "Security group rule for ethertype 'bad_ethertype' not supported. Allowed values are ['IPv4', 'IPv6'].",
    );
    expectNeutronError(
      await addRule(sg, { protocol: 'ipv6-icmp', ethertype: 'IPv4' }),
      400,
      'SecurityGroupEthertypeConflictWithProtocol',
      'Invalid ethertype IPv4 for protocol ipv6-icmp.',
    );
    expectNeutronError(
      await addRule(sg, { direction: 'sideways' }),
      400,
      'HTTPBadRequest',
      "Invalid input for direction. Reason: 'sideways' is not in ['ingress', 'egress'].",
    );
    expectNeutronError(
      await neutron(tc, 'POST', '/security-group-rules', {
        token: alice.token,
        body: { security_group_rule: { security_group_id: sg } },
      }),
      400,
      'HTTPBadRequest',
      "Failed to parse request. Required attribute 'direction' not specified",
    );
  });

  test('bad remote prefixes, and a prefix of the other family', async () => {
    const sg = await newSg();
    for (const prefix of ['192.168.1./24', '192.168.1.1/33', 'bad_prefix', '256'])
      expectNeutronError(
        await addRule(sg, { protocol: 'tcp', remote_ip_prefix: prefix }),
        400,
        'InvalidCIDR',
        `Invalid CIDR ${prefix} given as IP prefix.`,
      );
    expectNeutronError(
      await addRule(sg, { protocol: 'tcp', ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/8' }),
      400,
      'SecurityGroupRuleParameterConflict',
      'Conflicting value ethertype IPv6 for CIDR 10.0.0.0/8',
    );
    expectNeutronError(
      await addRule(sg, { protocol: 'tcp', ethertype: 'IPv4', remote_ip_prefix: '2001:db8::/64' }),
      400,
      'SecurityGroupRuleParameterConflict',
      /Conflicting value ethertype/,
    );
    const other = await newSg();
    expectNeutronError(
      await addRule(sg, { protocol: 'tcp', remote_ip_prefix: '10.0.0.0/8', remote_group_id: other }),
      400,
      'SecurityGroupMultipleRemoteEntites',
      'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.',
    );
  });

  test('invalid ports for tcp and icmp (the messages tempest looks for)', async () => {
    const sg = await newSg();
    const cases: [string, unknown, unknown, string, string][] = [
      ['tcp', -16, 80, 'SecurityGroupInvalidPortValue', 'Invalid value for port -16'],
      ['tcp', 80, 79, 'SecurityGroupInvalidPortRange', 'port_range_min must be <= port_range_max'],
      ['tcp', 80, 65536, 'SecurityGroupInvalidPortValue', 'Invalid value for port 65536'],
      ['tcp', null, 6, 'SecurityGroupInvalidPortRange', 'port_range_min must be <= port_range_max'],
      ['tcp', -16, 65536, 'SecurityGroupInvalidPortValue', 'Invalid value for port'],
      ['tcp', 0, 10, 'SecurityGroupInvalidPortValue', 'Invalid value for port 0'],
      [
        'icmp',
        1,
        256,
        'SecurityGroupInvalidIcmpValue',
        'Invalid value for ICMP code (port_range_max) 256. It must be 0 to 255.',
      ],
      ['icmp', -1, 25, 'SecurityGroupInvalidPortValue', 'Invalid value'],
      [
        'icmp',
        null,
        6,
        'SecurityGroupMissingIcmpType',
        'ICMP code (port-range-max) 6 is provided but ICMP type (port-range-min) is missing.',
      ],
      ['icmp', 300, 1, 'SecurityGroupInvalidIcmpValue', 'Invalid value for ICMP type'],
      [
        'gre',
        1,
        2,
        'SecurityGroupInvalidProtocolForPort',
        'Ports cannot be specified for protocol 47. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.',
      ],
      [
        null as never,
        1,
        2,
        'SecurityGroupProtocolRequiredWithPorts',
        'Must also specify protocol if port range is given.',
      ],
    ];
    for (const [protocol, min, max, type, msg] of cases) {
      const res = await addRule(sg, { protocol, port_range_min: min, port_range_max: max });
      expectNeutronError(res, 400, type);
      assert.ok(res.body.NeutronError.message.includes(msg), `${protocol} ${min}-${max}: ${res.text}`);
    }
  });
});
