// /images/{image_id}/metadata[/{key}] (nova/api/openstack/compute/image_metadata.py, until 2.38): an image's
// properties read and written through the image service with the caller's token; writes count the resulting
// properties against the caller's metadata_items quota.
import { type ImageBody, type ImagePatchOp, imageProperties } from '../../../clients/image.ts';
import { ApiError, isApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { getLimits } from '../store/quotas.ts';
import { checkProxyVersion, imageNotFound } from './images.ts';
import { validateBody } from './resource-common.ts';
import {
  serverMetadataCreate,
  serverMetadataUpdate,
  serverMetadataUpdateAll,
} from './schemas/metadata.schema.ts';

const REMOVED_AT = '2.39';

async function loadImage(cx: ComputeContext, ctx: RouteContext): Promise<ImageBody> {
  checkProxyVersion(ctx, REMOVED_AT);
  const img = await cx.image.find(ctx.requireAuth().token, ctx.params['image_id']!);
  if (!img) throw imageNotFound();
  return img;
}

/** common.check_img_metadata_properties_quota: the properties an image would have, against metadata_items. */
async function checkQuota(
  cx: ComputeContext,
  ctx: RouteContext,
  props: Record<string, string>,
): Promise<void> {
  const n = Object.keys(props).length;
  if (n === 0) return;
  const limit =
    (await getLimits(cx.db, cx.config, ctx.requireAuth().projectId ?? ''))['metadata_items'] ?? -1;
  if (limit >= 0 && n > limit) throw new ApiError(403, 'Forbidden', 'Image metadata limit exceeded');
}

function pointer(key: string): string {
  return `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/** The patch that turns the properties `from` into `to` (every other property is removed, as Nova purges). */
export function propertyPatch(from: Record<string, string>, to: Record<string, string>): ImagePatchOp[] {
  const ops: ImagePatchOp[] = [];
  for (const [k, v] of Object.entries(to)) {
    if (!(k in from)) ops.push({ op: 'add', path: pointer(k), value: v });
    else if (from[k] !== v) ops.push({ op: 'replace', path: pointer(k), value: v });
  }
  for (const k of Object.keys(from)) if (!(k in to)) ops.push({ op: 'remove', path: pointer(k) });
  return ops;
}

/** Writes the image's properties; returns them as the image service then shows them. */
async function writeProperties(
  cx: ComputeContext,
  ctx: RouteContext,
  img: ImageBody,
  props: Record<string, string>,
): Promise<Record<string, string>> {
  const ops = propertyPatch(imageProperties(img), props);
  if (ops.length === 0) return imageProperties(img);
  try {
    return imageProperties(await cx.image.update(ctx.requireAuth().token, img.id, ops));
  } catch (err) {
    if (isApiError(err) && err.status === 403)
      throw new ApiError(403, 'ImageNotAuthorized', `Not authorized for image ${img.id}.`);
    if (isApiError(err) && err.status === 404) throw imageNotFound();
    throw err;
  }
}

export function imageMetadataRoutes(cx: ComputeContext): Route[] {
  const all = '/compute/v2.1/images/:image_id/metadata';
  const one = `${all}/:key`;
  return [
    {
      method: 'GET',
      path: all,
      handler: async (ctx) => ({ body: { metadata: imageProperties(await loadImage(cx, ctx)) } }),
    },
    {
      method: 'GET',
      path: one,
      async handler(ctx) {
        const meta = imageProperties(await loadImage(cx, ctx));
        const key = ctx.params['key']!;
        if (!(key in meta)) throw new ApiError(404, 'NotFound', 'The resource could not be found.');
        return { body: { meta: { [key]: meta[key] } } };
      },
    },
    {
      // Merge these items into the properties; answers every property.
      method: 'POST',
      path: all,
      async handler(ctx) {
        checkProxyVersion(ctx, REMOVED_AT);
        validateBody(ctx, serverMetadataCreate);
        const img = await loadImage(cx, ctx);
        const props = { ...imageProperties(img), ...(ctx.body.metadata as Record<string, string>) };
        await checkQuota(cx, ctx, props);
        return { body: { metadata: await writeProperties(cx, ctx, img, props) } };
      },
    },
    {
      // Replace every property; answers the request's items.
      method: 'PUT',
      path: all,
      async handler(ctx) {
        checkProxyVersion(ctx, REMOVED_AT);
        validateBody(ctx, serverMetadataUpdateAll);
        const img = await loadImage(cx, ctx);
        const props = ctx.body.metadata as Record<string, string>;
        await checkQuota(cx, ctx, props);
        await writeProperties(cx, ctx, img, props);
        return { body: { metadata: props } };
      },
    },
    {
      method: 'PUT',
      path: one,
      async handler(ctx) {
        checkProxyVersion(ctx, REMOVED_AT);
        validateBody(ctx, serverMetadataUpdate);
        const meta = ctx.body.meta as Record<string, string>;
        const key = ctx.params['key']!;
        if (!(key in meta)) throw new ApiError(400, 'BadRequest', 'Request body and URI mismatch');
        const img = await loadImage(cx, ctx);
        const props = { ...imageProperties(img), [key]: meta[key]! };
        await checkQuota(cx, ctx, props);
        await writeProperties(cx, ctx, img, props);
        return { body: { meta } };
      },
    },
    {
      method: 'DELETE',
      path: one,
      async handler(ctx) {
        const img = await loadImage(cx, ctx);
        const props = imageProperties(img);
        const key = ctx.params['key']!;
        if (!(key in props)) throw new ApiError(404, 'NotFound', 'Invalid metadata key');
        delete props[key];
        await writeProperties(cx, ctx, img, props);
        return { status: 204 };
      },
    },
  ];
}
