// Several network hosts: each network's DHCP and each router is served by exactly one live host, a host wires only
// the networks it needs, and a dead host's DHCP and routers move to a live one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HostNetworkState } from '../../../src/agent/network/desired-state.ts';
import { ServiceControlPlane } from '../../../src/services/network/dataplane-api.ts';
import { reportAgentHeartbeat } from '../../../src/services/network/domain/agents.ts';
import { pickHost } from '../../../src/services/network/domain/hosting.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { externalNet, makePort, routedNet, tenantNet } from './l3-support.ts';
import { neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;

before(async () => {
  tc = await startTestCloud();
  alice = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

const dhcpServed = (s: HostNetworkState, networkId: string) =>
  s.ports.some((p) => p.networkId === networkId && p.deviceOwner === 'network:dhcp' && p.boundHere);

describe('DHCP and L3 hosting', () => {
  test('rendezvous picks one host per key, spreads keys, and moves only the keys of a host that leaves', () => {
    assert.equal(pickHost([], 'k'), undefined);
    const hosts = ['h1', 'h2', 'h3'];
    const keys = Array.from({ length: 300 }, (_, i) => `net-${i}`);
    const before = new Map(keys.map((k) => [k, pickHost(hosts, k)!]));
    for (const h of hosts) {
      const n = [...before.values()].filter((x) => x === h).length;
      assert.ok(n > 50 && n < 150, `${h} got ${n} of 300`);
    }
    assert.equal(pickHost(['h3', 'h1', 'h2'], 'net-7'), before.get('net-7'), 'order does not matter');
    for (const k of keys) {
      const after = pickHost(['h1', 'h3'], k)!;
      if (before.get(k) !== 'h2') assert.equal(after, before.get(k), `${k} stayed`);
      else assert.notEqual(after, 'h2');
    }
  });

  test('two hosts: one serves each DHCP and router; the VM host wires its network; failover on a dead agent', async () => {
    const cx = tc.cloud.network.context;
    const cp = new ServiceControlPlane(cx);
    // Only host-a and host-b are alive (the test cloud's own agent goes quiet: its next beat is seconds away).
    await cx.db
      .updateTable('network_agents')
      .set({ heartbeat_timestamp: new Date(Date.now() - 10 * 60_000).toISOString() })
      .execute();
    await reportAgentHeartbeat(cx, 'host-a');
    await reportAgentHeartbeat(cx, 'host-b');
    const ext = await externalNet(tc, '198.51.100.0/24');
    const { net, router } = await routedNet(tc, alice, ext, '10.61.0.0/24');
    const subnet = await neutron(tc, 'PUT', `/subnets/${net.subnetId}`, {
      token: alice.token,
      body: { subnet: { enable_dhcp: true } },
    });
    assert.equal(subnet.status, 200, subnet.text);
    const others = await Promise.all(
      Array.from({ length: 12 }, (_, i) => tenantNet(tc, alice, `10.62.${i}.0/24`, { enable_dhcp: true })),
    );
    const vm = await makePort(tc, tc.adminToken, net.networkId, {
      device_owner: 'compute:nova',
      device_id: 'vm-1',
      'binding:host_id': 'host-b',
    });

    const a = await cp.desiredState('host-a');
    const b = await cp.desiredState('host-b');
    for (const n of [net, ...others]) {
      const served = [dhcpServed(a, n.networkId), dhcpServed(b, n.networkId)];
      assert.equal(served.filter(Boolean).length, 1, `exactly one host serves DHCP for ${n.networkId}`);
    }
    const dhcpOnA = others.filter((n) => dhcpServed(a, n.networkId)).length;
    assert.ok(dhcpOnA > 0 && dhcpOnA < others.length, `DHCP is spread (${dhcpOnA} of ${others.length} on a)`);
    for (const s of [a, b])
      for (const n of others)
        assert.equal(
          s.networks.some((x) => x.id === n.networkId),
          dhcpServed(s, n.networkId),
          'a network with neither VM nor router here is wired only where its DHCP is',
        );

    const routerHosts = [a, b].filter((s) => s.routers.some((r) => r.id === router.id));
    assert.equal(routerHosts.length, 1, 'one host runs the router');
    const rs = routerHosts[0]!;
    assert.ok(
      rs.networks.some((n) => n.id === ext.networkId),
      'the router host wires the external network',
    );
    assert.ok(
      rs.networks.some((n) => n.id === net.networkId),
      'and the internal one',
    );

    assert.ok(
      b.networks.some((n) => n.id === net.networkId),
      'the VM host wires the VM network',
    );
    assert.equal(b.ports.find((p) => p.id === vm.id)?.boundHere, true);
    assert.equal(a.ports.find((p) => p.id === vm.id)?.boundHere ?? false, false);

    // A third host with no VM and no live agent gets nothing to serve.
    const c = await cp.desiredState('host-c');
    assert.deepEqual({ networks: c.networks.length, routers: c.routers.length }, { networks: 0, routers: 0 });

    // host-a goes silent for longer than agent_down_time: host-b serves everything.
    await cx.db
      .updateTable('network_agents')
      .set({ heartbeat_timestamp: new Date(Date.now() - 10 * 60_000).toISOString() })
      .where('host', '=', 'host-a')
      .execute();
    const b2 = await cp.desiredState('host-b');
    for (const n of [net, ...others]) assert.ok(dhcpServed(b2, n.networkId), `b now serves ${n.networkId}`);
    assert.ok(
      b2.routers.some((r) => r.id === router.id),
      'b now runs the router',
    );
    const a2 = await cp.desiredState('host-a');
    assert.equal(a2.routers.length, 0);
    assert.equal(a2.networks.length, 0, 'a dead host is told to wire nothing it has no VM on');
  });
});
