// Policy checks of the misc area's rules that a deployment's policy may not register yet (get_quota,
// get_rbac_policy, get_availability_zone, …): a registered rule decides; else Neutron's legacy default does.
import type { RouteContext } from '../../../platform/http/types.ts';
import { policyDenied } from '../errors.ts';

/** Neutron's legacy defaults, by name. */
export type DefaultRule = 'admin_only' | 'admin_or_owner' | 'any';

function fallback(ctx: RouteContext, rule: DefaultRule, target: Record<string, unknown>): boolean {
  const admin = ctx.can('context_is_admin', {});
  if (rule === 'any' || admin) return true;
  if (rule === 'admin_only') return false;
  const owner = target['tenant_id'] ?? target['project_id'];
  return owner !== undefined && owner === ctx.auth?.projectId;
}

/** Whether the caller passes `rule` (its registered form, else `otherwise`). */
export function allows(
  ctx: RouteContext,
  rule: string,
  target: Record<string, unknown>,
  otherwise: DefaultRule,
): boolean {
  try {
    return ctx.can(rule, target);
  } catch (e) {
    if (e instanceof Error && /not registered/.test(e.message)) return fallback(ctx, otherwise, target);
    throw e;
  }
}

/** As allows(), but refuses with Neutron's PolicyNotAuthorized. */
export function authorizeRule(
  ctx: RouteContext,
  rule: string,
  target: Record<string, unknown>,
  otherwise: DefaultRule,
): void {
  ctx.requireAuth();
  if (!allows(ctx, rule, target, otherwise)) throw policyDenied(rule);
}
