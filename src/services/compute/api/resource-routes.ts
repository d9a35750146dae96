// Routes of the compute resources around servers (flavors, keypairs, zones, aggregates, hosts, quotas, usage …).
import type { Route } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';

export function resourceRoutes(_cx: ComputeContext): Route[] {
  return [];
}
