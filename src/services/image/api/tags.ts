// /v2/images/{image_id}/tags/{tag_value}: add and delete one tag (glance/api/v2/image_tags.py).
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import { callerOf, enforceImage, findImage, IMAGE_TAG_QUOTA, isMutable, resourceNotFound } from './images.ts';
import { validateImageBody } from './schemas.ts';

async function addTag(ix: ImageContext, ctx: RouteContext) {
  const id = ctx.params['image_id'] ?? '';
  const tag = ctx.params['tag_value'] ?? '';
  validateImageBody({ tags: [tag] });
  const caller = callerOf(ctx);
  await ix.write(async (trx, record) => {
    const row = await findImage(trx, id, caller);
    if (!row) throw ImageErrors.notFound(`Image ${id} not found.`);
    enforceImage(ctx, 'modify_image', row);
    if (!isMutable(caller, row)) throw ImageErrors.forbidden(`Not allowed to update tags for image ${id}.`);
    const tags = await trx.selectFrom('image_tags').select('value').where('image_id', '=', id).execute();
    const present = tags.some((t) => t.value === tag);
    const attempted = tags.length + (present ? 0 : 1);
    if (attempted > IMAGE_TAG_QUOTA) {
      throw ImageErrors.tooLarge(
        `Image tag limit exceeded for image ${id}: The limit has been exceeded on the number of allowed image tags. Attempted: ${attempted}, Maximum: ${IMAGE_TAG_QUOTA}:`,
      );
    }
    if (!present) await trx.insertInto('image_tags').values({ image_id: id, value: tag }).execute();
    await trx.updateTable('image_images').set({ updated_at: ix.nowIso() }).where('id', '=', id).execute();
    record({ kind: 'image', id, action: 'update', projectId: row.owner });
  });
  return { status: 204 };
}

async function deleteTag(ix: ImageContext, ctx: RouteContext) {
  const id = ctx.params['image_id'] ?? '';
  const tag = ctx.params['tag_value'] ?? '';
  const caller = callerOf(ctx);
  await ix.write(async (trx, record) => {
    const row = await findImage(trx, id, caller);
    if (!row) throw ImageErrors.notFound(`Image ${id} not found.`);
    enforceImage(ctx, 'modify_image', row);
    if (!isMutable(caller, row)) throw ImageErrors.forbidden(`Not allowed to delete tags for image ${id}.`);
    const gone = await trx
      .deleteFrom('image_tags')
      .where('image_id', '=', id)
      .where('value', '=', tag)
      .executeTakeFirst();
    if (Number(gone.numDeletedRows) === 0) throw resourceNotFound();
    await trx.updateTable('image_images').set({ updated_at: ix.nowIso() }).where('id', '=', id).execute();
    record({ kind: 'image', id, action: 'update', projectId: row.owner });
  });
  return { status: 204 };
}

export function tagRoutes(ix: ImageContext): Route[] {
  const path = '/image/v2/images/:image_id/tags/:tag_value';
  return [
    { method: 'PUT', path, handler: (ctx) => addTag(ix, ctx) },
    { method: 'DELETE', path, handler: (ctx) => deleteTag(ix, ctx) },
  ];
}
