// The metadata proxy the DHCP namespaces' haproxies forward to: finds the instance and signs the request for compute.
import { createHmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { NetworkControlPlane } from './control-plane.ts';
import { type NetLog, silentLog } from './wire-context.ts';

export interface MetadataProxyOptions {
  socketPath: string;
  controlPlane: Pick<NetworkControlPlane, 'metadataInstance'>;
  /** The compute metadata API, e.g. http://127.0.0.1:8775. */
  targetUrl: string;
  /** The secret shared with the metadata API (Nova's metadata_proxy_shared_secret). */
  secret: string;
  log?: NetLog;
}

/** Hex HMAC-SHA256 of the instance id, as neutron-metadata-agent signs it. */
export function instanceSignature(secret: string, instanceId: string): string {
  return createHmac('sha256', secret).update(instanceId).digest('hex');
}

const DROP = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'x-forwarded-for',
  'x-instance-id',
  'x-instance-id-signature',
  'x-tenant-id',
  'x-neutron-network-id',
  'x-neutron-router-id',
]);

export class MetadataProxy {
  readonly #opts: MetadataProxyOptions;
  readonly #log: NetLog;
  #server: Server | undefined;

  constructor(opts: MetadataProxyOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? silentLog;
  }

  get socketPath(): string {
    return this.#opts.socketPath;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    await rm(this.#opts.socketPath, { force: true });
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#log.warn({ err }, 'metadata request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('An unknown error has occurred. Please try your request again.\n');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.socketPath, () => resolve());
    });
    this.#server = server;
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    await rm(this.#opts.socketPath, { force: true });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const networkId = header(req, 'x-neutron-network-id');
    const xff = header(req, 'x-forwarded-for');
    const ip = xff?.split(',').pop()?.trim();
    if (!networkId || !ip)
      return plain(res, 400, 'Bad request: X-Neutron-Network-ID and X-Forwarded-For required.\n');
    const inst = await this.#opts.controlPlane.metadataInstance(networkId, ip);
    if (!inst) return plain(res, 404, '404 Not Found\n');
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROP.has(k)) headers[k] = v;
    headers['x-forwarded-for'] = ip;
    headers['x-instance-id'] = inst.instanceId;
    headers['x-tenant-id'] = inst.projectId;
    headers['x-instance-id-signature'] = instanceSignature(this.#opts.secret, inst.instanceId);
    const url = new URL(req.url ?? '/', this.#opts.targetUrl);
    await new Promise<void>((resolve, reject) => {
      const up = request(url, { method: req.method, headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on('end', resolve);
        upRes.on('error', reject);
      });
      up.on('error', (err) => {
        this.#log.warn({ err, network_id: networkId }, 'metadata API unreachable');
        if (!res.headersSent)
          plain(res, 502, 'Remote metadata server experienced an internal server error.\n');
        resolve();
      });
      req.pipe(up);
    });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function plain(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8' });
  res.end(body);
}
