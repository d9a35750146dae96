// Glance's metadata definitions catalog (metadefs): namespaces and their objects, properties, tags and resource
// type associations, the resource types, and the /v2/schemas/metadefs/* schemas.
import type { Route } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { metadefNamespaceRoutes } from './metadef-namespaces.ts';
import { metadefObjectRoutes } from './metadef-objects.ts';
import { metadefPropertyRoutes } from './metadef-properties.ts';
import { metadefResourceTypeRoutes } from './metadef-resource-types.ts';
import { metadefSchemaRoutes } from './metadef-schemas.ts';
import { metadefTagRoutes } from './metadef-tags.ts';

export function metadefRoutes(ix: ImageContext): Route[] {
  return [
    ...metadefNamespaceRoutes(ix),
    ...metadefObjectRoutes(ix),
    ...metadefPropertyRoutes(ix),
    ...metadefTagRoutes(ix),
    ...metadefResourceTypeRoutes(ix),
    ...metadefSchemaRoutes(),
  ];
}
