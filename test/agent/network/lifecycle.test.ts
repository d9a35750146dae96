// Agent lifecycle: a new agent adopts a running data plane, restarts dead daemons, removes what is no longer wanted.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LinuxNetworkAgent } from '../../../src/agent/network/network-agent.ts';
import { defaultGroup, dhcpPort, network, port, router, routerPort, subnet } from './fixtures.ts';
import { dataplaneSkip, inNs, listNamespaces, ping, rootLinks, Sandbox, sh, waitFor } from './support.ts';

describe('network agent: restart, adoption, removal, teardown', { skip: dataplaneSkip() }, () => {
  const sb = new Sandbox();
  const ext = network([subnet('198.51.100.0/24', '198.51.100.1', { enableDhcp: false })], {
    type: 'flat',
    physicalNetwork: 'public',
    external: true,
  });
  const net = network([subnet('10.40.0.0/24', '10.40.0.1')]);
  const sg = defaultGroup(['10.40.0.11']);
  const vm = port(net, '10.40.0.11', { securityGroupIds: [sg.id] });
  const dhcp = dhcpPort(net, '10.40.0.2');
  const ri = routerPort(net, '10.40.0.1');
  const gw = routerPort(ext, '198.51.100.10', 'network:router_gateway');
  const r = router({
    gateway: { ...gw.entry, enableSnat: true, gatewayIp: '198.51.100.1' },
    interfaces: [ri.entry],
    floatingIps: [
      { id: 'f1', floatingIpAddress: '198.51.100.20', fixedIpAddress: '10.40.0.11', portId: vm.id },
    ],
  });
  sg.rules.push({ id: 'icmp-in', direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' });
  let outside = '';
  let vmNs = '';
  let first: LinuxNetworkAgent;
  const dnsmasqPid = () =>
    readFile(join(sb.stateDir, 'dhcp', net.id, 'dnsmasq.pid'), 'utf8').then((s) => Number(s.trim()));
  const haproxyPid = () =>
    readFile(join(sb.stateDir, 'dhcp', net.id, 'haproxy.pid'), 'utf8').then((s) => Number(s.trim()));
  /** Running (a zombie left to a non-reaping init counts as gone). */
  const alive = async (pid: number) =>
    !/^(Z|$)/.test((await sh('ps', ['-o', 'stat=', '-p', String(pid)]).catch(() => '')).trim());
  const mine = async () => (await listNamespaces()).filter((n) => n.startsWith(sb.prefix));

  before(async () => {
    await sb.init();
    outside = await sb.namespace('out');
    sb.cp.state = {
      networks: [ext, net],
      ports: [vm, dhcp, ri.port, gw.port],
      routers: [r],
      securityGroups: [sg],
    };
    first = sb.agent({
      physicalNetworks: { public: `netns:${outside}` },
      metadata: { url: 'http://127.0.0.1:9', secret: 's' },
    });
    await first.start();
    const v = await sb.vm('vm', vm);
    vmNs = v.ns;
    await first.plug({ portId: vm.id, device: v.tap, networkId: net.id, macAddress: vm.macAddress });
    await sb.dhcp(vmNs);
    assert.ok(await ping(outside, '198.51.100.20'), 'the floating IP answers');
  });
  after(() => sb.cleanup());

  it('keeps the data plane running when the agent stops, and a new agent adopts it as is', async () => {
    const pid = await dnsmasqPid();
    const hpid = await haproxyPid();
    await first.stop();
    assert.ok(await ping(outside, '198.51.100.20'), 'traffic flows with no agent running');

    sb.cp.statuses.clear();
    const second = sb.agent({
      physicalNetworks: { public: `netns:${outside}` },
      metadata: { url: 'http://127.0.0.1:9', secret: 's' },
    });
    await second.start();
    assert.deepEqual((await second.reconcile()).errors, []);
    assert.equal(await dnsmasqPid(), pid, 'the same dnsmasq');
    assert.equal(await haproxyPid(), hpid, 'the same haproxy');
    assert.equal(sb.cp.statuses.get(vm.id), 'ACTIVE', 'the adopted VM port is reported ACTIVE');
    assert.equal(sb.cp.statuses.get(dhcp.id), 'ACTIVE');
    assert.ok(await ping(outside, '198.51.100.20'));
    const lease = await sb.dhcp(vmNs);
    assert.equal(lease.env['ip'], '10.40.0.11', 'DHCP still answers');

    process.kill(pid, 'SIGKILL');
    await waitFor(async () => !(await alive(pid)));
    assert.deepEqual((await second.reconcile()).errors, []);
    assert.notEqual(await dnsmasqPid(), pid, 'a dead dnsmasq is started again');
    assert.equal((await sb.dhcp(vmNs)).env['ip'], '10.40.0.11');
  });

  it('removes the namespaces, devices and daemons of resources that leave the desired state', async () => {
    const agent = sb.agents.at(-1)!;
    const pid = await dnsmasqPid();
    sb.cp.state.routers = [];
    assert.deepEqual((await agent.reconcile()).errors, []);
    assert.ok(!(await mine()).includes(`${sb.prefix}r-${r.id}`), 'the router namespace is gone');
    assert.equal(await ping(outside, '198.51.100.20'), false, 'the floating IP is gone with it');

    sb.cp.state.networks = [ext];
    sb.cp.state.ports = [];
    assert.deepEqual((await agent.reconcile()).errors, []);
    assert.deepEqual(await mine(), [`${sb.prefix}n-${ext.id}`]);
    assert.ok(!(await alive(pid)), 'dnsmasq is stopped');
    const uplinks = JSON.parse(await sh('ip', ['-n', outside, '-j', 'link', 'show'])) as { ifname: string }[];
    assert.equal(
      uplinks.filter((l) => l.ifname.startsWith(sb.prefix)).length,
      1,
      'only the external uplink is left',
    );
  });

  it('tears down everything it made', async () => {
    await sb.agents.at(-1)!.teardown();
    assert.deepEqual(await mine(), []);
    assert.deepEqual(
      (await rootLinks()).filter((l) => l.startsWith(sb.prefix)),
      [],
    );
    const left = JSON.parse(await sh('ip', ['-n', outside, '-j', 'link', 'show'])) as { ifname: string }[];
    assert.deepEqual(
      left.map((l) => l.ifname),
      ['lo'],
      'the uplink left the outside namespace',
    );
    assert.equal((await inNs(outside, 'ip', ['-br', 'addr'])).includes('198.51.100.1'), false);
  });
});
