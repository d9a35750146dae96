// Incremental passes: port changes the agent follows touch only those ports, and fall back to the full pass.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LinuxNetworkAgent } from '../../../src/agent/network/network-agent.ts';
import { defaultGroup, dhcpPort, network, port, subnet } from './fixtures.ts';
import { dataplaneSkip, inNs, ping, Sandbox, waitFor } from './support.ts';

describe('network agent: incremental passes', { skip: dataplaneSkip() }, () => {
  const sb = new Sandbox();
  const net = network([subnet('10.60.0.0/24', '10.60.0.1')]);
  const sg = defaultGroup(['10.60.0.11']);
  const vm1 = port(net, '10.60.0.11', { securityGroupIds: [sg.id] });
  const vm2 = port(net, '10.60.0.12', { securityGroupIds: [sg.id] });
  const netNs = () => `${sb.prefix}n-${net.id}`;
  const hostsFile = () => readFile(join(sb.stateDir, 'dhcp', net.id, 'hosts'), 'utf8');
  const pidOf = async () =>
    Number((await readFile(join(sb.stateDir, 'dhcp', net.id, 'dnsmasq.pid'), 'utf8')).trim());
  const links = async () => (await inNs(netNs(), 'ip', ['-o', 'link', 'show'])).trim();
  let agent: LinuxNetworkAgent;
  let ns1 = '';

  before(async () => {
    await sb.init();
    sb.cp.state = {
      networks: [net],
      ports: [vm1, dhcpPort(net, '10.60.0.2')],
      routers: [],
      securityGroups: [sg],
    };
    agent = sb.agent();
    await agent.start();
    const v = await sb.vm('vm1', vm1);
    ns1 = v.ns;
    await agent.plug({ portId: vm1.id, device: v.tap, networkId: net.id, macAddress: vm1.macAddress });
    assert.equal((await sb.dhcp(ns1)).env['ip'], '10.60.0.11');
  });
  after(() => sb.cleanup());

  it('wires a port bound here when its tap exists, without a full pass, with DHCP and its group', async () => {
    const full = agent.passCounts().full;
    const v = await sb.vm('vm2', vm2);
    sg.memberIps.push('10.60.0.12');
    sb.cp.state.ports.push(vm2);
    sb.cp.changed();
    await waitFor(() => sb.cp.statuses.get(vm2.id) === 'ACTIVE');
    assert.equal(agent.passCounts().full, full, 'no full pass ran');
    assert.ok(agent.passCounts().incremental > 0);
    assert.match(await links(), new RegExp(`${v.tap}.*master br0`));
    assert.match(await hostsFile(), new RegExp(`${vm2.macAddress},host-10-60-0-12,10\\.60\\.0\\.12`));
    assert.equal((await sb.dhcp(v.ns)).env['ip'], '10.60.0.12', 'dnsmasq re-read its hosts');
    assert.ok(await ping(ns1, '10.60.0.12'), 'the new member is in the remote group set');
  });

  it('removes the device of a port that leaves the host and drops it from DHCP', async () => {
    const full = agent.passCounts().full;
    const tap = `tap${vm2.id.slice(0, 11)}`;
    sb.cp.state.ports = sb.cp.state.ports.filter((p) => p.id !== vm2.id);
    sg.memberIps = ['10.60.0.11'];
    sb.cp.changed();
    await waitFor(async () => !(await links()).includes(tap));
    await waitFor(async () => !(await hostsFile()).includes('10.60.0.12'));
    assert.equal(agent.passCounts().full, full, 'no full pass ran');
    assert.equal(await ping(ns1, '10.60.0.12'), false);
  });

  it('falls back to the full pass when the incremental one cannot work (dead dnsmasq)', async () => {
    const pid = await pidOf();
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => !(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).includes(') S'));
    const full = agent.passCounts().full;
    sb.cp.state.ports.push(port(net, '10.60.0.13', { boundHere: false }));
    sb.cp.changed();
    await waitFor(() => agent.passCounts().full > full);
    await waitFor(async () => (await pidOf()) !== pid);
    assert.equal((await sb.dhcp(ns1)).env['ip'], '10.60.0.11', 'DHCP answers again');
  });
});
