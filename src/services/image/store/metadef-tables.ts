// Kysely row types of Glance's metadata definitions catalog (metadefs), kept apart from tables.ts; handlers use
// them through `ix.db as unknown as MetadefDb` (and the same cast of a transaction). Booleans are 0/1 and JSON is
// text, as in tables.ts. Children point at their namespace by id, so renaming a namespace moves nothing.
import type { Kysely, Transaction } from 'kysely';

export type MetadefVisibility = 'public' | 'private';

/** A namespace: the unit of visibility, ownership and protection. */
export interface MetadefNamespaceRow {
  id: string;
  /** The unique name clients address it by. */
  namespace: string;
  display_name: string | null;
  description: string | null;
  visibility: MetadefVisibility;
  protected: number;
  /** Owning project id (null: visible to everyone, as Glance treats an ownerless namespace). */
  owner: string | null;
  created_at: string;
  updated_at: string;
}

/** A resource type (OS::Glance::Image, …); seeded ones are protected. */
export interface MetadefResourceTypeRow {
  id: string;
  name: string;
  protected: number;
  created_at: string;
  updated_at: string;
}

/** A namespace's association with a resource type. */
export interface MetadefAssociationRow {
  namespace_id: string;
  resource_type_id: string;
  prefix: string | null;
  properties_target: string | null;
  created_at: string;
  updated_at: string;
}

/** An object: a named group of property definitions. */
export interface MetadefObjectRow {
  id: string;
  namespace_id: string;
  name: string;
  description: string | null;
  /** JSON array of the required property names, or null when none were given. */
  required: string | null;
  /** JSON object: property name → its definition (Glance's PropertyType fields). */
  properties: string;
  created_at: string;
  updated_at: string;
}

/** A property definition of a namespace. */
export interface MetadefPropertyRow {
  id: string;
  namespace_id: string;
  name: string;
  /** JSON object: the definition (Glance's PropertyType fields, the name included when the client sent it). */
  schema: string;
  created_at: string;
  updated_at: string;
}

export interface MetadefTagRow {
  id: string;
  namespace_id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface MetadefTables {
  image_metadef_namespaces: MetadefNamespaceRow;
  image_metadef_resource_types: MetadefResourceTypeRow;
  image_metadef_associations: MetadefAssociationRow;
  image_metadef_objects: MetadefObjectRow;
  image_metadef_properties: MetadefPropertyRow;
  image_metadef_tags: MetadefTagRow;
}

export type MetadefDb = Kysely<MetadefTables>;
export type MetadefTrx = Transaction<MetadefTables>;
