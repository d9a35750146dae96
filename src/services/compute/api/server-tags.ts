// /servers/{id}/tags (2.26+): list, replace, clear, and one tag (check, add, remove), with Nova's vm_state
// check and its limit of 50 tags per server.
import type { Change } from '../../../platform/db/writer.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { ComputeContext, ComputeTrx } from '../context.ts';
import { ComputeErrors } from '../errors.ts';
import type { Server } from '../store/servers.ts';
import { computeRoot } from './common.ts';
import { validateBody } from './resource-common.ts';
import { MAX_TAG_COUNT, MAX_TAG_LENGTH } from './schemas/parameter-types.ts';
import { serverTagsUpdateAll } from './schemas/tags.schema.ts';
import { visibleServer } from './servers.ts';

const RULE = 'os_compute_api:os-server-tags:';
const BASE = '/compute/v2.1/servers/:server_id/tags';
const TAGGABLE = new Set(['active', 'paused', 'suspended', 'stopped']);

/** Tags change only in these vm_states (Nova's _check_instance_in_valid_state; no task or lock check). */
function checkTaggable(s: Server, action: string): void {
  if (!TAGGABLE.has(s.vm_state)) throw ComputeErrors.invalidState(s.id, 'vm_state', s.vm_state, action);
}

/** Why a path tag is invalid, in jsonschema's words, or undefined when it is valid. */
function tagError(tag: string): string | undefined {
  if (tag.length < 1) return `'${tag}' is too short`;
  if (tag.length > MAX_TAG_LENGTH) return `'${tag}' is too long`;
  if (/[,/]/.test(tag)) return `'${tag}' does not match '^[^,/]*$'`;
  return undefined;
}

async function tagsOf(db: ComputeContext['db'] | ComputeTrx, serverId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('compute_server_tags')
    .select('tag')
    .where('server_id', '=', serverId)
    .orderBy('tag')
    .execute();
  return rows.map((r) => r.tag);
}

export function serverTagRoutes(cx: ComputeContext): Route[] {
  const load = async (ctx: RouteContext, rule: string): Promise<Server> => {
    if (!ctx.mv!.atLeast('2.26')) throw new ApiError(404, 'NotFound', 'The resource could not be found.');
    return visibleServer(cx, ctx, ctx.params['server_id']!, `${RULE}${rule}`);
  };
  const touch = async (trx: ComputeTrx, s: Server, record: (c: Change) => void) => {
    await trx
      .updateTable('compute_servers')
      .set({ updated_at: cx.nowMicro() })
      .where('id', '=', s.id)
      .execute();
    record({ kind: 'server', id: s.id, action: 'update', projectId: s.project_id });
  };
  return [
    {
      method: 'GET',
      path: BASE,
      async handler(ctx) {
        const s = await load(ctx, 'index');
        return { body: { tags: await tagsOf(cx.db, s.id) } };
      },
    },
    {
      method: 'PUT',
      path: BASE,
      async handler(ctx): Promise<RouteResult> {
        if (!ctx.mv!.atLeast('2.26')) throw new ApiError(404, 'NotFound', 'The resource could not be found.');
        validateBody(ctx, serverTagsUpdateAll);
        const s = await load(ctx, 'update_all');
        checkTaggable(s, 'update tags');
        const tags = [...new Set((ctx.body as { tags: string[] }).tags)];
        const out = await cx.write(async (trx, record) => {
          await trx.deleteFrom('compute_server_tags').where('server_id', '=', s.id).execute();
          for (const tag of tags)
            await trx.insertInto('compute_server_tags').values({ server_id: s.id, tag }).execute();
          await touch(trx, s, record);
          return tagsOf(trx, s.id);
        });
        return { body: { tags: out } };
      },
    },
    {
      method: 'DELETE',
      path: BASE,
      async handler(ctx): Promise<RouteResult> {
        const s = await load(ctx, 'delete_all');
        checkTaggable(s, 'delete tags');
        await cx.write(async (trx, record) => {
          await trx.deleteFrom('compute_server_tags').where('server_id', '=', s.id).execute();
          await touch(trx, s, record);
        });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: `${BASE}/:tag`,
      async handler(ctx): Promise<RouteResult> {
        const s = await load(ctx, 'show');
        const tag = ctx.params['tag']!;
        const row = await cx.db
          .selectFrom('compute_server_tags')
          .select('tag')
          .where('server_id', '=', s.id)
          .where('tag', '=', tag)
          .executeTakeFirst();
        if (!row) throw new ApiError(404, 'NotFound', `Server ${s.id} has no tag '${tag}'`);
        return { status: 204 };
      },
    },
    {
      method: 'PUT',
      path: `${BASE}/:tag`,
      async handler(ctx): Promise<RouteResult> {
        const s = await load(ctx, 'update');
        checkTaggable(s, 'update tag');
        const tag = ctx.params['tag']!;
        const err = tagError(tag);
        if (err)
          throw new ApiError(
            400,
            'BadRequest',
            `Tag '${tag}' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: ${err}`,
          );
        const created = await cx.write(async (trx, record) => {
          const tags = await tagsOf(trx, s.id);
          if (tags.length >= MAX_TAG_COUNT)
            throw new ApiError(
              400,
              'BadRequest',
              `The number of tags exceeded the per-server limit ${MAX_TAG_COUNT}`,
            );
          if (tags.includes(tag)) return false;
          await trx.insertInto('compute_server_tags').values({ server_id: s.id, tag }).execute();
          await touch(trx, s, record);
          return true;
        });
        if (!created) return { status: 204 };
        return {
          status: 201,
          headers: { location: `${computeRoot(ctx)}/v2.1/servers/${s.id}/tags/${encodeURIComponent(tag)}` },
        };
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/:tag`,
      async handler(ctx): Promise<RouteResult> {
        const s = await load(ctx, 'delete');
        checkTaggable(s, 'delete tag');
        const tag = ctx.params['tag']!;
        await cx.write(async (trx, record) => {
          const res = await trx
            .deleteFrom('compute_server_tags')
            .where('server_id', '=', s.id)
            .where('tag', '=', tag)
            .executeTakeFirst();
          if (Number(res.numDeletedRows) === 0)
            throw new ApiError(404, 'InstanceTagNotFound', `Instance ${s.id} has no tag '${tag}'`);
          await touch(trx, s, record);
        });
        return { status: 204 };
      },
    },
  ];
}
