// Kysely table types for the tables Image (Glance) owns, all prefixed image_; booleans 0/1, JSON as text.

export type ImageStatus =
  | 'queued'
  | 'saving'
  | 'uploading'
  | 'importing'
  | 'active'
  | 'deactivated'
  | 'killed'
  | 'deleted'
  | 'pending_delete';

export type Visibility = 'public' | 'private' | 'shared' | 'community';

export interface ImageRow {
  /** Dashed UUID, as Glance. */
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: Visibility;
  protected: number;
  os_hidden: number;
  /** Owning project id. */
  owner: string | null;
  disk_format: string | null;
  container_format: string | null;
  min_disk: number;
  min_ram: number;
  size: number | null;
  virtual_size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  /** JSON object of additional (custom) properties, returned flattened. */
  properties: string;
  /** Key of the image's data in the blob store, when it has data. */
  location: string | null;
  created_at: string;
  updated_at: string;
  /** Glance soft-deletes: a deleted image is 404 to every API call. */
  deleted: number;
  deleted_at: string | null;
}

export interface ImageTagRow {
  image_id: string;
  value: string;
}

export type MemberStatus = 'pending' | 'accepted' | 'rejected';

export interface ImageMemberRow {
  image_id: string;
  /** The project the image is shared with. */
  member_id: string;
  status: MemberStatus;
  created_at: string;
  updated_at: string;
}

export interface ImageTables {
  image_images: ImageRow;
  image_tags: ImageTagRow;
  image_members: ImageMemberRow;
}
