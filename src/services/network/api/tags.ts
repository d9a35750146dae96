// The tag API of every taggable resource (/v2.0/<collection>/<id>/tags[/<tag>]), through a registry each
// resource joins with how to find one of its rows and how to bump its revision.
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import { callerOf } from './common.ts';
import { bumpRevision, loadTags, type RevisionedTable, replaceTags } from './standard-attrs.ts';

export interface TaggableResource {
  /** URL collection and the tag table's resource_type ('networks', 'security-groups' is 'security_groups', …). */
  collection: string;
  /** The path segment under /v2.0 (defaults to collection). */
  path?: string;
  /** The resource as its owner sees it; undefined when absent or invisible to the caller (→ 404). */
  find(cx: NetworkContext, ctx: RouteContext, id: string): Promise<{ projectId: string } | undefined>;
  /** The 404 when find says undefined. */
  notFound(id: string): Error;
  /** The resource's table: a tag change bumps its revision_number and updated_at (tags are a standard attribute). */
  table: RevisionedTable;
}

const MAX_TAG = 60;

function checkTag(tag: unknown): string {
  if (typeof tag !== 'string')
    throw badRequest(`Invalid input for tags. Reason: '${String(tag)}' is not a valid string.`);
  if (tag.length > MAX_TAG)
    throw badRequest(`Invalid input for tags. Reason: '${tag}' exceeds maximum length of ${MAX_TAG}.`);
  return tag;
}

export function tagRoutes(cx: NetworkContext, resources: readonly TaggableResource[]): Route[] {
  const routes: Route[] = [];
  for (const r of resources) {
    const base = `/network/v2.0/${r.path ?? r.collection}/:id/tags`;
    const load = async (ctx: RouteContext, write: boolean) => {
      const found = await r.find(cx, ctx, ctx.params['id']!);
      if (!found) throw r.notFound(ctx.params['id']!);
      const caller = callerOf(ctx);
      if (write && !caller.isAdmin && caller.projectId !== found.projectId)
        throw r.notFound(ctx.params['id']!);
      return found;
    };
    const current = async (id: string) => (await loadTags(cx.db, r.collection, [id])).get(id) ?? [];
    const save = (id: string, tags: string[]) =>
      cx.write(async (trx, record) => {
        await replaceTags(trx, r.collection, id, tags);
        await bumpRevision(trx, r.table, id, cx.nowIso());
        record({ kind: r.collection.replace(/s$/, ''), id, action: 'update' });
      });
    routes.push(
      {
        method: 'GET',
        path: base,
        async handler(ctx) {
          await load(ctx, false);
          return { body: { tags: await current(ctx.params['id']!) } };
        },
      },
      {
        method: 'PUT',
        path: base,
        async handler(ctx) {
          await load(ctx, true);
          const tags = (ctx.body as { tags?: unknown } | undefined)?.tags;
          if (!Array.isArray(tags))
            throw badRequest("Invalid input for tags. Reason: 'tags' must be a list.");
          const list = [...new Set(tags.map(checkTag))];
          await save(ctx.params['id']!, list);
          return { body: { tags: list } };
        },
      },
      {
        method: 'DELETE',
        path: base,
        async handler(ctx) {
          await load(ctx, true);
          await save(ctx.params['id']!, []);
          return { status: 204 };
        },
      },
      {
        method: 'GET',
        path: `${base}/:tag`,
        async handler(ctx) {
          await load(ctx, false);
          const tag = ctx.params['tag']!;
          if (!(await current(ctx.params['id']!)).includes(tag))
            throw notFound(
              'TagNotFound',
              `Tag ${tag} could not be found for ${r.collection.replace(/s$/, '')} ${ctx.params['id']}.`,
            );
          return { status: 204 };
        },
      },
      {
        method: 'PUT',
        path: `${base}/:tag`,
        async handler(ctx) {
          await load(ctx, true);
          const tag = checkTag(ctx.params['tag']);
          const have = await current(ctx.params['id']!);
          if (!have.includes(tag)) await save(ctx.params['id']!, [...have, tag]);
          return { status: 201 };
        },
      },
      {
        method: 'DELETE',
        path: `${base}/:tag`,
        async handler(ctx) {
          await load(ctx, true);
          const tag = ctx.params['tag']!;
          const have = await current(ctx.params['id']!);
          if (!have.includes(tag))
            throw notFound(
              'TagNotFound',
              `Tag ${tag} could not be found for ${r.collection.replace(/s$/, '')} ${ctx.params['id']}.`,
            );
          await save(
            ctx.params['id']!,
            have.filter((t) => t !== tag),
          );
          return { status: 204 };
        },
      },
    );
  }
  return routes;
}
