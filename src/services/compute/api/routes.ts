// The one route table of Compute (Nova v2.1).
import type { Route } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import type { HostInfoCache, Server } from '../store/servers.ts';
import { resourceRoutes } from './resource-routes.ts';
import { serverRoutes } from './servers.ts';
import { versionRoutes } from './versions.ts';

export interface ComputeRouteDeps {
  hosts: HostInfoCache;
  /** Called after a delete was recorded (servers without a live host are finished at once). */
  onDelete(s: Server): Promise<void>;
}

export function computeRoutes(cx: ComputeContext, deps: ComputeRouteDeps): Route[] {
  return [...versionRoutes(), ...serverRoutes(cx, deps.hosts, deps.onDelete), ...resourceRoutes(cx)];
}
