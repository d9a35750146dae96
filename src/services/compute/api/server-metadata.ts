// /servers/{id}/metadata: a server's user metadata (list, merge, replace, one item), with Nova's lock, state
// and metadata_items quota checks.
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { checkState } from '../domain/server-states.ts';
import { getLimits } from '../store/quotas.ts';
import type { Server } from '../store/servers.ts';
import { validateBody } from './resource-common.ts';
import {
  serverMetadataCreate,
  serverMetadataUpdate,
  serverMetadataUpdateAll,
} from './schemas/metadata.schema.ts';
import { checkNotLocked, visibleServer } from './servers.ts';

const RULE = 'os_compute_api:server-metadata:';
const BASE = '/compute/v2.1/servers/:server_id/metadata';

const itemNotFound = () => new ApiError(404, 'NotFound', 'Metadata item was not found');

async function readMetadata(cx: ComputeContext, serverId: string): Promise<Record<string, string>> {
  const rows = await cx.db
    .selectFrom('compute_server_metadata')
    .select(['key', 'value'])
    .where('server_id', '=', serverId)
    .orderBy('key')
    .execute();
  const out: Record<string, string> = {};
  for (const r of rows) out[r.key] = r.value;
  return out;
}

/** Lock and state checks as Nova's update/delete_instance_metadata (the 409 names "update metadata"). */
function checkWritable(ctx: RouteContext, s: Server, method: string): void {
  checkNotLocked(ctx, s);
  checkState(s, 'update_metadata', method);
}

/**
 * Writes metadata: merges `items` (or replaces everything when `replace`), after checking the resulting count
 * against metadata_items. Returns the resulting metadata.
 */
async function writeMetadata(
  cx: ComputeContext,
  s: Server,
  items: Record<string, string>,
  replace: boolean,
): Promise<Record<string, string>> {
  return cx.write(async (trx, record) => {
    const current: Record<string, string> = {};
    if (!replace) {
      const rows = await trx
        .selectFrom('compute_server_metadata')
        .select(['key', 'value'])
        .where('server_id', '=', s.id)
        .execute();
      for (const r of rows) current[r.key] = r.value;
    }
    const next = { ...current, ...items };
    const limit = (await getLimits(trx, cx.config, s.project_id))['metadata_items'] ?? -1;
    if (limit >= 0 && Object.keys(next).length > limit)
      throw new ApiError(403, 'MetadataLimitExceeded', `Maximum number of metadata items exceeds ${limit}`);
    if (replace) await trx.deleteFrom('compute_server_metadata').where('server_id', '=', s.id).execute();
    else if (Object.keys(items).length > 0)
      await trx
        .deleteFrom('compute_server_metadata')
        .where('server_id', '=', s.id)
        .where('key', 'in', Object.keys(items))
        .execute();
    for (const [key, value] of Object.entries(items))
      await trx.insertInto('compute_server_metadata').values({ server_id: s.id, key, value }).execute();
    await trx
      .updateTable('compute_servers')
      .set({ updated_at: cx.nowMicro() })
      .where('id', '=', s.id)
      .execute();
    record({ kind: 'server', id: s.id, action: 'update', projectId: s.project_id, data: { host: s.host } });
    return next;
  });
}

export function serverMetadataRoutes(cx: ComputeContext): Route[] {
  const load = (ctx: RouteContext, rule: string) =>
    visibleServer(cx, ctx, ctx.params['server_id']!, `${RULE}${rule}`);
  return [
    {
      method: 'GET',
      path: BASE,
      async handler(ctx) {
        const s = await load(ctx, 'index');
        return { body: { metadata: await readMetadata(cx, s.id) } };
      },
    },
    {
      method: 'POST',
      path: BASE,
      async handler(ctx): Promise<RouteResult> {
        validateBody(ctx, serverMetadataCreate);
        const s = await load(ctx, 'create');
        checkWritable(ctx, s, 'update metadata');
        const items = (ctx.body as { metadata: Record<string, string> }).metadata;
        return { body: { metadata: await writeMetadata(cx, s, items, false) } };
      },
    },
    {
      method: 'PUT',
      path: BASE,
      async handler(ctx): Promise<RouteResult> {
        validateBody(ctx, serverMetadataUpdateAll);
        const s = await load(ctx, 'update_all');
        checkWritable(ctx, s, 'update metadata');
        const items = (ctx.body as { metadata: Record<string, string> }).metadata;
        return { body: { metadata: await writeMetadata(cx, s, items, true) } };
      },
    },
    {
      method: 'GET',
      path: `${BASE}/:key`,
      async handler(ctx) {
        const s = await load(ctx, 'show');
        const key = ctx.params['key']!;
        const meta = await readMetadata(cx, s.id);
        if (!(key in meta)) throw itemNotFound();
        return { body: { meta: { [key]: meta[key] } } };
      },
    },
    {
      method: 'PUT',
      path: `${BASE}/:key`,
      async handler(ctx): Promise<RouteResult> {
        validateBody(ctx, serverMetadataUpdate);
        const s = await load(ctx, 'update');
        const key = ctx.params['key']!;
        const item = (ctx.body as { meta: Record<string, string> }).meta;
        if (!(key in item)) throw new ApiError(400, 'BadRequest', 'Request body and URI mismatch');
        if (Object.keys(item).length > 1)
          throw new ApiError(400, 'BadRequest', 'Request body contains too many items');
        checkWritable(ctx, s, 'update metadata');
        await writeMetadata(cx, s, item, false);
        return { body: { meta: item } };
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/:key`,
      async handler(ctx): Promise<RouteResult> {
        const s = await load(ctx, 'delete');
        const key = ctx.params['key']!;
        const meta = await readMetadata(cx, s.id);
        if (!(key in meta)) throw itemNotFound();
        checkWritable(ctx, s, 'delete metadata');
        await cx.write(async (trx, record) => {
          await trx
            .deleteFrom('compute_server_metadata')
            .where('server_id', '=', s.id)
            .where('key', '=', key)
            .execute();
          await trx
            .updateTable('compute_servers')
            .set({ updated_at: cx.nowMicro() })
            .where('id', '=', s.id)
            .execute();
          record({
            kind: 'server',
            id: s.id,
            action: 'update',
            projectId: s.project_id,
            data: { host: s.host },
          });
        });
        return { status: 204 };
      },
    },
  ];
}
