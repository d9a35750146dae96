// The one route table of Compute (Nova v2.1).
import type { Route } from '../../../platform/http/types.ts';
import type { ComputeConsoles } from '../consoles/consoles.ts';
import type { ComputeContext } from '../context.ts';
import type { HostInfoCache, Server } from '../store/servers.ts';
import { extensionRoutes } from './extensions.ts';
import { floatingIpProxyRoutes } from './floating-ips-proxy.ts';
import { imageMetadataRoutes } from './image-metadata.ts';
import { imageProxyRoutes } from './images.ts';
import { instanceActionRoutes } from './instance-actions.ts';
import { interfaceAttachmentRoutes } from './interface-attachments.ts';
import { networkProxyRoutes } from './networks-proxy.ts';
import { resourceRoutes } from './resource-routes.ts';
import { securityGroupProxyRoutes } from './security-groups-proxy.ts';
import { serverActionRoutes } from './server-actions.ts';
import { serverIpRoutes } from './server-ips.ts';
import { serverMetadataRoutes } from './server-metadata.ts';
import { serverMiscRoutes } from './server-misc.ts';
import { serverTagRoutes } from './server-tags.ts';
import { serverRoutes } from './servers.ts';
import { versionRoutes } from './versions.ts';

export interface ComputeRouteDeps {
  hosts: HostInfoCache;
  /** Called after a delete was recorded (servers without a live host are finished at once). */
  onDelete(s: Server): Promise<void>;
  /** Console URLs, the noVNC page and os-console-auth-tokens. */
  consoles: ComputeConsoles;
}

export function computeRoutes(cx: ComputeContext, deps: ComputeRouteDeps): Route[] {
  return [
    ...versionRoutes(),
    ...serverRoutes(cx, deps.hosts, deps.onDelete),
    ...serverActionRoutes(cx, deps.hosts, { onDelete: deps.onDelete, consoles: deps.consoles }),
    ...serverMetadataRoutes(cx),
    ...serverTagRoutes(cx),
    ...instanceActionRoutes(cx),
    ...serverMiscRoutes(cx, deps.consoles.hostQueries),
    ...resourceRoutes(cx),
    ...imageProxyRoutes(cx),
    ...imageMetadataRoutes(cx),
    ...extensionRoutes(),
    ...deps.consoles.routes(),
    // Networking: served from Neutron when compute has one (404 otherwise, as before).
    ...serverIpRoutes(cx),
    ...interfaceAttachmentRoutes(cx, deps.consoles.hostQueries),
    ...securityGroupProxyRoutes(cx),
    ...floatingIpProxyRoutes(cx),
    ...networkProxyRoutes(cx),
  ];
}
