// Row → Glance v2 wire body.
import type { ImageMemberRow, ImageRow } from '../store/tables.ts';

export function parseProps(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The image as GET /v2/images/{id} shows it: core properties, then custom properties flattened. */
export function imageView(r: ImageRow, tags: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {
    ...parseProps(r.properties),
    id: r.id,
    name: r.name,
    status: r.status,
    visibility: r.visibility,
    protected: r.protected === 1,
    os_hidden: r.os_hidden === 1,
    checksum: r.checksum,
    os_hash_algo: r.os_hash_algo,
    os_hash_value: r.os_hash_value,
    owner: r.owner,
    size: r.size === null ? null : Number(r.size),
    virtual_size: r.virtual_size === null ? null : Number(r.virtual_size),
    min_ram: r.min_ram,
    min_disk: r.min_disk,
    disk_format: r.disk_format,
    container_format: r.container_format,
    created_at: r.created_at,
    updated_at: r.updated_at,
    tags,
    self: `/v2/images/${r.id}`,
    file: `/v2/images/${r.id}/file`,
    schema: '/v2/schemas/image',
  };
  if (r.location && r.status === 'active') body['stores'] = 'file';
  return body;
}

export function memberView(m: ImageMemberRow): Record<string, unknown> {
  return {
    created_at: m.created_at,
    image_id: m.image_id,
    member_id: m.member_id,
    schema: '/v2/schemas/member',
    status: m.status,
    updated_at: m.updated_at,
  };
}
