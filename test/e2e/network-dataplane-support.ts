// Harness of the network end-to-end tests: a unique prefix, "VM" and "outside" namespaces, Neutron calls, probes, cleanup.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inNs, listNamespaces, removeNamed, rootLinks, sh, waitFor } from '../agent/network/support.ts';
import type { TestCloud, TestResponse } from '../support/cloud.ts';

export { dataplaneSkip, inNs, listNamespaces, ping, sh, tcpRead, waitFor } from '../agent/network/support.ts';

/** A Neutron call that must answer `status`; returns the body. */
export async function neutron(
  tc: TestCloud,
  token: string,
  method: string,
  path: string,
  status: number,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON.
): Promise<any> {
  const res: TestResponse = await tc.request(method, `/network/v2.0${path}`, { token, body });
  assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
  return res.body;
}

/** A TCP port nobody listens on right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** One test file's world outside the cloud: its prefix, its namespaces, taps and processes; cleanup() ends all. */
export class World {
  readonly stem = `me${randomBytes(2).toString('hex')}`;
  /** The agent's prefix (its namespaces and host devices start with it). */
  readonly prefix = `${this.stem}-`;
  #dir = '';
  readonly #procs: ChildProcess[] = [];
  readonly #taps: string[] = [];

  async init(): Promise<this> {
    this.#dir = await mkdtemp(join(tmpdir(), `${this.stem}-`));
    return this;
  }

  /** A plain namespace of the test (`<stem>_<name>`, not the agent's prefix). */
  async namespace(name: string): Promise<string> {
    const ns = `${this.stem}_${name}`;
    await sh('ip', ['netns', 'add', ns]);
    await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A "VM": a namespace whose eth0 (the port's MAC) is a veth to `tap<port11>` in the root namespace, as QEMU's tap. */
  async vm(name: string, port: { id: string; mac_address: string }): Promise<string> {
    const ns = await this.namespace(name);
    const tap = `tap${port.id.slice(0, 11)}`;
    this.#taps.push(tap);
    await sh('ip', [
      'link',
      'add',
      'eth0',
      'netns',
      ns,
      'address',
      port.mac_address,
      'type',
      'veth',
      'peer',
      'name',
      tap,
    ]);
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    return ns;
  }

  /** DHCP with busybox udhcpc; applies the lease (address, MTU, classless routes) as a guest would. */
  async dhcp(ns: string): Promise<Record<string, string>> {
    const script = join(this.#dir, 'udhcpc.sh');
    await writeFile(script, '#!/bin/sh\n[ "$1" = bound ] && env\nexit 0\n');
    await chmod(script, 0o755);
    const args = ['udhcpc', '-i', 'eth0', '-f', '-q', '-n', '-O', 'mtu', '-O', 'staticroutes'];
    const out = await inNs(ns, 'busybox', [...args, '-t', '8', '-T', '1', '-s', script], 20_000);
    const env = Object.fromEntries(
      out.split('\n').flatMap((l) => {
        const i = l.indexOf('=');
        return i > 0 ? [[l.slice(0, i), l.slice(i + 1)]] : [];
      }),
    );
    if (env['ip'] && env['mask'])
      await sh('ip', ['-n', ns, 'addr', 'replace', `${env['ip']}/${env['mask']}`, 'dev', 'eth0']);
    if (env['mtu']) await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'mtu', env['mtu']]);
    const routes = (env['staticroutes'] ?? '').split(' ').filter(Boolean);
    for (let i = 0; i + 1 < routes.length; i += 2) {
      const dst = routes[i] === '0.0.0.0/0' ? 'default' : (routes[i] as string);
      await sh('ip', ['-n', ns, 'route', 'replace', dst, 'via', routes[i + 1] as string]);
    }
    return env;
  }

  /** Starts a long-running process in a namespace (ended by cleanup). */
  spawnIn(ns: string, cmd: string, args: string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    p.on('error', () => {});
    this.#procs.push(p);
    return p;
  }

  /** A TCP server in `ns` (busybox nc, restarted per connection): echoes when reply is undefined, else says reply. */
  async tcpServer(ns: string, port: number, reply?: string): Promise<void> {
    const prog = reply === undefined ? ['cat'] : ['echo', reply];
    this.spawnIn(ns, 'busybox', ['nc', '-ll', '-p', String(port), '-e', ...prog]);
    await waitFor(async () => (await inNs(ns, 'ss', ['-Hltn', `sport = :${port}`])).includes(`:${port}`));
  }

  /** An interactive TCP session from `ns`; say() resolves with the echo, or undefined after a timeout. */
  session(ns: string, ip: string, port: number) {
    const p = this.spawnIn(ns, 'socat', ['-', `TCP:${ip}:${port},connect-timeout=2`]);
    let buf = '';
    p.stdout?.on('data', (b: Buffer) => {
      buf += b.toString();
    });
    return {
      async say(word: string, timeoutMs = 1500): Promise<string | undefined> {
        buf = '';
        p.stdin?.write(`${word}\n`);
        const end = Date.now() + timeoutMs;
        while (Date.now() < end) {
          if (buf.includes(word)) return word;
          await sleep(20);
        }
        return undefined;
      },
      close() {
        p.stdin?.end();
        if (p.exitCode === null) p.kill('SIGKILL');
      },
    };
  }

  /** HTTP GET from a namespace with curl: status and body. */
  async httpGet(ns: string, url: string): Promise<{ status: number; body: string }> {
    const out = await inNs(ns, 'curl', ['-s', '-m', '5', '-w', '\n%{http_code}', url], 10_000);
    const i = out.lastIndexOf('\n');
    return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
  }

  /**
   * What is left on the host of the agent's: namespaces and root links with its prefix, such links in the given
   * namespaces, and dnsmasq/haproxy processes whose arguments name one of `markers` (network ids).
   */
  async leftovers(peerNamespaces: string[], markers: string[]): Promise<string[]> {
    const left = (await listNamespaces()).filter((n) => n.startsWith(this.prefix));
    left.push(...(await rootLinks()).filter((l) => l.startsWith(this.prefix) || this.#taps.includes(l)));
    for (const ns of peerNamespaces) {
      const links = JSON.parse(await sh('ip', ['-n', ns, '-j', 'link', 'show'])) as { ifname: string }[];
      left.push(
        ...links
          .map((l) => l.ifname)
          .filter((l) => l.startsWith(this.prefix))
          .map((l) => `${ns}/${l}`),
      );
    }
    const procs = await sh('ps', ['-eo', 'args']);
    left.push(
      ...procs
        .split('\n')
        .filter((l) => /^\S*\b(dnsmasq|haproxy) /.test(l) && markers.some((m) => l.includes(m))),
    );
    return left;
  }

  /** Ends every process, namespace (agent's and ours) and tap of this world; safe to call twice. */
  async cleanup(): Promise<void> {
    for (const p of this.#procs) if (p.exitCode === null) p.kill('SIGKILL');
    await removeNamed(this.stem, this.#taps);
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }
}

/** Makes a namespace VM take router advertisements: SLAAC on, no duplicate-address-detection delay. */
export async function acceptRouterAdvertisements(ns: string): Promise<void> {
  await sh('ip', [
    'netns',
    'exec',
    ns,
    'sysctl',
    '-qw',
    'net.ipv6.conf.eth0.accept_ra=2',
    'net.ipv6.conf.eth0.autoconf=1',
    'net.ipv6.conf.eth0.accept_dad=0',
  ]);
}

/** The global IPv6 addresses (with prefix) on a namespace VM's eth0. */
export async function globalIpv6(ns: string): Promise<string[]> {
  return (await inNs(ns, 'ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/)[3] ?? '');
}

/** Takes eth0 of each VM down and up: each solicits a router advertisement (and DHCPv6) at once. */
export async function flapLinks(namespaces: string[]): Promise<void> {
  for (const ns of namespaces) {
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'down']);
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
}
