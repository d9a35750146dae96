// Transport: how one service calls another's public API. In-process it is fastify's inject on the one listener
// (the same handlers, auth and policy, no socket); in scale-out it is HTTP to the URL the catalog names.
import { ApiError } from './errors.ts';

export interface TransportRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with query string, relative to the service's endpoint root (e.g. "/placement/resource_providers"). */
  path: string;
  headers?: Record<string, string>;
  /** JSON-serialisable body. */
  body?: unknown;
  /** A raw body (sent as is; give its content-type in headers). */
  raw?: Buffer | string;
  /** The response is binary: keep its bytes in `raw` (text stays empty). */
  binary?: boolean;
}

export interface TransportResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the response is JSON, else undefined. */
  // biome-ignore lint/suspicious/noExplicitAny: clients type what they read.
  body: any;
  text: string;
  /** The response bytes, when the request asked for `binary`. */
  raw?: Buffer;
}

export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

/** Something that can answer fastify-style inject calls (the HTTP app), bound after the app exists. */
export interface Injectable {
  inject(opts: {
    method: string;
    url: string;
    headers?: Record<string, string>;
    payload?: string | Buffer;
  }): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string; rawPayload: Buffer }>;
}

/** An in-process transport; `target()` is read on each call so the app may be created after the client. */
export function inProcessTransport(target: () => Injectable | undefined): Transport {
  return async (req) => {
    const app = target();
    if (!app) throw new ApiError(503, 'ServiceUnavailable', 'the in-process transport is not bound yet');
    const headers: Record<string, string> = { ...req.headers };
    let payload: string | Buffer | undefined = req.raw;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await app.inject({ method: req.method, url: req.path, headers, payload });
    if (req.binary && res.statusCode < 300)
      return {
        status: res.statusCode,
        headers: res.headers as TransportResponse['headers'],
        body: undefined,
        text: '',
        raw: res.rawPayload,
      };
    return toResponse(res.statusCode, res.headers as TransportResponse['headers'], res.body);
  };
}

/** An HTTP transport to baseUrl (scheme://host:port, paths are appended as given). */
export function httpTransport(baseUrl: string): Transport {
  return async (req) => {
    const headers: Record<string, string> = { ...req.headers };
    let body: string | Buffer | undefined = req.raw;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(new URL(req.path, baseUrl), {
      method: req.method,
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : new Uint8Array(body) }),
    });
    const h: TransportResponse['headers'] = {};
    res.headers.forEach((v, k) => {
      h[k] = v;
    });
    if (req.binary && res.status < 300)
      return {
        status: res.status,
        headers: h,
        body: undefined,
        text: '',
        raw: Buffer.from(await res.arrayBuffer()),
      };
    return toResponse(res.status, h, await res.text());
  };
}

function toResponse(status: number, headers: TransportResponse['headers'], text: string): TransportResponse {
  let body: unknown;
  const ct = String(headers['content-type'] ?? '');
  if (text !== '' && ct.includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  return { status, headers, body, text };
}

/** A source of service tokens (the compute service's own identity when it calls placement or image). */
export type TokenSource = () => Promise<string>;
