// Nova's metadata request handler without a web framework: identifies the instance (Neutron proxy headers signed
// with the shared secret, or the requester's address), answers the path, and handles the password.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../../../platform/log.ts';
import { type InstanceMetadata, pathTokens, TEXT_PLAIN } from './content.ts';
import { PASSWORD_MAX_SIZE, type SetPasswordResult } from './password.ts';
import { EC2_VERSIONS } from './versions.ts';
import { type PlainResponse, webobError } from './webob-errors.ts';

export interface MetadataRequest {
  method: string;
  /** The request path, percent-decoded, without the query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The peer's address. */
  remoteAddress: string;
  body?: Uint8Array;
}

export type MetadataResponse = PlainResponse;

/**
 * How the handler identifies the instance: 'proxy' (Nova with service_metadata_proxy: the X-Instance-ID,
 * X-Tenant-ID and X-Instance-ID-Signature headers are required), 'address' (the requester's address through
 * byAddress), 'auto' (proxy headers when the request carries any of them, else the address).
 */
export type IdentifyMode = 'auto' | 'proxy' | 'address';

export interface MetadataHandlerDeps {
  /** The metadata of a server by id; undefined when it does not exist (or is deleted). */
  load(serverId: string, address: string | null): Promise<InstanceMetadata | undefined>;
  /** The server using a fixed IP; undefined when none. */
  byAddress(ip: string): Promise<string | undefined> | string | undefined;
  setPassword(serverId: string, password: string): Promise<SetPasswordResult>;
  /** Neutron's metadata_proxy_shared_secret ('' when unset, as Nova computes it then). */
  sharedSecret: string;
  mode: IdentifyMode;
  /** Nova's [api] use_forwarded_for: trust X-Forwarded-For as the requester's address. */
  useForwardedFor: boolean;
  log: Logger;
}

const UNKNOWN = 'An unknown error has occurred. Please try your request again.';
const PROXY_HEADERS = ['x-instance-id', 'x-tenant-id', 'x-instance-id-signature'];

const textPlain = (body: string | Uint8Array, contentType = TEXT_PLAIN): MetadataResponse => ({
  status: 200,
  headers: {
    'content-type': contentType.startsWith('text/') ? `${contentType}; charset=UTF-8` : contentType,
  },
  body,
});

/** Neutron's signature of an instance id: hex HMAC-SHA256 keyed with the shared secret. */
export function signInstanceId(secret: string, instanceId: string): string {
  return createHmac('sha256', secret).update(instanceId).digest('hex');
}

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function header(req: MetadataRequest, name: string): string | string[] | undefined {
  return req.headers[name];
}

class HttpFailure {
  constructor(
    readonly status: number,
    readonly explanation?: string,
  ) {}
}

export class MetadataHandler {
  readonly #deps: MetadataHandlerDeps;

  constructor(deps: MetadataHandlerDeps) {
    this.#deps = deps;
  }

  async handle(req: MetadataRequest): Promise<MetadataResponse> {
    const accept = header(req, 'accept');
    const acceptText = Array.isArray(accept) ? accept.join(', ') : accept;
    try {
      return await this.#handle(req);
    } catch (err) {
      if (err instanceof HttpFailure) return webobError(err.status, acceptText, err.explanation);
      this.#deps.log.error({ err, path: req.path }, 'metadata request failed');
      return webobError(500, acceptText);
    }
  }

  async #handle(req: MetadataRequest): Promise<MetadataResponse> {
    if (pathTokens(req.path).length === 0) return textPlain([...EC2_VERSIONS, 'latest'].join('\n'));
    const md = await this.#identify(req);
    if (!md) throw new HttpFailure(404);
    const answer = md.lookup(req.path);
    if (!answer) throw new HttpFailure(404);
    if (answer.kind === 'data') return textPlain(answer.body, answer.contentType);
    return this.#password(req, md);
  }

  async #identify(req: MetadataRequest): Promise<InstanceMetadata | undefined> {
    const proxied = PROXY_HEADERS.some((h) => header(req, h) !== undefined);
    const mode = this.#deps.mode;
    if (mode === 'proxy' || (mode === 'auto' && proxied)) return this.#byProxyHeaders(req);
    let address = req.remoteAddress;
    const forwarded = header(req, 'x-forwarded-for');
    if (this.#deps.useForwardedFor && forwarded !== undefined) address = firstAddress(forwarded);
    let serverId: string | undefined;
    try {
      serverId = (await this.#deps.byAddress(address)) ?? undefined;
      if (serverId === undefined) {
        this.#deps.log.error({ address }, 'metadata: no instance for this address');
        return undefined;
      }
      return await this.#deps.load(serverId, address);
    } catch (err) {
      this.#deps.log.error({ err, address }, 'metadata: address lookup failed');
      throw new HttpFailure(500, UNKNOWN);
    }
  }

  async #byProxyHeaders(req: MetadataRequest): Promise<InstanceMetadata | undefined> {
    const instanceId = header(req, 'x-instance-id');
    const tenantId = header(req, 'x-tenant-id');
    const signature = header(req, 'x-instance-id-signature');
    const forwarded = header(req, 'x-forwarded-for');
    let msg: string | undefined;
    if (instanceId === undefined) msg = 'X-Instance-ID header is missing from request.';
    else if (signature === undefined) msg = 'X-Instance-ID-Signature header is missing from request.';
    else if (tenantId === undefined) msg = 'X-Tenant-ID header is missing from request.';
    else if (Array.isArray(instanceId)) msg = 'Multiple X-Instance-ID headers found within request.';
    else if (Array.isArray(tenantId)) msg = 'Multiple X-Tenant-ID headers found within request.';
    if (msg) throw new HttpFailure(400, msg);
    const id = instanceId as string;
    const given = Array.isArray(signature) ? signature.join(',') : (signature as string);
    if (!given || !sameSignature(signInstanceId(this.#deps.sharedSecret, id), given)) {
      this.#deps.log.warn({ instance_id: id, address: forwarded }, 'metadata: bad X-Instance-ID-Signature');
      throw new HttpFailure(403, 'Invalid proxy request signature.');
    }
    const address = forwarded === undefined ? null : firstAddress(forwarded);
    let md: InstanceMetadata | undefined;
    try {
      md = await this.#deps.load(id, address);
    } catch (err) {
      this.#deps.log.error({ err, instance_id: id }, 'metadata: instance lookup failed');
      throw new HttpFailure(500, UNKNOWN);
    }
    if (!md) {
      this.#deps.log.error({ instance_id: id }, 'metadata: no such instance');
      return undefined;
    }
    if (md.projectId !== tenantId) {
      this.#deps.log.warn({ instance_id: id, tenant_id: tenantId }, 'metadata: X-Tenant-ID is not the owner');
      return undefined;
    }
    return md;
  }

  async #password(req: MetadataRequest, md: InstanceMetadata): Promise<MetadataResponse> {
    // Nova returns the handler's value through WebOb's default response: text/html.
    const html = (body: string): MetadataResponse => ({
      status: 200,
      headers: { 'content-type': 'text/html; charset=UTF-8' },
      body,
    });
    if (req.method === 'GET') return html(md.facts.password ?? '');
    if (req.method !== 'POST') throw new HttpFailure(400, 'GET and POST only are supported.');
    if (md.facts.password !== null) throw new HttpFailure(409);
    const body = req.body ?? new Uint8Array();
    const declared = Number(header(req, 'content-length') ?? body.length);
    if (declared > PASSWORD_MAX_SIZE || body.length > PASSWORD_MAX_SIZE)
      throw new HttpFailure(400, 'Request is too large.');
    const result = await this.#deps.setPassword(md.uuid, Buffer.from(body).toString('utf8'));
    if (result === 'conflict') throw new HttpFailure(409);
    if (result === 'gone') throw new HttpFailure(400, `Instance ${md.uuid} could not be found.`);
    return html('');
  }
}

/** The first address of an X-Forwarded-For value ("client, proxy1, …"). */
function firstAddress(v: string | string[]): string {
  const s = Array.isArray(v) ? (v[0] ?? '') : v;
  return s.split(',')[0]!.trim();
}
