// ComputeConsoles: Nova's remote consoles on the one listener — console URLs with short-lived tokens, the
// noVNC page, the VNC and serial websocket proxies — and the host queries the console APIs ask.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Kysely } from 'kysely';
import type { HostQueries } from '../../../agent/compute/host-queries.ts';
import type { ConsoleKind } from '../../../agent/compute/hypervisor-driver.ts';
import type { Clock } from '../../../platform/clock.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { Route } from '../../../platform/http/types.ts';
import type { Logger } from '../../../platform/log.ts';
import type { ComputeDb } from '../context.ts';
import { type ApiConsoleType, accessUrl, accessUrlBase } from './access-urls.ts';
import { consoleAuthTokenRoutes, consolePageRoutes } from './console-routes.ts';
import { hostQueryError } from './host-errors.ts';
import { ConsoleTokenStore, type ConsoleTokenTables } from './token-store.ts';
import { ConsoleProxy } from './websocket-proxy.ts';

export interface ComputeConsolesDeps {
  db: ComputeDb;
  clock: Clock;
  log: Logger;
  /** Where each guest's console sockets and log are (the hosts' agents). */
  hostQueries: HostQueries;
  /** Nova's [consoleauth] token_ttl, seconds (default 600). */
  tokenTtlSeconds?: number;
  /** Nova's [console] allowed_origins: hostnames a browser's Origin may name besides the Host it called. */
  allowedOrigins?: readonly string[];
  /** How long a VNC client has for the RFB handshake (default 30 s). */
  handshakeTimeoutMs?: number;
}

/** The server fields a console URL needs. */
export interface ConsoleServer {
  id: string;
  host: string | null;
  vm_state: string;
}

const KIND: Readonly<Record<ApiConsoleType, ConsoleKind>> = { novnc: 'vnc', serial: 'serial' };

export class ComputeConsoles {
  readonly hostQueries: HostQueries;
  readonly tokens: ConsoleTokenStore;
  readonly proxy: ConsoleProxy;

  constructor(deps: ComputeConsolesDeps) {
    this.hostQueries = deps.hostQueries;
    // compute_console_auth_tokens is compute's table (migration 0002), typed by the token store.
    this.tokens = new ConsoleTokenStore(
      deps.db as unknown as Kysely<ConsoleTokenTables>,
      deps.clock,
      deps.tokenTtlSeconds ?? 600,
    );
    this.proxy = new ConsoleProxy({
      tokens: this.tokens,
      hostQueries: deps.hostQueries,
      log: deps.log,
      allowedOrigins: deps.allowedOrigins ?? [],
      ...(deps.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: deps.handshakeTimeoutMs } : {}),
    });
  }

  /**
   * A console URL for a server whose host is known (the API checked state and type): asks the host whether
   * the guest has that console (none: Nova's 400 "Unavailable console type vnc."), then authorises a token.
   */
  async accessUrl(s: ConsoleServer, type: ApiConsoleType, baseUrl: string): Promise<string> {
    const kind = KIND[type];
    const host = s.host!;
    let endpoint: Awaited<ReturnType<HostQueries['consoleEndpoint']>>;
    try {
      endpoint = await this.hostQueries.consoleEndpoint(host, s.id, kind);
    } catch (err) {
      hostQueryError(err, s);
    }
    if (!endpoint) throw new ApiError(400, 'ConsoleTypeUnavailable', `Unavailable console type ${kind}.`);
    const base = accessUrlBase(type, baseUrl);
    const { token } = await this.tokens.issue({
      instanceUuid: s.id,
      consoleType: type,
      kind,
      host,
      accessUrlBase: base,
    });
    return accessUrl(type, base, token);
  }

  /** The page, noVNC's files and GET /os-console-auth-tokens/{token}. */
  routes(): Route[] {
    return [...consolePageRoutes(), ...consoleAuthTokenRoutes(this.tokens)];
  }

  /** For the listener's 'upgrade' event: true when the request was a console websocket (now handled). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.proxy.handleUpgrade(req, socket, head);
  }

  /** Ends the console connections (call before closing the listener, which waits for them). */
  close(): Promise<void> {
    return this.proxy.close();
  }
}
