// The console websockets on the one listener: a token and origin check before the upgrade, then a bridge to the
// guest's VNC unix socket (after Nova's RFB security step) or to its serial socket (one client at a time).
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { HostQueries } from '../../../agent/compute/host-queries.ts';
import type { ConsoleKind } from '../../../agent/compute/hypervisor-driver.ts';
import type { Logger } from '../../../platform/log.ts';
import { SERIAL_WEBSOCKET, VNC_WEBSOCKET } from './access-urls.ts';
import { ByteQueue } from './byte-queue.ts';
import { isGuestNotFound, isHostUnreachable } from './host-errors.ts';
import { originRefusal } from './origin-check.ts';
import { negotiateRfbSecurity } from './rfb-security-proxy.ts';
import type { ConsoleTokenRow, ConsoleTokenStore } from './token-store.ts';

export interface ConsoleProxyOptions {
  tokens: ConsoleTokenStore;
  hostQueries: HostQueries;
  log: Logger;
  /** Hostnames a browser's Origin may name besides the request's Host (Nova's [console] allowed_origins). */
  allowedOrigins: readonly string[];
  /** How long a VNC client has to finish the RFB handshake (default 30 s). */
  handshakeTimeoutMs?: number;
}

const PATHS: Readonly<Record<string, ConsoleKind>> = { [VNC_WEBSOCKET]: 'vnc', [SERIAL_WEBSOCKET]: 'serial' };
/** The close code and reason a second serial client gets (1013: try again later). */
export const SERIAL_BUSY = { code: 1013, reason: 'Another client is connected to this serial console' };
/** VNC: stop reading the guest while this much waits for the client. */
const VNC_HIGH_WATER = 4 * 1024 * 1024;
/** Serial: output beyond this much unsent is dropped; the guest's console is never made to wait. */
const SERIAL_MAX_BUFFERED = 1024 * 1024;
/** What a console socket may send before the websocket exists (a VNC server's version; serial chatter). */
const EARLY_MAX = 64 * 1024;

class Refusal extends Error {
  readonly status: number;
  constructor(status: number, reason: string) {
    super(reason);
    this.status = status;
  }
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** The `token` cookie, which older noVNC pages sent instead of the query parameter (Nova reads both). */
function cookieToken(cookie: string | undefined): string {
  for (const part of (cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === 'token') return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return '';
}

/** Answers an upgrade request with a bare HTTP status (no body: a websocket client reads none) and hangs up. */
function refuse(socket: Duplex, status: number): void {
  if (socket.destroyed) return;
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
  socket.end(head, () => socket.destroy());
}

function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export class ConsoleProxy {
  readonly #o: ConsoleProxyOptions;
  readonly #wss: WebSocketServer;
  readonly #serialBusy = new Set<string>();
  /** Upgrade requests still being checked, and bridged sessions: both end on close(). */
  readonly #pending = new Set<Duplex>();
  readonly #sessions = new Set<{ ws: WebSocket; guest: Socket }>();
  #closed = false;

  constructor(o: ConsoleProxyOptions) {
    this.#o = o;
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: 4 * 1024 * 1024,
      // noVNC and websockify clients ask for "binary"; base64 framing is not offered.
      handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false),
    });
  }

  /** Takes an HTTP upgrade aimed at a console websocket and returns true; false leaves it to the caller. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const kind = PATHS[url.pathname.replace(/\/+$/, '')];
    if (!kind) return false;
    socket.on('error', () => {});
    if (this.#closed) {
      refuse(socket, 503);
      return true;
    }
    this.#pending.add(socket);
    void this.#open(req, socket, head, kind, url)
      .catch((err: unknown) => {
        if (err instanceof Refusal) {
          this.#o.log.info({ kind, status: err.status, reason: err.message }, 'console connection refused');
          refuse(socket, err.status);
        } else {
          this.#o.log.error({ err, kind }, 'console connection failed');
          refuse(socket, 500);
        }
      })
      .finally(() => this.#pending.delete(socket));
    return true;
  }

  async #open(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    kind: ConsoleKind,
    url: URL,
  ): Promise<void> {
    const token = url.searchParams.get('token') || cookieToken(req.headers.cookie);
    const row = await this.#o.tokens.validate(token);
    // A token for the other console is as good as none here (Nova's InvalidToken).
    if (!row || row.kind !== kind) throw new Refusal(401, 'The token is invalid or has expired');
    const refusal = originRefusal(req.headers, row.access_url_base, this.#o.allowedOrigins);
    if (refusal) throw new Refusal(403, refusal);

    const key = `${row.host}\n${row.instance_uuid}`;
    if (kind === 'serial') {
      if (this.#serialBusy.has(key)) {
        this.#upgrade(req, socket, head, (ws) => ws.close(SERIAL_BUSY.code, SERIAL_BUSY.reason));
        return;
      }
      this.#serialBusy.add(key);
    }
    let guest: Socket | undefined;
    try {
      guest = await this.#connectGuest(row);
      const early: Buffer[] = [];
      let earlyBytes = 0;
      const keep = (c: Buffer) => {
        earlyBytes += c.length;
        if (earlyBytes <= EARLY_MAX) early.push(c);
      };
      guest.on('data', keep);
      guest.on('error', () => {});
      if (socket.destroyed || this.#closed)
        throw new Refusal(503, 'The client left before the console opened');
      const g = guest;
      // A handshake ws refuses (bad headers) destroys the socket without calling back: let go of the console then.
      let upgraded = false;
      const abandoned = () => {
        if (upgraded) return;
        g.destroy();
        if (kind === 'serial') this.#serialBusy.delete(key);
      };
      socket.once('close', abandoned);
      this.#upgrade(req, socket, head, (ws) => {
        upgraded = true;
        socket.off('close', abandoned);
        g.off('data', keep);
        this.#bridge(ws, g, row, key, early);
      });
    } catch (err) {
      guest?.destroy();
      if (kind === 'serial') this.#serialBusy.delete(key);
      throw err;
    }
  }

  /** The guest's console socket, after asking its host where it is (Nova's validate_console_port). */
  async #connectGuest(row: ConsoleTokenRow): Promise<Socket> {
    let endpoint: Awaited<ReturnType<HostQueries['consoleEndpoint']>>;
    try {
      endpoint = await this.#o.hostQueries.consoleEndpoint(row.host, row.instance_uuid, row.kind);
    } catch (err) {
      if (isGuestNotFound(err)) throw new Refusal(401, 'The console is gone');
      if (isHostUnreachable(err)) throw new Refusal(503, `Compute host ${row.host} is unreachable`);
      throw err;
    }
    if (!endpoint) throw new Refusal(401, 'The console is gone');
    try {
      return await connectUnix(endpoint.unixSocket);
    } catch (err) {
      throw new Refusal(502, `Cannot connect to the console: ${(err as Error).message}`);
    }
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, then: (ws: WebSocket) => void): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      then(ws);
    });
  }

  #bridge(ws: WebSocket, guest: Socket, row: ConsoleTokenRow, key: string, early: Buffer[]): void {
    const session = { ws, guest };
    this.#sessions.add(session);
    const log = this.#o.log.child({ instance_uuid: row.instance_uuid, console: row.kind });
    log.info('console client connected');
    let done = false;
    const end = (code: number, reason: string) => {
      if (done) return;
      done = true;
      this.#sessions.delete(session);
      if (row.kind === 'serial') this.#serialBusy.delete(key);
      // Let a last byte (a refused security type) reach the console, then let go.
      guest.end();
      setTimeout(() => guest.destroy(), 1000).unref();
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
      log.info({ code, reason }, 'console client disconnected');
    };
    ws.on('close', () => end(1000, ''));
    guest.on('close', () => end(1000, 'The console closed'));
    if (row.kind === 'serial') this.#serial(ws, guest, early);
    else this.#vnc(ws, guest, early, end);
  }

  /** Serial: bytes both ways; the guest socket is always read, and output a slow client cannot take is dropped. */
  #serial(ws: WebSocket, guest: Socket, early: Buffer[]): void {
    const toClient = (c: Buffer) => {
      if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > SERIAL_MAX_BUFFERED) return;
      ws.send(c, { binary: true });
    };
    for (const c of early) toClient(c);
    guest.on('data', toClient);
    ws.on('message', (d) => guest.write(asBuffer(d)));
  }

  /** VNC: Nova's RFB security step, then bytes both ways with backpressure on both sides. */
  #vnc(ws: WebSocket, guest: Socket, early: Buffer[], end: (code: number, reason: string) => void): void {
    const fromGuest = new ByteQueue('the console');
    const fromClient = new ByteQueue('the client');
    for (const c of early) fromGuest.push(c);
    let relaying = false;
    let guestPaused = false;
    let clientPaused = false;
    const toClient = (c: Buffer) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(c, { binary: true }, () => {
        if (guestPaused && ws.bufferedAmount < VNC_HIGH_WATER / 2) {
          guestPaused = false;
          guest.resume();
        }
      });
      if (!guestPaused && ws.bufferedAmount > VNC_HIGH_WATER) {
        guestPaused = true;
        guest.pause();
      }
    };
    const toGuest = (c: Buffer) => {
      if (guest.write(c) || clientPaused) return;
      clientPaused = true;
      ws.pause();
      guest.once('drain', () => {
        clientPaused = false;
        ws.resume();
      });
    };
    guest.on('data', (c: Buffer) => (relaying ? toClient(c) : fromGuest.push(c)));
    guest.on('close', () => fromGuest.close());
    ws.on('message', (d) => (relaying ? toGuest(asBuffer(d)) : fromClient.push(asBuffer(d))));
    ws.on('close', () => fromClient.close());
    const timer = setTimeout(
      () => end(1008, 'The RFB handshake took too long'),
      this.#o.handshakeTimeoutMs ?? 30_000,
    );
    negotiateRfbSecurity(
      { read: (n) => fromClient.read(n), write: (b) => ws.send(b, { binary: true }) },
      { read: (n) => fromGuest.read(n), write: (b) => guest.write(b) },
    ).then(
      () => {
        clearTimeout(timer);
        relaying = true;
        const g = fromGuest.drain();
        if (g.length > 0) toClient(g);
        const c = fromClient.drain();
        if (c.length > 0) toGuest(c);
      },
      (err: Error) => {
        clearTimeout(timer);
        this.#o.log.info({ reason: err.message }, 'console RFB negotiation failed');
        end(1011, 'Unable to negotiate security with the console');
      },
    );
  }

  /** Ends every console connection and refuses new ones (before the listener closes). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const s of this.#pending) s.destroy();
    const closing = [...this.#sessions].map(
      ({ ws, guest }) =>
        new Promise<void>((resolve) => {
          guest.destroy();
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const force = setTimeout(() => ws.terminate(), 1000);
          ws.once('close', () => {
            clearTimeout(force);
            resolve();
          });
          ws.close(1001, 'The server is shutting down');
        }),
    );
    await Promise.all(closing);
    this.#wss.close();
  }
}
