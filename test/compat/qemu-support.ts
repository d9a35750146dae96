// Helpers for the real-QEMU acceptance test: a prebuilt test image linked into a cloud's data directory, a
// compute API client with the admin token, polling, /proc scans for guests' QEMU processes, and websocket consoles.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { parse } from 'yaml';
import { buildTestImage, IMAGE_FILES, testImageLocation } from '../../src/guest-image/build.ts';
import { REPO_ROOT } from '../support/process-cloud.ts';

/** Why the suite cannot run here (false when it can); CI must run it, so there it never skips. */
export function qemuSkip(): string | false {
  if (process.env['CI'] === 'true') return false;
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'qemu-system-x86_64 is not installed';
  }
}

/**
 * Builds the test image once into the repository's .cache (the .debs are shared with the other guest-image
 * tests) and links it into `dataDir` where `monostack up` looks for it, so the cloud registers it without
 * downloading or building anything.
 */
export async function seedTestImage(dataDir: string): Promise<void> {
  const cacheDir = process.env['MONOSTACK_GUEST_IMAGE_CACHE'] ?? join(REPO_ROOT, '.cache', 'guest-image');
  const built = await buildTestImage({ outDir: join(dirname(cacheDir), 'compat-test-image'), cacheDir });
  const target = testImageLocation(dataDir);
  await mkdir(target.cacheDir, { recursive: true });
  const place = async (from: string, to: string) => {
    await link(from, to).catch(() => copyFile(from, to));
  };
  for (const name of [...IMAGE_FILES, 'manifest.json'])
    await place(join(built.dir, name), join(target.outDir, name));
  // The package set and apt's binary cache: the cloud re-resolves the version with them at no cost. Copied, as
  // apt may rewrite its cache in place.
  for (const name of ['packages.json', 'apt-pkgcache.bin']) {
    if (existsSync(join(cacheDir, name)))
      await copyFile(join(cacheDir, name), join(target.cacheDir, name), constants.COPYFILE_FICLONE);
  }
}

/** Polls `check` until it returns a value that is not undefined/false; fails after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  pauseMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      assert.fail(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      );
    await sleep(pauseMs);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely, each test asserts what it reads
export type Json = Record<string, any>;

/** The public API of a process cloud as its admin, with one compute microversion on every compute call. */
export class Api {
  constructor(
    readonly url: string,
    readonly token: string,
    readonly microversion: string,
  ) {}

  static async login(url: string, dataDir: string, microversion: string): Promise<Api> {
    const clouds = parse(await readFile(join(dataDir, 'clouds.yaml'), 'utf8')) as {
      clouds: Record<string, { auth: { password: string } }>;
    };
    const password = clouds.clouds['monostack']!.auth.password;
    const res = await fetch(`${url}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { id: 'default' }, password } },
          },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      }),
    });
    assert.equal(res.status, 201, await res.text());
    return new Api(url, res.headers.get('x-subject-token')!, microversion);
  }

  /** One call; asserts the status when `expect` is given and returns the parsed body ({} when empty). */
  async call(method: string, path: string, body?: unknown, expect?: number | number[]): Promise<Json> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        'x-auth-token': this.token,
        'openstack-api-version': `compute ${this.microversion}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (expect !== undefined) {
      const want = Array.isArray(expect) ? expect : [expect];
      assert.ok(want.includes(res.status), `${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    }
    const parsed = text ? (JSON.parse(text) as Json) : {};
    return Object.assign(parsed, { __status: res.status });
  }

  server(id: string): Promise<Json> {
    return this.call('GET', `/compute/v2.1/servers/${id}`).then((b) => b['server'] ?? b);
  }

  action(id: string, body: Json, expect: number | number[] = 202): Promise<Json> {
    return this.call('POST', `/compute/v2.1/servers/${id}/action`, body, expect);
  }

  /** Waits for `status` (and no task); fails at once on ERROR. */
  async waitStatus(id: string, status: string, timeoutMs = 90_000): Promise<Json> {
    return waitFor(
      `server ${id} to be ${status}`,
      async () => {
        const s = await this.server(id);
        if (s['status'] === 'ERROR' && status !== 'ERROR')
          assert.fail(`server ${id} went to ERROR: ${JSON.stringify(s['fault'] ?? s)}`);
        return s['status'] === status && !s['OS-EXT-STS:task_state'] ? s : undefined;
      },
      timeoutMs,
    );
  }

  async consoleOutput(id: string, length?: number): Promise<string> {
    const body = await this.action(
      id,
      { 'os-getConsoleOutput': length === undefined ? {} : { length } },
      200,
    );
    return String(body['output']);
  }

  /** How many GUEST-READY lines the server's console log holds (one per boot). */
  async readyCount(id: string): Promise<number> {
    return (await this.consoleOutput(id)).split('\n').filter((l) => l.startsWith('GUEST-READY')).length;
  }

  /** Waits until the console shows more than `before` GUEST-READY lines. */
  waitReady(id: string, before: number, timeoutMs = 90_000): Promise<number> {
    return waitFor(
      `GUEST-READY #${before + 1} on ${id}`,
      async () => {
        const n = await this.readyCount(id);
        return n > before ? n : undefined;
      },
      timeoutMs,
      500,
    );
  }

  async consoleUrl(id: string, protocol: 'vnc' | 'serial', type: 'novnc' | 'serial'): Promise<string> {
    const body = await this.call(
      'POST',
      `/compute/v2.1/servers/${id}/remote-consoles`,
      { remote_console: { protocol, type } },
      200,
    );
    return String(body['remote_console']['url']);
  }
}

/** The guests directory of a cloud's QEMU driver (the default state_dir under the data directory). */
export function guestDir(dataDir: string, serverId: string): string {
  return join(dataDir, 'compute', 'qemu', 'guests', serverId);
}

/** The pid in the guest's pidfile, or undefined when there is none. */
export async function pidFileOf(dataDir: string, serverId: string): Promise<number | undefined> {
  const text = await readFile(join(guestDir(dataDir, serverId), 'pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/** Live processes whose command line contains `needle`, with their argv. */
export async function processesWith(needle: string): Promise<{ pid: number; argv: string[] }[]> {
  const out: { pid: number; argv: string[] }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const raw = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (raw.includes(needle)) out.push({ pid: Number(entry), argv: raw.split('\0').filter(Boolean) });
  }
  return out;
}

/** The QEMU processes of one guest (its id is in -name and in every path of its command line). */
export async function qemuOf(serverId: string): Promise<{ pid: number; argv: string[] }[]> {
  return (await processesWith(serverId)).filter((p) => p.argv[0]?.includes('qemu-system'));
}

/** Whether `pid` is alive and still that guest's QEMU. */
export async function isQemuOf(pid: number, serverId: string): Promise<boolean> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return raw.includes(serverId) && raw.includes('qemu-system');
}

/** The value following `flag` in an argv. */
export function argAfter(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** A websocket console client: everything received, exact-count reads, and waits for text. */
export class ConsoleClient {
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake();
    });
    ws.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  static open(url: string, protocols: string[] = []): Promise<ConsoleClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols);
      const c = new ConsoleClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(new Error(`websocket ${url} refused: HTTP ${res.statusCode}`));
      });
      ws.once('error', reject);
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  async #until<T>(what: string, take: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = take();
      if (v !== undefined) return v;
      if (this.closed)
        assert.fail(`console closed while waiting for ${what}; got ${JSON.stringify(this.text())}`);
      const left = deadline - Date.now();
      if (left <= 0)
        assert.fail(`timed out waiting for ${what}; got ${JSON.stringify(this.text().slice(-2000))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Exactly n bytes (consumed). */
  read(n: number, timeoutMs = 15_000): Promise<Buffer> {
    return this.#until(
      `${n} bytes`,
      () => {
        if (this.#buf.length < n) return undefined;
        const out = this.#buf.subarray(0, n);
        this.#buf = this.#buf.subarray(n);
        return out;
      },
      timeoutMs,
    );
  }

  text(): string {
    return this.#buf.toString('utf8');
  }

  /** Waits until the received text (not consumed) matches. */
  expect(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return this.#until(String(pattern), () => this.text().match(pattern) ?? undefined, timeoutMs);
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => {
      this.ws.once('close', () => r());
      this.ws.close();
      setTimeout(() => {
        this.ws.terminate();
        r();
      }, 2000).unref();
    });
  }
}

/**
 * Types `command` into the console's root shell until `answer` shows (a console attached right after GUEST-READY
 * may not have its shell yet); returns the console text received so far.
 */
export async function typeUntil(
  c: ConsoleClient,
  command: string,
  answer: RegExp,
  timeoutMs = 30_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    c.send(`${command}\n`);
    try {
      await c.expect(answer, 5_000);
      return c.text();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

/** Runs a shell command on the guest's serial console and returns the console text once `answer` matches. */
export async function runOnSerial(
  api: Api,
  serverId: string,
  command: string,
  answer: RegExp,
): Promise<string> {
  const c = await ConsoleClient.open(await api.consoleUrl(serverId, 'serial', 'serial'));
  try {
    return await typeUntil(c, command, answer);
  } finally {
    await c.close();
  }
}
