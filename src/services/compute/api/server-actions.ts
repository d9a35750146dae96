// POST /servers/{id}/action: one route that dispatches on the body's single key to Nova's action handlers,
// after Nova's checks on the body (one key, a known action, in this microversion, valid for its schema).
import { ApiError } from '../../../platform/errors.ts';
import { byVersion, Microversion } from '../../../platform/http/microversion.ts';
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { ComputeConsoles } from '../consoles/consoles.ts';
import type { ComputeContext } from '../context.ts';
import type { HostInfoCache, Server } from '../store/servers.ts';
import { floatingIpActions } from './floating-ips-proxy.ts';
import { validateSchema } from './resource-common.ts';
import { serverActions } from './schemas/server-action-table.ts';
import { type ActionHandler, accepted, loadForAction } from './server-actions-common.ts';
import { consoleActions, remoteConsoleRoutes } from './server-actions-consoles.ts';
import { imageActions } from './server-actions-images.ts';
import { moveActions } from './server-actions-moves.ts';
import { securityGroupActions } from './server-actions-security-groups.ts';
import { stateActions } from './server-actions-state.ts';

const notFound = () => new ApiError(404, 'NotFound', 'The resource could not be found.');
const noNetwork = () =>
  new ApiError(
    400,
    'BadRequest',
    'nova-network actions need the networking service, which is not available.',
  );

/** Actions kept for compatibility: resetNetwork is gone (410); injectNetworkInfo has nothing to inject. */
const legacyActions: Record<string, ActionHandler> = {
  resetNetwork: async () => {
    throw new ApiError(410, 'Gone', 'The resource is no longer available.');
  },
  injectNetworkInfo: async (a) => {
    await loadForAction(a, 'os_compute_api:os-admin-actions:inject_network_info', {});
    return accepted();
  },
  addFixedIp: async (a) => {
    await loadForAction(a, 'os_compute_api:os-multinic:add', { lock: false });
    throw noNetwork();
  },
  removeFixedIp: async (a) => {
    await loadForAction(a, 'os_compute_api:os-multinic:remove', { lock: false });
    throw noNetwork();
  },
  addFloatingIp: async (a) => {
    if (a.cx.network) return floatingIpActions['addFloatingIp']!(a);
    await loadForAction(a, 'os_compute_api:os-floating-ips:add', { lock: false });
    throw noNetwork();
  },
  removeFloatingIp: async (a) => {
    if (a.cx.network) return floatingIpActions['removeFloatingIp']!(a);
    await loadForAction(a, 'os_compute_api:os-floating-ips:remove', { lock: false });
    throw noNetwork();
  },
};

function inRange(mv: Microversion, since?: string, until?: string): boolean {
  if (since && !mv.atLeast(since)) return false;
  if (until && mv.compare(Microversion.parse(until)!) > 0) return false;
  return true;
}

export interface ServerActionOptions {
  /** The DELETE path's follow-up (forceDelete is a delete while soft delete is off). */
  onDelete?: (s: Server) => Promise<void>;
  /** Console URLs and the host queries behind console output. */
  consoles: ComputeConsoles;
}

export function serverActionRoutes(
  cx: ComputeContext,
  hosts: HostInfoCache,
  opts: ServerActionOptions,
): Route[] {
  const handlers: Record<string, ActionHandler> = {
    ...stateActions(cx),
    ...moveActions,
    ...imageActions,
    ...consoleActions(opts.consoles),
    ...securityGroupActions,
    ...legacyActions,
  };
  const dispatch = async (ctx: RouteContext): Promise<RouteResult> => {
    const body = ctx.body as unknown;
    if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1)
      throw new ApiError(400, 'BadRequest', 'Malformed request body');
    const name = Object.keys(body)[0]!;
    const spec = serverActions[name];
    const handler = handlers[name];
    if (!spec || !handler) throw new ApiError(400, 'BadRequest', `There is no such action: ${name}`);
    const mv = ctx.mv!;
    if (!inRange(mv, spec.since, spec.until)) throw notFound();
    validateSchema(byVersion(mv, spec.body), body);
    return handler({
      cx,
      hosts,
      ctx,
      serverId: ctx.params['server_id']!,
      name,
      args: (body as Record<string, unknown>)[name],
      onDelete: opts.onDelete,
    });
  };
  return [
    { method: 'POST', path: '/compute/v2.1/servers/:server_id/action', handler: dispatch },
    ...remoteConsoleRoutes(cx, opts.consoles),
  ];
}
