// Instance actions and their events: the record of every operation on a server (os-instance-actions).
import type { Kysely } from 'kysely';
import { compiled } from './compiled.ts';
import type { ComputeTables } from './tables.ts';

type Db = Kysely<ComputeTables>;

const insertAction = compiled(
  7,
  (
    db,
    serverId: string,
    action: string,
    requestId: string,
    userId: string,
    projectId: string,
    now: string,
    message: string | null,
  ) =>
    db
      .insertInto('compute_instance_actions')
      .values({
        server_id: serverId,
        action,
        request_id: requestId,
        user_id: userId,
        project_id: projectId,
        start_time: now,
        finish_time: null,
        message,
        updated_at: now,
      })
      .returning('id'),
);

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
  const [row] = await insertAction(
    db,
    a.serverId,
    a.action,
    a.requestId,
    a.userId,
    a.projectId,
    a.now,
    a.message ?? null,
  );
  if (!row) throw new Error(`no instance action recorded for server ${a.serverId}`);
  return Number(row.id);
}

const newestAction = compiled(1, (db, serverId: string) =>
  db
    .selectFrom('compute_instance_actions')
    .select(['id', 'action'])
    .where('server_id', '=', serverId)
    .orderBy('id', 'desc')
    .limit(1),
);

/** The newest unfinished action of a server (the one a completing task belongs to). */
export async function currentAction(
  db: Db,
  serverId: string,
): Promise<{ id: number; action: string } | undefined> {
  const [row] = await newestAction(db, serverId);
  return row ? { id: Number(row.id), action: row.action } : undefined;
}

/** Closes the server's newest action (the one with the greatest id); its id, none when it has none. */
const closeNewest = compiled(2, (db, serverId: string, now: string) =>
  db
    .updateTable('compute_instance_actions')
    .set({ finish_time: now, updated_at: now })
    .where('id', '=', (eb) =>
      eb
        .selectFrom('compute_instance_actions')
        .select(eb.fn.max('id').as('id'))
        .where('server_id', '=', serverId),
    )
    .returning('id'),
);

/** As closeNewest, and records the error message on it. */
const closeNewestWithError = compiled(3, (db, serverId: string, now: string, message: string) =>
  db
    .updateTable('compute_instance_actions')
    .set({ finish_time: now, updated_at: now, message })
    .where('id', '=', (eb) =>
      eb
        .selectFrom('compute_instance_actions')
        .select(eb.fn.max('id').as('id'))
        .where('server_id', '=', serverId),
    )
    .returning('id'),
);

const insertEvent = compiled(
  8,
  (
    db,
    actionId: number,
    event: string,
    start: string,
    finish: string,
    result: string,
    traceback: string | null,
    host: string | null,
    details: string | null,
  ) =>
    db.insertInto('compute_instance_action_events').values({
      action_id: actionId,
      event,
      start_time: start,
      finish_time: finish,
      result,
      traceback,
      host,
      details,
    }),
);

/** Adds a finished event to the server's newest action and closes the action (two statements). */
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
  const [closed] = e.ok
    ? await closeNewest(db, e.serverId, e.now)
    : await closeNewestWithError(db, e.serverId, e.now, e.message ?? 'Error');
  if (!closed) return;
  await insertEvent(
    db,
    Number(closed.id),
    e.event,
    e.start,
    e.now,
    e.ok ? 'Success' : 'Error',
    e.traceback ?? null,
    e.host,
    e.details ?? null,
  );
}
