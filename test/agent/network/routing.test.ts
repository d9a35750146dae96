// Routers: routed traffic inside a project, isolation between projects, floating IPs, SNAT and port forwarding.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DpPort } from '../../../src/agent/network/desired-state.ts';
import { defaultGroup, dhcpPort, network, port, router, routerPort, rule, subnet } from './fixtures.ts';
import { dataplaneSkip, ping, Sandbox, tcpRead } from './support.ts';

describe('network agent: routers, floating IPs, SNAT', { skip: dataplaneSkip() }, () => {
  const sb = new Sandbox();
  const ext = network([subnet('203.0.113.0/24', '203.0.113.1', { enableDhcp: false })], {
    type: 'flat',
    physicalNetwork: 'public',
    external: true,
  });
  const netA = network([subnet('10.1.0.0/24', '10.1.0.1')]);
  const netA2 = network([subnet('10.1.1.0/24', '10.1.1.1')]);
  const netB = network([subnet('10.2.0.0/24', '10.2.0.1')]);
  const sgA = defaultGroup(['10.1.0.11', '10.1.1.11']);
  sgA.rules.push(
    rule({ protocol: 'tcp', portRangeMin: 8080, portRangeMax: 8080, remoteIpPrefix: '0.0.0.0/0' }),
    rule({ protocol: 'icmp' }),
  );
  const sgB = defaultGroup(['10.2.0.11']);
  sgB.rules.push(rule({ protocol: 'tcp', portRangeMin: 8080, portRangeMax: 8080 }));
  const a1 = port(netA, '10.1.0.11', { securityGroupIds: [sgA.id] });
  const a2 = port(netA2, '10.1.1.11', { securityGroupIds: [sgA.id] });
  const b1 = port(netB, '10.2.0.11', { securityGroupIds: [sgB.id] });
  const rA = routerPort(netA, '10.1.0.1');
  const rA2 = routerPort(netA2, '10.1.1.1');
  const rB = routerPort(netB, '10.2.0.1');
  const gA = routerPort(ext, '203.0.113.10', 'network:router_gateway');
  const gB = routerPort(ext, '203.0.113.11', 'network:router_gateway');
  const routerA = router({
    gateway: { ...gA.entry, enableSnat: true, gatewayIp: '203.0.113.1' },
    interfaces: [rA.entry, rA2.entry],
    floatingIps: [
      { id: 'fip-a1', floatingIpAddress: '203.0.113.20', fixedIpAddress: '10.1.0.11', portId: a1.id },
    ],
  });
  const routerB = router({
    gateway: { ...gB.entry, enableSnat: true, gatewayIp: '203.0.113.1' },
    interfaces: [rB.entry],
    portForwardings: [
      {
        floatingIpAddress: '203.0.113.21',
        protocol: 'tcp',
        externalPort: 2222,
        internalIpAddress: '10.2.0.11',
        internalPort: 8080,
      },
    ],
  });
  const vms: Record<string, string> = {};
  let outside = '';

  before(async () => {
    await sb.init();
    outside = await sb.namespace('out');
    const ports: DpPort[] = [a1, a2, b1, rA.port, rA2.port, rB.port, gA.port, gB.port];
    for (const n of [netA, netA2, netB]) ports.push(dhcpPort(n, n.subnets[0]!.cidr.replace('0/24', '2')));
    sb.cp.state = {
      networks: [ext, netA, netA2, netB],
      ports,
      routers: [routerA, routerB],
      securityGroups: [sgA, sgB],
    };
    const agent = sb.agent({ physicalNetworks: { public: `netns:${outside}` } });
    await agent.start();
    assert.deepEqual((await agent.reconcile()).errors, []);
    for (const [name, p] of [
      ['a1', a1],
      ['a2', a2],
      ['b1', b1],
    ] as const) {
      const vm = await sb.vm(name, p);
      await agent.plug({ portId: p.id, device: vm.tap, networkId: p.networkId, macAddress: p.macAddress });
      await sb.dhcp(vm.ns);
      vms[name] = vm.ns;
    }
    for (const p of [rA.port, rA2.port, rB.port, gA.port, gB.port])
      assert.equal(sb.cp.statuses.get(p.id), 'ACTIVE');
  });
  after(() => sb.cleanup());

  it('routes between a project’s networks and not into another project', async (t) => {
    const t0 = performance.now();
    assert.deepEqual((await sb.agents[0]!.reconcile()).errors, []);
    t.diagnostic(
      `idle reconcile pass (4 networks, 3 DHCP, 2 routers): ${Math.round(performance.now() - t0)} ms`,
    );
    assert.ok(await ping(vms['a1']!, '10.1.1.11'), 'a1 → a2 through router A');
    assert.equal(await ping(vms['a1']!, '10.2.0.11'), false, 'a1 cannot reach b1’s private address');
    assert.equal(await ping(vms['b1']!, '10.1.0.11'), false, 'b1 cannot reach a1’s private address');
  });

  it('lets the outside reach a VM only through its floating IP and only where its groups allow', async () => {
    await sb.tcpServer(vms['a1']!, 8080, 'hello-a1');
    await sb.tcpServer(vms['a1']!, 8081, 'hidden-a1');
    assert.equal(await tcpRead(outside, '203.0.113.20', 8080), 'hello-a1');
    assert.equal(await tcpRead(outside, '203.0.113.20', 8081), undefined, 'port 8081 is not in the group');
    assert.ok(await ping(outside, '203.0.113.20'), 'ICMP is allowed by the group');
    assert.equal(await ping(outside, '10.1.0.11'), false, 'the private address is not reachable');
    await sb.tcpServer(vms['b1']!, 8080, 'hello-b1');
    assert.equal(await tcpRead(outside, '203.0.113.21', 2222), 'hello-b1', 'port forwarding to b1:8080');
    assert.equal(await ping(outside, '203.0.113.21'), true, 'the router answers for the forwarding address');
  });

  it('SNATs to the floating IP, or to the router’s gateway address without one', async () => {
    await sb.tcpServer(outside, 7000, '$SOCAT_PEERADDR');
    assert.equal(await tcpRead(vms['a1']!, '203.0.113.1', 7000), '203.0.113.20');
    assert.equal(await tcpRead(vms['a2']!, '203.0.113.1', 7000), '203.0.113.10');
    assert.equal(await tcpRead(vms['b1']!, '203.0.113.1', 7000), '203.0.113.11');
  });
});
