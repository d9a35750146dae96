// /os-quota-class-sets (nova/api/openstack/compute/quota_classes.py): the limits of a quota class; the class
// "default" gives every project its defaults. Before 2.50 the server group keys are hidden, from 2.50 the
// network keys, from 2.57 the injected-file keys too.
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { getClassLimits, QUOTA_RESOURCES, setClassLimit } from '../store/quotas.ts';
import { V } from './flavors.ts';
import { validateBody } from './resource-common.ts';
import { quotaClassSetUpdate } from './schemas/quotas.schema.ts';

const NETWORK = ['fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules'];
const INJECTED = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];
const GROUPS = ['server_groups', 'server_group_members'];

function visible(ctx: RouteContext): string[] {
  const mv = ctx.mv!;
  const hidden = mv.atLeast('2.57') ? [...NETWORK, ...INJECTED] : mv.atLeast('2.50') ? NETWORK : GROUPS;
  return QUOTA_RESOURCES.filter((r) => !hidden.includes(r));
}

function pick(ctx: RouteContext, values: Record<string, number>, id?: string): Record<string, unknown> {
  const out: Record<string, unknown> = id === undefined ? {} : { id };
  for (const r of visible(ctx)) if (r in values) out[r] = values[r];
  return out;
}

async function show(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-quota-class-sets:show', {});
  const id = ctx.params['id'] ?? '';
  return { body: { quota_class_set: pick(ctx, await getClassLimits(cx.db, cx.config, id), id) } };
}

async function update(cx: ComputeContext, ctx: RouteContext) {
  validateBody(ctx, quotaClassSetUpdate);
  ctx.authorize('os_compute_api:os-quota-class-sets:update', {});
  const id = ctx.params['id'] ?? '';
  if (id.length < 1 || id.length > 255) {
    throw new ApiError(
      400,
      'InvalidInput',
      'Invalid input received: quota_class_name has more than 255 characters.',
    );
  }
  const updates = (ctx.body as { quota_class_set: Record<string, unknown> }).quota_class_set;
  await cx.write(async (trx, record) => {
    for (const [k, v] of Object.entries(updates)) await setClassLimit(trx, id, k, Number(v));
    record({ kind: 'quota_class', id, action: 'update' });
  });
  return { body: { quota_class_set: pick(ctx, await getClassLimits(cx.db, cx.config, id)) } };
}

export function quotaClassRoutes(cx: ComputeContext): Route[] {
  return [
    { method: 'GET', path: `${V}/os-quota-class-sets/:id`, handler: (ctx) => show(cx, ctx) },
    { method: 'PUT', path: `${V}/os-quota-class-sets/:id`, handler: (ctx) => update(cx, ctx) },
  ];
}
