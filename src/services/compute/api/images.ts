// The image proxy Nova keeps up to microversion 2.35 (GET/DELETE /images, /images/detail, /images/{id}): Glance's
// images as Nova showed them, listed with Nova's filters, read and deleted through the image service with the
// caller's token. The metadata subresource lives in image-metadata.ts.

import { type ImageBody, imageProperties } from '../../../clients/image.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { limitAndMarker, nextLinks } from './common.ts';

const STATUS: Record<string, string> = {
  active: 'ACTIVE',
  queued: 'SAVING',
  saving: 'SAVING',
  uploading: 'SAVING',
  importing: 'SAVING',
  deleted: 'DELETED',
  pending_delete: 'DELETED',
  killed: 'ERROR',
};
const PROGRESS: Record<string, number> = {
  queued: 25,
  saving: 50,
  uploading: 50,
  importing: 50,
  active: 100,
};

/** Nova's query parameters and the Glance filter each becomes ("property-" ones name image properties). */
const FILTERS: Record<string, string> = {
  name: 'name',
  status: 'status',
  'changes-since': 'changes-since',
  server: 'property-instance_uuid',
  type: 'property-image_type',
  minRam: 'min_ram',
  minDisk: 'min_disk',
};

export function imageNotFound(): ApiError {
  return new ApiError(404, 'ImageNotFound', 'Image not found.');
}

/** Nova removed the proxy at 2.36 (its metadata at 2.39): from then on these paths do not exist. */
export function checkProxyVersion(ctx: RouteContext, removedAt = '2.36'): void {
  if (ctx.mv!.atLeast(removedAt)) throw new ApiError(404, 'NotFound', 'The resource could not be found.');
}

/** The Glance query of a list request: Nova's filters (the last value of a repeated one) as Glance's. */
function glanceFilters(ctx: RouteContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [param, raw] of Object.entries(ctx.query)) {
    const name = FILTERS[param] ?? (param.startsWith('property-') ? param : undefined);
    if (!name) continue;
    let value = Array.isArray(raw) ? raw[raw.length - 1]! : raw;
    // A server is named by id or by any of its links: the id is the last path segment.
    if (name === 'property-instance_uuid' && value.includes('/'))
      value = value.slice(value.lastIndexOf('/') + 1);
    if (name === 'status') value = value.toLowerCase();
    if (name.startsWith('property-')) out[name.slice('property-'.length)] = value;
    else if (name === 'changes-since') out['updated_at'] = `gte:${value}`;
    else out[name] = value;
  }
  return out;
}

/** An image's properties: what Nova calls its metadata. */
function imageView(ctx: RouteContext, img: ImageBody, detail: boolean): Record<string, unknown> {
  const root = `${ctx.baseUrl()}/compute`;
  const links = [
    { rel: 'self', href: `${root}/v2.1/images/${img.id}` },
    { rel: 'bookmark', href: `${root}/images/${img.id}` },
    {
      rel: 'alternate',
      type: 'application/vnd.openstack.image',
      href: `${ctx.baseUrl()}/image/images/${img.id}`,
    },
  ];
  if (!detail) return { id: img.id, name: img.name, links };
  const body: Record<string, unknown> = {
    id: img.id,
    name: img.name,
    minRam: img.min_ram ?? 0,
    minDisk: img.min_disk ?? 0,
    metadata: imageProperties(img),
    created: img['created_at'],
    updated: img['updated_at'],
    status: STATUS[img.status] ?? 'UNKNOWN',
    progress: PROGRESS[img.status] ?? 0,
    links,
    'OS-EXT-IMG-SIZE:size': img.size ?? 0,
  };
  const server = img['instance_uuid'];
  if (typeof server === 'string') {
    body['server'] = {
      id: server,
      links: [
        { rel: 'self', href: `${root}/v2.1/servers/${server}` },
        { rel: 'bookmark', href: `${root}/servers/${server}` },
      ],
    };
  }
  return body;
}

async function showImage(cx: ComputeContext, ctx: RouteContext): Promise<ImageBody> {
  checkProxyVersion(ctx);
  const img = await cx.image.find(ctx.requireAuth().token, ctx.params['image_id']!);
  if (!img) throw imageNotFound();
  return img;
}

export function imageProxyRoutes(cx: ComputeContext): Route[] {
  const list =
    (detail: boolean): Route['handler'] =>
    async (ctx) => {
      checkProxyVersion(ctx);
      const { limit, marker } = limitAndMarker(ctx, cx.config.max_limit);
      const query: Record<string, string> = { ...glanceFilters(ctx), limit: String(limit) };
      if (marker) query['marker'] = marker;
      const images = await cx.image.list(ctx.requireAuth().token, query);
      const body: Record<string, unknown> = { images: images.map((i) => imageView(ctx, i, detail)) };
      const links = nextLinks(ctx, detail ? 'images/detail' : 'images', images, limit);
      if (links) body['images_links'] = links;
      return { body };
    };
  return [
    { method: 'GET', path: '/compute/v2.1/images', handler: list(false) },
    { method: 'GET', path: '/compute/v2.1/images/detail', handler: list(true) },
    {
      method: 'GET',
      path: '/compute/v2.1/images/:image_id',
      handler: async (ctx) => ({ body: { image: imageView(ctx, await showImage(cx, ctx), true) } }),
    },
    {
      method: 'DELETE',
      path: '/compute/v2.1/images/:image_id',
      async handler(ctx) {
        await showImage(cx, ctx);
        await cx.image.delete(ctx.requireAuth().token, ctx.params['image_id']!);
        return { status: 204 };
      },
    },
  ];
}
