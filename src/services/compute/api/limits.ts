// GET /limits (nova/api/openstack/compute/limits.py): the caller's project's absolute limits and usage;
// 2.36 drops floating IP and security group figures, 2.39 maxImageMeta, 2.57 the personality limits.
import { queryOne } from '../../../platform/http/pagination.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { countUsage, getLimits } from '../store/quotas.ts';
import { V } from './flavors.ts';
import { strictQuery } from './resource-common.ts';

const LIMIT_NAMES: [string, string[]][] = [
  ['ram', ['maxTotalRAMSize']],
  ['instances', ['maxTotalInstances']],
  ['cores', ['maxTotalCores']],
  ['key_pairs', ['maxTotalKeypairs']],
  ['floating_ips', ['maxTotalFloatingIps']],
  ['metadata_items', ['maxServerMeta', 'maxImageMeta']],
  ['injected_files', ['maxPersonality']],
  ['injected_file_content_bytes', ['maxPersonalitySize']],
  ['security_groups', ['maxSecurityGroups']],
  ['security_group_rules', ['maxSecurityGroupRules']],
  ['server_groups', ['maxServerGroups']],
  ['server_group_members', ['maxServerGroupMembers']],
];
const USED: [string, string][] = [
  ['totalRAMUsed', 'ram'],
  ['totalCoresUsed', 'cores'],
  ['totalInstancesUsed', 'instances'],
  ['totalFloatingIpsUsed', 'floating_ips'],
  ['totalSecurityGroupsUsed', 'security_groups'],
  ['totalServerGroupsUsed', 'server_groups'],
];

function filtered(ctx: RouteContext): string[] {
  const mv = ctx.mv!;
  const f = mv.atLeast('2.36') ? ['floating_ips', 'security_groups', 'security_group_rules'] : [];
  if (mv.atLeast('2.57')) f.push('injected_files', 'injected_file_content_bytes');
  return f;
}

async function index(cx: ComputeContext, ctx: RouteContext) {
  strictQuery(ctx, ['tenant_id']);
  const own = { project_id: ctx.auth?.projectId ?? null, user_id: ctx.auth?.userId ?? null };
  ctx.authorize('os_compute_api:limits', own);
  let projectId = ctx.auth?.projectId ?? '';
  const asked = queryOne(ctx.query, 'tenant_id');
  if (asked !== undefined) {
    ctx.authorize('os_compute_api:limits:other_project', own);
    projectId = asked;
  }
  const limits = await getLimits(cx.db, cx.config, projectId);
  const usage = (await countUsage(cx.db, cx.dialect, projectId)) as unknown as Record<string, number>;
  const skip = filtered(ctx);
  const imageMeta = !ctx.mv!.atLeast('2.39');
  const absolute: Record<string, number> = {};
  for (const [res, names] of LIMIT_NAMES) {
    if (skip.includes(res)) continue;
    for (const n of names) if (n !== 'maxImageMeta' || imageMeta) absolute[n] = limits[res] ?? -1;
  }
  for (const [name, res] of USED) if (!skip.includes(res)) absolute[name] = usage[res] ?? 0;
  return { body: { limits: { rate: [], absolute } } };
}

export function limitRoutes(cx: ComputeContext): Route[] {
  return [{ method: 'GET', path: `${V}/limits`, handler: (ctx) => index(cx, ctx) }];
}
