// The HTTP vocabulary every service uses: routes as data, a request context, and the auth context of a token.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ErrorDialect } from './error-dialects.ts';
import type { Microversion, MicroversionSpec } from './microversion.ts';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a validated token says about its bearer (keystonemiddleware's token info, typed). */
export interface AuthContext {
  token: string;
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  projectDomainName?: string;
  domainId?: string;
  domainName?: string;
  system?: 'all';
  /** Role names, implications expanded. */
  roles: string[];
  roleIds: string[];
  methods: string[];
  auditIds: string[];
  issuedAt: number;
  expiresAt: number;
  appCredId?: string;
  /** The trust a trust-scoped token was issued from (a delegated token, like an application credential's). */
  trustId?: string;
  isAdminProject: boolean;
}

/** Validates a token for the auth hook; throws ApiError 401 (or 404 for unknown) when it is not valid. */
export type TokenAuthenticator = (token: string) => Promise<AuthContext>;

export interface RouteContext {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly params: Record<string, string>;
  readonly query: Record<string, string | string[]>;
  // biome-ignore lint/suspicious/noExplicitAny: validated by the route's body schema.
  readonly body: any;
  readonly headers: FastifyRequest['headers'];
  readonly requestId: string;
  readonly log: Logger;
  /** The validated token, when the request carried one. */
  readonly auth: AuthContext | undefined;
  /** The negotiated microversion, for services that have them. */
  readonly mv: Microversion | undefined;
  /** The token's context, or a 401 when the request carries none. */
  requireAuth(): AuthContext;
  /** Enforces a policy rule against a target; throws 403 (or 401 without a token). */
  authorize(rule: string, target?: Record<string, unknown>): void;
  /** Like authorize, but returns the decision. */
  can(rule: string, target?: Record<string, unknown>): boolean;
  /** The base URL the client used (scheme://host[:port]). */
  baseUrl(): string;
}

export interface RouteResult {
  status?: number;
  body?: unknown;
  /** The body already serialised as JSON (hot paths that cache their rendering). */
  json?: string;
  /** A streamed body (image downloads); headers should carry its content-type and length. */
  stream?: NodeJS.ReadableStream;
  headers?: Record<string, string>;
}

export interface Route {
  method: Method | Method[];
  /** Fastify path syntax: /v3/users/:user_id */
  path: string;
  /** 'required' (default): a valid X-Auth-Token; 'optional'; 'none'. */
  auth?: 'required' | 'optional' | 'none';
  /** Policy rule enforced before the handler, with the target from `target` (or {}). */
  policy?: string;
  target?: (ctx: RouteContext) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** JSON Schema the body must satisfy. */
  body?: Record<string, unknown>;
  /** Largest request body in bytes (default: the listener's). Streamed bodies (application/octet-stream)
   * arrive unread as `ctx.body`, a Readable, whatever this says. */
  bodyLimit?: number;
  handler(ctx: RouteContext): Promise<RouteResult> | RouteResult;
}

export interface PolicyEnforcer {
  enforce(rule: string, target: Record<string, unknown>, creds: Record<string, unknown>): boolean;
}

/** A service as the HTTP layer sees it. */
export interface ServiceHttp {
  name: string;
  /** URL prefixes this service answers under, for 404s and dialect choice ('' = root). */
  prefixes: string[];
  dialect: ErrorDialect;
  routes: Route[];
  policy: PolicyEnforcer;
  microversions?: MicroversionSpec;
  /** Shapes the policy target from a handler's target and the path parameters (Keystone nests it under
   * `target` beside the path parameters; Nova passes it flat). Default: the handler's target as is. */
  policyTarget?: (target: Record<string, unknown>, params: Record<string, string>) => Record<string, unknown>;
  /** The error a policy refusal raises (default: Keystone's "You are not authorized …" 403). */
  policyDenied?: (rule: string) => ApiError;
  /** A format suffix the service accepts on any path and ignores (Neutron's ".json": /v2.0/networks.json). */
  formatSuffix?: string;
  /** Extra headers for every response of this service (e.g. x-compute-request-id). */
  requestIdHeaders?: string[];
}
