// What every POST /servers/{id}/action handler shares: the request it gets, loading the server with Nova's
// policy, lock and state checks, starting a task, migration rows, passwords, and image property helpers.
import { randomBytes } from 'node:crypto';
import { ApiError } from '../../../platform/errors.ts';
import type { RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { ComputeContext, ComputeTrx } from '../context.ts';
import { checkState } from '../domain/server-states.ts';
import { ComputeErrors } from '../errors.ts';
import { finishEvent, recordAction } from '../store/actions.ts';
import type { HostInfoCache, Server } from '../store/servers.ts';
import type { FlavorSnapshot } from '../store/tables.ts';
import { parseJson } from './common.ts';
import { checkNotLocked, startTask, visibleServer } from './servers.ts';

/** One action request: the action key's value is `args` (already validated against the action's schema). */
export interface ActionRequest {
  cx: ComputeContext;
  hosts: HostInfoCache;
  ctx: RouteContext;
  serverId: string;
  /** The action key, e.g. "os-start". */
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: the validated value of the action key.
  args: any;
  /** Finishes deleting a server (the DELETE path's follow-up), when the caller wired one. */
  onDelete?: ((s: Server) => Promise<void>) | undefined;
}

export type ActionHandler = (a: ActionRequest) => Promise<RouteResult>;

export interface LoadOptions {
  /** Refuse when locked (Nova's check_instance_lock); default true. */
  lock?: boolean;
  /** The ACTION_STATES key to check; none when absent. */
  state?: string;
  /** The action name Nova prints in its 409 (default: the state key). */
  method?: string;
}

/**
 * Nova's check_instance_lock: a locked server refuses everyone but admins (context.is_admin), owner included;
 * the owner/admin distinction only matters to unlock.
 */
/** visibleServer with the action's rule, then Nova's lock and state checks in Nova's order. */
export async function loadForAction(a: ActionRequest, rule: string, opts: LoadOptions = {}): Promise<Server> {
  const s = await visibleServer(a.cx, a.ctx, a.serverId, rule);
  if (opts.lock !== false) checkNotLocked(a.ctx, s);
  if (opts.state) checkState(s, opts.state, opts.method ?? opts.state);
  return s;
}

/** task_args as JSON, always carrying the vm_state to return to. */
export function taskArgs(s: Server, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ prev_vm_state: s.vm_state, ...extra });
}

export const accepted = (): RouteResult => ({ status: 202 });

/**
 * The common shape of most actions: load with checks, start `task` recording `action`, answer 202.
 */
export function simpleTask(
  rule: string,
  state: string,
  task: string,
  action: string,
  opts: { lock?: boolean; extra?: (s: Server) => Record<string, unknown> } = {},
): ActionHandler {
  return async (a) => {
    const s = await loadForAction(a, rule, { state, lock: opts.lock ?? true });
    await startTask(a.cx, a.ctx, s, action, {
      task_state: task,
      task_args: taskArgs(s, opts.extra ? opts.extra(s) : {}),
    });
    return accepted();
  };
}

/**
 * Records an action that completes in the API (lock, unlock, resetState, crash dump): the action row and, when
 * `event` is given, one finished event, plus the row changes in `set`.
 */
export async function recordApiAction(
  a: ActionRequest,
  s: Server,
  action: string,
  set: Partial<Server>,
  event?: string,
): Promise<void> {
  const auth = a.ctx.requireAuth();
  await a.cx.write(async (trx, record) => {
    const now = a.cx.nowMicro();
    await trx
      .updateTable('compute_servers')
      .set({ ...set, updated_at: now })
      .where('id', '=', s.id)
      .execute();
    const actionId = await recordAction(trx, {
      serverId: s.id,
      action,
      requestId: a.ctx.requestId,
      userId: auth.userId,
      projectId: auth.projectId ?? s.project_id,
      now,
    });
    if (event) await finishEvent(trx, { serverId: s.id, event, start: now, now, ok: true, host: s.host });
    else
      await trx
        .updateTable('compute_instance_actions')
        .set({ finish_time: now })
        .where('id', '=', actionId)
        .execute();
    record({ kind: 'server', id: s.id, action: 'update', projectId: s.project_id, data: { host: s.host } });
  });
}

/** Inserts a compute_migrations row for a move and returns its uuid. */
export async function createMigration(
  a: ActionRequest,
  trx: ComputeTrx,
  s: Server,
  m: { type: string; status: string; oldFlavor: string; newFlavor: string; destHost?: string | null },
  uuid: string,
): Promise<void> {
  const now = a.cx.nowMicro();
  await trx
    .insertInto('compute_migrations')
    .values({
      uuid,
      server_id: s.id,
      project_id: s.project_id,
      user_id: s.user_id,
      source_compute: s.host,
      source_node: s.node,
      dest_compute: m.destHost ?? null,
      dest_node: null,
      dest_host: null,
      old_flavor_id: m.oldFlavor,
      new_flavor_id: m.newFlavor,
      migration_type: m.type,
      status: m.status,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

/** Nova's generated admin password: 12 characters without look-alikes. */
export function generatePassword(): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function flavorOf(s: Server): FlavorSnapshot {
  return parseJson<FlavorSnapshot>(s.flavor, {} as FlavorSnapshot);
}

export function sysMeta(s: Server): Record<string, unknown> {
  return parseJson<Record<string, unknown>>(s.system_metadata, {});
}

/** A compute host by name, or a 400 "Compute host X could not be found." (Nova's ComputeHostNotFound). */
export async function requireHost(
  cx: ComputeContext,
  host: string,
  notFound: (h: string) => ApiError = (h) =>
    ComputeErrors.badRequest(`Compute host ${h} could not be found.`),
): Promise<{
  host: string;
  node: string;
  forced_down: number;
  heartbeat_at: string | null;
  disabled: number;
}> {
  const h = await cx.db
    .selectFrom('compute_hosts')
    .select(['host', 'node', 'forced_down', 'heartbeat_at', 'disabled'])
    .where('host', '=', host)
    .executeTakeFirst();
  if (!h) throw notFound(host);
  return h;
}

/** Whether a host's service is up: a recent heartbeat and not forced down (servicegroup's service_is_up). */
export function serviceIsUp(
  cx: ComputeContext,
  h: { forced_down: number; heartbeat_at: string | null } | undefined,
): boolean {
  if (!h || h.forced_down || h.heartbeat_at === null) return false;
  return cx.clock.now() - Date.parse(h.heartbeat_at) <= cx.config.service_down_time * 1000;
}

/** Nova's "Instance X is not ready" (InstanceNotReady, 409) for calls that need a host. */
export function notReady(id: string): ApiError {
  return new ApiError(409, 'InstanceNotReady', `Instance ${id} is not ready`);
}

/**
 * The image properties a snapshot inherits from the server's system metadata (image_* keys), as strings, plus
 * min_ram/min_disk; Glance's extra properties are strings.
 */
export function inheritedImageProps(s: Server): Record<string, unknown> {
  const meta = sysMeta(s);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (!k.startsWith('image_') || v === null || v === undefined) continue;
    const key = k.slice('image_'.length);
    if (key === 'min_ram' || key === 'min_disk') {
      const n = Number(v);
      if (Number.isInteger(n) && n >= 0) out[key] = n;
      continue;
    }
    if (['disk_format', 'container_format', 'base_image_ref', 'size'].includes(key)) continue;
    // Glance's own os_* attributes (os_hidden, os_hash_*, os_glance_*) are not image properties.
    if (key === 'os_hidden' || key.startsWith('os_hash') || key.startsWith('os_glance')) continue;
    if (
      key.startsWith('hw_') ||
      key.startsWith('os_') ||
      ['img_hv_type', 'kernel_id', 'ramdisk_id'].includes(key)
    )
      out[key] = String(v);
  }
  return out;
}
