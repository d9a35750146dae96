// What the network service hands its host agents (ServiceControlPlane), from resources made through the Neutron
// API: binding per host (and '*'), VXLAN peers from other hosts' agents, the router's gateway, metadata lookups.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ServiceControlPlane } from '../../src/services/network/dataplane-api.ts';
import { reportAgentHeartbeat } from '../../src/services/network/domain/agents.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../support/cloud.ts';
import { neutron } from './network-dataplane-support.ts';

describe('network data plane: the desired state the service computes per host', () => {
  let tc: TestCloud;
  let cp: ServiceControlPlane;
  let user: TestUser;
  let publicId = '';
  let netId = '';
  let routerId = '';
  let vmPortId = '';
  let otherPortId = '';
  const deviceId = randomUUID();

  const api = (token: string, method: string, path: string, status: number, body?: unknown) =>
    neutron(tc, token, method, path, status, body);

  before(async () => {
    tc = await startTestCloud();
    cp = new ServiceControlPlane(tc.cloud.network.context);
    user = await tc.makeUser();
    const admin = tc.adminToken;
    publicId = (
      await api(admin, 'POST', '/networks', 201, {
        network: {
          name: 'public',
          'router:external': true,
          'provider:network_type': 'flat',
          'provider:physical_network': 'public',
        },
      })
    ).network.id;
    // IPv6 first: the router's default route must still use the IPv4 gateway.
    await api(admin, 'POST', '/subnets', 201, {
      subnet: { network_id: publicId, ip_version: 6, cidr: '2001:db8::/64', enable_dhcp: false },
    });
    await api(admin, 'POST', '/subnets', 201, {
      subnet: { network_id: publicId, ip_version: 4, cidr: '203.0.113.0/24', enable_dhcp: false },
    });
    netId = (await api(user.token, 'POST', '/networks', 201, { network: { name: 'n' } })).network.id;
    const subnetId = (
      await api(user.token, 'POST', '/subnets', 201, {
        subnet: { network_id: netId, ip_version: 4, cidr: '10.10.0.0/24' },
      })
    ).subnet.id;
    routerId = (
      await api(user.token, 'POST', '/routers', 201, {
        router: { name: 'r', external_gateway_info: { network_id: publicId } },
      })
    ).router.id;
    await api(user.token, 'PUT', `/routers/${routerId}/add_router_interface`, 200, { subnet_id: subnetId });
    const port = (device: string, hostId: string) =>
      api(admin, 'POST', '/ports', 201, {
        port: {
          network_id: netId,
          project_id: user.projectId,
          device_owner: 'compute:nova',
          device_id: device,
          'binding:host_id': hostId,
        },
      });
    vmPortId = (await port(deviceId, 'host-1')).port.id;
    otherPortId = (await port(randomUUID(), 'host-2')).port.id;
  });
  after(() => tc?.close());

  /** The one host with live agents: the test cloud's own, which therefore serves DHCP and runs the router. */
  const networkNode = async () =>
    (
      await tc.cloud.network.context.db
        .selectFrom('network_agents')
        .select('host')
        .where('agent_type', '=', 'DHCP agent')
        .executeTakeFirstOrThrow()
    ).host;

  it('marks VM ports bound where their host is; the DHCP port where DHCP is served; every bound port for host *', async () => {
    const bound = async (host: string) =>
      new Map((await cp.desiredState(host)).ports.map((p) => [p.id, p.boundHere] as const));
    const h1 = await bound('host-1');
    assert.equal(h1.get(vmPortId), true);
    assert.equal(h1.get(otherPortId), false);
    const h2 = await bound('host-2');
    assert.equal(h2.get(vmPortId), false);
    assert.equal(h2.get(otherPortId), true);
    const any = await bound('*');
    assert.equal(any.get(vmPortId), true);
    assert.equal(any.get(otherPortId), true);
    const dhcpOn = async (host: string) =>
      (await cp.desiredState(host)).ports
        .filter((p) => p.deviceOwner === 'network:dhcp')
        .map((p) => p.boundHere);
    assert.deepEqual(await dhcpOn('host-1'), [false], 'host-1 wires the network for its VM, not its DHCP');
    assert.deepEqual(await dhcpOn(await networkNode()), [true]);
  });

  it('gives VXLAN networks the other hosts’ tunnel addresses as peers (none on one host)', async () => {
    const peersOf = async (host: string) =>
      (await cp.desiredState(host)).networks.find((n) => n.id === netId)?.vxlanPeers;
    const tenant = (await cp.desiredState('host-1')).networks.find((n) => n.id === netId);
    assert.equal(tenant?.type, 'vxlan');
    assert.deepEqual(tenant?.vxlanPeers, []);
    const ext = (await cp.desiredState('host-1')).networks.find((n) => n.id === publicId);
    assert.equal(ext?.vxlanPeers, undefined, 'a flat network has no peers');
    const cx = tc.cloud.network.context;
    for (const [host, ip] of [
      ['host-1', '192.0.2.1'],
      ['host-2', '192.0.2.2'],
    ] as const)
      await reportAgentHeartbeat(cx, host, ['neutron-linuxbridge-agent'], {
        configurations: { 'neutron-linuxbridge-agent': { tunneling_ip: ip, tunnel_types: ['vxlan'] } },
      });
    assert.deepEqual(await peersOf('host-1'), ['192.0.2.2']);
    assert.deepEqual(await peersOf('host-2'), ['192.0.2.1']);
    assert.deepEqual(await peersOf('*'), []);
  });

  it('routes a router by its external IPv4 gateway, with its interface and gateway ports', async () => {
    assert.deepEqual((await cp.desiredState('host-1')).routers, [], 'the router runs on the network node');
    const state = await cp.desiredState(await networkNode());
    const r = state.routers.find((x) => x.id === routerId);
    assert.ok(r);
    assert.ok(r.gateway);
    assert.equal(r.gateway.networkId, publicId);
    assert.equal(r.gateway.gatewayIp, '203.0.113.1');
    assert.equal(r.gateway.enableSnat, true);
    assert.deepEqual(
      r.interfaces.map((i) => i.ips),
      [[{ ipAddress: '10.10.0.1', cidr: '10.10.0.0/24' }]],
    );
  });

  it('names the instance behind a VM address for the metadata proxy, and nothing for other ports', async () => {
    const ports = (await cp.desiredState('host-1')).ports;
    const vm = ports.find((p) => p.id === vmPortId)!;
    assert.deepEqual(await cp.metadataInstance(netId, vm.fixedIps[0]!.ipAddress), {
      instanceId: deviceId,
      projectId: user.projectId,
    });
    const dhcp = ports.find((p) => p.deviceOwner === 'network:dhcp')!;
    assert.equal(await cp.metadataInstance(netId, dhcp.fixedIps[0]!.ipAddress), undefined);
    assert.equal(await cp.metadataInstance(netId, '10.10.0.250'), undefined);
  });
});
