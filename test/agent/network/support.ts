// Real-namespace harness for the agent tests: a unique prefix, "VM" and "outside" namespaces, probes, and cleanup.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { DpPort } from '../../../src/agent/network/desired-state.ts';
import {
  LinuxNetworkAgent,
  type LinuxNetworkAgentOptions,
} from '../../../src/agent/network/network-agent.ts';
import { MemoryNetworkControlPlane } from './memory-control-plane.ts';

const exec = promisify(execFile);

/** Why the data plane tests cannot run here (false when they can); CI runs them as root and never skips. */
export function dataplaneSkip(): string | false {
  if (process.env['CI'] === 'true') return false;
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  return false;
}

export async function sh(cmd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  return (await exec(cmd, args, { timeout: timeoutMs })).stdout;
}

export async function inNs(ns: string, cmd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], timeoutMs);
}

export async function listNamespaces(): Promise<string[]> {
  const out = (await sh('ip', ['-j', 'netns', 'list'])).trim();
  return out ? (JSON.parse(out) as { name: string }[]).map((n) => n.name) : [];
}

export async function rootLinks(): Promise<string[]> {
  return (JSON.parse(await sh('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
}

/** One test file's world: its prefix, its namespaces, its agents, its processes; cleanup() removes all of it. */
export class Sandbox {
  readonly stem = `mt${randomBytes(2).toString('hex')}`;
  readonly prefix = `${this.stem}-`;
  readonly cp = new MemoryNetworkControlPlane();
  stateDir = '';
  readonly agents: LinuxNetworkAgent[] = [];
  readonly #procs: ChildProcess[] = [];
  readonly #taps: string[] = [];

  async init(): Promise<this> {
    this.stateDir = await mkdtemp(join(tmpdir(), `${this.stem}-`));
    return this;
  }

  agent(over: Partial<LinuxNetworkAgentOptions> = {}): LinuxNetworkAgent {
    const a = new LinuxNetworkAgent({
      host: 'host-1',
      controlPlane: this.cp,
      prefix: this.prefix,
      stateDir: this.stateDir,
      resyncMs: 60_000,
      ...over,
    });
    this.agents.push(a);
    return a;
  }

  /** A plain namespace of the test (not the agent's: `<stem>_<name>`). */
  async namespace(name: string): Promise<string> {
    const ns = `${this.stem}_${name}`;
    await sh('ip', ['netns', 'add', ns]);
    await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A "VM": a namespace whose eth0 (the port's MAC) is a veth to `tap<port11>` in the root namespace. */
  async vm(name: string, port: DpPort): Promise<{ ns: string; tap: string }> {
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
      port.macAddress,
      'type',
      'veth',
      'peer',
      'name',
      tap,
    ]);
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    return { ns, tap };
  }

  /** Starts a long-running process in a namespace (ended by cleanup). */
  spawnIn(ns: string, cmd: string, args: string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    p.on('error', () => {});
    this.#procs.push(p);
    return p;
  }

  /** A TCP server in `ns` answering every connection with `reply`, or echoing when reply is undefined (socat). */
  async tcpServer(ns: string, port: number, reply?: string): Promise<void> {
    this.spawnIn(ns, 'socat', [
      `TCP-LISTEN:${port},reuseaddr,fork`,
      reply === undefined ? 'EXEC:cat' : `SYSTEM:echo ${reply}`,
    ]);
    await waitFor(async () => (await inNs(ns, 'ss', ['-Hltn', `sport = :${port}`])).includes(`:${port}`));
  }

  /** DHCP in the VM namespace with busybox udhcpc; applies the lease (address, classless routes) like a guest. */
  async dhcp(ns: string): Promise<{ env: Record<string, string>; ms: number }> {
    const script = join(this.stateDir, 'udhcpc.sh');
    await writeFile(script, '#!/bin/sh\n[ "$1" = bound ] && env\nexit 0\n');
    await chmod(script, 0o755);
    const t0 = performance.now();
    const out = await inNs(
      ns,
      'busybox',
      [
        'udhcpc',
        '-i',
        'eth0',
        '-f',
        '-q',
        '-n',
        '-O',
        'mtu',
        '-O',
        'staticroutes',
        '-t',
        '6',
        '-T',
        '1',
        '-s',
        script,
      ],
      20_000,
    );
    const ms = Math.round(performance.now() - t0);
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
    return { env, ms };
  }

  async cleanup(): Promise<void> {
    for (const a of this.agents) await a.teardown().catch(() => {});
    for (const p of this.#procs) if (p.exitCode === null) p.kill('SIGKILL');
    await removeNamed(this.stem, this.#taps);
    if (this.stateDir) await rm(this.stateDir, { recursive: true, force: true });
  }
}

/**
 * Removes what a test made under a name stem: every namespace starting with it (after killing the processes inside,
 * which this test started), and root-namespace links starting with it or named in `extraLinks`.
 */
export async function removeNamed(stem: string, extraLinks: readonly string[] = []): Promise<void> {
  for (const ns of await listNamespaces()) {
    if (!ns.startsWith(stem)) continue;
    const pids = (await sh('ip', ['netns', 'pids', ns]).catch(() => '')).split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    await sh('ip', ['netns', 'del', ns]).catch(() => {});
  }
  for (const l of await rootLinks())
    if (l.startsWith(stem) || extraLinks.includes(l)) await sh('ip', ['link', 'del', l]).catch(() => {});
}

export async function ping(ns: string, ip: string, count = 1): Promise<boolean> {
  return inNs(ns, 'busybox', ['ping', '-c', String(count), '-W', '1', ip]).then(
    () => true,
    () => false,
  );
}

/** Connects with socat and returns what the server said, or undefined when nothing came back in time. */
export async function tcpRead(
  ns: string,
  ip: string,
  port: number,
  timeoutSec = 1,
): Promise<string | undefined> {
  const out = await inNs(
    ns,
    'socat',
    ['-T', String(timeoutSec), '-u', `TCP:${ip}:${port},connect-timeout=${timeoutSec}`, '-'],
    5_000,
  ).catch(() => undefined);
  return out?.trim() || undefined;
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}
