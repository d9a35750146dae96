// Stateless security groups on live traffic: no connection tracking, so a reply passes only if a rule allows it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DpSecurityGroup } from '../../../src/agent/network/desired-state.ts';
import { dhcpPort, network, port, rule, subnet } from './fixtures.ts';
import { dataplaneSkip, inNs, Sandbox, tcpRead } from './support.ts';

describe('network agent: stateless security groups', { skip: dataplaneSkip() }, () => {
  const sb = new Sandbox();
  const net = network([subnet('10.70.0.0/24', '10.70.0.1')]);
  const ssh = rule({ direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 });
  const stateless: DpSecurityGroup = {
    id: 'sl-group',
    stateful: false,
    rules: [ssh],
    memberIps: ['10.70.0.11'],
  };
  const server = port(net, '10.70.0.11', { securityGroupIds: [stateless.id] });
  // The client is not filtered, so what passes is decided by the server's stateless group alone.
  const client = port(net, '10.70.0.12', { portSecurityEnabled: false });
  let sNs = '';
  let cNs = '';

  before(async () => {
    await sb.init();
    sb.cp.state = {
      networks: [net],
      ports: [server, client, dhcpPort(net, '10.70.0.2')],
      routers: [],
      securityGroups: [stateless],
    };
    const agent = sb.agent();
    await agent.start();
    for (const p of [server, client]) {
      const vm = await sb.vm(p === server ? 'server' : 'client', p);
      await agent.plug({ portId: p.id, device: vm.tap, networkId: net.id, macAddress: p.macAddress });
      await sb.dhcp(vm.ns);
      if (p === server) sNs = vm.ns;
      else cNs = vm.ns;
    }
    await sb.tcpServer(sNs, 22, 'ssh-banner');
  });
  after(() => sb.cleanup());

  it('drops the reply of an allowed connection unless an egress rule allows it too', async () => {
    const ruleset = await inNs(`${sb.prefix}n-${net.id}`, 'nft', ['list', 'table', 'inet', 'monostack']);
    assert.match(ruleset, /hook prerouting priority raw/);
    assert.match(ruleset, /notrack/);
    assert.equal(await tcpRead(cNs, '10.70.0.11', 22), undefined, 'the SYN passes, the SYN-ACK has no rule');

    stateless.rules = [ssh, rule({ direction: 'egress', protocol: 'tcp' })];
    sb.cp.state.securityGroups = [stateless];
    assert.deepEqual((await sb.agents[0]!.reconcile()).errors, []);
    assert.equal(await tcpRead(cNs, '10.70.0.11', 22), 'ssh-banner', 'with an egress rule the reply passes');
  });

  it('does not let tracked state open the way back: egress allowed, ingress replies still need a rule', async () => {
    await sb.tcpServer(cNs, 8080, 'client-side');
    // The server's egress tcp rule lets its SYN out; the client's SYN-ACK comes back to a port with no rule for it.
    assert.equal(await tcpRead(sNs, '10.70.0.12', 8080), undefined);
    stateless.rules = [
      ...stateless.rules,
      rule({ direction: 'ingress', protocol: 'tcp', remoteIpPrefix: '10.70.0.12/32' }),
    ];
    sb.cp.state.securityGroups = [stateless];
    assert.deepEqual((await sb.agents[0]!.reconcile()).errors, []);
    assert.equal(await tcpRead(sNs, '10.70.0.12', 8080), 'client-side');
  });
});
