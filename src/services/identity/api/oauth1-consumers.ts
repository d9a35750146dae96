// /v3/OS-OAUTH1/consumers: OAuth1 consumers (keystone/api/os_oauth1.py ConsumerResource, oauth1/backends/sql.py).
// The secret is generated on create and returned only then; we keep its bcrypt hash, never the secret.
//
// Left out: the rest of OS-OAUTH1 (request tokens, authorization, access tokens, the oauth1 auth method); those
// paths answer 404.

import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { type IdentityContext, parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { ExtrasDb, ExtrasTrx, OAuthConsumerRow } from '../store/extras-tables.ts';
import type { IdentityReader } from '../store/reader.ts';
import { extraOf, normalizeKeys, rawQuery, requireMatchingId } from './common.ts';
import { EntityValidator, pyRepr } from './projects.schema.ts';
import { listBody } from './views.ts';

type Body = Record<string, unknown>;
type Schema = Record<string, unknown>;

// keystone/oauth1/schema.py; the update schema's `not: {required: [secret]}` is checked by hand for its message.
const consumerProperties: Schema = { description: { type: ['string', 'null'] } };
export const consumerCreateSchema: Schema = {
  type: 'object',
  properties: consumerProperties,
  additionalProperties: true,
};
export const consumerUpdateSchema: Schema = {
  type: 'object',
  properties: consumerProperties,
  minProperties: 1,
  additionalProperties: true,
};

const CONSUMER_COLUMNS = ['id', 'description', 'secret'];
const PATH = 'OS-OAUTH1/consumers';

export function consumerView(r: OAuthConsumerRow, base: string): Body {
  return {
    ...parseJson(r.extra),
    id: r.id,
    description: r.description,
    links: { self: `${base}/v3/${PATH}/${r.id}` },
  };
}

/** Keystone raises a bare NotFound here, so the message has no id. */
const consumerNotFound = () => new ApiError(404, 'NotFound', 'Consumer not found');

export function oauthConsumerRoutes(ix: IdentityContext, _reader: IdentityReader): Route[] {
  const v = new EntityValidator();
  const db = () => ix.db as unknown as ExtrasDb;
  const find = (id: string, from: ExtrasDb = db()) =>
    from.selectFrom('identity_oauth_consumers').selectAll().where('id', '=', id).executeTakeFirst();

  async function create(ctx: RouteContext) {
    const c = normalizeKeys(v.entity(ctx, 'consumer', consumerCreateSchema, {}));
    const secret = ix.ids.hexId();
    const row: OAuthConsumerRow = {
      id: ix.ids.hexId(),
      description: (c['description'] as string | null | undefined) ?? null,
      secret_hash: await ix.passwords.hash(secret),
      extra: JSON.stringify(extraOf(c, CONSUMER_COLUMNS)),
    };
    await ix.write(async (trx, record) => {
      await (trx as unknown as ExtrasTrx).insertInto('identity_oauth_consumers').values(row).execute();
      record({ kind: 'oauth_consumer', id: row.id, action: 'create' });
    });
    const view = consumerView(row, ctx.baseUrl());
    return { status: 201, body: { consumer: { ...view, secret } } };
  }

  async function list(ctx: RouteContext) {
    const rows = await db().selectFrom('identity_oauth_consumers').selectAll().orderBy('id').execute();
    const base = ctx.baseUrl();
    // Keystone lists consumers without hints: no filters, no list_limit.
    return {
      body: listBody(
        'consumers',
        rows.map((r) => consumerView(r, base)),
        base,
        PATH,
        rawQuery(ctx),
      ),
    };
  }

  async function show(ctx: RouteContext) {
    const row = await find(ctx.params['consumer_id'] ?? '');
    if (!row) throw consumerNotFound();
    return { body: { consumer: consumerView(row, ctx.baseUrl()) } };
  }

  async function update(ctx: RouteContext) {
    const id = ctx.params['consumer_id'] ?? '';
    const raw = v.entity(ctx, 'consumer', consumerUpdateSchema, {});
    if ('secret' in raw) {
      throw IdentityErrors.validation(`${pyRepr(raw)} should not be valid under {'required': ['secret']}`);
    }
    const c = normalizeKeys(raw);
    requireMatchingId(c, id);
    const row = await ix.write(async (trx, record) => {
      const t = trx as unknown as ExtrasTrx;
      const orig = await find(id, t);
      if (!orig) throw consumerNotFound();
      const row: OAuthConsumerRow = {
        ...orig,
        description: 'description' in c ? ((c['description'] as string | null) ?? null) : orig.description,
        extra: JSON.stringify({ ...parseJson(orig.extra), ...extraOf(c, CONSUMER_COLUMNS) }),
      };
      await t
        .updateTable('identity_oauth_consumers')
        .set({ description: row.description, extra: row.extra })
        .where('id', '=', id)
        .execute();
      record({ kind: 'oauth_consumer', id, action: 'update' });
      return row;
    });
    return { body: { consumer: consumerView(row, ctx.baseUrl()) } };
  }

  async function remove(ctx: RouteContext) {
    const id = ctx.params['consumer_id'] ?? '';
    await ix.write(async (trx, record) => {
      const res = await (trx as unknown as ExtrasTrx)
        .deleteFrom('identity_oauth_consumers')
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw consumerNotFound();
      record({ kind: 'oauth_consumer', id, action: 'delete' });
    });
    return { status: 204 };
  }

  const C = `/v3/${PATH}/:consumer_id`;
  return [
    { method: 'GET', path: `/v3/${PATH}`, policy: 'identity:list_consumers', handler: list },
    { method: 'POST', path: `/v3/${PATH}`, policy: 'identity:create_consumer', handler: create },
    { method: 'GET', path: C, policy: 'identity:get_consumer', handler: show },
    { method: 'PATCH', path: C, policy: 'identity:update_consumer', handler: update },
    { method: 'DELETE', path: C, policy: 'identity:delete_consumer', handler: remove },
  ];
}
