// The servers assigned to a host (what its agent converges), each with its metadata as a JSON object, in one
// compiled statement per dialect.
import { type Selectable, sql } from 'kysely';
import type { DialectName } from '../../../platform/db/database.ts';
import type { ComputeDb } from '../context.ts';
import { compiled } from './compiled.ts';
import type { ServerRow } from './tables.ts';

export type AssignedRow = Selectable<ServerRow> & { metadata_json: string | null };

function assignedOf(dialect: DialectName, tasksOnly: boolean) {
  // A correlated subquery: every server's metadata in the same statement, {} when it has none.
  const metadata =
    dialect === 'postgres'
      ? sql<
          string | null
        >`(select cast(coalesce(json_object_agg(m."key", m."value"), '{}'::json) as text) from compute_server_metadata m where m.server_id = compute_servers.id)`
      : sql<
          string | null
        >`(select json_group_object(m."key", m."value") from compute_server_metadata m where m.server_id = compute_servers.id)`;
  return compiled(1, (db, host: string) => {
    const q = db
      .selectFrom('compute_servers')
      .selectAll('compute_servers')
      .select(metadata.as('metadata_json'))
      .where('host', '=', host)
      .where('deleted', '=', 0);
    return tasksOnly ? q.where('task_state', 'is not', null) : q;
  });
}

const ASSIGNED = {
  sqlite: { all: assignedOf('sqlite', false), tasks: assignedOf('sqlite', true) },
  postgres: { all: assignedOf('postgres', false), tasks: assignedOf('postgres', true) },
};

/** The host's servers not deleted; with `tasksOnly`, just those with a task under way. */
export function assignedRows(
  db: ComputeDb,
  dialect: DialectName,
  host: string,
  tasksOnly: boolean,
): Promise<AssignedRow[]> {
  const of = ASSIGNED[dialect];
  return (tasksOnly ? of.tasks : of.all)(db, host);
}
