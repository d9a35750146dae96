// A typed client of the image service (Glance v2) for other services: compute looks images up with the user's
// token (so visibility rules apply) and stores snapshots.
import { ApiError } from '../platform/errors.ts';
import type { Transport, TransportResponse } from '../platform/transport.ts';

/** The fields of a Glance image other services read; extra properties are kept as given. */
export interface ImageBody {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  owner: string | null;
  disk_format: string | null;
  container_format: string | null;
  min_disk: number;
  min_ram: number;
  size: number | null;
  [property: string]: unknown;
}

/** Glance's own attributes; every other key of an image body is a property (Nova's image "metadata"). */
const CORE_FIELDS = new Set([
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'checksum',
  'owner',
  'size',
  'virtual_size',
  'min_ram',
  'min_disk',
  'disk_format',
  'container_format',
  'created_at',
  'updated_at',
  'tags',
  'file',
  'self',
  'schema',
  'direct_url',
  'locations',
  'os_hidden',
  'os_hash_algo',
  'os_hash_value',
  'stores',
]);

/** An image's properties as strings (Glance's core attributes and its reserved os_glance_* ones left out). */
export function imageProperties(img: ImageBody): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(img)) {
    if (CORE_FIELDS.has(k) || k.startsWith('os_glance') || v === null || v === undefined) continue;
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** A JSON-patch operation on an image (Glance v2's openstack-images-v2.1-json-patch). */
export interface ImagePatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

function fail(res: TransportResponse): never {
  const msg = (res.body as { message?: string } | undefined)?.message ?? res.text.slice(0, 200);
  throw new ApiError(res.status >= 500 ? 502 : res.status, 'ImageServiceError', `image service: ${msg}`);
}

export class ImageClient {
  readonly #transport: Transport;
  readonly #prefix: string;

  constructor(transport: Transport, prefix = '/image') {
    this.#transport = transport;
    this.#prefix = prefix;
  }

  /** The image as `token` may see it; undefined when it does not exist or is not visible. */
  async find(token: string, id: string): Promise<ImageBody | undefined> {
    const res = await this.#transport({
      method: 'GET',
      path: `${this.#prefix}/v2/images/${encodeURIComponent(id)}`,
      headers: { 'x-auth-token': token },
    });
    if (res.status === 404 || res.status === 400) return undefined;
    if (res.status !== 200) fail(res);
    return res.body as ImageBody;
  }

  /** Images `token` may see, filtered by Glance query parameters (one page, up to `limit`). */
  async list(token: string, query: Record<string, string> = {}): Promise<ImageBody[]> {
    const qs = new URLSearchParams(query).toString();
    const res = await this.#transport({
      method: 'GET',
      path: `${this.#prefix}/v2/images${qs ? `?${qs}` : ''}`,
      headers: { 'x-auth-token': token },
    });
    if (res.status !== 200) fail(res);
    return (res.body as { images: ImageBody[] }).images;
  }

  async create(token: string, body: Record<string, unknown>): Promise<ImageBody> {
    const res = await this.#transport({
      method: 'POST',
      path: `${this.#prefix}/v2/images`,
      headers: { 'x-auth-token': token },
      body,
    });
    if (res.status !== 201) fail(res);
    return res.body as ImageBody;
  }

  /** Changes an image with JSON-patch operations (Glance's openstack-images-v2.1-json-patch); the image after. */
  async update(token: string, id: string, ops: ImagePatchOp[]): Promise<ImageBody> {
    const res = await this.#transport({
      method: 'PATCH',
      path: `${this.#prefix}/v2/images/${encodeURIComponent(id)}`,
      headers: { 'x-auth-token': token, 'content-type': 'application/openstack-images-v2.1-json-patch' },
      body: ops,
    });
    if (res.status !== 200) fail(res);
    return res.body as ImageBody;
  }

  async upload(token: string, id: string, data: Buffer): Promise<void> {
    const res = await this.#transport({
      method: 'PUT',
      path: `${this.#prefix}/v2/images/${encodeURIComponent(id)}/file`,
      headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
      raw: data,
    });
    if (res.status !== 204) fail(res);
  }

  /** An image's data (buffered: fine for guest images of tens of MiB; see ARCHITECTURE's debts for streaming). */
  async download(token: string, id: string): Promise<Buffer> {
    const res = await this.#transport({
      method: 'GET',
      path: `${this.#prefix}/v2/images/${encodeURIComponent(id)}/file`,
      headers: { 'x-auth-token': token },
      binary: true,
    });
    if (res.status !== 200 || !res.raw) fail(res);
    return res.raw;
  }

  /** Deletes an image; absent is fine. */
  async delete(token: string, id: string): Promise<void> {
    const res = await this.#transport({
      method: 'DELETE',
      path: `${this.#prefix}/v2/images/${encodeURIComponent(id)}`,
      headers: { 'x-auth-token': token },
    });
    if (res.status !== 204 && res.status !== 404) fail(res);
  }
}
