// IPv6 on the wire through the Neutron API: SLAAC addresses and the default route from the router's advertisements,
// IPv6 between VMs of a network and routed between two IPv6 subnets, and security groups filtering ICMPv6.
// DHCPv6 (stateful, stateless) on the wire: network-dhcpv6.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { linkLocalOf } from '../../src/agent/network/ip-math.ts';
import { startTestCloud, type TestCloud } from '../support/cloud.ts';
import {
  acceptRouterAdvertisements,
  dataplaneSkip,
  flapLinks,
  globalIpv6,
  inNs,
  neutron,
  sh,
  World,
  waitFor,
} from './network-dataplane-support.ts';

interface Port {
  id: string;
  mac_address: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
}

/** ping6 with busybox; true when a reply came back. */
const ping6 = (ns: string, ip: string) =>
  inNs(ns, 'busybox', ['ping6', '-c', '1', '-W', '1', ip]).then(
    () => true,
    () => false,
  );

describe('IPv6 data plane end to end through the Neutron API', { skip: dataplaneSkip() }, () => {
  const w = new World();
  const host = hostname();
  const vms: Record<string, string> = {};
  const ports: Record<string, Port> = {};
  const routerMacs: Record<string, string> = {};
  let tc: TestCloud;
  let token = '';
  const api = (method: string, path: string, status: number, body?: unknown) =>
    neutron(tc, token, method, path, status, body);
  const ipOf = (vm: string) => ports[vm]!.fixed_ips[0]!.ip_address;

  /** A network with one SLAAC subnet (RAs from the router), attached to the router. */
  async function slaacNetwork(name: string, prefix: string, routerId: string) {
    const net = (await api('POST', '/networks', 201, { network: { name } })).network;
    const sub = (
      await api('POST', '/subnets', 201, {
        subnet: {
          network_id: net.id,
          ip_version: 6,
          cidr: `${prefix}/64`,
          ipv6_ra_mode: 'slaac',
          ipv6_address_mode: 'slaac',
        },
      })
    ).subnet;
    const itf = await api('PUT', `/routers/${routerId}/add_router_interface`, 200, { subnet_id: sub.id });
    const rport = (await api('GET', `/ports/${itf.port_id}`, 200)).port;
    routerMacs[name] = rport.mac_address;
    return { networkId: net.id as string, subnetId: sub.id as string };
  }

  async function vm(name: string, networkId: string, sgId: string): Promise<void> {
    const port = (
      await api('POST', '/ports', 201, {
        port: {
          network_id: networkId,
          device_owner: 'compute:nova',
          device_id: randomUUID(),
          security_groups: [sgId],
        },
      })
    ).port as Port;
    ports[name] = port;
    const ns = await w.vm(name, port);
    vms[name] = ns;
    await acceptRouterAdvertisements(ns);
    await tc.request('PUT', `/network/v2.0/ports/${port.id}`, {
      token: tc.adminToken,
      body: { port: { 'binding:host_id': host } },
    });
  }

  before(async () => {
    await w.init();
    tc = await startTestCloud({ network: { dataplane: 'linux', prefix: w.prefix } });
    const user = await tc.makeUser();
    token = user.token;
    const router = (await api('POST', '/routers', 201, { router: { name: 'r6' } })).router;
    const n1 = await slaacNetwork('n1', '2001:db8:a::', router.id);
    const n2 = await slaacNetwork('n2', '2001:db8:b::', router.id);
    const sg = async (name: string, rules: Record<string, unknown>[]) => {
      const g = (await api('POST', '/security-groups', 201, { security_group: { name } })).security_group;
      for (const r of rules)
        await api('POST', '/security-group-rules', 201, {
          security_group_rule: { security_group_id: g.id, direction: 'ingress', ...r },
        });
      return g.id as string;
    };
    // Default groups allow IPv6 ingress from their members: plain groups make the filtering visible.
    const icmp6 = await sg('icmp6', [{ ethertype: 'IPv6', protocol: 'ipv6-icmp' }]);
    const v4only = await sg('v4only', [{ ethertype: 'IPv4', protocol: 'icmp' }]);
    await vm('a1', n1.networkId, icmp6);
    await vm('a2', n1.networkId, icmp6);
    await vm('b1', n2.networkId, icmp6);
    await vm('c1', n1.networkId, v4only);
    const status = async (id: string) => (await api('GET', `/ports/${id}`, 200)).port.status as string;
    for (const name of Object.keys(ports))
      await waitFor(async () => (await status(ports[name]!.id)) === 'ACTIVE', 10_000);
    // The router advertises once its daemon runs; a link flap makes each guest solicit right away.
    await waitFor(async () => (await sh('ps', ['-eo', 'args'])).includes(`constructor:qr-`), 10_000);
    await flapLinks(Object.values(vms));
  });

  after(async () => {
    await tc?.close().catch(() => {});
    await tc?.cloud.networkAgent.teardown().catch(() => {});
    await w.cleanup();
  });

  it('gives SLAAC guests exactly their Neutron (EUI-64) address and a default route via the router', async () => {
    for (const [name, net] of [
      ['a1', 'n1'],
      ['a2', 'n1'],
      ['b1', 'n2'],
      ['c1', 'n1'],
    ] as const) {
      const ns = vms[name]!;
      await waitFor(async () => (await globalIpv6(ns)).length > 0, 10_000);
      assert.deepEqual(await globalIpv6(ns), [`${ipOf(name)}/64`], name);
      const routes = await inNs(ns, 'ip', ['-6', 'route', 'show', 'default']);
      assert.match(routes, new RegExp(`default via ${linkLocalOf(routerMacs[net]!)} dev eth0`), name);
    }
  });

  it('carries IPv6 between VMs of one network and routes it between two IPv6 subnets', async () => {
    assert.ok(await ping6(vms['a1']!, ipOf('a2')), 'a1 → a2 on n1');
    assert.ok(await ping6(vms['a2']!, ipOf('a1')), 'a2 → a1');
    assert.ok(await ping6(vms['a1']!, ipOf('b1')), 'a1 → b1 through the router');
    assert.ok(await ping6(vms['b1']!, ipOf('a1')), 'b1 → a1 through the router');
    const routerLl = linkLocalOf(routerMacs['n1']!);
    assert.ok(await ping6(vms['a1']!, `${routerLl}%eth0`), 'the router’s link-local address on n1');
  });

  it('blocks ICMPv6 into a VM whose groups have no IPv6 ingress rule (neighbour discovery still works)', async () => {
    assert.equal(await ping6(vms['a1']!, ipOf('c1')), false, 'c1 has no IPv6 ingress rule');
    assert.ok(await ping6(vms['c1']!, ipOf('a1')), 'c1 reaches a1 (egress, and a1 allows ICMPv6)');
  });
});
