// Two Linux network hosts fed by one network service: a VXLAN network with a VM on each host; exactly one host runs
// the network's DHCP and the router; both VMs get their Neutron addresses and reach each other; when the DHCP
// host's agents go silent, the other host takes DHCP over and the first one stops serving it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LinuxNetworkAgent } from '../../src/agent/network/network-agent.ts';
import { ServiceControlPlane } from '../../src/services/network/dataplane-api.ts';
import { reportAgentHeartbeat } from '../../src/services/network/domain/agents.ts';
import { Sandbox } from '../agent/network/support.ts';
import { startTestCloud, type TestCloud } from '../support/cloud.ts';
import { dataplaneSkip, listNamespaces, neutron, ping, sh } from './network-dataplane-support.ts';

const HOSTS = [
  { host: 'mh-1', underlay: '100.64.7.1' },
  { host: 'mh-2', underlay: '100.64.7.2' },
] as const;

describe('network data plane on two hosts through the network service', { skip: dataplaneSkip() }, () => {
  const sb = new Sandbox();
  let tc: TestCloud;
  const agents: LinuxNetworkAgent[] = [];
  const prefixes: string[] = [];
  let netId = '';
  let routerId = '';
  const vmNs: string[] = [];
  const vmIps: string[] = [];

  const beat = async (host: string, underlay: string, at?: string) => {
    const cx = tc.cloud.network.context;
    await reportAgentHeartbeat(cx, host, undefined, {
      configurations: { 'neutron-linuxbridge-agent': { tunneling_ip: underlay, tunnel_types: ['vxlan'] } },
    });
    if (at)
      await cx.db
        .updateTable('network_agents')
        .set({ heartbeat_timestamp: at })
        .where('host', '=', host)
        .execute();
  };
  /** Which hosts have the network's DHCP namespace. */
  const dhcpHosts = async () => {
    const names = new Set(await listNamespaces());
    return prefixes.map((p, i) => (names.has(`${p}dhcp-${netId}`) ? i : -1)).filter((i) => i >= 0);
  };

  before(async () => {
    await sb.init();
    // The cloud's own data plane is fake; its host's agents are disabled so that only the two hosts here serve.
    tc = await startTestCloud();
    const admin = tc.adminToken;
    const cx = tc.cloud.network.context;
    await cx.db.updateTable('network_agents').set({ admin_state_up: 0 }).execute();
    for (const h of HOSTS) await beat(h.host, h.underlay);

    const u1 = await sb.namespace('u1');
    const u2 = await sb.namespace('u2');
    await sh('ip', ['link', 'add', 'und', 'netns', u1, 'type', 'veth', 'peer', 'name', 'und', 'netns', u2]);
    for (const [ns, ip] of [
      [u1, HOSTS[0].underlay],
      [u2, HOSTS[1].underlay],
    ] as const) {
      await sh('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'und']);
      await sh('ip', ['-n', ns, 'link', 'set', 'und', 'up']);
    }
    const cp = new ServiceControlPlane(cx);
    HOSTS.forEach((h, i) => {
      const prefix = `${sb.stem}${i}-`;
      prefixes.push(prefix);
      agents.push(
        sb.agent({
          host: h.host,
          controlPlane: cp,
          prefix,
          stateDir: join(sb.stateDir, h.host),
          vxlan: { localIp: h.underlay, underlayNetns: i === 0 ? u1 : u2 },
        }),
      );
    });

    netId = (await neutron(tc, admin, 'POST', '/networks', 201, { network: { name: 'mh' } })).network.id;
    const subnetId = (
      await neutron(tc, admin, 'POST', '/subnets', 201, {
        subnet: { network_id: netId, ip_version: 4, cidr: '10.77.0.0/24' },
      })
    ).subnet.id;
    routerId = (await neutron(tc, admin, 'POST', '/routers', 201, { router: { name: 'mh-r' } })).router.id;
    await neutron(tc, admin, 'PUT', `/routers/${routerId}/add_router_interface`, 200, {
      subnet_id: subnetId,
    });
    for (const a of agents) await a.start();
    for (const [i, h] of HOSTS.entries()) {
      const port = (
        await neutron(tc, admin, 'POST', '/ports', 201, {
          port: {
            network_id: netId,
            device_owner: 'compute:nova',
            device_id: `vm-${i}`,
            'binding:host_id': h.host,
            port_security_enabled: false,
          },
        })
      ).port;
      vmIps.push(port.fixed_ips[0].ip_address);
      const vm = await sb.vm(`vm${i}`, {
        id: port.id,
        networkId: netId,
        macAddress: port.mac_address,
        fixedIps: [],
        deviceOwner: 'compute:nova',
        deviceId: `vm-${i}`,
        adminStateUp: true,
        portSecurityEnabled: false,
        securityGroupIds: [],
        allowedAddressPairs: [],
        boundHere: true,
      });
      await agents[i]!.plug({
        portId: port.id,
        device: vm.tap,
        networkId: netId,
        macAddress: port.mac_address,
      });
      vmNs.push(vm.ns);
    }
    for (const a of agents) await a.reconcile();
  });
  after(async () => {
    await sb.cleanup();
    await tc?.close();
  });

  it('serves DHCP and the router from one host; both VMs get their addresses and reach each other', async () => {
    assert.equal((await dhcpHosts()).length, 1, 'exactly one host runs the network’s dnsmasq');
    const names = new Set(await listNamespaces());
    const routerOn = prefixes.filter((p) => names.has(`${p}r-${routerId}`));
    assert.equal(routerOn.length, 1, 'exactly one host runs the router');
    for (const [i, ns] of vmNs.entries()) assert.equal((await sb.dhcp(ns)).env['ip'], vmIps[i]);
    assert.ok(await ping(vmNs[0]!, vmIps[1]!), 'VM 1 reaches VM 2 across the hosts');
    assert.ok(await ping(vmNs[1]!, '10.77.0.1'), 'VM 2 reaches the router’s interface');
  });

  it('moves DHCP to the other host when its host goes silent', async () => {
    const [was] = await dhcpHosts();
    const dead = HOSTS[was!]!;
    await beat(dead.host, dead.underlay, new Date(Date.now() - 10 * 60_000).toISOString());
    for (const a of agents) await a.reconcile();
    assert.deepEqual(await dhcpHosts(), [1 - was!], 'the live host serves DHCP now, the silent one stopped');
    const other = 1 - was!;
    assert.equal((await sb.dhcp(vmNs[other]!)).env['ip'], vmIps[other], 'and answers');
  });
});
