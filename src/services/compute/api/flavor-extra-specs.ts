// /flavors/{id}/os-extra_specs: a flavor's key/value extra specs (nova/api/openstack/compute/flavors_extraspecs.py).
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { findFlavor, V } from './flavors.ts';
import { extraSpecsOf } from './flavors.view.ts';
import { validateBody } from './resource-common.ts';
import { flavorExtraSpecsCreate, flavorExtraSpecUpdate } from './schemas/flavors.schema.ts';

function own(ctx: RouteContext) {
  return { project_id: ctx.auth?.projectId ?? null, user_id: ctx.auth?.userId ?? null };
}

/** Numbers are stored as their text (at most 255 characters), as Nova's DictOfStringsField keeps them. */
function asStrings(specs: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(specs)) {
    const s = String(v);
    if (s.length > 255) {
      throw new ApiError(
        400,
        'InvalidInput',
        'Invalid input received: extra_specs value has more than 255 characters.',
      );
    }
    out[k] = s;
  }
  return out;
}

function noKey(flavorId: string, key: string): ApiError {
  return new ApiError(
    404,
    'FlavorExtraSpecsNotFound',
    `Flavor ${flavorId} has no extra specs with key ${key}.`,
  );
}

async function index(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-flavor-extra-specs:index', own(ctx));
  const row = await findFlavor(cx.db, ctx, ctx.params['flavor_id'] ?? '');
  return { body: { extra_specs: extraSpecsOf(row) } };
}

async function show(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-flavor-extra-specs:show', own(ctx));
  const key = ctx.params['key'] ?? '';
  const row = await findFlavor(cx.db, ctx, ctx.params['flavor_id'] ?? '');
  const specs = extraSpecsOf(row);
  if (!Object.hasOwn(specs, key)) throw noKey(ctx.params['flavor_id'] ?? '', key);
  return { body: { [key]: specs[key] } };
}

async function merge(cx: ComputeContext, ctx: RouteContext, given: Record<string, unknown>) {
  const specs = asStrings(given);
  await cx.write(async (trx, record) => {
    const row = await findFlavor(trx, ctx, ctx.params['flavor_id'] ?? '');
    const merged = { ...extraSpecsOf(row), ...specs };
    await trx
      .updateTable('compute_flavors')
      .set({ extra_specs: JSON.stringify(merged), updated_at: cx.nowIso() })
      .where('id', '=', row.id)
      .execute();
    record({ kind: 'flavor', id: row.id, action: 'update' });
  });
}

async function create(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, flavorExtraSpecsCreate);
  ctx.authorize('os_compute_api:os-flavor-extra-specs:create', {});
  await merge(cx, ctx, (ctx.body as { extra_specs: Record<string, unknown> }).extra_specs);
  return { body: ctx.body };
}

async function update(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, flavorExtraSpecUpdate);
  ctx.authorize('os_compute_api:os-flavor-extra-specs:update', {});
  const body = ctx.body as Record<string, unknown>;
  if (!Object.hasOwn(body, ctx.params['key'] ?? '')) {
    throw new ApiError(400, 'BadRequest', 'Request body and URI mismatch');
  }
  await merge(cx, ctx, body);
  return { body };
}

async function remove(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-flavor-extra-specs:delete', {});
  const key = ctx.params['key'] ?? '';
  await cx.write(async (trx, record) => {
    const row = await findFlavor(trx, ctx, ctx.params['flavor_id'] ?? '');
    const specs = extraSpecsOf(row);
    if (!Object.hasOwn(specs, key)) throw noKey(row.id, key);
    delete specs[key];
    await trx
      .updateTable('compute_flavors')
      .set({ extra_specs: JSON.stringify(specs), updated_at: cx.nowIso() })
      .where('id', '=', row.id)
      .execute();
    record({ kind: 'flavor', id: row.id, action: 'update' });
  });
  return { status: 200 };
}

export function flavorExtraSpecRoutes(cx: ComputeContext): Route[] {
  const base = `${V}/flavors/:flavor_id/os-extra_specs`;
  return [
    { method: 'GET', path: base, handler: (ctx) => index(cx, ctx) },
    { method: 'POST', path: base, handler: (ctx) => create(cx, ctx) },
    { method: 'GET', path: `${base}/:key`, handler: (ctx) => show(cx, ctx) },
    { method: 'PUT', path: `${base}/:key`, handler: (ctx) => update(cx, ctx) },
    { method: 'DELETE', path: `${base}/:key`, handler: (ctx) => remove(cx, ctx) },
  ];
}
