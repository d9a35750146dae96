// Instance actions and their events: the record of every operation on a server (os-instance-actions).
import type { Kysely } from 'kysely';
import type { ComputeTables } from './tables.ts';

type Db = Kysely<ComputeTables>;

export async function recordAction(
  db: Db,
  a: {
    serverId: string;
    action: string;
    requestId: string;
    userId: string;
    projectId: string;
    now: string;
    message?: string;
  },
): Promise<number> {
  const row = await db
    .insertInto('compute_instance_actions')
    .values({
      server_id: a.serverId,
      action: a.action,
      request_id: a.requestId,
      user_id: a.userId,
      project_id: a.projectId,
      start_time: a.now,
      finish_time: null,
      message: a.message ?? null,
      updated_at: a.now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** The newest unfinished action of a server (the one a completing task belongs to). */
export async function currentAction(
  db: Db,
  serverId: string,
): Promise<{ id: number; action: string } | undefined> {
  const row = await db
    .selectFrom('compute_instance_actions')
    .select(['id', 'action'])
    .where('server_id', '=', serverId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { id: Number(row.id), action: row.action } : undefined;
}

/** Adds a finished event to the server's newest action and closes the action. */
export async function finishEvent(
  db: Db,
  e: {
    serverId: string;
    event: string;
    start: string;
    now: string;
    ok: boolean;
    host: string | null;
    traceback?: string;
    details?: string;
    message?: string;
  },
): Promise<void> {
  const action = await currentAction(db, e.serverId);
  if (!action) return;
  await db
    .insertInto('compute_instance_action_events')
    .values({
      action_id: action.id,
      event: e.event,
      start_time: e.start,
      finish_time: e.now,
      result: e.ok ? 'Success' : 'Error',
      traceback: e.traceback ?? null,
      host: e.host,
      details: e.details ?? null,
    })
    .execute();
  await db
    .updateTable('compute_instance_actions')
    .set({ finish_time: e.now, updated_at: e.now, ...(e.ok ? {} : { message: e.message ?? 'Error' }) })
    .where('id', '=', action.id)
    .execute();
}
