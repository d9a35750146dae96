// The network service and the Linux data plane together, driven only through the Neutron API: two projects with
// the same tenant CIDR behind routers on a flat external network, "VMs" as namespaces on taps, DHCP, security
// groups on live flows, floating IPs from an outside namespace, metadata, and cleanup of everything.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ComputeNotifier } from '../../src/services/network/context.ts';
import { insertServer } from '../api/compute/compute-support.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../support/cloud.ts';
import {
  dataplaneSkip,
  freePort,
  inNs,
  listNamespaces as namespaces,
  neutron,
  ping,
  World,
  waitFor,
} from './network-dataplane-support.ts';

type PortEvent = Parameters<ComputeNotifier['portEvent']>[0];
interface Port {
  id: string;
  mac_address: string;
  device_id: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
}
interface Project {
  user: TestUser;
  networkId: string;
  subnetId: string;
  routerId: string;
  sgId: string;
  tcpRuleId: string;
  fipId?: string;
  fip?: string;
}

const CIDR = '10.10.0.0/24';

describe('network data plane end to end through the Neutron API', { skip: dataplaneSkip() }, () => {
  const w = new World();
  const host = hostname();
  const events: PortEvent[] = [];
  const ports: Record<string, Port> = {};
  const vms: Record<string, string> = {};
  const ipOf = (vm: string) => ports[vm]!.fixed_ips[0]!.ip_address;
  let tc: TestCloud;
  let closed = false;
  let outside = '';
  let publicId = '';
  let serverId = '';
  let notifierWired = false;
  let A: Project;
  let B: Project;

  const api = (token: string, method: string, path: string, status: number, body?: unknown) =>
    neutron(tc, token, method, path, status, body);
  const statusOf = async (portId: string) =>
    (await api(tc.adminToken, 'GET', `/ports/${portId}`, 200)).port.status as string;
  const agentNs = (kind: 'n' | 'dhcp' | 'r', id: string) => `${w.prefix}${kind}-${id}`;
  const linksIn = async (ns: string) =>
    (JSON.parse(await inNs(ns, 'ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);

  /** An echo round trip over a new TCP connection. */
  async function echoes(ns: string, ip: string, port: number): Promise<boolean> {
    const s = w.session(ns, ip, port);
    try {
      return (await s.say(`hello-${port}`, 2500)) !== undefined;
    } finally {
      s.close();
    }
  }

  async function project(name: string): Promise<Project> {
    const user = await tc.makeUser();
    const t = user.token;
    const net = (await api(t, 'POST', '/networks', 201, { network: { name: `net-${name}` } })).network;
    const sub = (
      await api(t, 'POST', '/subnets', 201, { subnet: { network_id: net.id, ip_version: 4, cidr: CIDR } })
    ).subnet;
    assert.equal(sub.gateway_ip, '10.10.0.1');
    const router = (
      await api(t, 'POST', '/routers', 201, {
        router: { name: `r-${name}`, external_gateway_info: { network_id: publicId } },
      })
    ).router;
    await api(t, 'PUT', `/routers/${router.id}/add_router_interface`, 200, { subnet_id: sub.id });
    const sg = (await api(t, 'POST', '/security-groups', 201, { security_group: { name: `web-${name}` } }))
      .security_group;
    const rule = (extra: Record<string, unknown>) =>
      api(t, 'POST', '/security-group-rules', 201, {
        security_group_rule: { security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', ...extra },
      });
    await rule({ protocol: 'icmp' });
    const tcp = (await rule({ protocol: 'tcp', port_range_min: 8080, port_range_max: 8080 }))
      .security_group_rule;
    return {
      user,
      networkId: net.id,
      subnetId: sub.id,
      routerId: router.id,
      sgId: sg.id,
      tcpRuleId: tcp.id,
    };
  }

  /** A VM port as Nova makes it: created by the project, then bound to this host by the admin. */
  async function vmPort(p: Project, name: string, deviceId: string, ip?: string): Promise<Port> {
    const port = (
      await api(p.user.token, 'POST', '/ports', 201, {
        port: {
          network_id: p.networkId,
          device_owner: 'compute:nova',
          device_id: deviceId,
          security_groups: [p.sgId],
          ...(ip ? { fixed_ips: [{ subnet_id: p.subnetId, ip_address: ip }] } : {}),
        },
      })
    ).port as Port;
    assert.equal(port.fixed_ips.length, 1);
    ports[name] = port;
    return port;
  }

  before(async () => {
    await w.init();
    outside = await w.namespace('out');
    tc = await startTestCloud({
      network: { dataplane: 'linux', prefix: w.prefix, physical_networks: { public: `netns:${outside}` } },
      compute: { metadata: { enabled: true, port: await freePort() } },
    });
    await tc.cloud.compute.metadata.listen();
    // Record what the service tells Nova (and pass it on when compute's notifier is wired).
    const cx = tc.cloud.network.context;
    const inner = cx.notifier;
    notifierWired = inner !== undefined;
    cx.notifier = {
      portEvent(e) {
        events.push(e);
        inner?.portEvent(e);
      },
    };
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
    await api(admin, 'POST', '/subnets', 201, {
      subnet: {
        network_id: publicId,
        ip_version: 4,
        cidr: '203.0.113.0/24',
        gateway_ip: '203.0.113.1',
        allocation_pools: [{ start: '203.0.113.10', end: '203.0.113.200' }],
        enable_dhcp: false,
      },
    });
    A = await project('a');
    B = await project('b');
    serverId = await insertServer(tc, { projectId: A.user.projectId, host });
    await vmPort(A, 'a1', serverId);
    await vmPort(A, 'a2', randomUUID());
    // B's VM takes an address A does not use, so reaching it from A could only mean crossing networks.
    const taken = new Set([ipOf('a1'), ipOf('a2')]);
    let last = 50;
    while (taken.has(`10.10.0.${last}`)) last += 1;
    await vmPort(B, 'b1', randomUUID(), `10.10.0.${last}`);
    for (const name of ['a1', 'a2', 'b1']) vms[name] = await w.vm(name, ports[name]!);
  });

  after(async () => {
    if (!closed) await tc?.close().catch(() => {});
    await tc?.cloud.networkAgent.teardown().catch(() => {});
    await w.cleanup();
  });

  it('binds VM ports to this host: ACTIVE once their tap is on the bridge, and Nova hears network-vif-plugged', async (t) => {
    for (const name of ['a1', 'a2', 'b1']) assert.equal(await statusOf(ports[name]!.id), 'DOWN', name);
    const bind = (name: string) =>
      api(tc.adminToken, 'PUT', `/ports/${ports[name]!.id}`, 200, { port: { 'binding:host_id': host } });
    // a1 as compute plugs a QEMU tap (VifPlugger.plug); a2 and b1 by the agent adopting the tap it finds.
    await bind('a1');
    const a1 = ports['a1']!;
    await tc.cloud.networkAgent.plug({
      portId: a1.id,
      device: `tap${a1.id.slice(0, 11)}`,
      networkId: A.networkId,
      macAddress: a1.mac_address,
    });
    assert.equal(await statusOf(a1.id), 'ACTIVE');
    assert.ok((await linksIn(agentNs('n', A.networkId))).includes(`tap${a1.id.slice(0, 11)}`));
    await bind('a2');
    await bind('b1');
    for (const name of ['a2', 'b1'])
      await waitFor(async () => (await statusOf(ports[name]!.id)) === 'ACTIVE', 10_000);
    for (const name of ['a1', 'a2', 'b1'])
      assert.ok(
        events.some(
          (e) =>
            e.name === 'network-vif-plugged' &&
            e.portId === ports[name]!.id &&
            e.serverId === ports[name]!.device_id &&
            e.status === 'completed',
        ),
        `network-vif-plugged for ${name}: ${JSON.stringify(events)}`,
      );
    // The agent's own ports (DHCP, router interface and gateway) are ACTIVE too.
    for (const p of [A, B]) {
      const own = (await api(tc.adminToken, 'GET', `/ports?network_id=${p.networkId}`, 200)).ports as {
        device_owner: string;
        status: string;
      }[];
      const owners = own.filter((x) => x.device_owner.startsWith('network:'));
      assert.deepEqual(owners.map((x) => x.device_owner).sort(), [
        'network:dhcp',
        'network:router_interface',
      ]);
      await waitFor(async () => {
        const now = (await api(tc.adminToken, 'GET', `/ports?network_id=${p.networkId}`, 200)).ports as {
          status: string;
        }[];
        return now.every((x) => x.status === 'ACTIVE');
      }, 5_000);
      const gw = (
        await api(tc.adminToken, 'GET', `/ports?device_id=${p.routerId}&network_id=${publicId}`, 200)
      ).ports as { status: string }[];
      assert.equal(gw.length, 1);
      assert.equal(gw[0]!.status, 'ACTIVE');
    }
    if (!notifierWired)
      t.diagnostic('the network service has no compute notifier in createCloud (not wired)');
  });

  it('gives every VM exactly its Neutron address (and the router) by DHCP', async () => {
    for (const name of ['a1', 'a2', 'b1']) {
      const env = await w.dhcp(vms[name]!);
      assert.equal(env['ip'], ipOf(name), name);
      assert.equal(env['router'], '10.10.0.1', name);
      assert.equal(env['mtu'], '1450', name);
    }
  });

  it('carries traffic between two VMs of one network, as their security group allows', async () => {
    for (const name of ['a1', 'a2', 'b1']) {
      await w.tcpServer(vms[name]!, 8080);
      await w.tcpServer(vms[name]!, 8081);
    }
    assert.ok(await ping(vms['a1']!, ipOf('a2')));
    assert.ok(await ping(vms['a2']!, ipOf('a1')));
    assert.ok(await echoes(vms['a1']!, ipOf('a2'), 8080));
    assert.equal(await echoes(vms['a1']!, ipOf('a2'), 8081), false, 'port 8081 is not allowed');
  });

  it('isolates the projects although they use the same addresses', async () => {
    const subnets = (await api(tc.adminToken, 'GET', `/subnets?cidr=${CIDR}`, 200)).subnets as unknown[];
    assert.equal(subnets.length, 2);
    assert.ok(await ping(vms['b1']!, '10.10.0.1'), 'B reaches its own router');
    assert.ok(await ping(vms['a1']!, '10.10.0.1'), 'A reaches its own router at the same address');
    assert.equal(await ping(vms['a1']!, ipOf('b1')), false, 'A cannot reach B’s VM');
    assert.equal(await echoes(vms['a1']!, ipOf('b1'), 8080), false);
    assert.equal(await ping(vms['b1']!, ipOf('a1')), false, 'B cannot reach A’s VMs');
    assert.equal(await ping(vms['b1']!, ipOf('a2')), false);
  });

  it('lets the outside reach a VM only through its floating IP and only on allowed ports', async () => {
    for (const [p, vm] of [
      [A, 'a1'],
      [B, 'b1'],
    ] as const) {
      const fip = (
        await api(p.user.token, 'POST', '/floatingips', 201, {
          floatingip: { floating_network_id: publicId, port_id: ports[vm]!.id },
        })
      ).floatingip;
      assert.equal(fip.fixed_ip_address, ipOf(vm));
      p.fipId = fip.id;
      p.fip = fip.floating_ip_address as string;
    }
    const out = outside;
    // The far end of the external network's uplink plays the upstream router with the subnet's gateway address.
    const addrs = await inNs(out, 'ip', ['-o', '-4', 'addr', 'show']);
    assert.match(addrs, new RegExp(`\\d+: ${w.prefix}\\S+\\s+inet 203\\.0\\.113\\.1/24`));
    await waitFor(() => ping(out, A.fip!), 10_000);
    assert.ok(await echoes(out, A.fip!, 8080));
    assert.equal(await echoes(out, A.fip!, 8081), false, 'not allowed by the security group');
    await waitFor(() => ping(out, B.fip!), 10_000);
    assert.ok(await echoes(out, B.fip!, 8080));
    // Tenant addresses are not reachable from outside, and a VM without a floating IP has no public address.
    assert.equal(await ping(out, ipOf('a2')), false);
    assert.equal(await echoes(out, ipOf('a1'), 8080), false);
    // Without a floating IP a VM still gets out, through its router's SNAT.
    await w.tcpServer(out, 9000);
    assert.ok(await echoes(vms['a2']!, '203.0.113.1', 9000));
  });

  it('serves metadata to a VM for the instance that owns its port', async () => {
    const r = await w.httpGet(vms['a1']!, 'http://169.254.169.254/openstack/latest/meta_data.json');
    assert.equal(r.status, 200, r.body);
    const md = JSON.parse(r.body) as { uuid: string; project_id: string };
    assert.equal(md.uuid, serverId);
    assert.equal(md.project_id, A.user.projectId);
    // a2's device_id names no server Nova knows: the proxy identifies it, Nova answers 404.
    const unknown = await w.httpGet(vms['a2']!, 'http://169.254.169.254/openstack/latest/meta_data.json');
    assert.equal(unknown.status, 404);
  });

  it('cuts an established flow when the security group rule that allowed it is deleted', async () => {
    const s = w.session(outside, A.fip!, 8080);
    try {
      assert.equal(await s.say('before'), 'before');
      await api(A.user.token, 'DELETE', `/security-group-rules/${A.tcpRuleId}`, 204);
      // The agent applies the change shortly after the API answers: the flow passes until then, never after.
      let cut = false;
      const end = Date.now() + 8_000;
      for (let i = 0; Date.now() < end && !cut; i++) {
        cut = (await s.say(`after-${i}`, 700)) === undefined;
        if (!cut) await sleep(100);
      }
      assert.ok(cut, 'the established flow still passes');
    } finally {
      s.close();
    }
    assert.equal(await echoes(outside, A.fip!, 8080), false, 'new connections fail');
    assert.equal(await echoes(vms['a1']!, ipOf('a2'), 8080), false, 'inside too');
    assert.ok(await ping(outside, A.fip!), 'the ICMP rule still holds');
  });

  it('removes the wiring of a deleted floating IP, router interface, router and network', async () => {
    const rNs = agentNs('r', B.routerId);
    const t = B.user.token;
    await api(t, 'DELETE', `/floatingips/${B.fipId}`, 204);
    await waitFor(async () => !(await inNs(rNs, 'ip', ['-o', 'addr', 'show'])).includes(`${B.fip}/32`));
    await waitFor(async () => !(await inNs(rNs, 'nft', ['list', 'ruleset'])).includes(B.fip!));
    assert.equal(await ping(outside, B.fip!), false);

    await api(t, 'PUT', `/routers/${B.routerId}/remove_router_interface`, 200, { subnet_id: B.subnetId });
    await waitFor(async () => !(await linksIn(rNs)).some((l) => l.startsWith('qr-')));
    assert.equal(await ping(vms['b1']!, '10.10.0.1'), false);

    await api(t, 'PUT', `/routers/${B.routerId}`, 200, { router: { external_gateway_info: {} } });
    await api(t, 'DELETE', `/routers/${B.routerId}`, 204);
    await waitFor(async () => !(await namespaces()).includes(rNs));

    await api(t, 'DELETE', `/ports/${ports['b1']!.id}`, 204);
    await api(t, 'DELETE', `/networks/${B.networkId}`, 204);
    await waitFor(async () => {
      const all = await namespaces();
      return !all.includes(agentNs('n', B.networkId)) && !all.includes(agentNs('dhcp', B.networkId));
    });
    const left = (await w.leftovers([], [B.networkId])).filter((x) => x.includes(B.networkId));
    assert.deepEqual(left, [], 'B’s dnsmasq and haproxy are gone');
    // A is untouched.
    assert.ok(await ping(outside, A.fip!));
  });

  it('leaves nothing with its prefix once the cloud is closed and the agent torn down', async () => {
    await tc.close();
    closed = true;
    await tc.cloud.networkAgent.teardown();
    assert.deepEqual(await w.leftovers([outside], [A.networkId, B.networkId, publicId]), []);
  });
});
