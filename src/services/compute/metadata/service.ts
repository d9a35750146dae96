// The metadata service: Nova's nova-api-metadata as its own small HTTP listener (no Keystone, plain-text and
// WebOb-style answers), and the config-drive files the compute agents write for the same metadata.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { ConfigDriveFile } from '../../../agent/compute/guest-resources.ts';
import type { ComputeContext } from '../context.ts';
import { findServer } from '../store/servers.ts';
import { configDriveFilesOf } from './config-drive-files.ts';
import { InstanceMetadata, type InstanceMetadataOptions } from './content.ts';
import {
  type IdentifyMode,
  MetadataHandler,
  type MetadataRequest,
  type MetadataResponse,
} from './handler.ts';
import { loadInstanceFacts } from './instance.ts';
import type { GuestNetworkInfo } from './network-data.ts';
import { setPassword } from './password.ts';
import { webobError } from './webob-errors.ts';

/** Nova's metadata_listen_port. */
export const DEFAULT_METADATA_PORT = 8775;

export interface MetadataServiceOptions {
  /** Neutron's metadata_proxy_shared_secret, which signs X-Instance-ID (unset: Nova's empty-key HMAC). */
  sharedSecret?: string;
  /** How requests are matched to instances (default 'auto'; use 'proxy' when only the proxy can reach it). */
  identify?: IdentifyMode;
  /** Trust X-Forwarded-For as the requester's address for byAddress (Nova's use_forwarded_for; default false). */
  useForwardedFor?: boolean;
  /** The server that holds a fixed IP (networking provides it; default: none, so such requests get 404). */
  byAddress?: (ip: string) => Promise<string | undefined> | string | undefined;
  /** A server's ports for network_data.json and the EC2 addresses (networking provides it; default: none). */
  networkInfo?: (serverId: string) => Promise<GuestNetworkInfo | undefined> | GuestNetworkInfo | undefined;
  /** Nova's dhcp_domain appended to hostnames (default "novalocal"; '' for none). */
  dhcpDomain?: string;
  /** Static vendor data (vendor_data.json; default {}). */
  vendorData?: Record<string, unknown>;
  /** Where listen() binds (default 127.0.0.1:8775). */
  host?: string;
  port?: number;
}

/** What only the boot knows, for the config drive (Nova passes these from the build request). */
export interface ConfigDriveExtras {
  /** The admin password, written as meta_data.json "admin_pass". */
  adminPass?: string;
  /** Injected files (personality). */
  files?: { path: string; contents: string | Uint8Array }[];
}

export interface MetadataService {
  /** The HTTP app (inject in tests; listen() to serve). */
  readonly app: FastifyInstance;
  /** Answers one request (the app's only route calls this). */
  handle(req: MetadataRequest): Promise<MetadataResponse>;
  /** A server's metadata; undefined when it does not exist or is deleted. */
  instanceMetadata(serverId: string, opts?: InstanceMetadataOptions): Promise<InstanceMetadata | undefined>;
  /** The files of a server's config drive; throws when the server does not exist. */
  configDriveFiles(serverId: string, extras?: ConfigDriveExtras): Promise<ConfigDriveFile[]>;
  /** Listens on host:port; returns the bound address. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

function requestPath(url: string): string {
  const raw = url.split('?', 1)[0] ?? '/';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function createMetadataService(
  cx: ComputeContext,
  opts: MetadataServiceOptions = {},
): MetadataService {
  const base: InstanceMetadataOptions = {
    dhcpDomain: opts.dhcpDomain ?? 'novalocal',
    vendorData: opts.vendorData ?? {},
  };
  const instanceMetadata = async (serverId: string, more: InstanceMetadataOptions = {}) => {
    const s = await findServer(cx.db, serverId);
    if (!s) return undefined;
    const network = (await opts.networkInfo?.(s.id)) ?? undefined;
    const facts = await loadInstanceFacts(cx, s, network);
    return new InstanceMetadata(facts, { ...base, now: cx.clock.now(), ...more });
  };
  const handler = new MetadataHandler({
    load: (id, address) => instanceMetadata(id, { address }),
    byAddress: opts.byAddress ?? (() => undefined),
    setPassword: (id, password) => setPassword(cx, id, password),
    sharedSecret: opts.sharedSecret ?? '',
    mode: opts.identify ?? 'auto',
    useForwardedFor: opts.useForwardedFor ?? false,
    log: cx.log,
  });

  const app = Fastify({
    loggerInstance: cx.log as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 1000 },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) cx.log.error({ err, url: req.url }, 'metadata request failed');
    const accept = req.headers['accept'];
    const r = webobError(status, Array.isArray(accept) ? accept.join(', ') : accept);
    void reply.code(r.status).headers(r.headers).send(Buffer.from(r.body));
  });
  app.route({
    method: [...METHODS],
    url: '/*',
    exposeHeadRoute: false,
    handler: async (req, reply) => {
      const r = await handler.handle({
        method: req.method,
        path: requestPath(req.url),
        headers: req.headers,
        remoteAddress: (req.socket.remoteAddress ?? req.ip).replace(/^::ffff:(?=\d+\.)/, ''),
        ...(req.body instanceof Uint8Array ? { body: req.body } : {}),
      });
      // A Buffer keeps the content type as given (fastify adds its own charset to strings).
      reply.code(r.status).headers(r.headers);
      return reply.send(Buffer.from(r.body));
    },
  });

  return {
    app,
    handle: (req) => handler.handle(req),
    instanceMetadata,
    async configDriveFiles(serverId, extras = {}) {
      const md = await instanceMetadata(serverId, {
        address: null,
        ...(extras.adminPass !== undefined ? { extraMd: { admin_pass: extras.adminPass } } : {}),
        ...(extras.files ? { files: extras.files } : {}),
      });
      if (!md) throw new Error(`Instance ${serverId} could not be found.`);
      return configDriveFilesOf(md);
    },
    listen: () => app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? DEFAULT_METADATA_PORT }),
    close: () => app.close(),
  };
}
