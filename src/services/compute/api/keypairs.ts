// /os-keypairs: a user's SSH (and x509) key pairs (nova/api/openstack/compute/keypairs.py): 2.2 type, 2.10
// user_id for admins, 2.35 pagination, 2.92 import only.
import { ApiError } from '../../../platform/errors.ts';
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { generateSshKey, generateX509, sshFingerprint, x509Fingerprint } from '../domain/keypair-crypto.ts';
import { ComputeErrors } from '../errors.ts';
import { countKeypairs, getLimits, within } from '../store/quotas.ts';
import type { KeypairRow } from '../store/tables.ts';
import { limitAndMarker, nextLinks } from './common.ts';
import { V } from './flavors.ts';
import { naive, strictQuery, validateBody } from './resource-common.ts';
import { keypairCreate } from './schemas/keypairs.schema.ts';

/** The user a request acts for: ?user_id= from 2.10 (policy decides who may name another user). */
function targetUser(ctx: RouteContext): string {
  const asked = ctx.mv!.atLeast('2.10') ? queryOne(ctx.query, 'user_id') : undefined;
  return asked || ctx.requireAuth().userId;
}

function typed(ctx: RouteContext, row: KeypairRow, base: Record<string, unknown>): Record<string, unknown> {
  return ctx.mv!.atLeast('2.2') ? { ...base, type: row.type } : base;
}

async function findKeypair(cx: ComputeContext, userId: string, name: string): Promise<KeypairRow> {
  const row = await cx.db
    .selectFrom('compute_keypairs')
    .selectAll()
    .where('user_id', '=', userId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw ComputeErrors.keypairNotFound(name, userId);
  return row;
}

async function list(cx: ComputeContext, ctx: RouteContext) {
  const paged = ctx.mv!.atLeast('2.35');
  strictQuery(ctx, paged ? ['user_id', 'limit', 'marker'] : ['user_id']);
  const userId = targetUser(ctx);
  ctx.authorize('os_compute_api:os-keypairs:index', { user_id: userId });
  let rows = await cx.db
    .selectFrom('compute_keypairs')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('name')
    .orderBy('id')
    .execute();
  let limit = rows.length;
  if (paged) {
    const lm = limitAndMarker(ctx, cx.config.max_limit);
    limit = lm.limit;
    if (lm.marker !== undefined) {
      const i = rows.findIndex((r) => r.name === lm.marker);
      if (i < 0) throw new ApiError(400, 'MarkerNotFound', `Marker ${lm.marker} could not be found.`);
      rows = rows.slice(i + 1);
    }
    rows = rows.slice(0, limit);
  }
  const body: Record<string, unknown> = {
    keypairs: rows.map((r) => ({
      keypair: typed(ctx, r, { name: r.name, public_key: r.public_key, fingerprint: r.fingerprint }),
    })),
  };
  if (paged) {
    const links = nextLinks(
      ctx,
      'os-keypairs',
      rows.map((r) => ({ id: r.name })),
      limit,
    );
    if (links) body['keypairs_links'] = links;
  }
  return { body };
}

async function show(cx: ComputeContext, ctx: RouteContext) {
  strictQuery(ctx, ['user_id']);
  const userId = targetUser(ctx);
  ctx.authorize('os_compute_api:os-keypairs:show', { user_id: userId });
  const r = await findKeypair(cx, userId, ctx.params['name'] ?? '');
  const base = {
    name: r.name,
    public_key: r.public_key,
    fingerprint: r.fingerprint,
    user_id: r.user_id,
    created_at: naive(r.created_at),
    deleted: false,
    deleted_at: null,
    id: Number(r.id),
    updated_at: null,
  };
  return { body: { keypair: typed(ctx, r, base) } };
}

async function create(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, keypairCreate);
  const params = (ctx.body as { keypair: Record<string, string> }).keypair;
  const name = params['name']!.trim();
  const type = params['type'] ?? 'ssh';
  const userId = (ctx.mv!.atLeast('2.10') ? params['user_id'] : undefined) || ctx.requireAuth().userId;
  ctx.authorize('os_compute_api:os-keypairs:create', { user_id: userId });
  const projectId = ctx.auth?.projectId ?? '';
  const limits = await getLimits(cx.db, cx.config, projectId, userId);
  if (!within(limits['key_pairs'] ?? -1, await countKeypairs(cx.db, userId), 1)) {
    throw ComputeErrors.quotaExceeded('Quota exceeded, too many key pairs.');
  }
  let key: { publicKey: string; privateKey?: string; fingerprint: string };
  if (params['public_key'] !== undefined) {
    const pk = params['public_key'];
    key = { publicKey: pk, fingerprint: type === 'x509' ? x509Fingerprint(pk) : sshFingerprint(pk) };
  } else {
    key = type === 'x509' ? await generateX509(userId) : generateSshKey();
  }
  const row = await cx.write(async (trx, record) => {
    const exists = await trx
      .selectFrom('compute_keypairs')
      .select('id')
      .where('user_id', '=', userId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (exists) throw ComputeErrors.conflict(`Key pair '${name}' already exists.`);
    const used = await countKeypairs(trx, userId);
    if (!within(limits['key_pairs'] ?? -1, used, 1)) {
      throw ComputeErrors.quotaExceeded('Quota exceeded, too many key pairs.');
    }
    const values = {
      user_id: userId,
      name,
      type,
      public_key: key.publicKey,
      fingerprint: key.fingerprint,
      created_at: cx.nowIso(),
    };
    await trx.insertInto('compute_keypairs').values(values).execute();
    record({ kind: 'keypair', id: `${userId}/${name}`, action: 'create', projectId });
    return values;
  });
  const out: Record<string, unknown> = {};
  if (key.privateKey !== undefined) out['private_key'] = key.privateKey;
  if (ctx.mv!.atLeast('2.2')) out['type'] = row.type;
  Object.assign(out, {
    name: row.name,
    public_key: row.public_key,
    fingerprint: row.fingerprint,
    user_id: userId,
  });
  return { status: ctx.mv!.atLeast('2.2') ? 201 : 200, body: { keypair: out } };
}

async function remove(cx: ComputeContext, ctx: RouteContext) {
  strictQuery(ctx, ['user_id']);
  const userId = targetUser(ctx);
  ctx.authorize('os_compute_api:os-keypairs:delete', { user_id: userId });
  const name = ctx.params['name'] ?? '';
  await cx.write(async (trx, record) => {
    const res = await trx
      .deleteFrom('compute_keypairs')
      .where('user_id', '=', userId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw ComputeErrors.keypairNotFound(name, userId);
    record({ kind: 'keypair', id: `${userId}/${name}`, action: 'delete' });
  });
  return { status: ctx.mv!.atLeast('2.2') ? 204 : 202 };
}

export function keypairRoutes(cx: ComputeContext): Route[] {
  return [
    { method: 'GET', path: `${V}/os-keypairs`, handler: (ctx) => list(cx, ctx) },
    { method: 'POST', path: `${V}/os-keypairs`, handler: (ctx) => create(cx, ctx) },
    { method: 'GET', path: `${V}/os-keypairs/:name`, handler: (ctx) => show(cx, ctx) },
    { method: 'DELETE', path: `${V}/os-keypairs/:name`, handler: (ctx) => remove(cx, ctx) },
  ];
}
