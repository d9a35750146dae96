// /v3/users: CRUD, self-service password change (history, minimum age), the user's projects and groups.

import { uniqueOr } from '../../../platform/db/errors.ts';
import { parseBool, queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { IdentityContext, IdentityTrx } from '../context.ts';
import { parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { UserRow } from '../store/tables.ts';
import { deleteTrustRows } from '../store/trusts.ts';
import type { TokenService } from '../tokens/service.ts';
import { guardLastAdmin } from './assignments.ts';
import { projectsForUser } from './auth.ts';
import { groupView, listBody, projectView, userView } from './views.ts';

const KNOWN = new Set([
  'id',
  'name',
  'domain_id',
  'enabled',
  'password',
  'default_project_id',
  'options',
  'links',
  'federated',
]);
const USER_OPTIONS = new Set([
  'ignore_change_password_upon_first_use',
  'ignore_password_expiry',
  'ignore_lockout_failure_attempts',
  'lock_password',
  'multi_factor_auth_enabled',
  'multi_factor_auth_rules',
  'ignore_user_inactivity',
]);

const userProps = {
  name: { type: 'string', minLength: 1, maxLength: 255 },
  domain_id: { type: 'string', minLength: 1, maxLength: 64 },
  enabled: { type: 'boolean' },
  password: { type: ['string', 'null'] },
  default_project_id: { type: ['string', 'null'], maxLength: 64 },
  description: { type: ['string', 'null'] },
  email: { type: ['string', 'null'] },
  options: { type: 'object' },
};

const createSchema = {
  type: 'object',
  required: ['user'],
  properties: { user: { type: 'object', required: ['name'], properties: userProps } },
};
const updateSchema = {
  type: 'object',
  required: ['user'],
  properties: { user: { type: 'object', minProperties: 1, properties: userProps } },
};
const passwordSchema = {
  type: 'object',
  required: ['user'],
  properties: {
    user: {
      type: 'object',
      required: ['password', 'original_password'],
      additionalProperties: false,
      properties: { password: { type: 'string' }, original_password: { type: 'string' } },
    },
  },
};

function extraOf(body: Record<string, unknown>, base: Record<string, unknown> = {}): string {
  const extra = { ...base };
  for (const [k, v] of Object.entries(body)) if (!KNOWN.has(k)) extra[k] = v;
  return JSON.stringify(extra);
}

function checkOptions(options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!USER_OPTIONS.has(k))
      throw IdentityErrors.validation(`Invalid input for field 'options': '${k}' is not a valid option.`);
  }
  return o;
}

export class PasswordRules {
  readonly #ix: IdentityContext;
  constructor(ix: IdentityContext) {
    this.#ix = ix;
  }

  check(password: string): void {
    const { max_password_length } = this.#ix.config;
    const sc = this.#ix.config.security_compliance;
    if (password.length > max_password_length) {
      throw IdentityErrors.validation(`Invalid input for field 'password': '${'*'.repeat(8)}' is too long`);
    }
    if (sc.password_regex && !new RegExp(sc.password_regex).test(password)) {
      throw IdentityErrors.passwordRequirements(sc.password_regex_description || sc.password_regex);
    }
  }

  /** When a newly set password expires (admin-set passwords may have to change on first use). */
  expiresAt(options: Record<string, unknown>, byAdmin: boolean): string | null {
    const sc = this.#ix.config.security_compliance;
    if (
      byAdmin &&
      sc.change_password_upon_first_use &&
      options['ignore_change_password_upon_first_use'] !== true
    ) {
      return this.#ix.nowIso();
    }
    if (sc.password_expires_days > 0 && options['ignore_password_expiry'] !== true) {
      return new Date(this.#ix.now() + sc.password_expires_days * 86_400_000).toISOString();
    }
    return null;
  }

  /** Stores a new password and its history entry, pruning history beyond what the rules keep. */
  async store(trx: IdentityTrx, userId: string, hash: string, expiresAt: string | null): Promise<void> {
    const now = this.#ix.nowIso();
    await trx
      .updateTable('identity_users')
      .set({
        password_hash: hash,
        password_created_at: now,
        password_expires_at: expiresAt,
        failed_auth_count: 0,
        failed_auth_at: null,
      })
      .where('id', '=', userId)
      .execute();
    await trx
      .insertInto('identity_password_history')
      .values({ user_id: userId, password_hash: hash, created_at: now })
      .execute();
    const keep = Math.max(1, this.#ix.config.security_compliance.unique_last_password_count);
    const old = await trx
      .selectFrom('identity_password_history')
      .select('id')
      .where('user_id', '=', userId)
      .orderBy('id', 'desc')
      .offset(keep)
      .limit(1000)
      .execute();
    if (old.length > 0)
      await trx
        .deleteFrom('identity_password_history')
        .where(
          'id',
          'in',
          old.map((o) => o.id),
        )
        .execute();
  }

  /** Rejects a password used among the last unique_last_password_count ones. */
  async checkHistory(userId: string, password: string): Promise<void> {
    const n = this.#ix.config.security_compliance.unique_last_password_count;
    if (n <= 0) return;
    const rows = await this.#ix.db
      .selectFrom('identity_password_history')
      .select('password_hash')
      .where('user_id', '=', userId)
      .orderBy('id', 'desc')
      .limit(n)
      .execute();
    for (const r of rows)
      if (await this.#ix.passwords.verify(password, r.password_hash)) throw IdentityErrors.passwordHistory(n);
  }
}

export function userRoutes(ix: IdentityContext, reader: IdentityReader, tokens: TokenService): Route[] {
  const rules = new PasswordRules(ix);
  const target = async (ctx: RouteContext) => {
    const u = await reader.findUser(ctx.params['user_id']!);
    // Unknown users are authorised as if they existed in no domain, so a 404 follows only for those allowed to look.
    return { user: u ? { id: u.id, domain_id: u.domain_id } : { id: ctx.params['user_id'] } };
  };
  const conflict = (name: string, domainId: string) =>
    IdentityErrors.conflict('user', `Duplicate entry found with name ${name} at domain ID ${domainId}`);

  return [
    {
      method: 'POST',
      path: '/v3/users',
      body: createSchema,
      async handler(ctx) {
        const b = ctx.body.user as Record<string, unknown>;
        const a = ctx.requireAuth();
        const domainId =
          (b['domain_id'] as string | undefined) ?? a.domainId ?? a.projectDomainId ?? 'default';
        ctx.authorize('identity:create_user', { user: { domain_id: domainId } });
        await reader.getDomain(domainId);
        const options = checkOptions(b['options']);
        const password = b['password'] as string | null | undefined;
        if (typeof password === 'string') rules.check(password);
        const hash = typeof password === 'string' ? await ix.passwords.hash(password) : null;
        const id = ix.ids.hexId();
        const name = b['name'] as string;
        await uniqueOr(
          ix.write(async (trx, record) => {
            await trx
              .insertInto('identity_users')
              .values({
                id,
                name,
                domain_id: domainId,
                enabled: b['enabled'] === false ? 0 : 1,
                default_project_id: (b['default_project_id'] as string | null | undefined) ?? null,
                password_hash: null,
                password_created_at: null,
                password_expires_at: null,
                failed_auth_count: 0,
                failed_auth_at: null,
                last_active_at: null,
                options: JSON.stringify(options),
                extra: extraOf(b),
                created_at: ix.nowIso(),
              })
              .execute();
            if (hash) await rules.store(trx, id, hash, rules.expiresAt(options, true));
            record({ kind: 'user', id, action: 'create' });
          }),
          () => conflict(name, domainId),
        );
        return { status: 201, body: { user: userView(await reader.getUser(id), ctx.baseUrl()) } };
      },
    },
    {
      method: 'GET',
      path: '/v3/users',
      async handler(ctx) {
        const a = ctx.requireAuth();
        const domainId = queryOne(ctx.query, 'domain_id');
        // Keystone's target carries domain_id only for a domain-scoped token (a null would match any project token).
        ctx.authorize('identity:list_users', a.domainId ? { domain_id: a.domainId } : {});
        let q = ix.db.selectFrom('identity_users').selectAll();
        const name = queryOne(ctx.query, 'name');
        if (name !== undefined) q = q.where('name', '=', name);
        if (domainId !== undefined) q = q.where('domain_id', '=', domainId);
        const enabled = queryOne(ctx.query, 'enabled');
        if (enabled !== undefined) q = q.where('enabled', '=', parseBool(enabled, true, 'enabled') ? 1 : 0);
        // Without admin rights, a domain reader sees only its own domain.
        if (!ctx.can('identity:list_users', {}) && a.domainId) q = q.where('domain_id', '=', a.domainId);
        const rows = await q.orderBy('name').execute();
        const base = ctx.baseUrl();
        return {
          body: listBody(
            'users',
            rows.map((r) => userView(r, base)),
            base,
            'users',
          ),
        };
      },
    },
    {
      method: 'GET',
      path: '/v3/users/:user_id',
      policy: 'identity:get_user',
      target,
      async handler(ctx) {
        return { body: { user: userView(await reader.getUser(ctx.params['user_id']!), ctx.baseUrl()) } };
      },
    },
    {
      method: 'PATCH',
      path: '/v3/users/:user_id',
      policy: 'identity:update_user',
      target,
      body: updateSchema,
      async handler(ctx) {
        const id = ctx.params['user_id']!;
        const b = ctx.body.user as Record<string, unknown>;
        const cur = await reader.getUser(id);
        if (b['id'] !== undefined && b['id'] !== id) throw IdentityErrors.validation('Cannot change user ID');
        if (b['domain_id'] !== undefined && b['domain_id'] !== cur.domain_id) {
          throw IdentityErrors.validation('Cannot change Domain ID');
        }
        const options = { ...parseJson(cur.options), ...checkOptions(b['options']) };
        for (const [k, v] of Object.entries(options)) if (v === null) delete options[k];
        const password = b['password'];
        if (typeof password === 'string') rules.check(password);
        const hash = typeof password === 'string' ? await ix.passwords.hash(password) : undefined;
        const name = (b['name'] as string | undefined) ?? cur.name;
        await uniqueOr(
          ix.write(async (trx, record) => {
            const extra = JSON.parse(extraOf(b, parseJson(cur.extra))) as Record<string, unknown>;
            for (const [k, v] of Object.entries(extra))
              if (v === null && k !== 'description' && k !== 'email') delete extra[k];
            await trx
              .updateTable('identity_users')
              .set({
                name,
                enabled: b['enabled'] === undefined ? cur.enabled : b['enabled'] ? 1 : 0,
                default_project_id:
                  b['default_project_id'] === undefined
                    ? cur.default_project_id
                    : (b['default_project_id'] as string | null),
                options: JSON.stringify(options),
                extra: JSON.stringify(extra),
              })
              .where('id', '=', id)
              .execute();
            if (hash) {
              await rules.store(trx, id, hash, rules.expiresAt(options, true));
              await tokens.revoke(trx, { userId: id });
            }
            if (b['enabled'] === false) await tokens.revoke(trx, { userId: id });
            record({ kind: 'user', id, action: 'update' });
          }),
          () => conflict(name, cur.domain_id),
        );
        return { body: { user: userView(await reader.getUser(id), ctx.baseUrl()) } };
      },
    },
    {
      method: 'DELETE',
      path: '/v3/users/:user_id',
      policy: 'identity:delete_user',
      target,
      async handler(ctx) {
        const id = ctx.params['user_id']!;
        await reader.getUser(id);
        await ix.write(async (trx, record) => {
          await guardLastAdmin(trx, () => deleteUserRows(trx, id));
          await tokens.revoke(trx, { userId: id });
          record({ kind: 'user', id, action: 'delete' });
        });
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/v3/users/:user_id/password',
      auth: 'optional',
      body: passwordSchema,
      async handler(ctx) {
        const id = ctx.params['user_id']!;
        const { password, original_password } = ctx.body.user as {
          password: string;
          original_password: string;
        };
        const user = await reader.findUser(id);
        if (
          !user ||
          user.password_hash === null ||
          !(await ix.passwords.verify(original_password, user.password_hash))
        ) {
          throw IdentityErrors.unauthorized();
        }
        if (user.enabled !== 1) throw IdentityErrors.unauthorized();
        if (parseJson(user.options)['lock_password'] === true) {
          throw IdentityErrors.forbidden(`You are not allowed to change the password of user ${id}.`);
        }
        rules.check(password);
        checkMinimumAge(ix, user);
        await rules.checkHistory(id, password);
        const hash = await ix.passwords.hash(password);
        await ix.write(async (trx, record) => {
          await rules.store(trx, id, hash, rules.expiresAt(parseJson(user.options), false));
          await tokens.revoke(trx, { userId: id });
          record({ kind: 'user', id, action: 'update', data: { password: true } });
        });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/v3/users/:user_id/projects',
      policy: 'identity:list_user_projects',
      target,
      async handler(ctx) {
        const id = ctx.params['user_id']!;
        await reader.getUser(id);
        const projects = await projectsForUser(ix, reader, id);
        projects.sort((x, y) => x.name.localeCompare(y.name));
        const tags = await reader.projectTags(projects.map((p) => p.id));
        const base = ctx.baseUrl();
        return {
          body: listBody(
            'projects',
            projects.map((p) => projectView(p, base, tags.get(p.id))),
            base,
            `users/${id}/projects`,
          ),
        };
      },
    },
    {
      method: 'GET',
      path: '/v3/users/:user_id/groups',
      policy: 'identity:list_groups_for_user',
      target,
      async handler(ctx) {
        const id = ctx.params['user_id']!;
        await reader.getUser(id);
        const ids = await reader.groupIdsOf(id);
        const groups =
          ids.length === 0
            ? []
            : await ix.db.selectFrom('identity_groups').selectAll().where('id', 'in', ids).execute();
        const base = ctx.baseUrl();
        return {
          body: listBody(
            'groups',
            groups.map((g) => groupView(g, base)),
            base,
            `users/${id}/groups`,
          ),
        };
      },
    },
  ];
}

function checkMinimumAge(ix: IdentityContext, user: UserRow): void {
  const days = ix.config.security_compliance.minimum_password_age;
  if (days <= 0 || !user.password_created_at) return;
  const ready = Date.parse(user.password_created_at) + days * 86_400_000;
  if (ready > ix.now()) throw IdentityErrors.passwordAge(days, Math.ceil((ready - ix.now()) / 86_400_000));
}

/** Everything that belongs to a user, removed in the caller's transaction. */
export async function deleteUserRows(trx: IdentityTrx, id: string): Promise<void> {
  await trx.deleteFrom('identity_users').where('id', '=', id).execute();
  await trx.deleteFrom('identity_password_history').where('user_id', '=', id).execute();
  await trx.deleteFrom('identity_group_members').where('user_id', '=', id).execute();
  await trx
    .deleteFrom('identity_assignments')
    .where('actor_id', '=', id)
    .where('type', 'in', ['UserProject', 'UserDomain', 'UserSystem'])
    .execute();
  const creds = await trx
    .selectFrom('identity_app_credentials')
    .select('id')
    .where('user_id', '=', id)
    .execute();
  if (creds.length > 0) {
    await trx
      .deleteFrom('identity_app_credential_roles')
      .where(
        'app_cred_id',
        'in',
        creds.map((c) => c.id),
      )
      .execute();
  }
  await trx.deleteFrom('identity_app_credentials').where('user_id', '=', id).execute();
  await trx.deleteFrom('identity_credentials').where('user_id', '=', id).execute();
  await deleteTrustRows(trx, { userId: id });
}
