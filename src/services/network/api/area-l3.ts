// The l3 area: Routers, floating IPs and port forwardings.
import type { NetworkContext } from '../context.ts';
import type { ApiArea } from './area.ts';

export function l3Area(_cx: NetworkContext): ApiArea {
  return { routes: [], taggable: [], extensions: [] };
}
