// Which resource classes and traits exist: the standard ones from code plus the custom ones in the database.
import type { PlacementDb, PlacementTrx } from '../context.ts';
import { STANDARD_RESOURCE_CLASSES, STANDARD_TRAITS } from '../domain/standards.ts';

const STANDARD_RC_SET = new Set(STANDARD_RESOURCE_CLASSES);
const STANDARD_TRAIT_SET = new Set(STANDARD_TRAITS);

export function isStandardResourceClass(name: string): boolean {
  return STANDARD_RC_SET.has(name);
}

export function isStandardTrait(name: string): boolean {
  return STANDARD_TRAIT_SET.has(name);
}

/** The names among `names` that are not resource classes. */
export async function unknownResourceClasses(
  db: PlacementDb | PlacementTrx,
  names: Iterable<string>,
): Promise<string[]> {
  const custom = [...new Set(names)].filter((n) => !STANDARD_RC_SET.has(n));
  if (custom.length === 0) return [];
  const rows = await db
    .selectFrom('placement_resource_classes')
    .select('name')
    .where('name', 'in', custom)
    .execute();
  const found = new Set(rows.map((r) => r.name));
  return custom.filter((n) => !found.has(n));
}

/** The names among `names` that are not traits. */
export async function unknownTraits(
  db: PlacementDb | PlacementTrx,
  names: Iterable<string>,
): Promise<string[]> {
  const custom = [...new Set(names)].filter((n) => !STANDARD_TRAIT_SET.has(n));
  if (custom.length === 0) return [];
  const rows = await db.selectFrom('placement_traits').select('name').where('name', 'in', custom).execute();
  const found = new Set(rows.map((r) => r.name));
  return custom.filter((n) => !found.has(n));
}
