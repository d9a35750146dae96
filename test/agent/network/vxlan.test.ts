// VXLAN between two "hosts" (agents whose underlay addresses live in two namespaces joined by a veth).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultGroup, dhcpPort, network, port, subnet } from './fixtures.ts';
import { dataplaneSkip, inNs, ping, Sandbox, sh } from './support.ts';

describe('network agent: VXLAN across hosts', { skip: dataplaneSkip() }, () => {
  const sb = new Sandbox();
  const net = network([subnet('10.50.0.0/24', '10.50.0.1')], {
    type: 'vxlan',
    segmentationId: 4242,
    mtu: 1450,
    vxlanPeers: ['100.64.0.1', '100.64.0.2'],
  });
  const sg = defaultGroup(['10.50.0.11', '10.50.0.12']);
  const vm1 = port(net, '10.50.0.11', { securityGroupIds: [sg.id] });
  const vm2 = port(net, '10.50.0.12', { securityGroupIds: [sg.id] });
  const dhcp = dhcpPort(net, '10.50.0.2');
  const vms: string[] = [];

  before(async () => {
    await sb.init();
    const u1 = await sb.namespace('u1');
    const u2 = await sb.namespace('u2');
    await sh('ip', ['link', 'add', 'und', 'netns', u1, 'type', 'veth', 'peer', 'name', 'und', 'netns', u2]);
    for (const [ns, ip] of [
      [u1, '100.64.0.1'],
      [u2, '100.64.0.2'],
    ] as const) {
      await sh('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'und']);
      await sh('ip', ['-n', ns, 'link', 'set', 'und', 'up']);
    }
    const base = { networks: [net], routers: [], securityGroups: [sg] };
    sb.cp.hostStates.set('h1', { ...base, ports: [vm1, { ...vm2, boundHere: false }, dhcp] });
    sb.cp.hostStates.set('h2', {
      ...base,
      ports: [{ ...vm1, boundHere: false }, vm2, { ...dhcp, boundHere: false }],
    });
    const a1 = sb.agent({ host: 'h1', vxlan: { localIp: '100.64.0.1', underlayNetns: u1 } });
    const a2 = sb.agent({
      host: 'h2',
      prefix: `${sb.stem}x-`,
      stateDir: join(sb.stateDir, 'h2'),
      vxlan: { localIp: '100.64.0.2', underlayNetns: u2 },
    });
    await a1.start();
    await a2.start();
    for (const [agent, p, name] of [
      [a1, vm1, 'vm1'],
      [a2, vm2, 'vm2'],
    ] as const) {
      const vm = await sb.vm(name, p);
      await agent.plug({ portId: p.id, device: vm.tap, networkId: net.id, macAddress: p.macAddress });
      vms.push(vm.ns);
    }
  });
  after(() => sb.cleanup());

  it('carries DHCP and traffic between the hosts at the network MTU', async () => {
    assert.equal(
      (await sb.dhcp(vms[1]!)).env['ip'],
      '10.50.0.12',
      'vm2 on host 2 gets its lease from host 1',
    );
    assert.equal((await sb.dhcp(vms[0]!)).env['ip'], '10.50.0.11');
    assert.ok(await ping(vms[0]!, '10.50.0.12'));
    await inNs(vms[0]!, 'busybox', ['ping', '-c', '1', '-W', '2', '-s', '1400', '10.50.0.12']);
    const link = JSON.parse(
      await sh('ip', ['-n', `${sb.stem}x-n-${net.id}`, '-j', '-d', 'link', 'show', 'vxlan0']),
    ) as {
      mtu: number;
      linkinfo: { info_data: { id: number; local: string } };
    }[];
    assert.equal(link[0]?.linkinfo.info_data.id, 4242);
    assert.equal(link[0]?.linkinfo.info_data.local, '100.64.0.2');
    assert.equal(link[0]?.mtu, 1450);
  });
});
