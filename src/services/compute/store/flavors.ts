// Flavor lookups of the create path, as once-compiled statements.
import type { Selectable } from 'kysely';
import type { ComputeDb } from '../context.ts';
import { compiled } from './compiled.ts';
import type { FlavorRow } from './tables.ts';

const flavorById = compiled(1, (db, id: string) =>
  db.selectFrom('compute_flavors').selectAll().where('id', '=', id),
);

const flavorAccess = compiled(2, (db, flavorId: string, projectId: string) =>
  db
    .selectFrom('compute_flavor_projects')
    .select('project_id')
    .where('flavor_id', '=', flavorId)
    .where('project_id', '=', projectId),
);

/** The flavor with this flavorid (disabled ones included); undefined when there is none. */
export async function findFlavor(db: ComputeDb, id: string): Promise<Selectable<FlavorRow> | undefined> {
  return (await flavorById(db, id))[0];
}

/** True when a project was given access to a (private) flavor. */
export async function hasFlavorAccess(db: ComputeDb, flavorId: string, projectId: string): Promise<boolean> {
  return (await flavorAccess(db, flavorId, projectId)).length > 0;
}
