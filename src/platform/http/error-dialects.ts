// Each OpenStack service's own error body, rendered from one ApiError.
import { type ApiError, reasonPhrase } from '../errors.ts';

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type ErrorDialect = (err: ApiError, ctx: { requestId: string; baseUrl: string }) => RenderedError;

/** Keystone: {"error": {"code", "title", "message"}}; 401s carry WWW-Authenticate. */
export const keystoneDialect: ErrorDialect = (err, ctx) => {
  const headers: Record<string, string> = { ...err.headers };
  if (err.status === 401) headers['www-authenticate'] = `Keystone uri="${ctx.baseUrl}/v3"`;
  return {
    status: err.status,
    headers,
    body: {
      error: { code: err.status, title: reasonPhrase(err.status), message: err.message, ...err.extra },
    },
  };
};

// Nova's _fault_names (nova/api/openstack/wsgi.py); anything else is computeFault.
const NOVA_FAULTS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** Nova and Cinder: {"itemNotFound": {"code": 404, "message": "…"}}. */
export const novaDialect: ErrorDialect = (err) => {
  const name = NOVA_FAULTS[err.status] ?? 'computeFault';
  const headers: Record<string, string> = { ...err.headers };
  const inner: Record<string, unknown> = { code: err.status, message: err.message, ...err.extra };
  if (err.status === 413 || err.status === 429) {
    inner['retryAfter'] = String(err.extra?.['retryAfter'] ?? 0);
    headers['retry-after'] = String(inner['retryAfter']);
  }
  return { status: err.status, headers, body: { [name]: inner } };
};

/** Neutron: {"NeutronError": {"type", "message", "detail"}}. */
export const neutronDialect: ErrorDialect = (err) => ({
  status: err.status,
  headers: { ...err.headers },
  body: { NeutronError: { type: err.code, message: err.message, detail: '' } },
});

/** Placement: {"errors": [{"status", "title", "detail", "code", "request_id"}]}. */
export const placementDialect: ErrorDialect = (err, ctx) => ({
  status: err.status,
  headers: { ...err.headers },
  body: {
    errors: [
      {
        status: err.status,
        title: reasonPhrase(err.status),
        detail: err.message,
        code: err.code.startsWith('placement.') ? err.code : 'placement.undefined_code',
        request_id: ctx.requestId,
      },
    ],
  },
});

/** Glance (WebOb): {"message", "code": "404 Not Found", "title": "Not Found"}. */
export const webobDialect: ErrorDialect = (err) => {
  const title = reasonPhrase(err.status);
  const headers: Record<string, string> = { ...err.headers };
  if (err.status === 401) headers['www-authenticate'] = "Keystone uri='/v3'";
  return {
    status: err.status,
    headers,
    body: { message: err.message, code: `${err.status} ${title}`, title },
  };
};
