// What the Neutron proxies share: the caller's Neutron session, or Nova's 404 when there is no network service
// or the microversion is past the proxy's last one.
import type { NeutronSession } from '../../../clients/network.ts';
import { ApiError } from '../../../platform/errors.ts';
import { Microversion } from '../../../platform/http/microversion.ts';
import type { RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';

/** Nova's MAX_PROXY_API_SUPPORT_VERSION: the proxies to Neutron, Glance and Cinder end here. */
export const MAX_PROXY = '2.35';

export const resourceNotFound = () => new ApiError(404, 'NotFound', 'The resource could not be found.');

/** True when the request's microversion is past `until`. */
export function beyond(ctx: RouteContext, until: string): boolean {
  return ctx.mv!.compare(Microversion.parse(until)!) > 0;
}

/** The caller's Neutron session for a proxy API (404 without networking or beyond `until`). */
export function userNeutron(
  cx: ComputeContext,
  ctx: RouteContext,
  until: string | null = MAX_PROXY,
): NeutronSession {
  if (!cx.network || (until && beyond(ctx, until))) throw resourceNotFound();
  return cx.network.user(ctx.requireAuth().token);
}
