// DHCPv6 on the wire through the Neutron API, with ISC dhclient as the guest's client: a dhcpv6-stateful subnet
// leases each VM exactly its Neutron address; a dhcpv6-stateless one answers an information request with the
// subnet's DNS servers while the VM takes its address by SLAAC from the router's advertisements.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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

describe('DHCPv6 end to end through the Neutron API', { skip: dataplaneSkip() }, () => {
  const w = new World();
  const vms: Record<string, string> = {};
  const ports: Record<string, Port> = {};
  const clients: string[] = [];
  let tc: TestCloud;
  let token = '';
  const api = (method: string, path: string, status: number, body?: unknown) =>
    neutron(tc, token, method, path, status, body);

  async function network(name: string, prefix: string, mode: string, routerId: string, dns: string[] = []) {
    const net = (await api('POST', '/networks', 201, { network: { name } })).network;
    const sub = (
      await api('POST', '/subnets', 201, {
        subnet: {
          network_id: net.id,
          ip_version: 6,
          cidr: `${prefix}/64`,
          ipv6_ra_mode: mode,
          ipv6_address_mode: mode,
          dns_nameservers: dns,
        },
      })
    ).subnet;
    await api('PUT', `/routers/${routerId}/add_router_interface`, 200, { subnet_id: sub.id });
    return net.id as string;
  }

  async function vm(name: string, networkId: string): Promise<void> {
    const port = (
      await api('POST', '/ports', 201, {
        port: { network_id: networkId, device_owner: 'compute:nova', device_id: randomUUID() },
      })
    ).port as Port;
    ports[name] = port;
    const ns = await w.vm(name, port);
    vms[name] = ns;
    await acceptRouterAdvertisements(ns);
    await tc.request('PUT', `/network/v2.0/ports/${port.id}`, {
      token: tc.adminToken,
      body: { port: { 'binding:host_id': hostname() } },
    });
  }

  /**
   * Runs dhclient -6 once in the VM; its script only writes its environment down (nothing is configured). Returns
   * the lease file and the script's environment of the last call.
   */
  async function dhclient(name: string, extra: string[]): Promise<{ lease: string; env: string }> {
    const base = join(tmpdir(), `${w.stem}-${name}`);
    clients.push(`${base}.pid`);
    await writeFile(`${base}.sh`, `#!/bin/sh\nenv > ${base}.env\n`);
    await chmod(`${base}.sh`, 0o755);
    await inNs(
      vms[name]!,
      'dhclient',
      ['-6', '-1', ...extra, '-sf', `${base}.sh`, '-lf', `${base}.leases`, '-pf', `${base}.pid`, 'eth0'],
      30_000,
    );
    const read = (f: string) => readFile(f, 'utf8').catch(() => '');
    return { lease: await read(`${base}.leases`), env: await read(`${base}.env`) };
  }

  before(async () => {
    await w.init();
    tc = await startTestCloud({ network: { dataplane: 'linux', prefix: w.prefix } });
    token = (await tc.makeUser()).token;
    const router = (await api('POST', '/routers', 201, { router: { name: 'r6' } })).router;
    const stateful = await network('full', '2001:db8:c::', 'dhcpv6-stateful', router.id);
    const stateless = await network('opts', '2001:db8:d::', 'dhcpv6-stateless', router.id, ['2001:db8::53']);
    await vm('s1', stateful);
    await vm('s2', stateful);
    await vm('o1', stateless);
    const status = async (id: string) => (await api('GET', `/ports/${id}`, 200)).port.status as string;
    for (const p of Object.values(ports))
      await waitFor(async () => (await status(p.id)) === 'ACTIVE', 10_000);
    await flapLinks(Object.values(vms));
  });

  after(async () => {
    for (const pidFile of clients) {
      for (const ext of ['.sh', '.env', '.leases']) await rm(pidFile.replace(/\.pid$/, ext), { force: true });
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (pid > 0) {
        try {
          process.kill(pid);
        } catch {
          // already gone
        }
      }
      await rm(pidFile, { force: true });
    }
    await tc?.close().catch(() => {});
    await tc?.cloud.networkAgent.teardown().catch(() => {});
    await w.cleanup();
  });

  it('leases each VM of a dhcpv6-stateful subnet exactly its Neutron address', async () => {
    for (const name of ['s1', 's2']) {
      const { lease } = await dhclient(name, []);
      const leased = [...lease.matchAll(/iaaddr ([0-9a-f:]+)/g)].map((m) => m[1]);
      assert.deepEqual(leased, [ports[name]!.fixed_ips[0]!.ip_address], `${name}: ${lease}`);
    }
  });

  it('answers an information request on a dhcpv6-stateless subnet; the address comes from SLAAC', async () => {
    const { lease, env } = await dhclient('o1', ['-S']);
    assert.match(env, /^new_dhcp6_name_servers='?2001:db8::53'?$/m, env);
    assert.doesNotMatch(lease, /iaaddr/, 'no address is leased on a stateless subnet');
    assert.doesNotMatch(env, /new_ip6_address/, env);
    const ns = vms['o1']!;
    await waitFor(async () => (await globalIpv6(ns)).length > 0, 10_000);
    assert.deepEqual(await globalIpv6(ns), [`${ports['o1']!.fixed_ips[0]!.ip_address}/64`]);
  });
});
