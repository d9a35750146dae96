// Remote consoles: console URLs and their tokens, the noVNC page and assets, os-console-auth-tokens, console
// output through HostQueries, and the VNC and serial websocket proxies against fake consoles on unix sockets.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import { type HostQueries, HostUnreachable } from '../../../src/agent/compute/host-queries.ts';
import { type ConsoleKind, GuestNotFound } from '../../../src/agent/compute/hypervisor-driver.ts';
import { migrate } from '../../../src/platform/db/migrate.ts';
import { createHttpApp } from '../../../src/platform/http/app.ts';
import type { Route } from '../../../src/platform/http/types.ts';
import {
  consoleActions,
  remoteConsoleRoutes,
} from '../../../src/services/compute/api/server-actions-consoles.ts';
import { ComputeConsoles } from '../../../src/services/compute/consoles/consoles.ts';
import { SERIAL_BUSY } from '../../../src/services/compute/consoles/websocket-proxy.ts';
import { hostZones } from '../../../src/services/compute/domain/zones.ts';
import { consoleTokens } from '../../../src/services/compute/store/migrations/0002-console-tokens.ts';
import { HostInfoCache } from '../../../src/services/compute/store/servers.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, insertServer } from './compute-support.ts';

/** Answers as a host's agent would, from what each test sets up. */
class StubHosts implements HostQueries {
  readonly sockets = new Map<string, Partial<Record<ConsoleKind, string>>>();
  readonly logs = new Map<string, string>();
  readonly unreachable = new Set<string>();
  async consoleOutput(host: string, id: string, length?: number): Promise<string> {
    if (this.unreachable.has(host)) throw new HostUnreachable(host);
    const log = this.logs.get(id);
    if (log === undefined) throw new GuestNotFound(id);
    const lines = log.split('\n');
    return (length === undefined ? lines : length <= 0 ? [] : lines.slice(-length)).join('\n');
  }
  async consoleEndpoint(host: string, id: string, kind: ConsoleKind) {
    if (this.unreachable.has(host)) throw new HostUnreachable(host);
    const path = this.sockets.get(id)?.[kind];
    return path ? { unixSocket: path } : undefined;
  }
  async diagnostics(): Promise<never> {
    throw new Error('not asked here');
  }
}

let tc: TestCloud;
let user: TestUser;
let app: FastifyInstance;
let consoles: ComputeConsoles;
let dir: string;
let origin: string;
let now = Date.now();
const hosts = new StubHosts();
const nets: NetServer[] = [];
const clients: WebSocket[] = [];

before(async () => {
  tc = await startTestCloud();
  // Until compute's migration set carries 0002 this applies it; afterwards it is already recorded.
  await migrate(tc.cloud.database, [{ service: 'compute', migrations: [consoleTokens] }]);
  user = await tc.makeUser();
  dir = await mkdtemp(join(tmpdir(), 'monostack-consoles-'));
  const cx = tc.cloud.compute.context;
  consoles = new ComputeConsoles({
    db: cx.db,
    clock: { now: () => now },
    log: cx.log,
    hostQueries: hosts,
    allowedOrigins: ['console.example'],
  });
  const actions = consoleActions(consoles);
  const infoCache = new HostInfoCache(cx, hostZones);
  // The console actions behind a bare dispatcher (server-actions.ts's full dispatch is tested on its own).
  const dispatch: Route = {
    method: 'POST',
    path: '/compute/v2.1/servers/:server_id/action',
    handler: (ctx) => {
      const name = Object.keys(ctx.body as object)[0]!;
      return actions[name]!({
        cx,
        hosts: infoCache,
        ctx,
        serverId: ctx.params['server_id']!,
        name,
        args: (ctx.body as Record<string, unknown>)[name],
      });
    },
  };
  app = await createHttpApp({
    services: [
      {
        ...tc.cloud.compute.http,
        routes: [...consoles.routes(), ...remoteConsoleRoutes(cx, consoles), dispatch],
      },
    ],
    authenticate: tc.cloud.identity.authenticate,
    log: cx.log,
    bodyLimit: 1 << 20,
  });
  app.server.on('upgrade', (req, socket, head) => {
    if (!consoles.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  assert.ok(addr && typeof addr === 'object');
  origin = `127.0.0.1:${addr.port}`;
});

after(async () => {
  for (const ws of clients) ws.terminate();
  await consoles.close();
  await app.close();
  for (const s of nets) s.close();
  await rm(dir, { recursive: true, force: true });
  await tc.close();
});

async function call(method: string, url: string, o: { token?: string; body?: unknown; mv?: string } = {}) {
  const headers: Record<string, string> = { host: origin };
  if (o.token) headers['x-auth-token'] = o.token;
  if (o.mv) headers['openstack-api-version'] = `compute ${o.mv}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(o.body !== undefined ? { payload: JSON.stringify(o.body) } : {}),
  });
  const json = String(res.headers['content-type'] ?? '').includes('json') ? res.json() : undefined;
  const headers2 = res.headers as Record<string, string | string[] | undefined>;
  return { status: res.statusCode, headers: headers2, body: json, text: res.body };
}

const act = (id: string, body: unknown, mv = '2.5') =>
  call('POST', `/compute/v2.1/servers/${id}/action`, { token: user.token, body, mv });
const server = (host: string | null = 'stub-host') =>
  insertServer(tc, { projectId: user.projectId, userId: user.id, host });

/** A console URL for a server, through the 2.6+ API. */
async function consoleUrl(id: string, protocol: string, type: string): Promise<string> {
  const res = await call('POST', `/compute/v2.1/servers/${id}/remote-consoles`, {
    token: user.token,
    mv: '2.6',
    body: { remote_console: { protocol, type } },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.remote_console.url;
}

/** The websocket URL a noVNC page (and Tempest) derives from an access URL: ws://host/ + its `path`. */
function vncSocketUrl(accessUrl: string): string {
  const u = new URL(accessUrl);
  return `ws://${u.host}/${u.searchParams.get('path')}`;
}

/** The token inside a noVNC access URL's `path`. */
const tokenOf = (url: string) => (new URL(url).searchParams.get('path') ?? '').replace(/^.*token=/, '');

/** A unix-socket console: `onConnection` plays the guest. */
async function fakeConsole(name: string, onConnection: (s: Socket) => void): Promise<string> {
  const path = join(dir, name);
  const srv = createServer(onConnection);
  nets.push(srv);
  await new Promise<void>((resolve) => srv.listen(path, resolve));
  return path;
}

interface Client {
  ws: WebSocket;
  next(): Promise<Buffer>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a websocket; resolves with the client, or with the HTTP status that refused the upgrade. */
function connect(url: string, headers: Record<string, string> = {}): Promise<Client | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary'], { headers });
    clients.push(ws);
    const queue: Buffer[] = [];
    const waiting: ((b: Buffer) => void)[] = [];
    ws.on('message', (d: Buffer) => {
      const w = waiting.shift();
      if (w) w(d);
      else queue.push(d);
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    const next = () =>
      new Promise<Buffer>((r, j) => {
        const b = queue.shift();
        if (b) return r(b);
        waiting.push(r);
        void closed.then((c) => j(new Error(`closed ${c.code} ${c.reason}`)));
      });
    ws.on('open', () => resolve({ ws, next, closed }));
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', (e) => reject(e));
  });
}

async function open(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const c = await connect(url, headers);
  assert.ok(typeof c !== 'number', `upgrade refused with ${c}`);
  return c;
}

describe('console URLs and tokens', () => {
  test('novnc and serial URLs carry a token stored only as its sha256', async () => {
    const id = await server();
    hosts.sockets.set(id, { vnc: join(dir, 'unused-vnc'), serial: join(dir, 'unused-serial') });
    const vnc = await consoleUrl(id, 'vnc', 'novnc');
    const page = new URL(vnc);
    assert.equal(
      `${page.protocol}//${page.host}${page.pathname}`,
      `http://${origin}/compute/console/vnc_lite.html`,
    );
    const path = page.searchParams.get('path') ?? '';
    assert.match(path, /^compute\/console\/websockify\?token=[A-Za-z0-9_-]{32}$/);
    assert.match(vnc, /\?path=compute%2Fconsole%2Fwebsockify%3Ftoken%3D/);
    const serial = await consoleUrl(id, 'serial', 'serial');
    assert.match(serial, new RegExp(`^ws://${origin}/compute/console/serial\\?token=[A-Za-z0-9_-]{32}$`));
    const old = await act(id, { 'os-getVNCConsole': { type: 'novnc' } });
    assert.equal(old.status, 200, old.text);
    assert.equal(old.body.console.type, 'novnc');

    const token = tokenOf(vnc);
    const rows = await tc.cloud.database.db
      .selectFrom('compute_console_auth_tokens' as never)
      .selectAll()
      .where('instance_uuid' as never, '=', id as never)
      .execute();
    assert.equal(rows.length, 3);
    const hashes = rows.map((r) => (r as { token_hash: string }).token_hash);
    assert.ok(hashes.includes(createHash('sha256').update(token).digest('hex')));
    assert.ok(!JSON.stringify(rows).includes(token));
  });

  test('a guest without that console, or an unreachable host, gets no URL', async () => {
    const id = await server();
    hosts.sockets.set(id, { serial: join(dir, 'only-serial') });
    expectFault(
      await act(id, { 'os-getVNCConsole': { type: 'novnc' } }),
      400,
      'Unavailable console type vnc.',
    );
    hosts.sockets.delete(id);
    expectFault(
      await act(id, { 'os-getSerialConsole': { type: 'serial' } }),
      400,
      'Unavailable console type serial.',
    );
    expectFault(await act(id, { 'os-getSPICEConsole': { type: 'spice-html5' } }), 400);
    expectFault(
      await act(id, { 'os-getVNCConsole': { type: 'xvpvnc' } }),
      400,
      'Invalid console type xvpvnc',
    );
    const away = await server('gone-host');
    hosts.unreachable.add('gone-host');
    expectFault(
      await act(away, { 'os-getVNCConsole': { type: 'novnc' } }),
      409,
      'Compute service of gone-host is unavailable at this time.',
    );
    const homeless = await server(null);
    expectFault(
      await act(homeless, { 'os-getVNCConsole': { type: 'novnc' } }),
      409,
      `Instance ${homeless} is not ready`,
    );
  });

  test('os-console-auth-tokens: admin sees the connection (2.31+), members may not, expiry ends it', async () => {
    const id = await server();
    hosts.sockets.set(id, { vnc: join(dir, 'unused-vnc-2') });
    const url = await consoleUrl(id, 'vnc', 'novnc');
    const token = tokenOf(url);
    const show = (t: string, mv?: string, as = tc.adminToken) =>
      call('GET', `/compute/v2.1/os-console-auth-tokens/${t}`, { token: as, ...(mv ? { mv } : {}) });
    const ok = await show(token, '2.31');
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.body, {
      console: { instance_uuid: id, host: 'stub-host', port: null, internal_access_path: null },
    });
    const early = await show(token);
    assert.equal(early.status, 401, early.text);
    assert.equal(early.body.unauthorized.message, 'The requested console type details are not accessible');
    expectFault(await show(`bad${token}`, '2.31'), 404, 'Token not found');
    expectFault(
      await show(token, '2.31', user.token),
      403,
      "Policy doesn't allow os_compute_api:os-console-auth-tokens to be performed.",
    );
    now += 601_000;
    try {
      expectFault(await show(token, '2.31'), 404, 'Token not found');
      assert.ok((await consoles.tokens.cleanExpired()) >= 1);
    } finally {
      now -= 601_000;
    }
  });
});

describe('console output', () => {
  test('is read from the host, tailed and stripped of control characters', async () => {
    const id = await server();
    hosts.logs.set(id, 'boot\nkernel\x07 ready\nlogin:');
    const all = await act(id, { 'os-getConsoleOutput': {} });
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.output, 'boot\nkernel ready\nlogin:');
    assert.equal(
      (await act(id, { 'os-getConsoleOutput': { length: 2 } })).body.output,
      'kernel ready\nlogin:',
    );
    assert.equal(
      (await act(id, { 'os-getConsoleOutput': { length: -1 } })).body.output.split('\n').length,
      3,
    );
  });

  test('a missing guest is 404, a down host 409, no host 409', async () => {
    const gone = await server();
    expectFault(await act(gone, { 'os-getConsoleOutput': {} }), 404, `Instance ${gone} could not be found.`);
    const away = await server('down-host');
    hosts.unreachable.add('down-host');
    expectFault(
      await act(away, { 'os-getConsoleOutput': {} }),
      409,
      'Compute service of down-host is unavailable at this time.',
    );
    const homeless = await server(null);
    expectFault(await act(homeless, { 'os-getConsoleOutput': {} }), 409, `Instance ${homeless} is not ready`);
  });
});

describe('noVNC page', () => {
  test('the access URL serves an HTML page that loads noVNC', async () => {
    const id = await server();
    hosts.sockets.set(id, { vnc: join(dir, 'unused-vnc-3') });
    const url = new URL(await consoleUrl(id, 'vnc', 'novnc'));
    const page = await call('GET', `${url.pathname}${url.search}`);
    assert.equal(page.status, 200, page.text);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(page.text, /<html.*>/);
    assert.ok(page.text.includes('</html>') && page.text.includes('noVNC') && page.text.includes('<script'));
    assert.ok(page.text.includes("from './core/rfb.js'"));
    assert.equal((await call('GET', '/compute/console/vnc_auto.html')).status, 200);
  });

  test("noVNC's modules are served as JavaScript; nothing else is", async () => {
    const rfb = await call('GET', '/compute/console/core/rfb.js');
    assert.equal(rfb.status, 200);
    assert.equal(rfb.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(rfb.text, /export default class RFB/);
    const pako = await call('GET', '/compute/console/vendor/pako/lib/zlib/inflate.js');
    assert.equal(pako.status, 200);
    assert.equal(pako.headers['content-type'], 'text/javascript; charset=utf-8');
    for (const p of ['core/nope.js', 'package.json', 'core/%2e%2e/package.json', 'vendor/pako/README.md'])
      assert.equal((await call('GET', `/compute/console/${p}`)).status, 404, p);
  });
});

/** A VNC server speaking RFB 3.8 that offers `types`, then echoes what it gets after ServerInit. */
function fakeVnc(name: string, types: number[], seen: { chosen?: number; shared?: number }): Promise<string> {
  return fakeConsole(name, (s) => {
    let buf = Buffer.alloc(0);
    let stage = 0;
    s.write('RFB 003.008\n');
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        if (stage === 0 && buf.length >= 12) {
          buf = buf.subarray(12);
          s.write(Buffer.from([types.length, ...types]));
          stage = 1;
        } else if (stage === 1 && buf.length >= 1) {
          seen.chosen = buf[0];
          buf = buf.subarray(1);
          if (seen.chosen !== 1) return void s.end();
          s.write(Buffer.alloc(4));
          stage = 2;
        } else if (stage === 2 && buf.length >= 1) {
          seen.shared = buf[0];
          buf = buf.subarray(1);
          const name = Buffer.from('fake-guest');
          const init = Buffer.alloc(24);
          init.writeUInt16BE(640, 0);
          init.writeUInt16BE(480, 2);
          init.writeUInt32BE(name.length, 20);
          s.write(Buffer.concat([init, name]));
          stage = 3;
        } else if (stage === 3 && buf.length > 0) {
          s.write(Buffer.concat([Buffer.from('echo:'), buf]));
          buf = Buffer.alloc(0);
        } else return;
      }
    });
    s.on('error', () => {});
  });
}

describe('VNC websocket', () => {
  test("Tempest's RFB handshake through the proxy, then bytes both ways", async () => {
    const id = await server();
    const seen: { chosen?: number; shared?: number } = {};
    hosts.sockets.set(id, { vnc: await fakeVnc('vnc-1', [2, 1], seen) });
    const c = await open(vncSocketUrl(await consoleUrl(id, 'vnc', 'novnc')));
    assert.equal(c.ws.protocol, 'binary');
    const version = await c.next();
    assert.equal(version.toString(), 'RFB 003.008\n');
    c.ws.send(version);
    assert.deepEqual([...(await c.next())], [1, 1], 'only None is offered to the client');
    c.ws.send(Buffer.from([1]));
    assert.deepEqual([...(await c.next())], [0, 0, 0, 0]);
    c.ws.send(Buffer.from([1]));
    const init = await c.next();
    assert.equal(init.length, 24 + init.readUInt32BE(20));
    assert.equal(init.subarray(24).toString(), 'fake-guest');
    assert.deepEqual(seen, { chosen: 1, shared: 1 });
    c.ws.send(Buffer.from('ping'));
    assert.equal((await c.next()).toString(), 'echo:ping');
    c.ws.close();
    await c.closed;
  });

  test('a console without None security fails the handshake with a reason', async () => {
    const id = await server();
    hosts.sockets.set(id, { vnc: await fakeVnc('vnc-2', [2], {}) });
    const c = await open(vncSocketUrl(await consoleUrl(id, 'vnc', 'novnc')));
    c.ws.send(await c.next());
    assert.deepEqual([...(await c.next())], [1, 1]);
    c.ws.send(Buffer.from([1]));
    const result = await c.next();
    assert.equal(result.readUInt32BE(0), 1);
    assert.equal(result.subarray(8).toString(), 'Unable to negotiate security with server');
    assert.equal((await c.closed).code, 1011);
  });

  test('bad, expired, wrong-kind tokens are 401; a foreign Origin is 403', async () => {
    const id = await server();
    hosts.sockets.set(id, { vnc: await fakeVnc('vnc-3', [1], {}), serial: join(dir, 'unused-serial-3') });
    const good = vncSocketUrl(await consoleUrl(id, 'vnc', 'novnc'));
    assert.equal(await connect(good.replace('token=', 'token=bad')), 401);
    const serialToken = new URL(await consoleUrl(id, 'serial', 'serial')).searchParams.get('token');
    assert.equal(await connect(good.replace(/token=.*$/, `token=${serialToken}`)), 401);
    assert.equal(await connect(good, { origin: 'http://evil.example' }), 403);
    assert.equal(await connect(good, { origin: `https://${origin}` }), 403);
    const same = await open(good, { origin: `http://${origin}` });
    assert.equal((await same.next()).toString(), 'RFB 003.008\n');
    same.ws.close();
    const allowed = await open(good, { origin: 'http://console.example' });
    allowed.ws.close();
    now += 601_000;
    try {
      assert.equal(await connect(good), 401);
    } finally {
      now -= 601_000;
    }
  });

  test("Tempest's raw client: a bad token gets a bare refusal and the connection closes", async () => {
    const id = await server();
    hosts.sockets.set(id, { vnc: await fakeVnc('vnc-4', [1], {}) });
    const path = new URL(await consoleUrl(id, 'vnc', 'novnc')).searchParams.get('path')!;
    const { connect: tcp } = await import('node:net');
    const [host, port] = origin.split(':');
    const raw = await new Promise<string>((resolve) => {
      const s = tcp({ host: host!, port: Number(port) }, () => {
        s.write(
          `GET /${path.replace('token=', 'token=bad')} HTTP/1.1\r\nHost: ${origin}\r\n` +
            'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n',
        );
      });
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
      });
      s.on('close', () => resolve(got));
    });
    assert.match(raw, /^HTTP\/1\.1 401 /);
    assert.ok(raw.endsWith('\r\n\r\n'), 'no body, nothing a websocket client could read as a frame');
  });
});

describe('serial websocket', () => {
  test('bytes both ways, one client at a time, and the console is read even when the client is not', {
    timeout: 30_000,
  }, async () => {
    const id = await server();
    let guest: Socket | undefined;
    const path = await fakeConsole('serial-1', (s) => {
      guest = s;
      s.write('login: ');
      s.on('data', (d) => s.write(d));
      s.on('error', () => {});
    });
    hosts.sockets.set(id, { serial: path });
    const url = await consoleUrl(id, 'serial', 'serial');
    const c = await open(url);
    assert.equal((await c.next()).toString(), 'login: ');
    c.ws.send('root\n');
    assert.equal((await c.next()).toString(), 'root\n');

    const second = await open(url);
    assert.deepEqual(await second.closed, SERIAL_BUSY);

    // A client that stops reading must not stall the guest: its writes keep completing.
    c.ws.pause();
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 96; i++)
      await new Promise<void>((r, j) => guest!.write(chunk, (e) => (e ? j(e) : r())));
    c.ws.resume();
    c.ws.close();
    await c.closed;

    let again: Client | undefined;
    for (let i = 0; i < 50 && !again; i++) {
      const next = await open(url);
      const first = await Promise.race([next.next().catch(() => undefined), next.closed]);
      if (Buffer.isBuffer(first)) again = next;
      else await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(again, 'the console is free again once the first client left');
    again.ws.close();
  });
});
