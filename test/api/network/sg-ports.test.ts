// The groups ports carry (the seam the ports area calls): the default group when none is named, requested groups
// checked for existence, project and statefulness; groups in use refuse delete and stateful changes; and the data
// plane's view (rules, remote groups, member addresses).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NetworkContext } from '../../../src/services/network/context.ts';
import { portSecurityGroups } from '../../../src/services/network/domain/port-security-groups.ts';
import { securityGroupsForDataplane } from '../../../src/services/network/domain/sg-dataplane.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let cx: NetworkContext;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  tc = await startTestCloud();
  cx = tc.cloud.network.context;
  alice = await tc.makeUser();
  bob = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

async function newSg(user: TestUser, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await neutron(tc, 'POST', '/security-groups', {
    token: user.token,
    body: { security_group: { name: `sg-${Math.random().toString(36).slice(2, 8)}`, ...extra } },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.security_group.id;
}

/** A port row with addresses, as the ports area stores them (bypassing IPAM). */
async function fakePort(projectId: string, ips: string[], pairs: string[] = []): Promise<string> {
  const id = cx.ids.uuid();
  const now = cx.nowIso();
  await cx.write(async (trx) => {
    await trx
      .insertInto('network_ports')
      .values({
        id,
        project_id: projectId,
        name: '',
        description: '',
        created_at: now,
        updated_at: now,
        revision_number: 1,
        network_id: 'net-1',
        mac_address: `fa:16:3e:${id.slice(0, 2)}:${id.slice(2, 4)}:${id.slice(4, 6)}`,
        admin_state_up: 1,
        status: 'DOWN',
        device_id: '',
        device_owner: 'compute:nova',
        port_security_enabled: 1,
        host_id: '',
        vnic_type: 'normal',
        binding_profile: '{}',
        allowed_address_pairs: JSON.stringify(pairs.map((ip_address) => ({ ip_address }))),
        extra_dhcp_opts: '[]',
      })
      .execute();
    for (const ip of ips)
      await trx
        .insertInto('network_ip_allocations')
        .values({ network_id: 'net-1', ip_address: ip, subnet_id: 'subnet-1', port_id: id })
        .execute();
  });
  return id;
}

function bind(
  portId: string,
  projectId: string,
  requested: string[] | undefined,
  extra: { isAdmin?: boolean; deviceOwner?: string } = {},
) {
  return cx.write((trx) =>
    portSecurityGroups().bind(cx, trx, { id: portId, projectId, ...extra }, requested),
  );
}

describe('port security groups', () => {
  test("no groups named: the project's default group, made on first use", async () => {
    const user = await tc.makeUser();
    const port = await fakePort(user.projectId, ['10.0.0.5']);
    const [id] = await bind(port, user.projectId, undefined);
    const list = await neutron(tc, 'GET', '/security-groups', { token: user.token });
    assert.deepEqual(
      list.body.security_groups.map((g: { id: string; name: string }) => [g.id, g.name]),
      [[id, 'default']],
    );
    assert.deepEqual((await portSecurityGroups().groupsOf(cx, cx.db, [port])).get(port), [id]);
    // Trusted owners (DHCP, routers) carry none; an empty list means none.
    assert.deepEqual(await bind(port, user.projectId, undefined, { deviceOwner: 'network:dhcp' }), []);
    assert.deepEqual(await bind(port, user.projectId, []), []);
    assert.equal((await portSecurityGroups().groupsOf(cx, cx.db, [port])).get(port), undefined);
  });

  test('named groups: must exist and be the project’s (admins may name any); one statefulness', async () => {
    const port = await fakePort(alice.projectId, ['10.0.0.6']);
    const a1 = await newSg(alice);
    const a2 = await newSg(alice);
    const stateless = await newSg(alice, { stateful: false });
    const b1 = await newSg(bob);
    assert.deepEqual((await bind(port, alice.projectId, [a1, a2, a1])).sort(), [a1, a2].sort());
    assert.deepEqual((await portSecurityGroups().groupsOf(cx, cx.db, [port])).get(port), [a1, a2].sort());
    await assert.rejects(
      bind(port, alice.projectId, [a1, b1]),
      (e: { status: number; code: string; message: string }) => {
        assert.equal(e.status, 404);
        assert.equal(e.code, 'SecurityGroupNotFound');
        assert.equal(e.message, `Security group ${b1} does not exist`);
        return true;
      },
    );
    await assert.rejects(bind(port, alice.projectId, ['no-such-group']), { code: 'SecurityGroupNotFound' });
    assert.deepEqual(await bind(port, alice.projectId, [b1], { isAdmin: true }), [b1]);
    await assert.rejects(
      bind(port, alice.projectId, [a1, stateless]),
      (e: { status: number; code: string; message: string }) => {
        assert.equal(e.status, 409);
        assert.equal(e.code, 'SecurityGroupConflict');
        assert.match(e.message, /Cannot apply both stateful and stateless security groups/);
        return true;
      },
    );
    // A refused bind left the previous binding alone (its transaction rolled back).
    assert.deepEqual((await portSecurityGroups().groupsOf(cx, cx.db, [port])).get(port), [b1]);
  });

  test('a group in use cannot be deleted or change statefulness; after unbind it can', async () => {
    const sg = await newSg(alice);
    const port = await fakePort(alice.projectId, ['10.0.0.7']);
    await bind(port, alice.projectId, [sg]);
    expectNeutronError(
      await neutron(tc, 'DELETE', `/security-groups/${sg}`, { token: alice.token }),
      409,
      'SecurityGroupInUse',
      `Security Group ${sg} in use.`,
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/security-groups/${sg}`, {
        token: alice.token,
        body: { security_group: { stateful: false } },
      }),
      409,
      'SecurityGroupInUse',
    );
    const same = await neutron(tc, 'PUT', `/security-groups/${sg}`, {
      token: alice.token,
      body: { security_group: { stateful: true, name: 'kept' } },
    });
    assert.equal(same.status, 200, same.text);
    await cx.write((trx) => portSecurityGroups().unbind(cx, trx, port));
    assert.equal((await neutron(tc, 'DELETE', `/security-groups/${sg}`, { token: alice.token })).status, 204);
  });

  test('the data plane view: rules, remote groups pulled in, members’ fixed IPs and address pairs', async () => {
    const web = await newSg(alice);
    const db = await newSg(alice);
    const rule = await neutron(tc, 'POST', '/security-group-rules', {
      token: alice.token,
      body: {
        security_group_rule: {
          security_group_id: db,
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 5432,
          port_range_max: 5432,
          remote_group_id: web,
        },
      },
    });
    assert.equal(rule.status, 201, rule.text);
    const p1 = await fakePort(alice.projectId, ['10.1.0.4', 'fd00::4'], ['10.1.0.100']);
    const p2 = await fakePort(alice.projectId, ['10.1.0.5']);
    const p3 = await fakePort(alice.projectId, ['10.1.0.9']);
    await bind(p1, alice.projectId, [web]);
    await bind(p2, alice.projectId, [web]);
    await bind(p3, alice.projectId, [db]);
    const groups = await securityGroupsForDataplane(cx, [db, 'missing']);
    const byId = new Map(groups.map((g) => [g.id, g]));
    assert.deepEqual([...byId.keys()].sort(), [db, web].sort());
    const dbGroup = byId.get(db)!;
    assert.equal(dbGroup.stateful, true);
    assert.deepEqual(dbGroup.memberIps, ['10.1.0.9']);
    const tcp = dbGroup.rules.find((r) => r.protocol === 'tcp')!;
    assert.deepEqual(
      { ...tcp, id: undefined },
      {
        id: undefined,
        direction: 'ingress',
        ethertype: 'IPv4',
        protocol: 'tcp',
        portRangeMin: 5432,
        portRangeMax: 5432,
        remoteGroupId: web,
      },
    );
    assert.deepEqual(
      dbGroup.rules
        .filter((r) => r.direction === 'egress')
        .map((r) => r.ethertype)
        .sort(),
      ['IPv4', 'IPv6'],
    );
    assert.deepEqual(byId.get(web)!.memberIps, ['10.1.0.100', '10.1.0.4', '10.1.0.5', 'fd00::4']);
  });
});

describe('ports through the API', () => {
  test('a port gets the default group, or the groups it names; a bound group cannot go until the port does', async () => {
    const user = await tc.makeUser();
    const net = await neutron(tc, 'POST', '/networks', {
      token: user.token,
      body: { network: { name: 'n' } },
    });
    assert.equal(net.status, 201, net.text);
    const networkId = net.body.network.id;
    const plain = await neutron(tc, 'POST', '/ports', {
      token: user.token,
      body: { port: { network_id: networkId } },
    });
    assert.equal(plain.status, 201, plain.text);
    const groups = await neutron(tc, 'GET', '/security-groups', { token: user.token });
    const dflt = groups.body.security_groups.find((g: { name: string }) => g.name === 'default');
    assert.deepEqual(plain.body.port.security_groups, [dflt.id]);
    const sg = await newSg(user);
    const named = await neutron(tc, 'POST', '/ports', {
      token: user.token,
      body: { port: { network_id: networkId, security_groups: [sg] } },
    });
    assert.equal(named.status, 201, named.text);
    assert.deepEqual(named.body.port.security_groups, [sg]);
    expectNeutronError(
      await neutron(tc, 'POST', '/ports', {
        token: user.token,
        body: { port: { network_id: networkId, security_groups: [await newSg(alice)] } },
      }),
      404,
      'SecurityGroupNotFound',
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/security-groups/${sg}`, { token: user.token }),
      409,
      'SecurityGroupInUse',
    );
    assert.equal(
      (await neutron(tc, 'DELETE', `/ports/${named.body.port.id}`, { token: user.token })).status,
      204,
    );
    assert.equal((await neutron(tc, 'DELETE', `/security-groups/${sg}`, { token: user.token })).status, 204);
  });
});
