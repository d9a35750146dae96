// /v3/policies: Keystone's (deprecated) policy blob store (keystone/api/policy.py, policy/backends/sql.py): an
// opaque blob with a type and any extra attributes. Nothing in the cloud reads these blobs.
//
// Left out: the OS-ENDPOINT-POLICY associations (/v3/policies/{id}/OS-ENDPOINT-POLICY/…, and
// /v3/endpoints/{id}/OS-ENDPOINT-POLICY/policy); those paths answer 404. Their rules stay in policy-catalog.ts.
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { type IdentityContext, parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { ExtrasDb, ExtrasTrx, PolicyRow } from '../store/extras-tables.ts';
import type { IdentityReader } from '../store/reader.ts';
import { applyFilters, extraOf, normalizeKeys, rawQuery, truncate } from './common.ts';
import { EntityValidator } from './projects.schema.ts';
import { listBody } from './views.ts';

type Body = Record<string, unknown>;
type Schema = Record<string, unknown>;

// keystone/policy/schema.py
const policyProperties: Schema = {
  blob: { type: 'string' },
  type: { type: 'string', maxLength: 255 },
};
export const policyCreateSchema: Schema = {
  type: 'object',
  properties: policyProperties,
  required: ['blob', 'type'],
  additionalProperties: true,
};
export const policyUpdateSchema: Schema = {
  type: 'object',
  properties: policyProperties,
  minProperties: 1,
  additionalProperties: true,
};

const POLICY_COLUMNS = ['id', 'blob', 'type'];

export function policyView(r: PolicyRow, base: string): Body {
  return {
    ...parseJson(r.extra),
    id: r.id,
    blob: r.blob,
    type: r.type,
    links: { self: `${base}/v3/policies/${r.id}` },
  };
}

const policyNotFound = (id: string) => IdentityErrors.notFound('policy', id);

export function policyRoutes(ix: IdentityContext, _reader: IdentityReader): Route[] {
  const v = new EntityValidator();
  const db = () => ix.db as unknown as ExtrasDb;
  const find = (id: string, from: ExtrasDb = db()) =>
    from.selectFrom('identity_policies').selectAll().where('id', '=', id).executeTakeFirst();

  async function create(ctx: RouteContext) {
    const raw = v.entity(ctx, 'policy', policyCreateSchema, {});
    const p = normalizeKeys(raw);
    const row: PolicyRow = {
      id: ix.ids.hexId(),
      blob: p['blob'] as string,
      type: p['type'] as string,
      extra: JSON.stringify(extraOf(p, POLICY_COLUMNS)),
    };
    await ix.write(async (trx, record) => {
      await (trx as unknown as ExtrasTrx).insertInto('identity_policies').values(row).execute();
      record({ kind: 'policy', id: row.id, action: 'create' });
    });
    return { status: 201, body: { policy: policyView(row, ctx.baseUrl()) } };
  }

  async function list(ctx: RouteContext) {
    const rows = await db().selectFrom('identity_policies').selectAll().orderBy('id').execute();
    const base = ctx.baseUrl();
    const items = applyFilters(
      ctx,
      rows.map((r) => policyView(r, base)),
      ['type'],
    );
    const page = truncate(items, ix.config.list_limit);
    const body = listBody('policies', page.items, base, 'policies', rawQuery(ctx));
    if (page.truncated) body['truncated'] = true;
    return { body };
  }

  async function show(ctx: RouteContext) {
    const id = ctx.params['policy_id'] ?? '';
    const row = await find(id);
    if (!row) throw policyNotFound(id);
    return { body: { policy: policyView(row, ctx.baseUrl()) } };
  }

  async function update(ctx: RouteContext) {
    const id = ctx.params['policy_id'] ?? '';
    // Keystone does not normalise the keys of a policy update.
    const p = v.entity(ctx, 'policy', policyUpdateSchema, {});
    if ('id' in p && p['id'] !== id) throw IdentityErrors.validation('Cannot change policy ID');
    const row = await ix.write(async (trx, record) => {
      const t = trx as unknown as ExtrasTrx;
      const orig = await find(id, t);
      if (!orig) throw policyNotFound(id);
      const row: PolicyRow = {
        id,
        blob: typeof p['blob'] === 'string' ? p['blob'] : orig.blob,
        type: typeof p['type'] === 'string' ? p['type'] : orig.type,
        extra: JSON.stringify({ ...parseJson(orig.extra), ...extraOf(p, POLICY_COLUMNS) }),
      };
      await t
        .updateTable('identity_policies')
        .set({ blob: row.blob, type: row.type, extra: row.extra })
        .where('id', '=', id)
        .execute();
      record({ kind: 'policy', id, action: 'update' });
      return row;
    });
    return { body: { policy: policyView(row, ctx.baseUrl()) } };
  }

  async function remove(ctx: RouteContext) {
    const id = ctx.params['policy_id'] ?? '';
    await ix.write(async (trx, record) => {
      const res = await (trx as unknown as ExtrasTrx)
        .deleteFrom('identity_policies')
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw policyNotFound(id);
      record({ kind: 'policy', id, action: 'delete' });
    });
    return { status: 204 };
  }

  const P = '/v3/policies/:policy_id';
  return [
    { method: 'GET', path: '/v3/policies', policy: 'identity:list_policies', handler: list },
    { method: 'POST', path: '/v3/policies', policy: 'identity:create_policy', handler: create },
    { method: 'GET', path: P, policy: 'identity:get_policy', handler: show },
    { method: 'PATCH', path: P, policy: 'identity:update_policy', handler: update },
    { method: 'DELETE', path: P, policy: 'identity:delete_policy', handler: remove },
  ];
}
