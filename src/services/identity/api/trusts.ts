// /v3/OS-TRUST/trusts: create, list (all, by trustor, by trustee), show, delete (soft, revoking every token
// issued from the trust), and the trust's delegated roles. The lookups trust-scoped tokens use are in store/trusts.ts.
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { AuthContext, Route, RouteContext } from '../../../platform/http/types.ts';
import { SchemaValidator } from '../../../platform/http/validate.ts';
import { type IdentityContext, parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { RoleRow, TrustRow } from '../store/tables.ts';
import { findLiveTrust, trustRoleIds } from '../store/trusts.ts';
import { recordRevocation } from '../tokens/revocation.ts';
import { isDelegatedMethod, parseExpiration } from './app-credentials.ts';
import { trustCreateSchema } from './trusts.schema.ts';
import { listBody, roleView } from './views.ts';

type Body = Record<string, unknown>;

/** Keystone's [trust] max_redelegation_count default. */
export const MAX_REDELEGATION_COUNT = 3;

/** Request attributes that are columns (or handled); anything else a client sends is kept as an extra. */
const KNOWN = new Set([
  'id',
  'trustor_user_id',
  'trustee_user_id',
  'project_id',
  'impersonation',
  'expires_at',
  'remaining_uses',
  'allow_redelegation',
  'redelegation_count',
  'redelegated_trust_id',
  'deleted_at',
  'roles',
  'roles_links',
  'links',
  'extra',
]);

const validator = new SchemaValidator();

/** Keystone's isotime(subsecond=True): whole seconds, then ".000000Z". */
export function trustTime(iso: string | null): string | null {
  if (!iso) return null;
  return `${iso.slice(0, 19)}.000000Z`;
}

const selfLink = (base: string, id: string) => `${base}/v3/OS-TRUST/trusts/${id}`;

/** The trust as Keystone lists it (no roles). */
export function trustSummaryView(t: TrustRow, base: string): Body {
  return {
    ...parseJson(t.extra),
    id: t.id,
    trustor_user_id: t.trustor_user_id,
    trustee_user_id: t.trustee_user_id,
    project_id: t.project_id,
    impersonation: t.impersonation === 1,
    expires_at: trustTime(t.expires_at),
    remaining_uses: t.remaining_uses,
    deleted_at: null,
    redelegated_trust_id: t.redelegated_trust_id,
    redelegation_count: t.redelegation_count,
    links: { self: selfLink(base, t.id) },
  };
}

/** Roles of a trust that still exist, as full role bodies (a deleted role is left out, as Keystone does). */
function trustRoles(roleIds: string[], roles: Map<string, RoleRow>, base: string): Body[] {
  return roleIds.flatMap((id) => {
    const r = roles.get(id);
    return r ? [roleView(r, base)] : [];
  });
}

function rolesLinks(base: string, id: string): Body {
  return { self: `${selfLink(base, id)}/roles`, next: null, previous: null };
}

export function trustView(t: TrustRow, roleIds: string[], roles: Map<string, RoleRow>, base: string): Body {
  return {
    ...trustSummaryView(t, base),
    roles: trustRoles(roleIds, roles, base),
    roles_links: rolesLinks(base, t.id),
  };
}

/** The trust as policy sees it (`target.trust.*`). */
function policyTrust(t: TrustRow): Body {
  return {
    id: t.id,
    trustor_user_id: t.trustor_user_id,
    trustee_user_id: t.trustee_user_id,
    project_id: t.project_id,
    impersonation: t.impersonation === 1,
  };
}

function member(body: unknown): unknown {
  return body && typeof body === 'object' && !Array.isArray(body) && 'trust' in body
    ? (body as Body)['trust']
    : {};
}

function rawQuery(ctx: RouteContext): string {
  const url = ctx.request.url;
  const i = url.indexOf('?');
  return i < 0 ? '' : url.slice(i + 1);
}

/**
 * Application credential, OAuth1 and EC2 tokens may not read or manage trusts (Keystone's
 * _check_delegated_token); trust-scoped tokens may, their methods being the trustee's own.
 */
function checkDelegatedToken(auth: AuthContext): void {
  if (isDelegatedMethod(auth)) throw IdentityErrors.forbiddenAction('Delegated tokens cannot manage trusts.');
}

interface CreateBody {
  trustor_user_id: string;
  trustee_user_id: string;
  impersonation: boolean;
  project_id?: string | null;
  remaining_uses?: number | null;
  expires_at?: string | null;
  allow_redelegation?: boolean | null;
  redelegation_count?: number | null;
  roles?: Array<{ id?: string; name?: string }>;
  [key: string]: unknown;
}

export function trustRoutes(ix: IdentityContext, reader: IdentityReader): Route[] {
  const base = '/v3/OS-TRUST/trusts';

  const getLive = async (id: string): Promise<TrustRow> => {
    const t = await findLiveTrust(ix.db, id, ix.now());
    if (!t) throw IdentityErrors.notFound('trust', id);
    return t;
  };

  /** Keystone looks the trust up before policy: a missing (or used up, or expired) trust is a 404 for anyone. */
  const memberTarget = async (ctx: RouteContext) => ({
    trust: policyTrust(await getLive(ctx.params['trust_id'] ?? '')),
  });

  /** Role ids by id or by (unique) name, in request order, without repeats. */
  const normalizeRoles = async (requested: CreateBody['roles']): Promise<string[]> => {
    const out: string[] = [];
    for (const r of requested ?? []) {
      let id = r.id;
      if (id === undefined) {
        const named = [...(await reader.roles()).values()].filter((x) => x.name === r.name);
        if (named.length === 0) throw new ApiError(404, 'RoleNotFound', `Role ${r.name} is not defined`);
        if (named.length > 1) {
          throw IdentityErrors.validation(
            `There are multiple role entities named '${r.name}'. Please use ID instead of names to resolve the ambiguity.`,
          );
        }
        id = named[0]!.id;
      }
      if (!out.includes(id)) out.push(id);
    }
    return out;
  };

  return [
    {
      method: 'POST',
      path: base,
      // Keystone enforces first, with the requested trust as the target, then validates.
      policy: 'identity:create_trust',
      target: (ctx) => ({ trust: member(ctx.body) }),
      async handler(ctx) {
        const auth = ctx.requireAuth();
        const data = member(ctx.body);
        validator.validate(trustCreateSchema, data);
        const req = data as CreateBody;
        checkDelegatedToken(auth);
        const projectId = req.project_id ?? null;
        if (projectId && (!req.roles || req.roles.length === 0)) {
          throw IdentityErrors.forbiddenAction('At least one role should be specified');
        }
        if (auth.userId !== req.trustor_user_id) {
          throw IdentityErrors.forbiddenAction('The authenticated user should match the trustor');
        }
        await reader.getUser(req.trustee_user_id);
        const roleIds = await normalizeRoles(req.roles);
        // The trustor must hold every delegated role on the project (effectively: groups, inheritance, implication).
        const held = new Set<string>();
        if (projectId) {
          await reader.getProject(projectId);
          for (const id of await reader.effectiveRoleIds(req.trustor_user_id, { kind: 'project', projectId }))
            held.add(id);
        }
        for (const id of roleIds) if (!held.has(id)) throw IdentityErrors.notFound('role', id);
        const expiresAt = req.expires_at ? parseExpiration(req.expires_at, ix.now()) : null;
        if (auth.trustId !== undefined) {
          // Keystone lets a trust-scoped token redelegate a trust that allows it; we do not (yet).
          const parent = await findLiveTrust(ix.db, auth.trustId, ix.now());
          if (!parent) throw IdentityErrors.notFound('trust', auth.trustId);
          if (parent.redelegation_count <= 0 || parent.redelegation_count > MAX_REDELEGATION_COUNT) {
            throw IdentityErrors.forbidden(
              `Remaining redelegation depth of ${parent.redelegation_count} out of allowed range of [0..${MAX_REDELEGATION_COUNT}]`,
            );
          }
          throw IdentityErrors.forbidden('Redelegation of trusts is not supported by this cloud.');
        }
        // Keystone's create_trust: redelegation_count is 0 unless redelegation is allowed, and then limited.
        const requestedCount = req.redelegation_count ?? null;
        const redelegatable = req.allow_redelegation === true && requestedCount !== 0;
        let redelegationCount = 0;
        if (redelegatable) {
          if (requestedCount !== null && requestedCount > MAX_REDELEGATION_COUNT) {
            throw IdentityErrors.forbidden(
              `Requested redelegation depth of ${requestedCount} is greater than allowed ${MAX_REDELEGATION_COUNT}`,
            );
          }
          if (req.remaining_uses !== undefined && req.remaining_uses !== null) {
            throw IdentityErrors.validation('remaining_uses must not be set if redelegation is allowed');
          }
          redelegationCount = requestedCount ?? MAX_REDELEGATION_COUNT;
        }
        const extra: Body = {};
        for (const [k, v] of Object.entries(req)) if (!KNOWN.has(k)) extra[k] = v;
        const row: TrustRow = {
          id: ix.ids.hexId(),
          trustor_user_id: req.trustor_user_id,
          trustee_user_id: req.trustee_user_id,
          project_id: projectId,
          impersonation: req.impersonation ? 1 : 0,
          expires_at: expiresAt,
          remaining_uses: req.remaining_uses ?? null,
          redelegation_count: redelegationCount,
          redelegated_trust_id: null,
          deleted_at: null,
          extra: JSON.stringify(extra),
          created_at: ix.nowIso(),
        };
        await ix.write(async (trx, record) => {
          // Keystone's duplicate_trust_constraint (rows with no expiry never collide, NULLs being distinct).
          if (expiresAt !== null) {
            let dup = trx
              .selectFrom('identity_trusts')
              .select('id')
              .where('trustor_user_id', '=', row.trustor_user_id)
              .where('trustee_user_id', '=', row.trustee_user_id)
              .where('impersonation', '=', row.impersonation)
              .where('expires_at', '=', expiresAt)
              .where('deleted_at', 'is', null);
            dup =
              projectId === null
                ? dup.where('project_id', 'is', null)
                : dup.where('project_id', '=', projectId);
            if (await dup.executeTakeFirst()) throw IdentityErrors.conflict('trust', 'Duplicate entry');
          }
          await trx.insertInto('identity_trusts').values(row).execute();
          if (roleIds.length > 0) {
            await trx
              .insertInto('identity_trust_roles')
              .values(roleIds.map((role_id) => ({ trust_id: row.id, role_id })))
              .execute();
          }
          record({
            kind: 'trust',
            id: row.id,
            action: 'create',
            data: {
              trustor_user_id: row.trustor_user_id,
              trustee_user_id: row.trustee_user_id,
              project_id: projectId,
            },
          });
        });
        return { status: 201, body: { trust: trustView(row, roleIds, await reader.roles(), ctx.baseUrl()) } };
      },
    },
    {
      method: 'GET',
      path: base,
      async handler(ctx) {
        const trustor = queryOne(ctx.query, 'trustor_user_id');
        const trustee = queryOne(ctx.query, 'trustee_user_id');
        if (trustor)
          ctx.authorize('identity:list_trusts_for_trustor', { trust: { trustor_user_id: trustor } });
        else if (trustee)
          ctx.authorize('identity:list_trusts_for_trustee', { trust: { trustee_user_id: trustee } });
        else ctx.authorize('identity:list_trusts');
        checkDelegatedToken(ctx.requireAuth());
        let rows: TrustRow[] = [];
        const q = ix.db
          .selectFrom('identity_trusts')
          .selectAll()
          .where('deleted_at', 'is', null)
          .orderBy('created_at')
          .orderBy('id');
        // As Keystone: no query at all lists every trust; an unknown query alone lists none.
        if (Object.keys(ctx.query).length === 0) rows = await q.execute();
        else if (trustor) rows = await q.where('trustor_user_id', '=', trustor).execute();
        else if (trustee) rows = await q.where('trustee_user_id', '=', trustee).execute();
        const b = ctx.baseUrl();
        return {
          body: listBody(
            'trusts',
            rows.map((t) => trustSummaryView(t, b)),
            b,
            'OS-TRUST/trusts',
            rawQuery(ctx),
          ),
        };
      },
    },
    {
      method: 'GET',
      path: `${base}/:trust_id`,
      policy: 'identity:get_trust',
      target: memberTarget,
      async handler(ctx) {
        checkDelegatedToken(ctx.requireAuth());
        const t = await getLive(ctx.params['trust_id'] ?? '');
        const roleIds = await trustRoleIds(ix.db, t.id);
        return { body: { trust: trustView(t, roleIds, await reader.roles(), ctx.baseUrl()) } };
      },
    },
    {
      method: 'DELETE',
      path: `${base}/:trust_id`,
      policy: 'identity:delete_trust',
      target: memberTarget,
      async handler(ctx) {
        checkDelegatedToken(ctx.requireAuth());
        const id = ctx.params['trust_id'] ?? '';
        const now = ix.nowIso();
        await ix.write(async (trx, record) => {
          // The trust and every trust redelegated from it, recursively; each one's tokens are revoked.
          const ids = [id];
          for (let i = 0; i < ids.length; i++) {
            const children = await trx
              .selectFrom('identity_trusts')
              .select('id')
              .where('redelegated_trust_id', '=', ids[i]!)
              .where('deleted_at', 'is', null)
              .execute();
            for (const c of children) if (!ids.includes(c.id)) ids.push(c.id);
          }
          const res = await trx
            .updateTable('identity_trusts')
            .set({ deleted_at: now })
            .where('id', 'in', ids)
            .where('deleted_at', 'is', null)
            .executeTakeFirst();
          // Deleted meanwhile by another request.
          if (Number(res.numUpdatedRows) === 0) throw IdentityErrors.notFound('trust', id);
          for (const x of ids) {
            await recordRevocation(ix, trx, { trustId: x });
            record({ kind: 'trust', id: x, action: 'delete' });
          }
        });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: `${base}/:trust_id/roles`,
      policy: 'identity:list_roles_for_trust',
      target: memberTarget,
      async handler(ctx) {
        checkDelegatedToken(ctx.requireAuth());
        const t = await getLive(ctx.params['trust_id'] ?? '');
        const b = ctx.baseUrl();
        return {
          body: {
            roles: trustRoles(await trustRoleIds(ix.db, t.id), await reader.roles(), b),
            links: rolesLinks(b, t.id),
          },
        };
      },
    },
    {
      method: 'GET',
      path: `${base}/:trust_id/roles/:role_id`,
      policy: 'identity:get_role_for_trust',
      target: memberTarget,
      async handler(ctx) {
        checkDelegatedToken(ctx.requireAuth());
        const t = await getLive(ctx.params['trust_id'] ?? '');
        const roleId = ctx.params['role_id'] ?? '';
        if (!(await trustRoleIds(ix.db, t.id)).includes(roleId))
          throw IdentityErrors.notFound('role', roleId);
        return { body: { role: roleView(await reader.getRole(roleId), ctx.baseUrl()) } };
      },
    },
  ];
}
