// /v3/users/{user_id}/application_credentials: create (secret shown once, stored as a bcrypt hash), list, show,
// delete (which also revokes every token issued from the credential); and the lookup token auth uses.
import { randomBytes } from 'node:crypto';
import { uniqueOr } from '../../../platform/db/errors.ts';
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { AuthContext, Route, RouteContext } from '../../../platform/http/types.ts';
import { SchemaValidator } from '../../../platform/http/validate.ts';
import type { IdentityContext, IdentityDb } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import { type AppCredentialRow, GLOBAL_ROLE_DOMAIN, type RoleRow } from '../store/tables.ts';
import { recordRevocation } from '../tokens/revocation.ts';
import { appCredentialCreateSchema } from './app-credentials.schema.ts';
import { keystoneTime, listBody } from './views.ts';

type Body = Record<string, unknown>;

export type AppCredentialWithRoles = AppCredentialRow & { roleIds: string[] };

/**
 * Auth methods that authenticate a user directly (Keystone's delegation.primary_auth_methods); a token whose
 * methods include anything else (application_credential, oauth1, ec2credential, …) is a delegated token.
 */
const PRIMARY_AUTH_METHODS: ReadonlySet<string> = new Set([
  'external',
  'kerberos',
  'mapped',
  'openid',
  'password',
  'saml2',
  'token',
  'totp',
  'x509',
]);

/** The token came from a delegated credential (application credential, OAuth1, EC2, …): is_delegated_method. */
export function isDelegatedMethod(auth: AuthContext): boolean {
  return (
    auth.appCredId !== undefined ||
    auth.methods.length === 0 ||
    auth.methods.some((m) => !PRIMARY_AUTH_METHODS.has(m))
  );
}

/** Any delegation: a delegated method or a trust-scoped token (whose methods are the trustee's own). */
export function isDelegatedAuth(auth: AuthContext): boolean {
  return auth.trustId !== undefined || isDelegatedMethod(auth);
}

const APP_CRED_METHOD = 'application_credential';

/** The caller's token came from an application credential. */
function viaAppCredential(auth: AuthContext): boolean {
  return auth.appCredId !== undefined || auth.methods.includes(APP_CRED_METHOD);
}

const validator = new SchemaValidator();

/**
 * An application credential with its role ids, by id or by (user, name); undefined when there is none.
 * Accepts the IdentityContext, the IdentityReader or a transaction (anything with a `db`, or a db itself).
 */
export async function findAppCredential(
  source: { db: IdentityDb } | IdentityDb,
  q: { id: string } | { name: string; userId: string },
): Promise<AppCredentialWithRoles | undefined> {
  const db: IdentityDb = 'selectFrom' in source ? source : source.db;
  let query = db.selectFrom('identity_app_credentials').selectAll();
  query =
    'id' in q
      ? query.where('id', '=', q.id)
      : query.where('user_id', '=', q.userId).where('name', '=', q.name);
  const row = await query.executeTakeFirst();
  if (!row) return undefined;
  const roles = await db
    .selectFrom('identity_app_credential_roles')
    .select('role_id')
    .where('app_cred_id', '=', row.id)
    .execute();
  return { ...row, roleIds: roles.map((r) => r.role_id) };
}

async function rolesOf(db: IdentityDb, ids: string[]): Promise<Map<string, string[]>> {
  const m = new Map<string, string[]>();
  if (ids.length === 0) return m;
  const rows = await db
    .selectFrom('identity_app_credential_roles')
    .selectAll()
    .where('app_cred_id', 'in', ids)
    .execute();
  for (const r of rows) m.set(r.app_cred_id, [...(m.get(r.app_cred_id) ?? []), r.role_id]);
  return m;
}

function roleBody(r: RoleRow): Body {
  return { id: r.id, name: r.name, domain_id: r.domain_id === GLOBAL_ROLE_DOMAIN ? null : r.domain_id };
}

export function appCredentialView(
  row: AppCredentialRow,
  roleIds: string[],
  roles: Map<string, RoleRow>,
  base: string,
): Body {
  return {
    id: row.id,
    name: row.name,
    description: row.description === '' ? null : row.description,
    user_id: row.user_id,
    project_id: row.project_id,
    system: null,
    expires_at: keystoneTime(row.expires_at),
    unrestricted: row.unrestricted === 1,
    // A role deleted since the credential was made is left out rather than failing the whole read.
    roles: roleIds.flatMap((id) => {
      const r = roles.get(id);
      return r ? [roleBody(r)] : [];
    }),
    access_rules: [],
    links: { self: `${base}/v3/users/${row.user_id}/application_credentials/${row.id}` },
  };
}

/** Keystone's secret: 64 random bytes, urlsafe base64 without padding. */
function generateSecret(): string {
  return randomBytes(64).toString('base64url');
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

const timestampError = () =>
  IdentityErrors.validation(
    'Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
  );

/**
 * Keystone's parse_expiration_date: an ISO 8601 time (UTC unless it says otherwise) that is not in the past.
 * Returns the instant as "YYYY-MM-DDTHH:MM:SS.ffffffZ", keeping the microseconds the client sent.
 */
export function parseExpiration(text: string, nowMs: number): string {
  const m = ISO_8601.exec(text.trim());
  if (!m) throw timestampError();
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', tz = 'Z'] = m;
  const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = parts;
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  local.setUTCFullYear(year);
  if (
    local.getUTCMonth() !== month - 1 ||
    local.getUTCDate() !== day ||
    local.getUTCHours() !== hour ||
    local.getUTCMinutes() !== minute ||
    local.getUTCSeconds() !== second
  ) {
    throw timestampError();
  }
  let offsetMin = 0;
  if (tz.toUpperCase() !== 'Z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || '0');
    if (oh > 23 || om > 59) throw timestampError();
    offsetMin = sign * (oh * 60 + om);
  }
  const ms = local.getTime() - offsetMin * 60_000;
  const micros = Number(frac.padEnd(6, '0').slice(0, 6));
  const at = new Date(ms);
  if (Number.isNaN(ms) || at.getUTCFullYear() < 1 || at.getUTCFullYear() > 9999) throw timestampError();
  if (ms * 1000 + micros < nowMs * 1000) {
    throw IdentityErrors.validation(
      "The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
    );
  }
  return at.toISOString().replace(/\.\d{3}Z$/, `.${String(micros).padStart(6, '0')}Z`);
}

const invalidAppCred = (detail: string) =>
  IdentityErrors.validation(`Invalid application credential: ${detail}`);

interface CreateBody {
  name: string;
  description?: string | null;
  secret?: string | null;
  expires_at?: string | null;
  roles?: Array<{ id?: string; name?: string }>;
  unrestricted?: boolean;
  access_rules?: unknown[];
}

function rawQuery(ctx: RouteContext): string {
  const url = ctx.request.url;
  const i = url.indexOf('?');
  return i < 0 ? '' : url.slice(i + 1);
}

export function appCredentialRoutes(ix: IdentityContext, reader: IdentityReader): Route[] {
  const base = '/v3/users/:user_id/application_credentials';

  /** Trust, OAuth1 and EC2 tokens may not touch application credentials (application credential tokens may). */
  const blockDelegated = (auth: AuthContext) => {
    if (viaAppCredential(auth)) return;
    if (isDelegatedAuth(auth))
      throw IdentityErrors.forbidden('You are not authorized to perform the requested action.');
  };

  /** A restricted application credential's token cannot create or delete application credentials. */
  const requireUnrestricted = async (auth: AuthContext) => {
    if (!viaAppCredential(auth)) return;
    const own = auth.appCredId ? await findAppCredential(ix, { id: auth.appCredId }) : undefined;
    if (own?.unrestricted !== 1) {
      throw IdentityErrors.forbiddenAction(
        "Using method 'application_credential' is not allowed for managing additional application credentials.",
      );
    }
  };

  /**
   * The owner policy checks is the credential's user, not the path's: as Keystone rewrites its view_args, the
   * path's user_id is replaced by the credential's (when it exists), so a caller cannot name themselves in the
   * path to reach someone else's credential. (Identity puts path parameters at the top of the policy target.)
   */
  const memberTarget = async (ctx: RouteContext) => {
    const id = ctx.params['application_credential_id'] ?? '';
    const row = await ix.db
      .selectFrom('identity_app_credentials')
      .select('user_id')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return {};
    ctx.params['user_id'] = row.user_id;
    return { user_id: row.user_id };
  };

  const getOr404 = async (id: string): Promise<AppCredentialWithRoles> => {
    const row = await findAppCredential(ix, { id });
    if (!row) throw IdentityErrors.notFound('Application Credential', id);
    return row;
  };

  /** Role ids the request asks for, each one of the token's roles; the token's roles when none are named. */
  const requestedRoles = async (auth: AuthContext, requested: CreateBody['roles']): Promise<string[]> => {
    if (!requested || requested.length === 0) return [...new Set(auth.roleIds)];
    const out: string[] = [];
    for (const r of requested) {
      let id = r.id;
      if (!id) {
        const named = [...(await reader.roles()).values()].filter((x) => x.name === r.name);
        if (named.length === 0) throw new ApiError(404, 'RoleNotFound', `Role ${r.name} is not defined`);
        if (named.length > 1) {
          throw IdentityErrors.validation(
            `There are multiple role entities named '${r.name}'. Please use ID instead of names to resolve the ambiguity.`,
          );
        }
        id = named[0]!.id;
      }
      if (!auth.roleIds.includes(id))
        throw invalidAppCred('Cannot create an application credential with unassigned role');
      if (!out.includes(id)) out.push(id);
    }
    return out;
  };

  return [
    {
      method: 'POST',
      path: base,
      policy: 'identity:create_application_credential',
      target: (ctx) => {
        // scope_types is ['project']: a credential belongs to the project of the token that creates it.
        if (!ctx.requireAuth().projectId)
          throw IdentityErrors.forbiddenAction('identity:create_application_credential');
        return {};
      },
      async handler(ctx) {
        const auth = ctx.requireAuth();
        const userId = ctx.params['user_id'] ?? '';
        const raw: unknown = ctx.body;
        const data: unknown =
          raw && typeof raw === 'object' && !Array.isArray(raw) && 'application_credential' in raw
            ? (raw as Body)['application_credential']
            : {};
        validator.validate(appCredentialCreateSchema, data);
        const req = data as CreateBody;
        blockDelegated(auth);
        await requireUnrestricted(auth);
        if (auth.userId !== userId) {
          throw IdentityErrors.forbiddenAction('Cannot create an application credential for another user.');
        }
        const projectId = auth.projectId!;
        const secret = req.secret ? req.secret : generateSecret();
        const roleIds = await requestedRoles(auth, req.roles);
        const expiresAt = req.expires_at ? parseExpiration(req.expires_at, ix.now()) : null;
        if (req.access_rules && req.access_rules.length > 0) {
          throw invalidAppCred('access rules are not supported by this cloud.');
        }
        const held = new Set(await reader.effectiveRoleIds(userId, { kind: 'project', projectId }));
        for (const id of roleIds) {
          if (!held.has(id)) {
            throw invalidAppCred(
              `Could not find role assignment with role: ${id}, user or group: ${userId}, project, domain, or system: ${projectId}.`,
            );
          }
        }
        const conflict = () =>
          IdentityErrors.conflict('application_credential', `Duplicate entry found with name ${req.name}`);
        const secretHash = await ix.passwords.hash(secret);
        const row: AppCredentialRow = {
          id: ix.ids.hexId(),
          name: req.name,
          user_id: userId,
          project_id: projectId,
          secret_hash: secretHash,
          description: req.description ?? '',
          expires_at: expiresAt,
          unrestricted: req.unrestricted === true ? 1 : 0,
          created_at: ix.nowIso(),
        };
        await uniqueOr(
          ix.write(async (trx, record) => {
            const dup = await trx
              .selectFrom('identity_app_credentials')
              .select('id')
              .where('user_id', '=', userId)
              .where('name', '=', req.name)
              .executeTakeFirst();
            if (dup) throw conflict();
            await trx.insertInto('identity_app_credentials').values(row).execute();
            if (roleIds.length > 0) {
              await trx
                .insertInto('identity_app_credential_roles')
                .values(roleIds.map((role_id) => ({ app_cred_id: row.id, role_id })))
                .execute();
            }
            record({
              kind: 'application_credential',
              id: row.id,
              action: 'create',
              data: { user_id: userId, project_id: projectId },
            });
          }),
          () => conflict(),
        );
        const body = appCredentialView(row, roleIds, await reader.roles(), ctx.baseUrl());
        return { status: 201, body: { application_credential: { ...body, secret } } };
      },
    },
    {
      method: 'GET',
      path: base,
      policy: 'identity:list_application_credentials',
      async handler(ctx) {
        blockDelegated(ctx.requireAuth());
        const userId = ctx.params['user_id'] ?? '';
        const name = queryOne(ctx.query, 'name');
        let q = ix.db.selectFrom('identity_app_credentials').selectAll().where('user_id', '=', userId);
        if (name !== undefined) q = q.where('name', '=', name);
        const rows = await q.orderBy('created_at').orderBy('id').execute();
        const roleMap = await rolesOf(
          ix.db,
          rows.map((r) => r.id),
        );
        const roles = await reader.roles();
        const items = rows.map((r) => appCredentialView(r, roleMap.get(r.id) ?? [], roles, ctx.baseUrl()));
        return {
          body: listBody(
            'application_credentials',
            items,
            ctx.baseUrl(),
            `users/${userId}/application_credentials`,
            rawQuery(ctx),
          ),
        };
      },
    },
    {
      method: 'GET',
      path: `${base}/:application_credential_id`,
      policy: 'identity:get_application_credential',
      target: memberTarget,
      async handler(ctx) {
        blockDelegated(ctx.requireAuth());
        const row = await getOr404(ctx.params['application_credential_id'] ?? '');
        return {
          body: {
            application_credential: appCredentialView(row, row.roleIds, await reader.roles(), ctx.baseUrl()),
          },
        };
      },
    },
    {
      method: 'DELETE',
      path: `${base}/:application_credential_id`,
      policy: 'identity:delete_application_credential',
      target: memberTarget,
      async handler(ctx) {
        const auth = ctx.requireAuth();
        blockDelegated(auth);
        await requireUnrestricted(auth);
        const id = ctx.params['application_credential_id'] ?? '';
        await getOr404(id);
        await ix.write(async (trx, record) => {
          const gone = await trx
            .deleteFrom('identity_app_credentials')
            .where('id', '=', id)
            .executeTakeFirst();
          if (Number(gone.numDeletedRows) === 0) throw IdentityErrors.notFound('Application Credential', id);
          await trx.deleteFrom('identity_app_credential_roles').where('app_cred_id', '=', id).execute();
          // Every token issued from this credential until now is revoked (validation also refuses tokens whose
          // credential is gone; the event keeps that true should the id ever reappear).
          await recordRevocation(ix, trx, { appCredId: id });
          record({ kind: 'application_credential', id, action: 'delete' });
        });
        return { status: 204 };
      },
    },
  ];
}
