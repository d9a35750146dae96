// The one route table of Image (Glance v2).
import type { Route } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { deleteImageData, imageDataRoutes } from './image-data.ts';
import { imagesRoutes } from './images.ts';
import { memberRoutes } from './members.ts';
import { metadefRoutes } from './metadefs.ts';
import { schemaRoutes } from './schemas.ts';
import { tagRoutes } from './tags.ts';
import { versionRoutes } from './versions.ts';

export function imageRoutes(ix: ImageContext): Route[] {
  return [
    ...versionRoutes(),
    ...imagesRoutes(ix, { deleteImageData: (row) => deleteImageData(ix, row) }),
    ...imageDataRoutes(ix),
    ...tagRoutes(ix),
    ...memberRoutes(ix),
    ...metadefRoutes(ix),
    ...schemaRoutes(),
  ];
}
