// Acceptance: real QEMU guests (TCG) booted through the compute API on a Neutron network with the Linux data
// plane: DHCP and the metadata service through the network namespaces, a router with a floating IP reached from an
// "outside" namespace by ping and ssh, two guests talking by fixed IP, and deletion that leaves nothing behind.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { ensureTestImage } from '../../src/compose/test-image.ts';
import { createLogger } from '../../src/platform/log.ts';
import {
  freePort,
  inNs,
  listNamespaces,
  ping,
  sh,
  World,
  waitFor as waitUntil,
} from '../e2e/network-dataplane-support.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../support/cloud.ts';
import { call, killQemusOf, sshFrom, sshKeyPair } from './qemu-network-support.ts';
import { guestDir, type Json, qemuOf, qemuSkip, seedTestImage, waitFor } from './qemu-support.ts';

const NANO = '42'; // m1.nano: 1 vCPU, 128 MiB
const TENANT_CIDR = '10.20.0.0/24';

/** Skipped only where QEMU or root is missing, never in CI. */
function skip(): string | false {
  if (process.env['CI'] === 'true') return false;
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables, taps)';
  return qemuSkip();
}

describe('real QEMU guests on a Neutron network through the Linux data plane', {
  skip: skip(),
  timeout: 600_000,
}, () => {
  const w = new World();
  let tc: TestCloud;
  let dataDir = '';
  let closed = false;
  let outside = '';
  let user: TestUser;
  let key: { path: string; publicKey: string };
  let imageId = '';
  let publicId = '';
  let netId = '';
  let subnetId = '';
  let routerId = '';
  let fipId = '';
  let fip = '';
  const servers: { id: string; name: string; portId: string; ip: string; tap: string }[] = [];

  const compute = (method: string, path: string, status: number | number[], body?: unknown) =>
    call(tc, user.token, method, `/compute/v2.1${path}`, status, body);
  const neutron = (token: string, method: string, path: string, status: number, body?: unknown) =>
    call(tc, token, method, `/network/v2.0${path}`, status, body);
  const portsOf = async (serverId: string) =>
    (await neutron(tc.adminToken, 'GET', `/ports?device_id=${serverId}`, 200))['ports'] as Json[];
  const consoleOf = async (id: string) =>
    String((await compute('POST', `/servers/${id}/action`, 200, { 'os-getConsoleOutput': {} }))['output']);
  const rootLinks = async () =>
    (JSON.parse(await sh('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);

  /**
   * Boots a server on the tenant network (no config drive) and waits for ACTIVE, checking on every poll that the
   * server is never ACTIVE while its port is not (the build waits for network-vif-plugged).
   */
  async function boot(name: string, t: { diagnostic(m: string): void }) {
    const started = performance.now();
    const body = await compute('POST', '/servers', 202, {
      server: {
        name,
        imageRef: imageId,
        flavorRef: NANO,
        networks: [{ uuid: netId }],
        key_name: 'qnet-key',
        config_drive: false,
      },
    });
    const id = String(body['server']['id']);
    const active = await waitFor(
      `${name} to be ACTIVE`,
      async () => {
        const s = (await compute('GET', `/servers/${id}`, 200))['server'] as Json;
        if (s['status'] === 'ERROR') assert.fail(`${name} went to ERROR: ${JSON.stringify(s['fault'])}`);
        if (s['status'] !== 'ACTIVE' || s['OS-EXT-STS:task_state']) return undefined;
        const ports = await portsOf(id);
        assert.equal(ports.length, 1, JSON.stringify(ports));
        assert.equal(
          ports[0]!['status'],
          'ACTIVE',
          `${name} is ACTIVE while its port is ${ports[0]!['status']}`,
        );
        return s;
      },
      120_000,
      200,
    );
    const toActive = performance.now() - started;
    const [port] = await portsOf(id);
    assert.ok(port);
    assert.equal(port['binding:host_id'], hostname());
    assert.equal(port['device_owner'], 'compute:nova');
    const ip = String(port['fixed_ips'][0]['ip_address']);
    // The server's addresses show the port's fixed IP on the tenant network, with its MAC.
    const addrs = (active['addresses'] as Record<string, Json[]>)['qnet-tenant'];
    assert.ok(addrs, JSON.stringify(active['addresses']));
    assert.deepEqual(
      addrs.map((a) => [a['addr'], a['OS-EXT-IPS:type'], a['OS-EXT-IPS-MAC:mac_addr']]),
      [[ip, 'fixed', port['mac_address']]],
    );
    const tap = `tap${String(port['id']).slice(0, 11)}`;
    // The tap QEMU made now lives on the network's bridge, not in the root namespace.
    const netNs = `${w.prefix}n-${netId}`;
    const inBridge = JSON.parse(await inNs(netNs, 'ip', ['-j', 'link', 'show', tap])) as Json[];
    assert.equal(inBridge[0]?.['master'], 'br0');
    assert.equal((await rootLinks()).includes(tap), false, 'the tap is still in the root namespace');
    // The guest took its address by DHCP and its name from the metadata service: it has no config drive.
    const procs = await qemuOf(id);
    assert.equal(procs.length, 1);
    assert.equal(procs[0]!.argv.join(' ').includes('ide-cd'), false, 'the guest has a config drive');
    await waitFor(
      `GUEST-READY on ${name}`,
      async () => (await consoleOf(id)).includes('GUEST-READY'),
      120_000,
      500,
    );
    const toReady = performance.now() - started;
    const out = await consoleOf(id);
    const line = out.split('\n').find((l) => l.startsWith('GUEST-READY'));
    assert.match(
      line ?? '',
      new RegExp(`^GUEST-READY ${ip.replaceAll('.', '\\.')} hostname=${name}(\\.novalocal)? `),
      out.slice(-3000),
    );
    t.diagnostic(
      `${name}: create→ACTIVE ${Math.round(toActive)} ms, create→GUEST-READY ${Math.round(toReady)} ms`,
    );
    const s = { id, name, portId: String(port['id']), ip, tap };
    servers.push(s);
    return s;
  }

  before(async () => {
    await w.init();
    outside = await w.namespace('out');
    tc = await startTestCloud({
      compute: {
        driver: 'qemu',
        qemu: { accel: 'tcg' },
        metadata: { enabled: true, port: await freePort() },
      },
      network: { dataplane: 'linux', prefix: w.prefix, physical_networks: { public: `netns:${outside}` } },
    } as Parameters<typeof startTestCloud>[0]);
    dataDir = tc.cloud.config.data_dir;
    await tc.cloud.compute.metadata.listen();
    await seedTestImage(dataDir);
    imageId = (await ensureTestImage(tc.cloud, createLogger({ level: 'silent' }))).imageId;
    user = await tc.makeUser();
    key = await sshKeyPair(dataDir);
  });

  after(async () => {
    // Guests first (their command lines name the data directory, which close() removes), then the agent's world.
    if (dataDir) await killQemusOf(dataDir);
    if (!closed) await tc?.close().catch(() => {});
    await tc?.cloud.networkAgent.teardown().catch(() => {});
    await w.cleanup();
  });

  it('builds the networks through the Neutron API: external flat public, a tenant network and its router', async () => {
    const admin = tc.adminToken;
    publicId = (
      await neutron(admin, 'POST', '/networks', 201, {
        network: {
          name: 'public',
          'router:external': true,
          'provider:network_type': 'flat',
          'provider:physical_network': 'public',
        },
      })
    )['network']['id'];
    await neutron(admin, 'POST', '/subnets', 201, {
      subnet: {
        network_id: publicId,
        ip_version: 4,
        cidr: '203.0.113.0/24',
        gateway_ip: '203.0.113.1',
        allocation_pools: [{ start: '203.0.113.10', end: '203.0.113.200' }],
        enable_dhcp: false,
      },
    });
    const t = user.token;
    netId = (await neutron(t, 'POST', '/networks', 201, { network: { name: 'qnet-tenant' } }))['network'][
      'id'
    ];
    subnetId = (
      await neutron(t, 'POST', '/subnets', 201, {
        subnet: { network_id: netId, ip_version: 4, cidr: TENANT_CIDR, name: 'qnet-sub' },
      })
    )['subnet']['id'];
    routerId = (
      await neutron(t, 'POST', '/routers', 201, {
        router: { name: 'qnet-router', external_gateway_info: { network_id: publicId } },
      })
    )['router']['id'];
    await neutron(t, 'PUT', `/routers/${routerId}/add_router_interface`, 200, { subnet_id: subnetId });
    const groups = (await neutron(t, 'GET', '/security-groups?name=default', 200))[
      'security_groups'
    ] as Json[];
    assert.equal(groups.length, 1);
    for (const rule of [{ protocol: 'tcp', port_range_min: 22, port_range_max: 22 }, { protocol: 'icmp' }])
      await neutron(t, 'POST', '/security-group-rules', 201, {
        security_group_rule: {
          security_group_id: groups[0]!['id'],
          direction: 'ingress',
          ethertype: 'IPv4',
          ...rule,
        },
      });
    await compute('POST', '/os-keypairs', [200, 201], {
      keypair: { name: 'qnet-key', public_key: key.publicKey },
    });
    // The outside world holds the external subnet's gateway address at the far end of the uplink.
    await waitUntil(
      async () => (await inNs(outside, 'ip', ['-o', '-4', 'addr', 'show'])).includes('203.0.113.1/24'),
      15_000,
    );
  });

  it('boots a guest on the tenant network: ACTIVE once its port is, DHCP and metadata through the data plane', async (t) => {
    await boot('qnet-vm1', t);
  });

  it('reaches the guest from outside through a floating IP: ping, and ssh with the key from metadata', async (t) => {
    const vm1 = servers[0]!;
    const created = await neutron(user.token, 'POST', '/floatingips', 201, {
      floatingip: { floating_network_id: publicId, port_id: vm1.portId },
    });
    fipId = created['floatingip']['id'];
    fip = created['floatingip']['floating_ip_address'];
    assert.equal(created['floatingip']['fixed_ip_address'], vm1.ip);
    const started = performance.now();
    await waitUntil(() => ping(outside, fip), 20_000);
    const out = await sshFrom(outside, key.path, fip, 'hostname; id -u; ip -4 -o addr show dev eth0');
    t.diagnostic(`floating IP ${fip}: ping + ssh answered in ${Math.round(performance.now() - started)} ms`);
    const [name, uid, addr] = out.trim().split('\n');
    assert.match(name ?? '', /^qnet-vm1(\.novalocal)?$/);
    assert.equal(uid, '0');
    assert.match(addr ?? '', new RegExp(` ${vm1.ip.replaceAll('.', '\\.')}/24 `));
    // The tenant address itself is not reachable from outside.
    assert.equal(await ping(outside, vm1.ip), false);
  });

  it('shows the floating IP among the server’s addresses (Neutron’s network-changed refreshes the cache)', async () => {
    const vm1 = servers[0]!;
    await waitFor(
      'the floating IP in the server’s addresses',
      async () => {
        const s = (await compute('GET', `/servers/${vm1.id}`, 200))['server'] as Json;
        const a = (s['addresses']['qnet-tenant'] as Json[]) ?? [];
        return a.some((x) => x['addr'] === fip && x['OS-EXT-IPS:type'] === 'floating');
      },
      10_000,
    );
  });

  it('a second guest on the network reaches the first by its fixed IP', async (t) => {
    const vm1 = servers[0]!;
    const vm2 = await boot('qnet-vm2', t);
    assert.notEqual(vm2.ip, vm1.ip);
    // The floating IP moves to vm2; from there, vm1 answers ping and its sshd's banner on the fixed address.
    await neutron(user.token, 'PUT', `/floatingips/${fipId}`, 200, { floatingip: { port_id: vm2.portId } });
    const out = await waitFor(
      'ssh to vm2 through the moved floating IP',
      async () => {
        const o = await sshFrom(outside, key.path, fip, 'hostname', 1);
        return /^qnet-vm2/.test(o.trim()) ? o : undefined;
      },
      30_000,
      500,
    );
    assert.match(out.trim(), /^qnet-vm2(\.novalocal)?$/);
    const probe = await sshFrom(
      outside,
      key.path,
      fip,
      `ping -c 1 -W 2 ${vm1.ip} >/dev/null && echo PING-OK; echo | nc -w 2 ${vm1.ip} 22 | head -c 16`,
    );
    assert.match(probe, /PING-OK/);
    assert.match(probe, /SSH-2\.0-dropbear/);
  });

  it('a hard reboot gives the guest a new tap, plugged again before it runs', async () => {
    const vm1 = servers[0]!;
    const readyLines = async () =>
      (await consoleOf(vm1.id)).split('\n').filter((l) => l.startsWith('GUEST-READY'));
    assert.equal((await readyLines()).length, 1);
    await compute('POST', `/servers/${vm1.id}/action`, 202, { reboot: { type: 'HARD' } });
    await waitFor('the second GUEST-READY', async () => (await readyLines()).length === 2, 120_000, 500);
    assert.match((await readyLines())[1]!, new RegExp(`^GUEST-READY ${vm1.ip.replaceAll('.', '\\.')} `));
    const [port] = await portsOf(vm1.id);
    assert.equal(port?.['status'], 'ACTIVE');
    const inNet = JSON.parse(
      await inNs(`${w.prefix}n-${netId}`, 'ip', ['-j', 'link', 'show', vm1.tap]),
    ) as Json[];
    assert.equal(inNet[0]?.['master'], 'br0');
    const probe = await sshFrom(outside, key.path, fip, `echo | nc -w 2 ${vm1.ip} 22 | head -c 16`);
    assert.match(probe, /SSH-2\.0-dropbear/);
  });

  it('deleting the servers removes their ports, guests and taps', async () => {
    for (const s of servers) await compute('DELETE', `/servers/${s.id}`, 204);
    for (const s of servers) {
      await waitFor(
        `${s.name} to be gone`,
        async () =>
          (await tc.request('GET', `/compute/v2.1/servers/${s.id}`, { token: user.token })).status === 404,
        60_000,
      );
      await waitFor(`${s.name}'s port to be deleted`, async () => (await portsOf(s.id)).length === 0, 30_000);
      await waitFor(
        `${s.name}'s guest directory to go`,
        async () => !existsSync(guestDir(dataDir, s.id)),
        30_000,
      );
      assert.deepEqual(await qemuOf(s.id), []);
      const netNs = `${w.prefix}n-${netId}`;
      await waitFor(`${s.tap} to vanish`, async () => {
        const inNet = JSON.parse(await inNs(netNs, 'ip', ['-j', 'link', 'show'])) as { ifname: string }[];
        return !inNet.some((l) => l.ifname === s.tap) && !(await rootLinks()).includes(s.tap);
      });
    }
    // The floating IP stays allocated, now unbound.
    const f = (await neutron(user.token, 'GET', `/floatingips/${fipId}`, 200))['floatingip'];
    assert.equal(f['port_id'], null);
  });

  it('leaves nothing with its prefix once the cloud is closed and the agent torn down', async () => {
    await tc.close();
    closed = true;
    await tc.cloud.networkAgent.teardown();
    assert.deepEqual(await w.leftovers([outside], [netId, publicId]), []);
    assert.deepEqual(
      (await listNamespaces()).filter((n) => n.startsWith(w.prefix)),
      [],
    );
    assert.equal(await killQemusOf(dataDir), 0, 'a QEMU of this cloud still ran');
  });
});
