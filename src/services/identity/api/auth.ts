// /v3/auth: issue (password, token, application_credential; scoped to a project, domain, the system or a
// trust), validate, check, revoke; catalog, projects, domains and system for the token's user.
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { GenerationCache, type IdentityContext } from '../context.ts';
import { type Authenticated, type AuthMethods, authenticateIdentity } from '../domain/authenticate.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader, Scope } from '../store/reader.ts';
import { consumeTrustUse, findLiveTrust } from '../store/trusts.ts';
import type { TokenService, ValidatedToken } from '../tokens/service.ts';
import { domainView, listBody, projectView } from './views.ts';

const authSchema = {
  type: 'object',
  required: ['auth'],
  properties: {
    auth: {
      type: 'object',
      required: ['identity'],
      properties: {
        identity: {
          type: 'object',
          required: ['methods'],
          properties: { methods: { type: 'array', items: { type: 'string' } } },
        },
        scope: { type: ['object', 'string'] },
      },
    },
  },
};

interface ScopeBody {
  project?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
  domain?: { id?: string; name?: string };
  system?: { all?: boolean };
  'OS-TRUST:trust'?: unknown;
}

/** A scope the request asked for: one of a token's, or a trust (whose project the token is scoped to). */
type RequestedScope = Scope | { kind: 'trust'; trustId: string };

async function resolveScope(reader: IdentityReader, raw: unknown): Promise<RequestedScope | undefined> {
  if (raw === undefined) return undefined;
  if (raw === 'unscoped') return { kind: 'unscoped' };
  if (typeof raw !== 'object' || raw === null)
    throw IdentityErrors.validation(`Invalid input for field 'scope': must be an object or "unscoped"`);
  const s = raw as ScopeBody;
  const given = ['project', 'domain', 'system', 'OS-TRUST:trust'].filter((k) => k in s);
  if (given.length > 1)
    throw IdentityErrors.validation('Specify either domain, project or system, not more than one.');
  const trust = s['OS-TRUST:trust'];
  if (trust !== undefined) {
    if (typeof trust !== 'object' || trust === null || Array.isArray(trust)) {
      throw IdentityErrors.validation(`Invalid input for field 'scope/OS-TRUST:trust': must be an object`);
    }
    const id = (trust as { id?: unknown }).id;
    if (id !== undefined && typeof id !== 'string') {
      throw IdentityErrors.validation(`Invalid input for field 'scope/OS-TRUST:trust/id': must be a string`);
    }
    if (!id) throw IdentityErrors.expecting('trust_id', 'trust');
    return { kind: 'trust', trustId: id };
  }
  if (s.system) {
    if (s.system.all !== true) throw IdentityErrors.validation('Only the "all" system scope is supported.');
    return { kind: 'system' };
  }
  if (s.domain) {
    const d = s.domain.id
      ? await reader.findDomain(s.domain.id)
      : s.domain.name
        ? await reader.findDomainByName(s.domain.name)
        : undefined;
    if (!s.domain.id && !s.domain.name) throw IdentityErrors.expecting('id or name', 'domain');
    if (!d) throw IdentityErrors.unauthorized(`Could not find domain: ${s.domain.id ?? s.domain.name}.`);
    return { kind: 'domain', domainId: d.id };
  }
  if (s.project) {
    const p = s.project;
    if (p.id) {
      const row = await reader.findProject(p.id);
      if (!row) throw IdentityErrors.unauthorized(`Could not find project: ${p.id}.`);
      return { kind: 'project', projectId: row.id };
    }
    if (!p.name) throw IdentityErrors.expecting('id or name', 'project');
    if (!p.domain || (!p.domain.id && !p.domain.name)) throw IdentityErrors.expecting('domain', 'project');
    const d = p.domain.id
      ? await reader.findDomain(p.domain.id)
      : await reader.findDomainByName(p.domain.name!);
    if (!d) throw IdentityErrors.unauthorized(`Could not find domain: ${p.domain.id ?? p.domain.name}.`);
    const row = await reader.findProjectByName(d.id, p.name);
    if (!row) throw IdentityErrors.unauthorized(`Could not find project: ${p.name}.`);
    return { kind: 'project', projectId: row.id };
  }
  return undefined;
}

/** Projects (enabled, in enabled domains) where the user holds any role, directly, by group or inherited. */
export async function projectsForUser(ix: IdentityContext, reader: IdentityReader, userId: string) {
  const actors = [userId, ...(await reader.groupIdsOf(userId))];
  const rows = await ix.db
    .selectFrom('identity_assignments')
    .selectAll()
    .where('actor_id', 'in', actors)
    .execute();
  const ids = new Set<string>();
  const inheritedRoots = new Set<string>();
  const domainsInherited = new Set<string>();
  for (const a of rows) {
    if ((a.type === 'UserProject' || a.type === 'GroupProject') && a.inherited === 0) ids.add(a.target_id);
    if ((a.type === 'UserProject' || a.type === 'GroupProject') && a.inherited === 1)
      inheritedRoots.add(a.target_id);
    if ((a.type === 'UserDomain' || a.type === 'GroupDomain') && a.inherited === 1)
      domainsInherited.add(a.target_id);
  }
  for (const root of inheritedRoots) for (const d of await reader.projectDescendants(root)) ids.add(d.id);
  if (domainsInherited.size > 0) {
    const inDomains = await ix.db
      .selectFrom('identity_projects')
      .select('id')
      .where('domain_id', 'in', [...domainsInherited])
      .execute();
    for (const p of inDomains) ids.add(p.id);
  }
  if (ids.size === 0) return [];
  const projects = await ix.db
    .selectFrom('identity_projects')
    .selectAll()
    .where('id', 'in', [...ids])
    .where('enabled', '=', 1)
    .execute();
  const enabledDomains = new Set(
    (await ix.db.selectFrom('identity_domains').select('id').where('enabled', '=', 1).execute()).map(
      (d) => d.id,
    ),
  );
  return projects.filter((p) => enabledDomains.has(p.domain_id));
}

export function authRoutes(ix: IdentityContext, reader: IdentityReader, tokens: TokenService): Route[] {
  const subject = async (ctx: RouteContext): Promise<ValidatedToken> => {
    const s = ctx.headers['x-subject-token'];
    if (typeof s !== 'string' || s === '')
      throw IdentityErrors.validation('X-Subject-Token header is required.');
    return tokens.validate(s);
  };
  const wantsCatalog = (ctx: RouteContext) => queryOne(ctx.query, 'nocatalog') === undefined;
  const authProjects = new GenerationCache<string>(ix);

  /**
   * A token from a trust, for its trustee: scoped to the trust's project with the trust's roles (the user is the
   * trustor when the trust impersonates). A limited trust loses one use per token, taken only once the token
   * has been issued.
   */
  const trustScoped = async (ctx: RouteContext, who: Authenticated, trustId: string) => {
    if (who.appCred) throw IdentityErrors.unauthorized('Application credentials cannot request a scope.');
    const parentScope = who.parent?.claims.scope;
    if (parentScope && parentScope.kind !== 'unscoped' && !ix.config.token.allow_rescope_scoped_token) {
      throw IdentityErrors.forbidden('Rescoping scoped token is not allowed.');
    }
    const trust = await findLiveTrust(ix.db, trustId, ix.now());
    if (!trust) throw IdentityErrors.unauthorized(`Could not find trust: ${trustId}.`);
    if (trust.project_id === null)
      throw IdentityErrors.unauthorized('A trust without a project cannot scope a token.');
    const v = await tokens.issue({
      userId: who.user.id,
      methods: who.methods,
      scope: { kind: 'project', projectId: trust.project_id },
      trustId: trust.id,
      parentAuditId: who.parent
        ? who.parent.claims.auditIds[who.parent.claims.auditIds.length - 1]
        : undefined,
      expiresAt: who.parent?.claims.expiresAt,
    });
    if (!(await consumeTrustUse(ix, trust)))
      throw IdentityErrors.unauthorized(`Could not find trust: ${trustId}.`);
    return {
      status: 201,
      headers: { 'x-subject-token': v.token },
      body: { token: await tokens.render(v, { catalog: wantsCatalog(ctx), base: ctx.baseUrl() }) },
    };
  };

  return [
    {
      method: 'POST',
      path: '/v3/auth/tokens',
      auth: 'none',
      body: authSchema,
      async handler(ctx) {
        const auth = ctx.body.auth as { identity: AuthMethods; scope?: unknown };
        const who = await authenticateIdentity(ix, reader, tokens, auth.identity);
        const requested = await resolveScope(reader, auth.scope);
        if (requested?.kind === 'trust') return trustScoped(ctx, who, requested.trustId);
        let scope: Scope | undefined = requested;
        if (who.appCred) {
          if (scope && !(scope.kind === 'project' && scope.projectId === who.appCred.project_id)) {
            throw IdentityErrors.unauthorized('Application credentials cannot request a scope.');
          }
          scope = { kind: 'project', projectId: who.appCred.project_id };
        }
        if (who.parent && scope === undefined) scope = who.parent.claims.scope;
        if (who.parent && scope && scope.kind !== 'unscoped' && who.parent.claims.scope.kind !== 'unscoped') {
          const same = JSON.stringify(scope) === JSON.stringify(who.parent.claims.scope);
          if (!same && !ix.config.token.allow_rescope_scoped_token) {
            throw IdentityErrors.forbidden('Rescoping scoped token is not allowed.');
          }
        }
        if (scope === undefined) {
          // Keystone scopes to the user's default project when it is usable, else issues an unscoped token.
          const dp = who.user.default_project_id;
          scope = { kind: 'unscoped' };
          if (dp) {
            const p = await reader.findProject(dp);
            if (
              p &&
              p.enabled === 1 &&
              (await reader.effectiveRoleIds(who.user.id, { kind: 'project', projectId: dp })).length > 0
            ) {
              scope = { kind: 'project', projectId: dp };
            }
          }
        }
        const v = await tokens.issue({
          userId: who.user.id,
          methods: who.methods,
          scope,
          parentAuditId: who.parent
            ? who.parent.claims.auditIds[who.parent.claims.auditIds.length - 1]
            : undefined,
          expiresAt: who.parent?.claims.expiresAt,
          appCredId: who.appCred?.id,
        });
        return {
          status: 201,
          headers: { 'x-subject-token': v.token },
          body: { token: await tokens.render(v, { catalog: wantsCatalog(ctx), base: ctx.baseUrl() }) },
        };
      },
    },
    {
      method: 'GET',
      path: '/v3/auth/tokens',
      async handler(ctx) {
        const v = await subject(ctx);
        ctx.authorize('identity:validate_token', { token: { user_id: v.user.id } });
        return {
          headers: { 'x-subject-token': v.token },
          json: await tokens.renderJson(v, { catalog: wantsCatalog(ctx), base: ctx.baseUrl() }),
        };
      },
    },
    {
      method: 'HEAD',
      path: '/v3/auth/tokens',
      async handler(ctx) {
        const v = await subject(ctx);
        ctx.authorize('identity:check_token', { token: { user_id: v.user.id } });
        return { status: 200, headers: { 'x-subject-token': v.token } };
      },
    },
    {
      method: 'DELETE',
      path: '/v3/auth/tokens',
      async handler(ctx) {
        const v = await subject(ctx);
        ctx.authorize('identity:revoke_token', { token: { user_id: v.user.id } });
        await ix.write(async (trx, record) => {
          await tokens.revoke(trx, { auditId: v.claims.auditIds[0] });
          record({ kind: 'revocation', id: v.claims.auditIds[0]!, action: 'create' });
        });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/v3/auth/catalog',
      policy: 'identity:get_auth_catalog',
      async handler(ctx) {
        const v = await tokens.validate(ctx.requireAuth().token);
        if (v.claims.scope.kind === 'unscoped') {
          throw new ApiError(
            403,
            'Forbidden',
            'A project-scoped token is required to produce a service catalog.',
          );
        }
        return {
          body: { catalog: await tokens.catalog(v), links: { self: `${ctx.baseUrl()}/v3/auth/catalog` } },
        };
      },
    },
    {
      method: 'GET',
      path: '/v3/auth/projects',
      policy: 'identity:get_auth_projects',
      async handler(ctx) {
        const a = ctx.requireAuth();
        const base = ctx.baseUrl();
        // Read on every login of every client: rendered once per user until the next identity write.
        const json = await authProjects.get(`${a.userId}|${base}`, async () => {
          const projects = await projectsForUser(ix, reader, a.userId);
          projects.sort((x, y) => x.name.localeCompare(y.name));
          const tags = await reader.projectTags(projects.map((p) => p.id));
          return JSON.stringify(
            listBody(
              'projects',
              projects.map((p) => projectView(p, base, tags.get(p.id))),
              base,
              'auth/projects',
            ),
          );
        });
        return { json };
      },
    },
    {
      method: 'GET',
      path: '/v3/auth/domains',
      policy: 'identity:get_auth_domains',
      async handler(ctx) {
        const a = ctx.requireAuth();
        const actors = [a.userId, ...(await reader.groupIdsOf(a.userId))];
        const rows = await ix.db
          .selectFrom('identity_assignments')
          .select('target_id')
          .where('actor_id', 'in', actors)
          .where('type', 'in', ['UserDomain', 'GroupDomain'])
          .where('inherited', '=', 0)
          .execute();
        const ids = [...new Set(rows.map((r) => r.target_id))];
        const domains =
          ids.length === 0
            ? []
            : await ix.db
                .selectFrom('identity_domains')
                .selectAll()
                .where('id', 'in', ids)
                .where('enabled', '=', 1)
                .execute();
        const base = ctx.baseUrl();
        return {
          body: listBody(
            'domains',
            domains.map((d) => domainView(d, base)),
            base,
            'auth/domains',
          ),
        };
      },
    },
    {
      method: 'GET',
      path: '/v3/auth/system',
      policy: 'identity:get_auth_system',
      async handler(ctx) {
        const a = ctx.requireAuth();
        const roles = await reader.effectiveRoleIds(a.userId, { kind: 'system' });
        return {
          body: {
            system: roles.length > 0 ? [{ all: true }] : [],
            links: { self: `${ctx.baseUrl()}/v3/auth/system` },
          },
        };
      },
    },
  ];
}
