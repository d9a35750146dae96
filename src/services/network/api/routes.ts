// The network service's one route table, composed from each area's routes, tag registry and extensions.
import type { Route } from '../../../platform/http/types.ts';
import type { NetworkContext } from '../context.ts';
import { coreArea } from './area-core.ts';
import { l3Area } from './area-l3.ts';
import { miscArea } from './area-misc.ts';
import { securityArea } from './area-security.ts';
import { baseExtensions, extensionRoutes } from './extensions.ts';
import { tagRoutes } from './tags.ts';
import { versionRoutes } from './versions.ts';

export function networkRoutes(cx: NetworkContext): Route[] {
  const areas = [coreArea(cx), securityArea(cx), l3Area(cx), miscArea(cx)];
  return [
    ...versionRoutes(),
    ...extensionRoutes([...baseExtensions, ...areas.flatMap((a) => a.extensions)]),
    ...tagRoutes(
      cx,
      areas.flatMap((a) => a.taggable),
    ),
    ...areas.flatMap((a) => a.routes),
  ];
}
