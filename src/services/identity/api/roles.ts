// /v3/roles (global and domain-specific), implied roles (/v3/roles/{prior}/implies[/{implied}]) and
// /v3/role_inferences, as Keystone's api/roles.py and api/role_inferences.py.
import { uniqueOr } from '../../../platform/db/errors.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { type IdentityContext, type IdentityDb, parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import { GLOBAL_ROLE_DOMAIN, type RoleRow } from '../store/tables.ts';
import { assignmentKey, findRole, getRole, guardLastAdmin, roleTarget } from './assignments.ts';
import {
  filterBy as applyFilters,
  collection,
  memberOf,
  normalizeKeys,
  queryFirst,
  validateResource,
} from './common.ts';
import { roleCreateSchema, roleUpdateSchema } from './roles.schema.ts';
import { roleView } from './views.ts';

/** Role attributes with columns of their own; anything else a client sends is kept in `extra`. */
const COLUMNS = new Set(['id', 'name', 'domain_id', 'description', 'options', 'links']);

/** Keystone's [assignment] prohibited_implied_role default. */
const PROHIBITED_IMPLIED = new Set(['admin']);

const isDomainRole = (r: RoleRow) => r.domain_id !== GLOBAL_ROLE_DOMAIN;

const roleConflict = (name: string, domainId: string | null) =>
  IdentityErrors.conflict(
    'role',
    domainId
      ? `Duplicate entry found with name ${name} at domain ID ${domainId}`
      : `Duplicate entry found with name ${name}`,
  );

/** InvalidImpliedRole is a SecurityError: whatever the reason, the caller sees the generic text. */
const invalidImplied = (roleId: string) =>
  new ApiError(403, 'InvalidImpliedRole', `${roleId} cannot be an implied roles.`);

const impliedNotFound = (prior: string, implied: string) =>
  new ApiError(404, 'ImpliedRoleNotFound', `${prior} does not imply ${implied}.`);

const immutable = (r: RoleRow) => parseJson(r.options)['immutable'] === true;

/** Resource options: merged into the current ones; a null value removes the option. */
function mergeOptions(current: Record<string, unknown>, given: unknown): Record<string, unknown> {
  const out = { ...current };
  if (given && typeof given === 'object') {
    for (const [k, v] of Object.entries(given as Record<string, unknown>)) {
      if (v === null) delete out[k];
      else out[k] = v;
    }
  }
  return out;
}

const roleLink = (base: string, id: string) => ({ self: `${base}/v3/roles/${id}` });
/** build_prior_role_response_data / build_implied_role_response_data. */
const inferenceRef = (r: RoleRow, base: string) => ({ id: r.id, links: roleLink(base, r.id), name: r.name });

export function roleRoutes(ix: IdentityContext, reader: IdentityReader): Route[] {
  const db = ix.db;

  /**
   * Keystone enforces the global-role rule when the role is unknown or global (then raises the 404), and
   * the domain-role rule, with the role as target, for a domain-specific role.
   */
  const authorizeRole = async (ctx: RouteContext, action: 'get' | 'update' | 'delete'): Promise<RoleRow> => {
    const id = ctx.params['role_id']!;
    const role = await findRole(db, id);
    if (!role || !isDomainRole(role)) {
      ctx.authorize(`identity:${action}_role`, {});
      if (!role) throw IdentityErrors.notFound('role', id);
      return role;
    }
    ctx.authorize(`identity:${action}_domain_role`, { role: roleTarget(role) });
    return role;
  };

  /** _build_enforcement_target_ref: both roles must exist (404 before policy). */
  const impliedTarget = async (ctx: RouteContext): Promise<Record<string, unknown>> => {
    const t: Record<string, unknown> = {
      prior_role: roleTarget(await getRole(db, ctx.params['prior_role_id']!)),
    };
    const implied = ctx.params['implied_role_id'];
    if (implied !== undefined) t['implied_role'] = roleTarget(await getRole(db, implied));
    return t;
  };

  const findImplication = (prior: string, implied: string, on: IdentityDb = db) =>
    on
      .selectFrom('identity_implied_roles')
      .selectAll()
      .where('prior_role_id', '=', prior)
      .where('implied_role_id', '=', implied)
      .executeTakeFirst();

  const implicationBody = async (ctx: RouteContext, priorId: string, impliedId: string) => {
    const base = ctx.baseUrl();
    const prior = await getRole(db, priorId);
    const implied = await getRole(db, impliedId);
    return {
      role_inference: { prior_role: inferenceRef(prior, base), implies: inferenceRef(implied, base) },
      links: { self: `${base}/v3/roles/${priorId}/implies/${impliedId}` },
    };
  };

  return [
    {
      method: ['GET', 'HEAD'],
      path: '/v3/roles',
      async handler(ctx) {
        const domainFilter = queryFirst(ctx.query, 'domain_id');
        ctx.authorize(domainFilter ? 'identity:list_domain_roles' : 'identity:list_roles', {});
        let rows = await db
          .selectFrom('identity_roles')
          .selectAll()
          .where('domain_id', '=', domainFilter || GLOBAL_ROLE_DOMAIN)
          .orderBy('name')
          .orderBy('id')
          .execute();
        rows = applyFilters(rows, ctx.query, ['name'], (r) => ({ name: r.name }));
        const base = ctx.baseUrl();
        return {
          body: collection(
            ix,
            ctx,
            'roles',
            rows.map((r) => roleView(r, base)),
            'roles',
          ),
        };
      },
    },
    {
      method: 'POST',
      path: '/v3/roles',
      async handler(ctx) {
        const raw = memberOf(ctx.body, 'role');
        const rawDomain =
          raw && typeof raw === 'object' ? (raw as Record<string, unknown>)['domain_id'] : undefined;
        ctx.authorize(rawDomain ? 'identity:create_domain_role' : 'identity:create_role', {});
        validateResource(roleCreateSchema, raw);
        const role = normalizeKeys(raw as Record<string, unknown>);
        const domainId = (role['domain_id'] as string | null | undefined) || null;
        const id = ix.ids.hexId();
        const name = role['name'] as string;
        const extra: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(role)) if (!COLUMNS.has(k)) extra[k] = v;
        const row: RoleRow = {
          id,
          name,
          domain_id: domainId ?? GLOBAL_ROLE_DOMAIN,
          description: (role['description'] as string | undefined) ?? '',
          options: JSON.stringify(mergeOptions({}, role['options'])),
          extra: JSON.stringify(extra),
        };
        await uniqueOr(
          ix.write(async (trx, record) => {
            // Keystone does not check the domain; a role in a domain that does not exist could never be used.
            if (domainId) await reader.getDomain(domainId, trx);
            await trx.insertInto('identity_roles').values(row).execute();
            record({ kind: 'role', id, action: 'create' });
          }),
          () => roleConflict(name, domainId),
        );
        return { status: 201, body: { role: roleView(row, ctx.baseUrl()) } };
      },
    },
    {
      method: ['GET', 'HEAD'],
      path: '/v3/roles/:role_id',
      async handler(ctx) {
        const role = await authorizeRole(ctx, 'get');
        return { body: { role: roleView(role, ctx.baseUrl()) } };
      },
    },
    {
      method: 'PATCH',
      path: '/v3/roles/:role_id',
      async handler(ctx) {
        const cur = await authorizeRole(ctx, 'update');
        const id = cur.id;
        const raw = memberOf(ctx.body, 'role');
        validateResource(roleUpdateSchema, raw);
        const patch = raw as Record<string, unknown>;
        if (patch['id'] !== undefined && patch['id'] !== null && patch['id'] !== id) {
          throw IdentityErrors.validation('Cannot change ID');
        }
        if (immutable(cur)) {
          // Only `{"options": {"immutable": false|null}}` may touch an immutable role.
          const opts = (patch['options'] ?? {}) as Record<string, unknown>;
          if (
            Object.keys(patch).length > 1 ||
            !('immutable' in opts) ||
            ![false, null].includes(opts['immutable'] as never)
          ) {
            throw new ApiError(
              403,
              'ResourceUpdateForbidden',
              `Unable to update immutable role resource: \`${id}. Set resource option "immutable" to false first.`,
            );
          }
        }
        const curDomain = isDomainRole(cur) ? cur.domain_id : null;
        if ('domain_id' in patch && patch['domain_id'] !== curDomain) {
          throw IdentityErrors.validation('Update of `domain_id` is not allowed.');
        }
        const extra = parseJson(cur.extra);
        for (const [k, v] of Object.entries(normalizeKeys(patch))) if (!COLUMNS.has(k)) extra[k] = v;
        const next: RoleRow = {
          ...cur,
          name: typeof patch['name'] === 'string' ? patch['name'] : cur.name,
          description: typeof patch['description'] === 'string' ? patch['description'] : cur.description,
          options: JSON.stringify(mergeOptions(parseJson(cur.options), patch['options'])),
          extra: JSON.stringify(extra),
        };
        await uniqueOr(
          ix.write(async (trx, record) => {
            const res = await trx
              .updateTable('identity_roles')
              .set({
                name: next.name,
                description: next.description,
                options: next.options,
                extra: next.extra,
              })
              .where('id', '=', id)
              .executeTakeFirst();
            if (Number(res.numUpdatedRows) === 0) throw IdentityErrors.notFound('role', id);
            record({ kind: 'role', id, action: 'update' });
          }),
          () => roleConflict(next.name, 'domain_id' in patch ? curDomain : null),
        );
        return { body: { role: roleView(next, ctx.baseUrl()) } };
      },
    },
    {
      method: 'DELETE',
      path: '/v3/roles/:role_id',
      async handler(ctx) {
        const role = await authorizeRole(ctx, 'delete');
        const id = role.id;
        if (immutable(role)) {
          throw new ApiError(
            403,
            'ResourceDeleteForbidden',
            `Unable to delete immutable role resource: \`${id}. Set resource option "immutable" to false first.`,
          );
        }
        await ix.write(async (trx, record) => {
          await guardLastAdmin(trx, async () => {
            const assignments = await trx
              .selectFrom('identity_assignments')
              .selectAll()
              .where('role_id', '=', id)
              .execute();
            // Keystone deletes the application credentials of users assigned this role on a project.
            const pairs = assignments.filter((a) => a.type === 'UserProject');
            for (const p of pairs) {
              const creds = await trx
                .selectFrom('identity_app_credentials')
                .select('id')
                .where('user_id', '=', p.actor_id)
                .where('project_id', '=', p.target_id)
                .execute();
              if (creds.length === 0) continue;
              const credIds = creds.map((c) => c.id);
              await trx
                .deleteFrom('identity_app_credential_roles')
                .where('app_cred_id', 'in', credIds)
                .execute();
              await trx.deleteFrom('identity_app_credentials').where('id', 'in', credIds).execute();
              for (const c of credIds) record({ kind: 'application_credential', id: c, action: 'delete' });
            }
            await trx.deleteFrom('identity_assignments').where('role_id', '=', id).execute();
            await trx
              .deleteFrom('identity_implied_roles')
              .where((eb) => eb.or([eb('prior_role_id', '=', id), eb('implied_role_id', '=', id)]))
              .execute();
            const res = await trx.deleteFrom('identity_roles').where('id', '=', id).executeTakeFirst();
            if (Number(res.numDeletedRows) === 0) throw IdentityErrors.notFound('role', id);
            for (const a of assignments)
              record({ kind: 'role_assignment', id: assignmentKey(a), action: 'delete' });
          });
          record({ kind: 'role', id, action: 'delete' });
        });
        return { status: 204 };
      },
    },

    // Implied roles. HEAD is declared before GET so fastify does not derive its own HEAD from the GET.
    {
      method: ['GET', 'HEAD'],
      path: '/v3/roles/:prior_role_id/implies',
      policy: 'identity:list_implied_roles',
      target: impliedTarget,
      async handler(ctx) {
        const priorId = ctx.params['prior_role_id']!;
        const base = ctx.baseUrl();
        const prior = await getRole(db, priorId);
        const rows = await db
          .selectFrom('identity_implied_roles')
          .selectAll()
          .where('prior_role_id', '=', priorId)
          .execute();
        const implies = [];
        for (const r of rows) {
          const implied = await findRole(db, r.implied_role_id);
          if (implied) implies.push(inferenceRef(implied, base));
        }
        return {
          body: {
            role_inference: { prior_role: inferenceRef(prior, base), implies },
            links: { self: `${base}/v3/roles/${priorId}/implies` },
          },
        };
      },
    },
    {
      method: 'HEAD',
      path: '/v3/roles/:prior_role_id/implies/:implied_role_id',
      policy: 'identity:check_implied_role',
      target: impliedTarget,
      async handler(ctx) {
        const prior = ctx.params['prior_role_id']!;
        const implied = ctx.params['implied_role_id']!;
        // Keystone's HEAD also enforces get_implied_role (it calls its GET).
        ctx.authorize('identity:get_implied_role', await impliedTarget(ctx));
        if (!(await findImplication(prior, implied))) throw impliedNotFound(prior, implied);
        // Keystone documents 204 here, not 200.
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/v3/roles/:prior_role_id/implies/:implied_role_id',
      policy: 'identity:get_implied_role',
      target: impliedTarget,
      async handler(ctx) {
        const prior = ctx.params['prior_role_id']!;
        const implied = ctx.params['implied_role_id']!;
        if (!(await findImplication(prior, implied))) throw impliedNotFound(prior, implied);
        return { body: await implicationBody(ctx, prior, implied) };
      },
    },
    {
      method: 'PUT',
      path: '/v3/roles/:prior_role_id/implies/:implied_role_id',
      policy: 'identity:create_implied_role',
      target: impliedTarget,
      async handler(ctx) {
        const priorId = ctx.params['prior_role_id']!;
        const impliedId = ctx.params['implied_role_id']!;
        await uniqueOr(
          ix.write(async (trx, record) => {
            const prior = await getRole(trx, priorId);
            const implied = await getRole(trx, impliedId);
            if (PROHIBITED_IMPLIED.has(implied.name)) throw invalidImplied(impliedId);
            // 'Global role cannot imply a domain-specific role' (shown as the generic InvalidImpliedRole text).
            if (!isDomainRole(prior) && isDomainRole(implied)) throw invalidImplied(impliedId);
            if (await findImplication(priorId, impliedId, trx)) {
              throw IdentityErrors.conflict('implied_role', 'Duplicate entry');
            }
            // Keystone tolerates cycles (its expansion skips them); Monostack refuses a rule that would close
            // one, prior → … → prior, with the same InvalidImpliedRole answer, since a cycle makes every role in it
            // imply all the others and is never what an operator meant.
            const rows = await trx.selectFrom('identity_implied_roles').selectAll().execute();
            const next = new Map<string, string[]>();
            for (const r of rows)
              next.set(r.prior_role_id, [...(next.get(r.prior_role_id) ?? []), r.implied_role_id]);
            const seen = new Set<string>();
            const stack = [impliedId];
            while (stack.length > 0) {
              const cur = stack.pop()!;
              if (cur === priorId) throw invalidImplied(impliedId);
              if (seen.has(cur)) continue;
              seen.add(cur);
              stack.push(...(next.get(cur) ?? []));
            }
            await trx
              .insertInto('identity_implied_roles')
              .values({ prior_role_id: priorId, implied_role_id: impliedId })
              .execute();
            record({ kind: 'implied_role', id: `${priorId}:${impliedId}`, action: 'create' });
          }),
          () => IdentityErrors.conflict('implied_role', 'Duplicate entry'),
        );
        return { status: 201, body: await implicationBody(ctx, priorId, impliedId) };
      },
    },
    {
      method: 'DELETE',
      path: '/v3/roles/:prior_role_id/implies/:implied_role_id',
      policy: 'identity:delete_implied_role',
      target: impliedTarget,
      async handler(ctx) {
        const prior = ctx.params['prior_role_id']!;
        const implied = ctx.params['implied_role_id']!;
        await ix.write(async (trx, record) => {
          await guardLastAdmin(trx, async () => {
            const res = await trx
              .deleteFrom('identity_implied_roles')
              .where('prior_role_id', '=', prior)
              .where('implied_role_id', '=', implied)
              .executeTakeFirst();
            if (Number(res.numDeletedRows) === 0) throw impliedNotFound(prior, implied);
          });
          record({ kind: 'implied_role', id: `${prior}:${implied}`, action: 'delete' });
        });
        return { status: 204 };
      },
    },
    {
      method: ['GET', 'HEAD'],
      path: '/v3/role_inferences',
      policy: 'identity:list_role_inference_rules',
      async handler(ctx) {
        const base = ctx.baseUrl();
        const rows = await db.selectFrom('identity_implied_roles').selectAll().execute();
        const roles = new Map(
          (await db.selectFrom('identity_roles').selectAll().execute()).map((r) => [r.id, r]),
        );
        const rules = new Map<string, unknown[]>();
        for (const r of rows) {
          const implied = roles.get(r.implied_role_id);
          if (!implied || !roles.has(r.prior_role_id)) continue;
          rules.set(r.prior_role_id, [...(rules.get(r.prior_role_id) ?? []), inferenceRef(implied, base)]);
        }
        const inferences = [...rules].map(([priorId, implies]) => ({
          prior_role: inferenceRef(roles.get(priorId)!, base),
          implies,
        }));
        return { body: { role_inferences: inferences } };
      },
    },
  ];
}
