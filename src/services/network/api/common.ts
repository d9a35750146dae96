// Request helpers shared by the network API handlers.
import type { RouteContext } from '../../../platform/http/types.ts';
import type { Caller } from './resource.ts';

/** The caller's project and whether Neutron treats it as admin (context_is_admin). */
export function callerOf(ctx: RouteContext): Caller {
  const auth = ctx.requireAuth();
  return { projectId: auth.projectId, isAdmin: ctx.can('context_is_admin', {}) };
}

/** Policy target of a resource: its attributes plus tenant_id (Neutron's rules read tenant_id). */
export function targetOf(
  item: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const projectId = item['project_id'] ?? item['tenant_id'];
  return { ...item, tenant_id: projectId, project_id: projectId, ...extra };
}

/** 0/1 columns to booleans. */
export const bool = (v: number | null | undefined): boolean => v === 1;

/** JSON text columns to values. */
export function json<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
