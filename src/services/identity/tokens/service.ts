// Token issue and validation: Fernet claims checked against live identity data (user, scope, roles,
// revocation events) on every validation, with results cached until the next identity write.
import type { Selectable } from 'kysely';
import { isoMicro } from '../../../platform/clock.ts';
import type { AuthContext } from '../../../platform/http/types.ts';
import { keystoneTime } from '../api/views.ts';
import { GenerationCache, type IdentityContext, type IdentityTrx } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import {
  type AppCredentialRow,
  type DomainRow,
  type EndpointRow,
  GLOBAL_ROLE_DOMAIN,
  type ProjectRow,
  type RevocationEventRow,
  type RoleRow,
  type ServiceRow,
  type TrustRow,
  type UserRow,
} from '../store/tables.ts';
import { findLiveTrust, trustRoleIds } from '../store/trusts.ts';
import type { TokenClaims, TokenScope } from './payload.ts';
import { type RevocationFilter, recordRevocation } from './revocation.ts';
import { type FernetTokenProvider, InvalidToken, newAuditId, TokenExpired } from './token-provider.ts';

/** The trust behind a trust-scoped token, with both its users. */
export interface TrustGrant {
  trust: TrustRow;
  trustor: UserRow;
  trustee: UserRow;
}

export interface ValidatedToken {
  token: string;
  claims: TokenClaims;
  /** The token's user: the trustor for an impersonating trust-scoped token (claims.userId is the trustee). */
  user: UserRow;
  userDomain: DomainRow;
  project?: ProjectRow;
  projectDomain?: DomainRow;
  domain?: DomainRow;
  roles: RoleRow[];
  appCred?: AppCredentialRow;
  trust?: TrustGrant;
  auth: AuthContext;
}

/** Why a token is not valid; `forbidden` ones are 403s when issuing (Keystone's Forbidden), else 401s. */
type Refusal = string | { forbidden: string };

export interface IssueRequest {
  userId: string;
  methods: string[];
  scope: TokenScope;
  /** The audit chain id of the token being rescoped. */
  parentAuditId?: string;
  /** Keep the parent's expiry when rescoping. */
  expiresAt?: number;
  appCredId?: string;
  /** A trust-scoped token: userId is the trustee, scope the trust's project. */
  trustId?: string;
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
    const lastRevocation = (await this.#revocationRows()).reduce(
      (m, r) => Math.max(m, Number(r.issued_before)),
      0,
    );
    const issuedAt = Math.max(now, lastRevocation + 1);
    let expiresAt = req.expiresAt ?? issuedAt + this.#ix.config.token.expiration * 1000;
    if (req.trustId) {
      // A trust-scoped token does not outlive its trust.
      const trust = await findLiveTrust(this.#ix.db, req.trustId, now);
      if (trust?.expires_at) expiresAt = Math.min(expiresAt, Date.parse(trust.expires_at));
    }
    const claims: TokenClaims = {
      userId: req.userId,
      methods: req.methods,
      issuedAt,
      expiresAt,
      auditIds: req.parentAuditId ? [newAuditId(), req.parentAuditId] : [newAuditId()],
      scope: req.scope,
      ...(req.appCredId ? { appCredId: req.appCredId } : {}),
      ...(req.trustId ? { trustId: req.trustId } : {}),
    };
    const token = this.#provider.issue(claims);
    const v = await this.#resolve(token, this.#provider.validate(token));
    if (typeof v === 'string') throw IdentityErrors.unauthorized(v);
    if ('forbidden' in v) throw IdentityErrors.forbidden(v.forbidden);
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
      if (err instanceof InvalidToken || err instanceof TokenExpired)
        throw IdentityErrors.tokenNotFound(token);
      throw err;
    }
    const v = await this.#resolve(token, claims);
    if (typeof v === 'string' || 'forbidden' in v) throw IdentityErrors.tokenNotFound(token);
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

  #revoked(
    c: TokenClaims,
    rows: Selectable<RevocationEventRow>[],
    projectDomainId: string | undefined,
    userDomainId: string,
    trust: TrustRow | undefined,
  ): boolean {
    const chain = c.auditIds[c.auditIds.length - 1];
    // A user's event also revokes the trust tokens where they are trustor or trustee (Keystone's alternatives).
    const users = trust ? [c.userId, trust.trustor_user_id, trust.trustee_user_id] : [c.userId];
    for (const e of rows) {
      if (c.issuedAt > Number(e.issued_before)) continue;
      if (e.user_id && !users.includes(e.user_id)) continue;
      if (e.project_id && (c.scope.kind !== 'project' || c.scope.projectId !== e.project_id)) continue;
      if (e.domain_id && e.domain_id !== userDomainId && e.domain_id !== projectDomainId) continue;
      if (e.audit_id && !c.auditIds.includes(e.audit_id)) continue;
      if (e.audit_chain_id && e.audit_chain_id !== chain) continue;
      if (e.app_cred_id && e.app_cred_id !== c.appCredId) continue;
      if (e.trust_id && e.trust_id !== c.trustId) continue;
      return true;
    }
    return false;
  }

  /** Checks claims against identity data; returns the validated token or the reason it is not valid. */
  async #resolve(token: string, c: TokenClaims): Promise<ValidatedToken | Refusal> {
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
      for (const a of await r.projectAncestors(project))
        if (a.enabled !== 1) return `Project ${a.id} is disabled.`;
      projectDomain = await r.findDomain(project.domain_id);
      if (!projectDomain || projectDomain.enabled !== 1) return `Domain ${project.domain_id} is disabled.`;
    } else if (s.kind === 'domain') {
      domain = await r.findDomain(s.domainId);
      if (!domain) return `Could not find domain: ${s.domainId}.`;
      if (domain.enabled !== 1) return `Domain ${domain.id} is disabled.`;
    }
    let grant: TrustGrant | undefined;
    let trustorDomain: DomainRow | undefined;
    if (c.trustId) {
      // The trust as it is now: deleted or expired trusts invalidate their tokens (used-up ones do not: the
      // uses counted tokens issued).
      const trust = await this.#ix.db
        .selectFrom('identity_trusts')
        .selectAll()
        .where('id', '=', c.trustId)
        .executeTakeFirst();
      const gone = `Could not find trust: ${c.trustId}.`;
      if (!trust || trust.deleted_at !== null) return gone;
      if (trust.expires_at !== null && Date.parse(trust.expires_at) <= this.#ix.now()) return gone;
      if (s.kind !== 'project' || trust.project_id !== s.projectId) return gone;
      if (trust.trustee_user_id !== user.id) return { forbidden: 'User is not a trustee.' };
      const trustor = await r.findUser(trust.trustor_user_id);
      if (!trustor) return `Could not find user: ${trust.trustor_user_id}.`;
      trustorDomain = await r.findDomain(trustor.domain_id);
      if (!trustorDomain || trustorDomain.enabled !== 1) return 'Trustor domain is disabled.';
      if (trustor.enabled !== 1) return { forbidden: 'Trustor is disabled.' };
      grant = { trust, trustor, trustee: user };
    }
    if (this.#revoked(c, await this.#revocationRows(), projectDomain?.id, userDomain.id, grant?.trust))
      return 'Token has been revoked.';
    let roleIds: string[];
    let appCred: AppCredentialRow | undefined;
    if (grant) {
      // The trust's roles (implications expanded), every one of which the trustor must still hold on the project.
      const delegated = await r.expandRoles(await trustRoleIds(this.#ix.db, grant.trust.id));
      const held = new Set(await r.effectiveRoleIds(grant.trustor.id, s));
      if (delegated.some((id) => !held.has(id))) return { forbidden: 'Trustee has no delegated roles.' };
      const all = await r.roles();
      roleIds = delegated.filter((id) => all.get(id)?.domain_id === GLOBAL_ROLE_DOMAIN);
    } else {
      roleIds = await r.effectiveRoleIds(user.id, s);
    }
    if (c.appCredId) {
      appCred = await this.#ix.db
        .selectFrom('identity_app_credentials')
        .selectAll()
        .where('id', '=', c.appCredId)
        .executeTakeFirst();
      if (!appCred) return `Could not find Application Credential: ${c.appCredId}.`;
      if (appCred.expires_at && Date.parse(appCred.expires_at) <= this.#ix.now())
        return 'Application credential has expired.';
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
    // An impersonating trust-scoped token is the trustor's, as far as anyone reading it is concerned.
    const impersonating = grant !== undefined && grant.trust.impersonation === 1;
    const who = impersonating ? grant!.trustor : user;
    const whoDomain = impersonating ? trustorDomain! : userDomain;
    const auth: AuthContext = {
      token,
      userId: who.id,
      userName: who.name,
      userDomainId: whoDomain.id,
      userDomainName: whoDomain.name,
      roles: roles.map((x) => x.name.toLowerCase()),
      roleIds: roles.map((x) => x.id),
      methods: c.methods,
      auditIds: c.auditIds,
      issuedAt: c.issuedAt,
      expiresAt: c.expiresAt,
      isAdminProject: true,
      ...(project
        ? {
            projectId: project.id,
            projectName: project.name,
            projectDomainId: projectDomain!.id,
            projectDomainName: projectDomain!.name,
          }
        : {}),
      ...(domain ? { domainId: domain.id, domainName: domain.name } : {}),
      ...(s.kind === 'system' ? { system: 'all' as const } : {}),
      ...(appCred ? { appCredId: appCred.id } : {}),
      ...(grant ? { trustId: grant.trust.id } : {}),
    };
    return {
      token,
      claims: c,
      user: who,
      userDomain: whoDomain,
      project,
      projectDomain,
      domain,
      roles,
      appCred,
      trust: grant,
      auth,
    };
  }

  async #catalogRows(): Promise<Catalog> {
    const gen = this.#ix.generation;
    if (this.#catalog?.gen === gen) return this.#catalog.value;
    const services = await this.#ix.db
      .selectFrom('identity_services')
      .selectAll()
      .where('enabled', '=', 1)
      .execute();
    const endpoints = await this.#ix.db
      .selectFrom('identity_endpoints')
      .selectAll()
      .where('enabled', '=', 1)
      .execute();
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
      // Keystone builds a trust-scoped token's catalog for the trustor.
      user_id: v.trust ? v.trust.trustor.id : v.user.id,
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
  async render(
    v: ValidatedToken,
    opts: { catalog: boolean; base: string },
  ): Promise<Record<string, unknown>> {
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
    if (v.trust) {
      body['OS-TRUST:trust'] = {
        id: v.trust.trust.id,
        trustor_user: { id: v.trust.trustor.id },
        trustee_user: { id: v.trust.trustee.id },
        impersonation: v.trust.trust.impersonation === 1,
      };
    }
    if (v.project) {
      body['project'] = {
        domain: { id: v.projectDomain!.id, name: v.projectDomain!.name },
        id: v.project.id,
        name: v.project.name,
      };
      // Keystone's trust-scoped token body has no is_domain.
      if (!v.trust) body['is_domain'] = false;
    }
    if (v.domain) body['domain'] = { id: v.domain.id, name: v.domain.name };
    if (c.scope.kind === 'system') body['system'] = { all: true };
    if (c.scope.kind !== 'unscoped') {
      body['roles'] = v.roles.map((r) => ({ id: r.id, name: r.name }));
      if (opts.catalog) body['catalog'] = await this.catalog(v);
    }
    if (v.appCred) {
      body['application_credential'] = {
        id: v.appCred.id,
        name: v.appCred.name,
        restricted: v.appCred.unrestricted !== 1,
      };
    }
    return body;
  }
}
