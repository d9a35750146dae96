// /servers/{id}: show, update, delete, and the helpers every server handler shares (load with visibility,
// render, start a task).
import { byVersion } from '../../../platform/http/microversion.ts';
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import { SchemaValidator } from '../../../platform/http/validate.ts';
import type { ComputeContext, ComputeTrx } from '../context.ts';
import { AUTO_DISK_CONFIG, requestedAutoDiskConfig } from '../domain/disk-config.ts';
import { hostnameFrom } from '../domain/hostname.ts';
import { ComputeErrors } from '../errors.ts';
import { recordAction } from '../store/actions.ts';
import { findServer, type HostInfoCache, loadExtras, type Server } from '../store/servers.ts';
import { parseJson } from './common.ts';
import { isAdmin } from './resource-common.ts';
import { serverUpdate } from './schemas/servers.schema.ts';
import { createServers } from './server-create.ts';
import { listServers } from './server-list.ts';
import { serverView } from './servers.view.ts';

const validator = new SchemaValidator();

/** The server as the caller may see it: 404 when absent or (without the admin view) another project's. */
export async function visibleServer(
  cx: ComputeContext,
  ctx: RouteContext,
  id: string,
  rule: string,
): Promise<Server> {
  const auth = ctx.requireAuth();
  const s = await findServer(cx.db, id);
  if (!s) throw ComputeErrors.serverNotFound(id);
  if (s.project_id !== auth.projectId && !ctx.can(rule, { project_id: s.project_id, user_id: s.user_id })) {
    throw ComputeErrors.serverNotFound(id);
  }
  ctx.authorize(rule, { project_id: s.project_id, user_id: s.user_id });
  return s;
}

export async function renderServer(
  cx: ComputeContext,
  hosts: HostInfoCache,
  ctx: RouteContext,
  s: Server,
  detail: boolean,
  extra: { noUserData?: boolean } = {},
): Promise<Record<string, unknown>> {
  const mv = ctx.mv!;
  const extras = (await loadExtras(cx.db, [s], await hosts.get(), cx.config.default_availability_zone)).get(
    s.id,
  )!;
  const target = { project_id: s.project_id };
  return serverView(ctx, s, extras, {
    detail,
    extended: ctx.can('os_compute_api:os-extended-server-attributes', target),
    extraSpecs: mv.atLeast('2.47') && ctx.can('os_compute_api:servers:show:flavor-extra-specs', target),
    hostStatus: mv.atLeast('2.16') && ctx.can('os_compute_api:servers:show:host_status', target),
    serverGroups: true,
    ...extra,
  });
}

/**
 * Starts a task on a server in one transaction: compare-and-swap on task_seq, set task_state (and whatever
 * else), record the instance action and a feed event that wakes the host's agent.
 */
export async function startTask(
  cx: ComputeContext,
  ctx: RouteContext | undefined,
  s: Server,
  action: string | undefined,
  set: Partial<Server> & { task_state: string | null },
  trxFn?: (trx: ComputeTrx) => Promise<void>,
): Promise<void> {
  await cx.write(async (trx, record) => {
    const now = cx.nowMicro();
    const res = await trx
      .updateTable('compute_servers')
      .set({ ...set, task_seq: s.task_seq + 1, updated_at: now })
      .where('id', '=', s.id)
      .where('task_seq', '=', s.task_seq)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) {
      throw ComputeErrors.conflict(
        `Cannot '${action ?? 'update'}' instance ${s.id}: another operation changed it first`,
      );
    }
    if (action && ctx) {
      const auth = ctx.requireAuth();
      await recordAction(trx, {
        serverId: s.id,
        action,
        requestId: ctx.requestId,
        userId: auth.userId,
        projectId: auth.projectId ?? s.project_id,
        now,
      });
    }
    if (trxFn) await trxFn(trx);
    record({
      kind: 'server',
      id: s.id,
      action: 'update',
      projectId: s.project_id,
      // A move that needs a destination wakes the scheduler; everything else wakes the server's host.
      data: { host: set.host ?? s.host, task: set.task_state, schedule: needsScheduler(set.task_args) },
    });
  });
}

function needsScheduler(taskArgs: string | undefined): boolean {
  return taskArgs !== undefined && parseJson<Record<string, unknown>>(taskArgs, {})['schedule'] === true;
}

/** Nova's lock rule: a locked server refuses every change except by an admin (409 InstanceIsLocked). */
export function checkNotLocked(ctx: RouteContext, s: Server): void {
  if (s.locked && !isAdmin(ctx)) throw ComputeErrors.locked(s.id);
}

export function serverRoutes(
  cx: ComputeContext,
  hosts: HostInfoCache,
  onDelete: (s: Server) => Promise<void>,
): Route[] {
  return [
    { method: 'GET', path: '/compute/v2.1/servers', handler: (ctx) => listServers(cx, hosts, ctx, false) },
    {
      method: 'GET',
      path: '/compute/v2.1/servers/detail',
      handler: (ctx) => listServers(cx, hosts, ctx, true),
    },
    {
      method: 'POST',
      path: '/compute/v2.1/servers',
      handler: async (ctx) => {
        const done = await cx.admission?.admit();
        try {
          return await createServers(cx, ctx);
        } finally {
          done?.();
        }
      },
    },
    {
      method: 'GET',
      path: '/compute/v2.1/servers/:server_id',
      async handler(ctx) {
        const s = await visibleServer(cx, ctx, ctx.params['server_id']!, 'os_compute_api:servers:show');
        return { body: { server: await renderServer(cx, hosts, ctx, s, true) } };
      },
    },
    {
      method: 'PUT',
      path: '/compute/v2.1/servers/:server_id',
      async handler(ctx): Promise<RouteResult> {
        validator.validate(byVersion(ctx.mv!, serverUpdate), ctx.body);
        const s = await visibleServer(cx, ctx, ctx.params['server_id']!, 'os_compute_api:servers:update');
        const u = (ctx.body as { server: Record<string, unknown> }).server;
        const set: Partial<Server> = {};
        if (u['name'] !== undefined) {
          set.name = String(u['name']);
          if (!ctx.mv!.atLeast('2.90') || u['hostname'] === undefined)
            set.hostname = hostnameFrom(set.name, s.id);
        }
        if (u['hostname'] !== undefined) set.hostname = String(u['hostname']);
        if (u['description'] !== undefined) set.description = u['description'] as string | null;
        if (u['accessIPv4'] !== undefined) set.access_ip_v4 = String(u['accessIPv4'] ?? '');
        if (u['accessIPv6'] !== undefined) set.access_ip_v6 = String(u['accessIPv6'] ?? '');
        const autoDiskConfig = requestedAutoDiskConfig(u['OS-DCF:diskConfig']);
        await cx.write(async (trx, record) => {
          if (autoDiskConfig !== undefined) {
            // Read in the write so a concurrent system_metadata change is not lost.
            const row = await trx
              .selectFrom('compute_servers')
              .select('system_metadata')
              .where('id', '=', s.id)
              .executeTakeFirst();
            const meta = parseJson<Record<string, unknown>>(row?.system_metadata, {});
            set.system_metadata = JSON.stringify({ ...meta, [AUTO_DISK_CONFIG]: autoDiskConfig });
          }
          await trx
            .updateTable('compute_servers')
            .set({ ...set, updated_at: cx.nowMicro() })
            .where('id', '=', s.id)
            .execute();
          record({ kind: 'server', id: s.id, action: 'update', projectId: s.project_id });
        });
        const fresh = (await findServer(cx.db, s.id))!;
        return { body: { server: await renderServer(cx, hosts, ctx, fresh, false) } };
      },
    },
    {
      method: 'DELETE',
      path: '/compute/v2.1/servers/:server_id',
      async handler(ctx) {
        const s = await visibleServer(cx, ctx, ctx.params['server_id']!, 'os_compute_api:servers:delete');
        checkNotLocked(ctx, s);
        if (s.task_state === 'deleting') return { status: 204 };
        await startTask(cx, ctx, s, 'delete', { task_state: 'deleting' });
        await onDelete({ ...s, task_seq: s.task_seq + 1, task_state: 'deleting' });
        return { status: 204 };
      },
    },
  ];
}
