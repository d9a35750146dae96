// Builds the one HTTP listener: every service's route table mounted on fastify, with request ids,
// token auth, policy, body validation, microversions, metrics and each service's error dialect.
import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { ApiError, isApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { keystoneDialect } from './error-dialects.ts';
import { negotiate } from './microversion.ts';
import type { AuthContext, Method, RouteContext, ServiceHttp, TokenAuthenticator } from './types.ts';
import { SchemaValidator } from './validate.ts';

export interface HttpAppOptions {
  services: ServiceHttp[];
  authenticate: TokenAuthenticator;
  log: Logger;
  metrics?: Metrics;
  bodyLimit: number;
}

const UNAUTHENTICATED = 'The request you have made requires authentication.';
/** The auth hook's 401, rendered as keystonemiddleware does for every service. */
const unauthenticated = () => new ApiError(401, 'Unauthenticated', UNAUTHENTICATED);
const INTERNAL = 'An unexpected error prevented the server from fulfilling your request.';

/** The policy credentials of a token, keyed as oslo.policy sees keystone's. */
export function policyCredentials(a: AuthContext | undefined): Record<string, unknown> {
  if (!a) return { roles: [] };
  return {
    user_id: a.userId,
    user_domain_id: a.userDomainId,
    project_id: a.projectId ?? null,
    // Neutron's rules read the legacy name (tenant_id:%(tenant_id)s).
    tenant_id: a.projectId ?? null,
    project_domain_id: a.projectDomainId ?? null,
    domain_id: a.domainId ?? null,
    system_scope: a.system ?? null,
    roles: a.roles,
    is_admin_project: a.isAdminProject,
    trust_id: a.trustId ?? null,
    token: {
      user_id: a.userId,
      user: { id: a.userId, domain: { id: a.userDomainId } },
      project: a.projectId ? { id: a.projectId, domain: { id: a.projectDomainId } } : undefined,
      domain: a.domainId ? { id: a.domainId } : undefined,
    },
  };
}

/** Drops a service's format suffix from the path (before the query), so every route answers with and without it. */
export function stripFormatSuffix(services: ServiceHttp[], url: string): string {
  const suffix = serviceFor(services, url)?.formatSuffix;
  if (!suffix) return url;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.endsWith(suffix)) return url;
  return path.slice(0, -suffix.length) + (q < 0 ? '' : url.slice(q));
}

function serviceFor(services: ServiceHttp[], url: string): ServiceHttp | undefined {
  const path = url.split('?', 1)[0] ?? '/';
  let best: ServiceHttp | undefined;
  let bestLen = -1;
  for (const s of services) {
    for (const p of s.prefixes) {
      if ((p === '' || path === p || path.startsWith(`${p}/`)) && p.length > bestLen) {
        best = s;
        bestLen = p.length;
      }
    }
  }
  return best;
}

export function baseUrlOf(req: FastifyRequest): string {
  const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
  const proto = (req.headers['x-forwarded-proto'] as string | undefined) ?? req.protocol;
  return `${proto}://${Array.isArray(host) ? host[0] : host}`;
}

export async function createHttpApp(opts: HttpAppOptions): Promise<FastifyInstance> {
  const { services, authenticate, log } = opts;
  const validator = new SchemaValidator();
  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => `req-${randomUUID()}`,
    bodyLimit: opts.bodyLimit,
    keepAliveTimeout: 75_000,
    requestTimeout: 0,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 1000, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    exposeHeadRoutes: true,
    rewriteUrl: (req) => stripFormatSuffix(services, req.url ?? '/'),
  });

  app.removeAllContentTypeParsers();
  const parseJson = (
    _req: FastifyRequest,
    body: string,
    done: (err: Error | null, body?: unknown) => void,
  ) => {
    if (body.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body));
    } catch {
      done(
        new ApiError(
          400,
          'ValidationError',
          'Expecting to find valid JSON in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
        ),
      );
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
  app.addContentTypeParser(/^application\/.*\+json$/, { parseAs: 'string' }, parseJson);
  // Binary uploads stay a stream: handlers (image data) read and store them without buffering.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    // Clients that omit Content-Type but send JSON (curl -d) still get a JSON reading.
    parseJson(req, body as string, done);
  });

  const dialectOf = (req: FastifyRequest) => {
    const cfg = req.routeOptions.config as { service?: ServiceHttp } | undefined;
    return (cfg?.service ?? serviceFor(services, req.url))?.dialect ?? keystoneDialect;
  };

  const sendError = (err: ApiError, req: FastifyRequest, reply: FastifyReply) => {
    const dialect = err.code === 'Unauthenticated' ? keystoneDialect : dialectOf(req);
    const r = dialect(err, { requestId: String(req.id), baseUrl: baseUrlOf(req) });
    void reply.code(r.status).headers(r.headers).type('application/json').send(r.body);
  };

  app.setErrorHandler((error, req, reply) => {
    if (isApiError(error)) return sendError(error, req, reply);
    const e = error as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode === 413 || e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(new ApiError(413, 'RequestTooLarge', 'Request is too large.'), req, reply);
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return sendError(new ApiError(e.statusCode, 'BadRequest', e.message ?? 'Bad request'), req, reply);
    }
    req.log.error({ err: error, request_id: req.id }, 'unhandled error');
    return sendError(new ApiError(500, 'InternalError', `${INTERNAL} (Request-ID: ${req.id})`), req, reply);
  });

  app.setNotFoundHandler((req, reply) => {
    sendError(new ApiError(404, 'NotFound', 'The resource could not be found.'), req, reply);
  });

  // Hooks in callback form: an async hook costs each request a promise and a turn of the microtask queue.
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-openstack-request-id', req.id);
    const cfg = req.routeOptions.config as { service?: ServiceHttp } | undefined;
    for (const h of cfg?.service?.requestIdHeaders ?? []) reply.header(h, req.id);
    done(null, payload);
  });

  const debug = log.isLevelEnabled('debug');
  if (opts.metrics || debug) {
    const m = opts.metrics;
    app.addHook('onResponse', (req, reply, done) => {
      const cfg = req.routeOptions.config as { service?: ServiceHttp } | undefined;
      if (debug) {
        log.debug(
          {
            request_id: req.id,
            method: req.method,
            url: req.url,
            status: reply.statusCode,
            ms: Math.round(reply.elapsedTime),
          },
          'request',
        );
      }
      m?.observeRequest(
        cfg?.service?.name ?? 'none',
        req.method,
        req.routeOptions.url ?? 'unmatched',
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
      done();
    });
  }

  const methodsOf = (r: { method: string | string[] }) => (Array.isArray(r.method) ? r.method : [r.method]);
  const explicitHead = new Set(
    services.flatMap((s) => s.routes.filter((r) => methodsOf(r).includes('HEAD')).map((r) => r.path)),
  );
  for (const service of services) {
    for (const route of service.routes) {
      const methods = methodsOf(route) as Method[];
      app.route({
        method: methods,
        url: route.path,
        // A GET answers HEAD too, unless the service declares its own HEAD for the path.
        exposeHeadRoute: !explicitHead.has(route.path),
        config: { service },
        ...(route.bodyLimit !== undefined ? { bodyLimit: route.bodyLimit } : {}),
        handler: async (req, reply) => {
          const token = req.headers['x-auth-token'];
          let auth: AuthContext | undefined;
          const mode = route.auth ?? 'required';
          if (mode !== 'none' && typeof token === 'string' && token !== '') {
            try {
              auth = await authenticate(token);
            } catch (err) {
              if (isApiError(err) && err.status >= 500) throw err;
              throw unauthenticated();
            }
          } else if (mode === 'required') {
            throw unauthenticated();
          }
          let creds: Record<string, unknown> | undefined;
          const can = (rule: string, target: Record<string, unknown> = {}) => {
            creds ??= policyCredentials(auth);
            const t = service.policyTarget
              ? service.policyTarget(target, req.params as Record<string, string>)
              : target;
            return service.policy.enforce(rule, t, creds);
          };
          const ctx: RouteContext = {
            request: req,
            reply,
            params: req.params as Record<string, string>,
            query: req.query as Record<string, string | string[]>,
            body: req.body,
            headers: req.headers,
            requestId: String(req.id),
            log: req.log as unknown as Logger,
            auth,
            mv: service.microversions ? negotiate(service.microversions, req.headers) : undefined,
            requireAuth() {
              if (!auth) throw unauthenticated();
              return auth;
            },
            can,
            authorize(rule, target = {}) {
              if (can(rule, target)) return;
              if (!auth) throw unauthenticated();
              if (service.policyDenied) throw service.policyDenied(rule);
              throw new ApiError(
                403,
                'Forbidden',
                `You are not authorized to perform the requested action: ${rule}.`,
              );
            },
            baseUrl: () => baseUrlOf(req),
          };
          if (ctx.mv && service.microversions) {
            const st = service.microversions.serviceType;
            reply.header('openstack-api-version', `${st} ${ctx.mv}`);
            reply.header('vary', 'OpenStack-API-Version');
            if (service.microversions.legacyHeader)
              reply.header(service.microversions.legacyHeader, String(ctx.mv));
          }
          if (route.body) validator.validate(route.body, req.body);
          if (route.policy) ctx.authorize(route.policy, route.target ? await route.target(ctx) : {});
          const result = await route.handler(ctx);
          // A handler that answered through ctx.reply itself (the metrics text) is done.
          if (reply.sent) return reply;
          if (result.headers) reply.headers(result.headers);
          const status = result.status ?? 200;
          reply.code(status);
          if (result.stream !== undefined) {
            if (req.method === 'HEAD') return reply.send();
            return reply.send(result.stream);
          }
          if (result.json !== undefined && status !== 204 && req.method !== 'HEAD') {
            return reply.type('application/json').send(result.json);
          }
          if (result.body === undefined || status === 204 || req.method === 'HEAD') return reply.send();
          return reply.type('application/json').send(JSON.stringify(result.body));
        },
      });
    }
  }
  return app;
}
