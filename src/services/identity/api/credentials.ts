// /v3/credentials: create, list, show, update (blob only) and delete credentials (ec2, cert, totp, …).
//
// Keystone encrypts credential blobs at rest with its credential keys (Fernet, `keystone-manage
// credential_setup`); we do not yet, and store the blob exactly as given.
import { createHash } from 'node:crypto';
import { uniqueOr } from '../../../platform/db/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { AuthContext, Route, RouteContext } from '../../../platform/http/types.ts';
import { SchemaValidator } from '../../../platform/http/validate.ts';
import { type IdentityContext, parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { CredentialRow } from '../store/tables.ts';
import { isDelegatedAuth } from './app-credentials.ts';
import { rawQuery } from './common.ts';
import { credentialCreateSchema, credentialUpdateSchema } from './credentials.schema.ts';
import { listBody } from './views.ts';

type Body = Record<string, unknown>;

/** Columns, plus what the response adds; everything else a client sends is kept as an extra attribute. */
const RESERVED = new Set(['id', 'user_id', 'project_id', 'type', 'blob', 'links', 'extra']);

const validator = new SchemaValidator();

export function credentialView(r: CredentialRow, base: string): Body {
  return {
    ...parseJson(r.extra),
    id: r.id,
    user_id: r.user_id,
    project_id: r.project_id,
    type: r.type,
    blob: r.blob,
    links: { self: `${base}/v3/credentials/${r.id}` },
  };
}

/** Keystone's id for an ec2 credential: sha256 hex of its access key. */
export function ec2CredentialId(access: string): string {
  return createHash('sha256').update(access, 'utf8').digest('hex');
}

/** An ec2 blob must be a JSON object with an access key. */
function ec2Blob(blob: unknown): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(blob));
  } catch {
    throw IdentityErrors.validation('Invalid blob in credential');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    throw IdentityErrors.expecting('blob', 'credential');
  }
  const b = parsed as Record<string, unknown>;
  if (b['access'] === undefined || b['access'] === null)
    throw IdentityErrors.expecting('access', 'credential');
  if (typeof b['access'] !== 'string') throw IdentityErrors.validation('Invalid blob in credential');
  return b;
}

/** Delegated tokens (application credentials, trusts, OAuth1, EC2) may not touch credentials at all. */
export function requirePrimaryAuth(auth: AuthContext): void {
  if (isDelegatedAuth(auth))
    throw IdentityErrors.forbiddenAction('Delegated tokens cannot access credentials directly');
}

function member(body: unknown): unknown {
  return body && typeof body === 'object' && !Array.isArray(body) && 'credential' in body
    ? (body as Body)['credential']
    : {};
}

export function credentialRoutes(ix: IdentityContext, reader: IdentityReader): Route[] {
  const find = (id: string) =>
    ix.db.selectFrom('identity_credentials').selectAll().where('id', '=', id).executeTakeFirst();
  const getOr404 = async (id: string): Promise<CredentialRow> => {
    const r = await find(id);
    if (!r) throw IdentityErrors.notFound('credential', id);
    return r;
  };
  /**
   * The stored credential as the policy target, when it exists (unknown ids are 404 only for who may look).
   * Identity's policyTarget nests a route's target under `target`, beside the path parameters.
   */
  const memberTarget = async (ctx: RouteContext) => {
    const id = ctx.params['credential_id'] ?? '';
    const r = await find(id);
    return r ? { credential: credentialView(r, ctx.baseUrl()) } : {};
  };
  const conflict = (id: string) =>
    IdentityErrors.conflict('credential', `Duplicate entry found with ID ${id}`);

  return [
    {
      method: 'POST',
      path: '/v3/credentials',
      // Keystone enforces first, with the requested credential as the target, then validates.
      policy: 'identity:create_credential',
      target: (ctx) => ({ credential: member(ctx.body) }),
      async handler(ctx) {
        const auth = ctx.requireAuth();
        const data = member(ctx.body);
        validator.validate(credentialCreateSchema, data);
        const cred = data as Body & { blob: string; type: string; user_id: string; project_id?: string };
        if (cred.type === 'ec2' && cred.project_id === undefined) {
          throw IdentityErrors.validation("'project_id' is a required property");
        }
        requirePrimaryAuth(auth);
        const id =
          cred.type.toLowerCase() === 'ec2'
            ? ec2CredentialId(ec2Blob(cred.blob)['access'] as string)
            : ix.ids.hexId();
        const extra: Body = {};
        for (const [k, v] of Object.entries(cred)) if (!RESERVED.has(k)) extra[k] = v;
        const row: CredentialRow = {
          id,
          user_id: cred.user_id,
          project_id: cred.project_id ?? null,
          type: cred.type,
          blob: cred.blob,
          extra: JSON.stringify(extra),
        };
        await uniqueOr(
          ix.write(async (trx, record) => {
            const dup = await trx
              .selectFrom('identity_credentials')
              .select('id')
              .where('id', '=', id)
              .executeTakeFirst();
            if (dup) throw conflict(id);
            await trx.insertInto('identity_credentials').values(row).execute();
            record({
              kind: 'credential',
              id,
              action: 'create',
              data: { user_id: row.user_id, type: row.type },
            });
          }),
          () => conflict(id),
        );
        return { status: 201, body: { credential: credentialView(row, ctx.baseUrl()) } };
      },
    },
    {
      method: 'GET',
      path: '/v3/credentials',
      policy: 'identity:list_credentials',
      target: (ctx) => {
        const auth = ctx.requireAuth();
        // Outside system scope the caller lists as an owner; each credential is then checked on its own.
        return auth.system ? {} : { credential: { user_id: auth.userId } };
      },
      async handler(ctx) {
        const auth = ctx.requireAuth();
        let q = ix.db.selectFrom('identity_credentials').selectAll();
        const userId = queryOne(ctx.query, 'user_id');
        const type = queryOne(ctx.query, 'type');
        if (userId !== undefined) q = q.where('user_id', '=', userId);
        if (type !== undefined) q = q.where('type', '=', type);
        const rows = await q.orderBy('id').execute();
        const base = ctx.baseUrl();
        // Only those the caller may see: their own, or all for an admin or system reader; none for delegated tokens.
        let items = isDelegatedAuth(auth)
          ? []
          : rows
              .map((r) => credentialView(r, base))
              .filter((c) => ctx.can('identity:get_credential', { credential: c }));
        const limit = ix.config.list_limit;
        const truncated = limit > 0 && items.length > limit;
        if (truncated) items = items.slice(0, limit);
        const body = listBody('credentials', items, base, 'credentials', rawQuery(ctx));
        if (truncated) body['truncated'] = true;
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v3/credentials/:credential_id',
      policy: 'identity:get_credential',
      target: memberTarget,
      async handler(ctx) {
        const r = await getOr404(ctx.params['credential_id'] ?? '');
        requirePrimaryAuth(ctx.requireAuth());
        return { body: { credential: credentialView(r, ctx.baseUrl()) } };
      },
    },
    {
      method: 'PATCH',
      path: '/v3/credentials/:credential_id',
      policy: 'identity:update_credential',
      target: memberTarget,
      async handler(ctx) {
        const id = ctx.params['credential_id'] ?? '';
        const data = member(ctx.body);
        validator.validate(credentialUpdateSchema, data);
        const patch = data as { blob?: string; type?: string; project_id?: string; user_id?: string };
        const current = await getOr404(id);
        requirePrimaryAuth(ctx.requireAuth());
        const next = {
          ...current,
          blob: patch.blob ?? current.blob,
          type: patch.type ?? current.type,
          project_id: patch.project_id ?? current.project_id,
          user_id: patch.user_id ?? current.user_id,
        };
        if (next.type.toLowerCase() === 'ec2') {
          if (!next.project_id)
            throw IdentityErrors.validation(
              'Invalid blob in credential: project_id is required for ec2 credentials',
            );
          const nextBlob = ec2Blob(next.blob);
          let old: Record<string, unknown> = {};
          try {
            const v = JSON.parse(current.blob) as unknown;
            if (v && typeof v === 'object' && !Array.isArray(v)) old = v as Record<string, unknown>;
          } catch {
            // A stored blob that is not JSON has no scope keys to protect.
          }
          // The scope an ec2 credential was made with cannot be changed or removed.
          for (const key of ['trust_id', 'app_cred_id', 'access_token_id', 'access_id']) {
            if (JSON.stringify(old[key] ?? null) !== JSON.stringify(nextBlob[key] ?? null)) {
              throw IdentityErrors.validation(`${key} can not be updated for credential`);
            }
          }
        }
        if (patch.user_id !== undefined && patch.user_id !== current.user_id)
          await reader.getUser(patch.user_id);
        const updated = await ix.write(async (trx, record) => {
          const res = await trx
            .updateTable('identity_credentials')
            .set({ blob: next.blob, type: next.type, project_id: next.project_id, user_id: next.user_id })
            .where('id', '=', id)
            .executeTakeFirst();
          if (Number(res.numUpdatedRows) === 0) throw IdentityErrors.notFound('credential', id);
          record({ kind: 'credential', id, action: 'update' });
          return next;
        });
        return { body: { credential: credentialView(updated, ctx.baseUrl()) } };
      },
    },
    {
      method: 'DELETE',
      path: '/v3/credentials/:credential_id',
      policy: 'identity:delete_credential',
      target: memberTarget,
      async handler(ctx) {
        const id = ctx.params['credential_id'] ?? '';
        await getOr404(id);
        requirePrimaryAuth(ctx.requireAuth());
        await ix.write(async (trx, record) => {
          const res = await trx.deleteFrom('identity_credentials').where('id', '=', id).executeTakeFirst();
          if (Number(res.numDeletedRows) === 0) throw IdentityErrors.notFound('credential', id);
          record({ kind: 'credential', id, action: 'delete' });
        });
        return { status: 204 };
      },
    },
  ];
}
