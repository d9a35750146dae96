// Token issue and validation: Fernet claims checked against live identity data (user, scope, roles,
// revocation events) on every validation, with results cached until the next identity write.
import type { Selectable } from 'kysely';
import type { AuthContext } from '../../../platform/http/types.ts';
import { isoMicro } from '../../../platform/clock.ts';
import { GenerationCache, type IdentityContext, type IdentityTrx } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import type {
  AppCredentialRow,
  DomainRow,
  EndpointRow,
  ProjectRow,
  RevocationEventRow,
  RoleRow,
  ServiceRow,
  UserRow,
} from '../store/tables.ts';
import { keystoneTime } from '../api/views.ts';
import { type RevocationFilter, recordRevocation } from './revocation.ts';
import { InvalidToken, TokenExpired, type FernetTokenProvider, newAuditId } from './token-provider.ts';
import type { TokenClaims, TokenScope } from './payload.ts';

export interface ValidatedToken {
  token: string;
  claims: TokenClaims;
  user: UserRow;
  userDomain: DomainRow;
  project?: ProjectRow;
  projectDomain?: DomainRow;
  domain?: DomainRow;
  roles: RoleRow[];
  appCred?: AppCredentialRow;
  auth: AuthContext;
}

export interface IssueRequest {
  userId: string;
  methods: string[];
  scope: TokenScope;
  /** The audit chain id of the token being rescoped. */
  parentAuditId?: string;
  /** Keep the parent's expiry when rescoping. */
  expiresAt?: number;
  appCredId?: string;
}


interface Catalog {
  services: ServiceRow[];
  endpoints: EndpointRow[];
}

const CACHE_MAX = 20_000;

export class TokenService {
  readonly #ix: IdentityContext;
  readonly #reader: IdentityReader;
  readonly #provider: FernetTokenProvider;
  readonly #cache = new Map<string, { gen: number; v: ValidatedToken }>();
  readonly #rendered: GenerationCache<string>;
  #revocations: { gen: number; rows: Selectable<RevocationEventRow>[] } | undefined;
  #catalog: { gen: number; value: Catalog } | undefined;

  constructor(ix: IdentityContext, reader: IdentityReader, provider: FernetTokenProvider) {
    this.#ix = ix;
    this.#reader = reader;
    this.#provider = provider;
    this.#rendered = new GenerationCache(ix);
  }

  get provider(): FernetTokenProvider {
    return this.#provider;
  }

  /** Issues a token after checking the user may hold that scope; throws 401 with Keystone's reason. */
  async issue(req: IssueRequest): Promise<ValidatedToken> {
    const now = this.#ix.now();
    // A token must postdate every revocation event written before it, even within the same millisecond.
    const lastRevocation = (await this.#revocationRows()).reduce((m, r) => Math.max(m, Number(r.issued_before)), 0);
    const issuedAt = Math.max(now, lastRevocation + 1);
    const claims: TokenClaims = {
      userId: req.userId,
      methods: req.methods,
      issuedAt,
      expiresAt: req.expiresAt ?? issuedAt + this.#ix.config.token.expiration * 1000,
      auditIds: req.parentAuditId ? [newAuditId(), req.parentAuditId] : [newAuditId()],
      scope: req.scope,
      ...(req.appCredId ? { appCredId: req.appCredId } : {}),
    };
    const token = this.#provider.issue(claims);
    const v = await this.#resolve(token, this.#provider.validate(token));
    if (typeof v === 'string') throw IdentityErrors.unauthorized(v);
    return v;
  }

  /** Validates a token; any failure is Keystone's 404 TokenNotFound. */
  async validate(token: string): Promise<ValidatedToken> {
    const gen = this.#ix.generation;
    const hit = this.#cache.get(token);
    if (hit && hit.gen === gen) {
      if (hit.v.claims.expiresAt > this.#ix.now()) return hit.v;
      throw IdentityErrors.tokenNotFound(token);
    }
    let claims: TokenClaims;
    try {
      claims = this.#provider.validate(token);
    } catch (err) {
      if (err instanceof InvalidToken || err instanceof TokenExpired) throw IdentityErrors.tokenNotFound(token);
      throw err;
    }
    const v = await this.#resolve(token, claims);
    if (typeof v === 'string') throw IdentityErrors.tokenNotFound(token);
    if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
    this.#cache.set(token, { gen, v });
    return v;
  }

  /** The auth hook's authenticator: any invalid token is a 401. */
  authenticate = async (token: string): Promise<AuthContext> => {
    try {
      return (await this.validate(token)).auth;
    } catch {
      throw IdentityErrors.unauthorized();
    }
  };

  /** Records a revocation event in the caller's transaction. */
  async revoke(trx: IdentityTrx, f: RevocationFilter): Promise<void> {
    await recordRevocation(this.#ix, trx, f);
  }

  async #revocationRows(): Promise<Selectable<RevocationEventRow>[]> {
    const gen = this.#ix.generation;
    if (this.#revocations?.gen === gen) return this.#revocations.rows;
    const horizon = this.#ix.now() - this.#ix.config.token.expiration * 1000 - 60_000;
    const rows = await this.#ix.db
      .selectFrom('identity_revocation_events')
      .selectAll()
      .where('issued_before', '>', horizon)
      .execute();
    this.#revocations = { gen, rows };
    return rows;
  }

  #revoked(c: TokenClaims, rows: Selectable<RevocationEventRow>[], projectDomainId: string | undefined, userDomainId: string): boolean {
    const chain = c.auditIds[c.auditIds.length - 1];
    for (const e of rows) {
      if (c.issuedAt > Number(e.issued_before)) continue;
      if (e.user_id && e.user_id !== c.userId) continue;
      if (e.project_id && (c.scope.kind !== 'project' || c.scope.projectId !== e.project_id)) continue;
      if (e.domain_id && e.domain_id !== userDomainId && e.domain_id !== projectDomainId) continue;
      if (e.audit_id && !c.auditIds.includes(e.audit_id)) continue;
      if (e.audit_chain_id && e.audit_chain_id !== chain) continue;
      if (e.app_cred_id && e.app_cred_id !== c.appCredId) continue;
      return true;
    }
    return false;
  }

  /** Checks claims against identity data; returns the validated token or the reason it is not valid. */
  async #resolve(token: string, c: TokenClaims): Promise<ValidatedToken | string> {
    const r = this.#reader;
    const user = await r.findUser(c.userId);
    if (!user) return `Could not find user: ${c.userId}.`;
    if (user.enabled !== 1) return `User ${user.id} is disabled.`;
    const userDomain = await r.findDomain(user.domain_id);
    if (!userDomain || userDomain.enabled !== 1) return `Domain ${user.domain_id} is disabled.`;
    let project: ProjectRow | undefined;
    let projectDomain: DomainRow | undefined;
    let domain: DomainRow | undefined;
    const s = c.scope;
    if (s.kind === 'project') {
      project = await r.findProject(s.projectId);
      if (!project) return `Could not find project: ${s.projectId}.`;
      if (project.enabled !== 1) return `Project ${project.id} is disabled.`;
      for (const a of await r.projectAncestors(project)) if (a.enabled !== 1) return `Project ${a.id} is disabled.`;
      projectDomain = await r.findDomain(project.domain_id);
      if (!projectDomain || projectDomain.enabled !== 1) return `Domain ${project.domain_id} is disabled.`;
    } else if (s.kind === 'domain') {
      domain = await r.findDomain(s.domainId);
      if (!domain) return `Could not find domain: ${s.domainId}.`;
      if (domain.enabled !== 1) return `Domain ${domain.id} is disabled.`;
    }
    if (this.#revoked(c, await this.#revocationRows(), projectDomain?.id, userDomain.id)) return 'Token has been revoked.';
    let roleIds = await r.effectiveRoleIds(user.id, s);
    let appCred: AppCredentialRow | undefined;
    if (c.appCredId) {
      appCred = await this.#ix.db
        .selectFrom('identity_app_credentials')
        .selectAll()
        .where('id', '=', c.appCredId)
        .executeTakeFirst();
      if (!appCred) return `Could not find Application Credential: ${c.appCredId}.`;
      if (appCred.expires_at && Date.parse(appCred.expires_at) <= this.#ix.now()) return 'Application credential has expired.';
      const allowed = await this.#ix.db
        .selectFrom('identity_app_credential_roles')
        .select('role_id')
        .where('app_cred_id', '=', appCred.id)
        .execute();
      const granted = new Set(await r.expandRoles(allowed.map((x) => x.role_id)));
      roleIds = roleIds.filter((id) => granted.has(id));
    }
    if (s.kind !== 'unscoped' && roleIds.length === 0) {
      if (s.kind === 'project') return `User ${user.id} has no access to project ${s.projectId}`;
      if (s.kind === 'domain') return `User ${user.id} has no access to domain ${s.domainId}`;
      return `User ${user.id} has no access to the system`;
    }
    const all = await r.roles();
    const roles = roleIds.map((id) => all.get(id)).filter((x): x is RoleRow => x !== undefined);
    roles.sort((a, b) => a.name.localeCompare(b.name));
    const auth: AuthContext = {
      token,
      userId: user.id,
      userName: user.name,
      userDomainId: userDomain.id,
      userDomainName: userDomain.name,
      roles: roles.map((x) => x.name.toLowerCase()),
      roleIds: roles.map((x) => x.id),
      methods: c.methods,
      auditIds: c.auditIds,
      issuedAt: c.issuedAt,
      expiresAt: c.expiresAt,
      isAdminProject: true,
      ...(project
        ? { projectId: project.id, projectName: project.name, projectDomainId: projectDomain!.id, projectDomainName: projectDomain!.name }
        : {}),
      ...(domain ? { domainId: domain.id, domainName: domain.name } : {}),
      ...(s.kind === 'system' ? { system: 'all' as const } : {}),
      ...(appCred ? { appCredId: appCred.id } : {}),
    };
    return { token, claims: c, user, userDomain, project, projectDomain, domain, roles, appCred, auth };
  }

  async #catalogRows(): Promise<Catalog> {
    const gen = this.#ix.generation;
    if (this.#catalog?.gen === gen) return this.#catalog.value;
    const services = await this.#ix.db.selectFrom('identity_services').selectAll().where('enabled', '=', 1).execute();
    const endpoints = await this.#ix.db.selectFrom('identity_endpoints').selectAll().where('enabled', '=', 1).execute();
    const value = { services, endpoints };
    this.#catalog = { gen, value };
    return value;
  }

  /** The service catalog as Keystone renders it for a token's scope. */
  async catalog(v: ValidatedToken): Promise<Record<string, unknown>[]> {
    if (v.claims.scope.kind === 'unscoped') return [];
    const { services, endpoints } = await this.#catalogRows();
    const subst: Record<string, string | undefined> = {
      project_id: v.project?.id,
      tenant_id: v.project?.id,
      user_id: v.user.id,
    };
    const out: Record<string, unknown>[] = [];
    for (const s of services) {
      const extra = JSON.parse(s.extra) as Record<string, unknown>;
      const eps: Record<string, unknown>[] = [];
      for (const e of endpoints) {
        if (e.service_id !== s.id) continue;
        let ok = true;
        const url = e.url.replace(/\$\((\w+)\)s/g, (_m, k: string) => {
          const val = subst[k];
          if (val === undefined) ok = false;
          return val ?? '';
        });
        if (!ok) continue;
        eps.push({ id: e.id, interface: e.interface, region_id: e.region_id, url, region: e.region_id });
      }
      out.push({ endpoints: eps, id: s.id, type: s.type, name: (extra['name'] as string | undefined) ?? '' });
    }
    return out;
  }

  /** `{"token": …}` serialised, cached per token, catalog choice and base URL until the next identity write. */
  async renderJson(v: ValidatedToken, opts: { catalog: boolean; base: string }): Promise<string> {
    const key = `${v.token}|${opts.catalog ? 1 : 0}|${opts.base}`;
    return this.#rendered.get(key, async () => JSON.stringify({ token: await this.render(v, opts) }));
  }

  /** Keystone's token body. */
  async render(v: ValidatedToken, opts: { catalog: boolean; base: string }): Promise<Record<string, unknown>> {
    const c = v.claims;
    const body: Record<string, unknown> = {
      methods: c.methods,
      user: {
        domain: { id: v.userDomain.id, name: v.userDomain.name },
        id: v.user.id,
        name: v.user.name,
        password_expires_at: keystoneTime(v.user.password_expires_at),
      },
      audit_ids: c.auditIds,
      expires_at: isoMicro(c.expiresAt),
      issued_at: isoMicro(c.issuedAt),
    };
    if (v.project) {
      body['project'] = {
        domain: { id: v.projectDomain!.id, name: v.projectDomain!.name },
        id: v.project.id,
        name: v.project.name,
      };
      body['is_domain'] = false;
    }
    if (v.domain) body['domain'] = { id: v.domain.id, name: v.domain.name };
    if (c.scope.kind === 'system') body['system'] = { all: true };
    if (c.scope.kind !== 'unscoped') {
      body['roles'] = v.roles.map((r) => ({ id: r.id, name: r.name }));
      if (opts.catalog) body['catalog'] = await this.catalog(v);
    }
    if (v.appCred) {
      body['application_credential'] = { id: v.appCred.id, name: v.appCred.name, restricted: v.appCred.unrestricted !== 1 };
    }
    return body;
  }
}
