// The core area: networks, subnets, subnet pools, address scopes, ports.
import type { NetworkContext } from '../context.ts';
import type { ApiArea } from './area.ts';
import { networkRoutes, networkTaggable } from './networks.ts';

export function coreArea(cx: NetworkContext): ApiArea {
  return { routes: [...networkRoutes(cx)], taggable: [networkTaggable], extensions: [] };
}
