// Image data (Glance v2 api/v2/image_data.py, the import half of api/v2/images.py, api/v2/discovery.py):
// PUT/GET /v2/images/{id}/file, PUT /v2/images/{id}/stage, POST /v2/images/{id}/import (glance-direct),
// GET /v2/images/{id}/tasks, /v2/info/{import,stores,stores/detail,usage}.
//
// Bytes stream from the request into the blob store (hashed and size-limited on the way, never buffered whole)
// and from the store to the response. The image row's status records where each transfer stands, so a restart
// finds its way back: `recoverImages()` resets interrupted uploads and resumes interrupted imports.
//
// As Glance v2 (Zed), a failed upload or stage puts the image back to `queued` (not `killed`: v2 deprecated
// it, domain/__init__.py) so the client can retry, and leaves no data behind.
import { IncomingMessage } from 'node:http';
import { PassThrough, pipeline as pipelineCb, type Readable } from 'node:stream';
import { ApiError, isApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { BlobNotFound, type BlobStore, BlobTooLarge } from '../blobs/blob-store.ts';
import { FileBlobStore } from '../blobs/file-store.ts';
import type { ImageContext } from '../context.ts';
import { InspectingStream, uploadInspector } from '../domain/disk-format.ts';
import type { ImageTask, ImportJobs } from '../domain/import-jobs.ts';
import { ImageErrors } from '../errors.ts';
import type { ImageRow, ImageStatus } from '../store/tables.ts';
import { callerOf, enforceImage, findImage, isMutable } from './images.ts';
import { parseProps } from './views.ts';

const MiB = 1024 * 1024;
/** The status a failed upload or stage returns the image to (Glance v2's _restore/_unstage). */
const FAILED_UPLOAD_STATUS: ImageStatus = 'queued';
const IMPORT_METHODS = ['glance-direct'] as const;
const HASH_ALGO = 'sha512';
const STORE_DESCRIPTION = 'Local filesystem store';
const IMPORTING_STORES_KEY = 'os_glance_importing_to_stores';
const IMPORT_FAILED_KEY = 'os_glance_failed_import';
const IMPORT_LOCK_KEY = 'os_glance_import_task';
const TASKS_KEPT_PER_IMAGE = 10;

// Per-context state: import tasks (Glance's api_image_import tasks, kept in memory) and running imports.
function stateOf(ix: ImageContext): ImportJobs {
  return ix.jobs;
}

/** Resolves once every import running in the background has finished (tests, shutdown). */
export async function importsSettled(ix: ImageContext): Promise<void> {
  const s = stateOf(ix);
  while (s.running.size > 0) await Promise.allSettled([...s.running.values()].map((r) => r.done));
}

/** Stops background imports for shutdown; the images stay `importing` and recoverImages() resumes them. */
export async function stopImageData(ix: ImageContext): Promise<void> {
  const s = stateOf(ix);
  s.stopping = true;
  for (const r of s.running.values()) r.abort.abort(new ShutdownAbort());
  await importsSettled(ix);
}

class ShutdownAbort extends Error {
  constructor() {
    super('image service stopping');
    this.name = 'ShutdownAbort';
  }
}

class ClientDisconnected extends Error {
  constructor() {
    super('the client closed the connection before the upload finished');
    this.name = 'ClientDisconnected';
  }
}

class UploadException extends Error {}

// ---------------------------------------------------------------------------------------------------------
// Lookups, policy and the status machine.

const isAdmin = (ctx: RouteContext) => ctx.can('context_is_admin', {});

/** Glance's ImageRepo.get: the image if it exists and the caller may see it, else 404. */
async function loadImage(ix: ImageContext, ctx: RouteContext, id: string): Promise<ImageRow> {
  const row = await findImage(ix.db, id, callerOf(ctx));
  if (!row) throw ImageErrors.imageNotFound(id);
  return row;
}

/** ImageAPIPolicy._enforce (404 when the caller cannot even see the image) and check_is_image_mutable. */
const enforce = enforceImage;
const mutable = (ctx: RouteContext, row: ImageRow) => isMutable(callerOf(ctx), row);

const transitionError = (from: string, to: string) =>
  ImageErrors.conflict(`Image status transition from ${from} to ${to} is not allowed`);

/** Updates the row only while it is in one of `from` (Glance's save(from_state=…)); true when it was. */
async function transition(
  ix: ImageContext,
  id: string,
  from: readonly ImageStatus[],
  set: Partial<Omit<ImageRow, 'id' | 'properties'>>,
  props?: (p: Record<string, unknown>) => void,
): Promise<boolean> {
  return ix.write(async (trx, record) => {
    const row = await trx
      .selectFrom('image_images')
      .select(['owner', 'status', 'properties'])
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    if (!row || !from.includes(row.status)) return false;
    const values: Partial<ImageRow> = { ...set, updated_at: ix.nowIso() };
    if (props) {
      const p = parseProps(row.properties);
      props(p);
      values.properties = JSON.stringify(p);
    }
    const res = await trx
      .updateTable('image_images')
      .set(values)
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .where('status', 'in', [...from])
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return false;
    record({
      kind: 'image',
      id,
      action: 'update',
      projectId: row.owner,
      data: set.status ? { status: set.status } : undefined,
    });
    return true;
  });
}

async function currentStatus(ix: ImageContext, id: string): Promise<ImageStatus | undefined> {
  const r = await ix.db
    .selectFrom('image_images')
    .select('status')
    .where('id', '=', id)
    .where('deleted', '=', 0)
    .executeTakeFirst();
  return r?.status;
}

function requireFormats(row: ImageRow): void {
  const missing = (['disk_format', 'container_format'] as const).filter((k) => !row[k]);
  if (missing.length === 1)
    throw ImageErrors.badRequest(`Property ${missing[0]} must be set prior to saving data.`);
  if (missing.length > 1) {
    throw ImageErrors.badRequest(`Properties ${missing.join(', ')} must be set prior to saving data.`);
  }
}

function requireOctetStream(ctx: RouteContext): void {
  const raw = ctx.headers['content-type'];
  if (raw === undefined) throw ImageErrors.unsupportedMediaType('Invalid content type None');
  const type = String(raw).split(';', 1)[0]!.trim().toLowerCase();
  if (type !== 'application/octet-stream')
    throw ImageErrors.unsupportedMediaType(`Invalid content type ${type}`);
}

function declaredLength(ctx: RouteContext): number | undefined {
  const v = ctx.headers['content-length'];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Quotas: Glance's unified limits (quota/keystone.py) with our config as the registered limits (-1 = none).

type QuotaName = 'image_size_total' | 'image_stage_total' | 'image_count_total' | 'image_count_uploading';

async function storageBytes(ix: ImageContext, owner: string): Promise<number> {
  const r = await ix.db
    .selectFrom('image_images')
    .select((eb) => eb.fn.sum<number | string | null>('size').as('total'))
    .where('owner', '=', owner)
    .where('deleted', '=', 0)
    .where('size', '>', 0)
    .where('status', 'not in', ['killed', 'deleted'])
    .where('location', 'is not', null)
    .executeTakeFirst();
  return Number(r?.total ?? 0);
}

async function stagingBytes(ix: ImageContext, owner: string): Promise<number> {
  const r = await ix.db
    .selectFrom('image_images')
    .select((eb) => eb.fn.sum<number | string | null>('size').as('total'))
    .where('owner', '=', owner)
    .where('deleted', '=', 0)
    .where('size', '>', 0)
    .where('status', 'in', ['uploading', 'importing'])
    .executeTakeFirst();
  return Number(r?.total ?? 0);
}

async function countImages(ix: ImageContext, owner: string, statuses?: ImageStatus[]): Promise<number> {
  let q = ix.db
    .selectFrom('image_images')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('owner', '=', owner)
    .where('deleted', '=', 0);
  q = statuses ? q.where('status', 'in', statuses) : q.where('status', 'not in', ['killed', 'deleted']);
  const r = await q.executeTakeFirst();
  return Number(r?.n ?? 0);
}

const USAGE: Record<QuotaName, (ix: ImageContext, owner: string) => Promise<number>> = {
  image_size_total: async (ix, o) => Math.floor((await storageBytes(ix, o)) / MiB),
  image_stage_total: async (ix, o) => Math.floor((await stagingBytes(ix, o)) / MiB),
  image_count_total: (ix, o) => countImages(ix, o),
  image_count_uploading: (ix, o) => countImages(ix, o, ['saving', 'uploading', 'importing']),
};

/** oslo.limit's check: over when usage + delta > limit; raises Glance's LimitExceeded text as a 413. */
async function enforceLimit(
  ix: ImageContext,
  project: string | undefined,
  name: QuotaName,
  delta = 0,
): Promise<void> {
  const limit = ix.config.quotas[name];
  if (limit === undefined || limit < 0 || project === undefined) return;
  const usage = await USAGE[name](ix, project);
  if (usage + delta > limit) {
    throw ImageErrors.tooLarge(
      'The request returned a 413 Request Entity Too Large. This generally means that rate limiting or a quota ' +
        'threshold was breached.\n\nThe response body:\n' +
        `Project ${project} is over a limit for [Resource ${name} is over limit of ${limit} due to current usage ` +
        `${usage} and delta ${delta}]`,
    );
  }
}

/** The most bytes a transfer may bring: image_size_cap, or what is left of a size quota if less. */
async function transferLimit(
  ix: ImageContext,
  project: string | undefined,
  quota: 'image_size_total' | 'image_stage_total',
): Promise<{ maxSize: number; message: string }> {
  const cap = ix.config.image_size_cap;
  const tooLarge = {
    maxSize: cap,
    message: 'The incoming image is too large: The provided image is too large.',
  };
  const limit = ix.config.quotas[quota];
  if (limit === undefined || limit < 0 || project === undefined) return tooLarge;
  const used =
    quota === 'image_size_total' ? await storageBytes(ix, project) : await stagingBytes(ix, project);
  const remaining = Math.max(0, limit * MiB - used);
  if (remaining >= cap) return tooLarge;
  return {
    maxSize: remaining,
    message: `Image exceeds the storage quota: The size of the data will exceed the limit. ${remaining} bytes remaining.`,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Streaming.

/**
 * The request body as a stream the store may consume or abandon. Errors and premature closes of the request
 * fail it; if the store fails first, the request is only unpiped (not destroyed), so the error response can
 * still be written on the connection.
 */
function receive(body: unknown, into: PassThrough | InspectingStream): Readable {
  const req = body as Readable | undefined;
  if (!req || typeof req.pipe !== 'function') {
    into.end();
    return into;
  }
  let ended = false;
  req.once('end', () => {
    ended = true;
  });
  req.once('close', () => {
    if (!ended) into.destroy(new ClientDisconnected());
  });
  req.on('error', (err) => into.destroy(err));
  // When the store gives up first (too large, disk error), read and discard the rest of the body: a client
  // still sending would otherwise stall on a full TCP window and never read the error response.
  into.once('close', () => {
    if (ended || req.destroyed) return;
    req.unpipe(into);
    req.resume();
  });
  req.pipe(into);
  return into;
}

const passThrough = () => new PassThrough({ highWaterMark: 1 << 20 });

/**
 * A body read off a socket by Node's HTTP parser, whose every chunk is a fresh buffer of its own: the store may
 * take them (BlobStore.put's `take`). Not an injected request, whose chunks may be the caller's buffers.
 */
function parsedBody(body: unknown): boolean {
  return body instanceof IncomingMessage;
}

// ---------------------------------------------------------------------------------------------------------
// Handlers.

async function upload(ix: ImageContext, ctx: RouteContext) {
  const auth = ctx.requireAuth();
  requireOctetStream(ctx);
  const id = ctx.params['image_id']!;
  const project = auth.projectId;
  await enforceLimit(ix, project, 'image_size_total');
  const store = ctx.headers['x-image-meta-store'];
  if (store !== undefined && store !== ix.blobs.id) {
    throw ImageErrors.badRequest(`Store for identifier ${String(store)} not found`);
  }
  const row = await loadImage(ix, ctx, id);
  enforce(ctx, 'upload_image', row);
  if (!mutable(ctx, row)) throw ImageErrors.forbidden(`Not allowed to upload image data for image ${id}`);
  if (row.status !== 'queued') throw transitionError(row.status, 'saving');
  requireFormats(row);
  const limit = await transferLimit(ix, project, 'image_size_total');
  const declared = declaredLength(ctx);
  if (declared !== undefined && declared > limit.maxSize) throw ImageErrors.tooLarge(limit.message);
  if (!(await transition(ix, id, ['queued'], { status: 'saving' }))) {
    const now = await currentStatus(ix, id);
    if (now === undefined) throw ImageErrors.imageNotFound(id);
    throw transitionError(now, 'saving');
  }
  try {
    await enforceLimit(ix, project, 'image_count_uploading');
    const inspector = uploadInspector(row);
    const tap = inspector ? new InspectingStream(inspector) : passThrough();
    const put = await ix.blobs.put(id, receive(ctx.body, tap), {
      maxSize: limit.maxSize,
      take: parsedBody(ctx.body),
    });
    const virtualSize = tap instanceof InspectingStream ? tap.virtualSize() : null;
    const committed = await transition(ix, id, ['saving'], {
      status: 'active',
      size: put.size,
      checksum: put.md5,
      os_hash_algo: HASH_ALGO,
      os_hash_value: put.sha512,
      virtual_size: virtualSize ?? row.virtual_size,
      location: id,
    });
    if (!committed) {
      await ix.blobs.delete(id);
      throw ImageErrors.gone(
        `Image ${id} could not be found after upload. The image may have been deleted during the upload, ` +
          'cleaning up the chunks uploaded.',
      );
    }
    return { status: 204 };
  } catch (err) {
    await restore(ix, id, 'saving', ix.blobs);
    throw transferError(ctx, err, limit.message, 'upload');
  }
}

/** Glance's _restore/_unstage: back to queued with no size, and no data left. */
async function restore(ix: ImageContext, id: string, from: ImageStatus, store: BlobStore): Promise<void> {
  try {
    await transition(ix, id, [from], { status: FAILED_UPLOAD_STATUS, size: null, virtual_size: null });
  } catch (err) {
    ix.log.error({ err, image_id: id }, 'unable to restore image');
  }
  await store.delete(id).catch((err) => ix.log.error({ err, image_id: id }, 'unable to remove image data'));
}

function transferError(ctx: RouteContext, err: unknown, tooLargeMessage: string, what: string): unknown {
  if (err instanceof BlobTooLarge) return ImageErrors.tooLarge(tooLargeMessage);
  if (isApiError(err)) return err;
  if (err instanceof ClientDisconnected) {
    ctx.log.info({ image_id: ctx.params['image_id'] }, `image ${what} abandoned by the client`);
    return err;
  }
  ctx.log.error(
    { err, image_id: ctx.params['image_id'] },
    `Failed to ${what} image data due to internal error`,
  );
  return err;
}

async function stage(ix: ImageContext, ctx: RouteContext) {
  const auth = ctx.requireAuth();
  requireOctetStream(ctx);
  const id = ctx.params['image_id']!;
  const project = auth.projectId;
  await enforceLimit(ix, project, 'image_stage_total');
  const row = await loadImage(ix, ctx, id);
  enforce(ctx, 'modify_image', row);
  if (!mutable(ctx, row)) throw ImageErrors.forbidden('You do not own this image');
  if (row.status !== 'queued') throw transitionError(row.status, 'uploading');
  const cap = await transferLimit(ix, project, 'image_stage_total');
  const declared = declaredLength(ctx);
  if (declared !== undefined && declared > cap.maxSize) throw ImageErrors.tooLarge(cap.message);
  if (!(await transition(ix, id, ['queued'], { status: 'uploading' }))) {
    const now = await currentStatus(ix, id);
    if (now === undefined) throw ImageErrors.imageNotFound(id);
    throw transitionError(now, 'uploading');
  }
  try {
    await enforceLimit(ix, project, 'image_count_uploading');
    const put = await ix.staging.put(id, receive(ctx.body, passThrough()), {
      maxSize: cap.maxSize,
      take: parsedBody(ctx.body),
    });
    if (!(await transition(ix, id, ['uploading'], { size: put.size }))) {
      await ix.staging.delete(id);
      throw ImageErrors.imageNotFound(id);
    }
    return { status: 204 };
  } catch (err) {
    await restore(ix, id, 'uploading', ix.staging);
    throw transferError(ctx, err, cap.message, 'stage');
  }
}

/** Glance's Range / Content-Range handling (common/wsgi.py get_range_from_request + the download serializer). */
export function resolveRange(
  headers: Record<string, string | string[] | undefined>,
  size: number,
): { start: number; end: number } | undefined {
  const last = size - 1;
  const rangeHeader = headers['range'];
  if (rangeHeader !== undefined) {
    const value = String(rangeHeader);
    if (value.includes(',')) {
      throw ImageErrors.badRequest(
        'Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.',
      );
    }
    const m = /^bytes *= *(\d*) *- *(\d*)/i.exec(value);
    if (!m || (m[1] === '' && m[2] === '')) throw unsatisfiable('Invalid Range header.', size);
    let start: number;
    let stop: number | undefined; // exclusive
    if (m[1] === '') {
      start = -Number(m[2]);
    } else {
      start = Number(m[1]);
      if (m[2] !== '') {
        stop = Number(m[2]) + 1;
        if (start >= stop) throw unsatisfiable('Invalid Range header.', size);
      }
    }
    if (start >= size) {
      throw unsatisfiable(
        `Invalid start position in Range header. Start position MUST be in the inclusive range [0, ${last}].`,
        size,
      );
    }
    const offset = start >= 0 ? start : Math.abs(start) < size ? size + start : 0;
    if (stop !== undefined && stop < size) return { start: offset, end: stop - 1 };
    return { start: offset, end: last };
  }
  const contentRange = headers['content-range'];
  if (contentRange !== undefined) {
    const m = /^bytes (?:(\d+)-(\d+)|[*])\/(?:(\d+)|[*])/.exec(String(contentRange));
    const start = m?.[1] !== undefined ? Number(m[1]) : undefined;
    const stop = m?.[2] !== undefined ? Number(m[2]) + 1 : undefined;
    const length = m?.[3] !== undefined ? Number(m[3]) : undefined;
    const valid =
      m !== null &&
      start !== undefined &&
      stop !== undefined &&
      start < stop &&
      (length === undefined || (stop <= length && start < length));
    if (!valid) throw unsatisfiable('Invalid Content-Range header.', size);
    if (length === undefined && stop > size) {
      throw unsatisfiable(
        `Invalid stop position in Content-Range header. The stop position MUST be in the inclusive range [0, ${last}].`,
        size,
      );
    }
    if (start >= size) {
      throw unsatisfiable(
        `Invalid start position in Content-Range header. Start position MUST be in the inclusive range [0, ${last}].`,
        size,
      );
    }
    return { start, end: Math.min(stop, size) - 1 };
  }
  return undefined;
}

function unsatisfiable(message: string, size: number): ApiError {
  return new ApiError(416, 'RequestedRangeNotSatisfiable', message, {
    headers: { 'content-range': `bytes */${size}` },
  });
}

async function download(ix: ImageContext, ctx: RouteContext) {
  ctx.requireAuth();
  const id = ctx.params['image_id']!;
  const row = await loadImage(ix, ctx, id);
  if (row.status === 'deactivated' && !isAdmin(ctx)) {
    throw ImageErrors.forbidden(
      'The requested image has been deactivated. Image data download is forbidden.',
    );
  }
  enforce(ctx, 'download_image', row);
  if (!row.location) return { status: 204 };
  const size = Number(row.size ?? 0);
  const range = resolveRange(ctx.headers, size);
  let stream: Readable;
  try {
    stream = await ix.blobs.get(row.location, range);
  } catch (err) {
    if (err instanceof BlobNotFound) return { status: 204 };
    throw err;
  }
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-length': String(range ? range.end - range.start + 1 : size),
  };
  if (row.checksum) headers['content-md5'] = row.checksum;
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
  return { status: range ? 206 : 200, stream, headers };
}

// --- import (glance-direct) ---

function validateImportBody(body: unknown): { method: string; all_stores: boolean; stores?: unknown } {
  const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  if (!('method' in b)) throw ImageErrors.badRequest("Import request requires a 'method' field.");
  const method = b['method'];
  if (!method || typeof method !== 'object' || !('name' in method)) {
    throw ImageErrors.badRequest("Import request requires a 'name' field.");
  }
  const name = (method as Record<string, unknown>)['name'];
  if (!(IMPORT_METHODS as readonly unknown[]).includes(name)) {
    throw ImageErrors.badRequest(`Unknown import method name '${String(name)}'.`);
  }
  const mustSucceed = b['all_stores_must_succeed'] ?? true;
  if (typeof mustSucceed !== 'boolean') {
    throw ImageErrors.badRequest("'all_stores_must_succeed' must be boolean value only");
  }
  const all = b['all_stores'] ?? false;
  if (typeof all !== 'boolean') throw ImageErrors.badRequest("'all_stores' must be boolean value only");
  return { method: String(name), all_stores: all, ...('stores' in b ? { stores: b['stores'] } : {}) };
}

/** utils.get_stores_from_request with our one store. */
function importStores(
  ix: ImageContext,
  ctx: RouteContext,
  req: { all_stores: boolean; stores?: unknown },
): string[] {
  const header = ctx.headers['x-image-meta-store'];
  let stores: unknown[];
  if (req.all_stores) {
    if (req.stores !== undefined || header !== undefined) {
      throw ImageErrors.badRequest(
        "All_stores parameter can't be used with x-image-meta-store header or stores parameter",
      );
    }
    stores = [ix.blobs.id];
  } else if (req.stores !== undefined) {
    if (header !== undefined) {
      throw ImageErrors.badRequest("Stores parameter and x-image-meta-store header can't be both specified");
    }
    stores = Array.isArray(req.stores) ? req.stores : [req.stores];
  } else {
    stores = [header !== undefined ? String(header) : ix.blobs.id];
  }
  for (const s of stores) {
    if (s !== ix.blobs.id) throw ImageErrors.conflict(`Store for identifier ${String(s)} not found`);
  }
  return stores.length > 0 ? (stores as string[]) : [ix.blobs.id];
}

async function importImage(ix: ImageContext, ctx: RouteContext) {
  const auth = ctx.requireAuth();
  const id = ctx.params['image_id']!;
  const req = validateImportBody(ctx.body);
  await enforceLimit(ix, auth.projectId, 'image_size_total');
  const row = await loadImage(ix, ctx, id);
  if (row.status === 'active')
    throw ImageErrors.conflict('Image with status active cannot be target for import');
  if (row.status !== 'uploading') {
    throw ImageErrors.conflict("Image needs to be staged before 'glance-direct' method can be used");
  }
  if (!row.container_format) throw ImageErrors.conflict("'container_format' needs to be set before import");
  if (!row.disk_format) throw ImageErrors.conflict("'disk_format' needs to be set before import");
  enforce(ctx, 'modify_image', row);
  if (!mutable(ctx, row)) throw ImageErrors.forbidden('You do not own this image');
  if (parseProps(row.properties)[IMPORT_LOCK_KEY] && stateOf(ix).running.has(id)) {
    throw ImageErrors.conflict('Image has active task');
  }
  const stores = importStores(ix, ctx, req);
  const now = ix.nowIso();
  const task: ImageTask = {
    id: ix.ids.uuid(),
    type: 'api_image_import',
    status: 'pending',
    owner: auth.projectId ?? null,
    expires_at: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    deleted: false,
    image_id: id,
    request_id: ctx.requestId,
    user_id: auth.userId,
    input: { image_id: id, import_req: ctx.body as unknown, backend: stores },
    result: null,
    message: '',
  };
  const locked = await transition(ix, id, ['uploading'], { status: 'importing' }, (p) => {
    p[IMPORT_LOCK_KEY] = task.id;
    p[IMPORTING_STORES_KEY] = stores.join(',');
    p[IMPORT_FAILED_KEY] = '';
  });
  if (!locked) {
    const status = await currentStatus(ix, id);
    if (status === undefined) throw ImageErrors.imageNotFound(id);
    throw ImageErrors.conflict(
      `New operation on image '${id}' is not permitted as prior operation is still in progress`,
    );
  }
  addTask(ix, task);
  startImport(ix, id, task);
  return { status: 202 };
}

function addTask(ix: ImageContext, task: ImageTask): void {
  const tasks = stateOf(ix).tasks;
  const list = tasks.get(task.image_id) ?? [];
  list.push(task);
  while (list.length > TASKS_KEPT_PER_IMAGE) list.shift();
  tasks.set(task.image_id, list);
}

function startImport(ix: ImageContext, id: string, task: ImageTask): void {
  const s = stateOf(ix);
  const abort = new AbortController();
  const done = runImport(ix, id, task, abort.signal)
    .catch((err) => ix.log.error({ err, image_id: id }, 'image import crashed'))
    .finally(() => {
      if (s.running.get(id)?.abort === abort) s.running.delete(id);
    });
  s.running.set(id, { abort, done });
}

function touch(ix: ImageContext, task: ImageTask, patch: Partial<ImageTask>): void {
  Object.assign(task, patch, { updated_at: ix.nowIso() });
}

/** The import flow (async_/flows/api_image_import.py, glance-direct): staging → store, then activate. */
async function runImport(ix: ImageContext, id: string, task: ImageTask, signal: AbortSignal): Promise<void> {
  touch(ix, task, { status: 'processing' });
  let committed = false;
  try {
    const row = await ix.db
      .selectFrom('image_images')
      .selectAll()
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    if (row?.status !== 'importing') throw new Error('Image has been deleted, aborting import.');
    await enforceLimit(
      ix,
      task.owner ?? undefined,
      'image_size_total',
      Math.floor(Number(row.size ?? 0) / MiB),
    );
    const staged = await ix.staging.get(id);
    const inspector = uploadInspector(row);
    const tap = inspector ? new InspectingStream(inspector) : passThrough();
    pipelineCb(staged, tap, () => {});
    const expected = row.size === null ? null : Number(row.size);
    const put = await ix.blobs.put(id, tap, {
      maxSize: ix.config.image_size_cap,
      signal,
      verify: (r) => {
        if (expected !== null && r.size !== expected) {
          throw new UploadException(
            'Image upload problem: size of uploaded data is different from current value set on the image.',
          );
        }
      },
    });
    const virtualSize = tap instanceof InspectingStream ? tap.virtualSize() : null;
    committed = await transition(
      ix,
      id,
      ['importing'],
      {
        status: 'active',
        size: put.size,
        checksum: put.md5,
        os_hash_algo: HASH_ALGO,
        os_hash_value: put.sha512,
        virtual_size: virtualSize ?? row.virtual_size,
        location: id,
      },
      (p) => {
        p[IMPORTING_STORES_KEY] = '';
        delete p[IMPORT_LOCK_KEY];
      },
    );
    if (!committed) throw new Error('Image has been deleted, aborting import.');
    await ix.staging
      .delete(id)
      .catch((err) => ix.log.error({ err, image_id: id }, 'staged data not removed'));
    touch(ix, task, { status: 'success', result: { image_id: id } });
  } catch (err) {
    if (signal.reason instanceof ShutdownAbort) {
      // Left `importing` with its staged data: recoverImages() resumes it on the next start.
      touch(ix, task, {
        status: 'failure',
        message: 'Interrupted by a service restart; it resumes on start.',
      });
      return;
    }
    if (!committed) await ix.blobs.delete(id).catch(() => {});
    await ix.staging.delete(id).catch(() => {});
    await transition(ix, id, ['importing'], { status: 'queued', size: null, virtual_size: null }, (p) => {
      p[IMPORTING_STORES_KEY] = '';
      p[IMPORT_FAILED_KEY] = ix.blobs.id;
      delete p[IMPORT_LOCK_KEY];
    }).catch((e) => ix.log.error({ err: e, image_id: id }, 'unable to revert a failed import'));
    const message = err instanceof Error ? err.message : String(err);
    ix.log.warn({ image_id: id, task_id: task.id, err: message }, 'image import failed');
    touch(ix, task, { status: 'failure', message: isApiError(err) ? err.message : message });
  }
}

async function imageTasks(ix: ImageContext, ctx: RouteContext) {
  const auth = ctx.requireAuth();
  const id = ctx.params['image_id']!;
  let row: ImageRow;
  try {
    row = await loadImage(ix, ctx, id);
    enforce(ctx, 'get_image', row);
  } catch (err) {
    if (isApiError(err) && (err.status === 404 || err.status === 403)) {
      throw ImageErrors.notFound('The resource could not be found.');
    }
    throw err;
  }
  const admin = isAdmin(ctx);
  const tasks = (stateOf(ix).tasks.get(row.id) ?? []).filter(
    (t) => admin || t.owner === (auth.projectId ?? null),
  );
  return { body: { tasks } };
}

// --- discovery ---

function storeEntry(ix: ImageContext): Record<string, unknown> {
  return { id: ix.blobs.id, description: STORE_DESCRIPTION, default: 'true' };
}

function storesDetail(ix: ImageContext, ctx: RouteContext) {
  ctx.requireAuth();
  if (!ctx.can('stores_info_detail', {})) {
    throw ImageErrors.forbidden('You are not authorized to complete stores_info_detail action.');
  }
  const properties: Record<string, unknown> = { chunk_size: 65536, thin_provisioning: false };
  if (ix.blobs instanceof FileBlobStore) properties['data_dir'] = ix.blobs.dir;
  return { body: { stores: [{ ...storeEntry(ix), type: 'file', properties }] } };
}

async function usage(ix: ImageContext, ctx: RouteContext) {
  const auth = ctx.requireAuth();
  const project = auth.projectId;
  const out: Record<string, { usage: number; limit: number }> = {};
  if (project !== undefined) {
    for (const name of Object.keys(USAGE) as QuotaName[]) {
      out[name] = { usage: await USAGE[name](ix, project), limit: ix.config.quotas[name] ?? -1 };
    }
  }
  return { body: { usage: out } };
}

function rejectMethods(path: string, allowed: string, methods: Route['method']): Route {
  return {
    method: methods,
    path,
    handler(ctx) {
      throw new ApiError(
        405,
        'MethodNotAllowed',
        `The method ${ctx.request.method} is not allowed for this resource.`,
        {
          headers: { allow: allowed },
        },
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Public surface.

export function imageDataRoutes(ix: ImageContext): Route[] {
  const FILE = '/image/v2/images/:image_id/file';
  const STAGE = '/image/v2/images/:image_id/stage';
  const IMPORT = '/image/v2/images/:image_id/import';
  return [
    { method: 'PUT', path: FILE, handler: (ctx) => upload(ix, ctx) },
    { method: 'GET', path: FILE, handler: (ctx) => download(ix, ctx) },
    // Glance rejects HEAD on the data (and a HEAD must not open the file it would never read).
    rejectMethods(FILE, 'GET, PUT', ['HEAD', 'POST', 'PATCH', 'DELETE']),
    { method: 'PUT', path: STAGE, handler: (ctx) => stage(ix, ctx) },
    rejectMethods(STAGE, 'PUT', ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE']),
    { method: 'POST', path: IMPORT, handler: (ctx) => importImage(ix, ctx) },
    rejectMethods(IMPORT, 'POST', ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE']),
    { method: 'GET', path: '/image/v2/images/:image_id/tasks', handler: (ctx) => imageTasks(ix, ctx) },
    {
      method: 'GET',
      path: '/image/v2/info/import',
      handler: () => ({
        body: {
          'import-methods': {
            description: 'Import methods available.',
            type: 'array',
            value: [...IMPORT_METHODS],
          },
        },
      }),
    },
    { method: 'GET', path: '/image/v2/info/stores', handler: () => ({ body: { stores: [storeEntry(ix)] } }) },
    { method: 'GET', path: '/image/v2/info/stores/detail', handler: (ctx) => storesDetail(ix, ctx) },
    { method: 'GET', path: '/image/v2/info/usage', handler: (ctx) => usage(ix, ctx) },
  ];
}

/**
 * Removes an image's data (stored and staged) and forgets its tasks; for the image DELETE to call after it
 * marked the row deleted. An import still running for it is stopped. Never throws: leftovers are logged and
 * collected by recoverImages() on the next start.
 */
export async function deleteImageData(
  ix: ImageContext,
  row: Pick<ImageRow, 'id' | 'location'>,
): Promise<void> {
  const s = stateOf(ix);
  const running = s.running.get(row.id);
  if (running) {
    running.abort.abort(new Error('Image has been deleted, aborting import.'));
    await running.done;
  }
  s.tasks.delete(row.id);
  const log = (err: unknown) => ix.log.warn({ err, image_id: row.id }, 'image data not removed');
  if (row.location) await ix.blobs.delete(row.location).catch(log);
  if (row.location !== row.id) await ix.blobs.delete(row.id).catch(log);
  await ix.staging.delete(row.id).catch(log);
}

export interface RecoveryReport {
  /** Uploads or stages interrupted mid-transfer, set back to queued. */
  reset: string[];
  /** Imports resumed from their staged data. */
  resumed: string[];
  /** Blobs with no image to own them, removed. */
  orphans: string[];
}

/**
 * Brings image data back in line with the rows after a crash or restart, once at start (single process):
 * `saving` → `queued` (partial data removed), `uploading` without staged data → `queued`, `importing` with
 * staged data → import resumed in the background (without → `queued`, marked failed), and blobs nobody owns
 * removed. Call after the stores' recover().
 */
export async function recoverImages(ix: ImageContext): Promise<RecoveryReport> {
  const report: RecoveryReport = { reset: [], resumed: [], orphans: [] };
  const resume: ImageTask[] = [];
  const rows = await ix.db
    .selectFrom('image_images')
    .select(['id', 'status', 'location', 'owner', 'properties'])
    .where('deleted', '=', 0)
    .where('status', 'in', ['saving', 'uploading', 'importing'])
    .execute();
  for (const r of rows) {
    if (r.status === 'saving') {
      await ix.blobs.delete(r.id);
      if (
        await transition(ix, r.id, ['saving'], {
          status: FAILED_UPLOAD_STATUS,
          size: null,
          virtual_size: null,
        })
      ) {
        report.reset.push(r.id);
      }
    } else if (r.status === 'uploading') {
      if (!(await ix.staging.head(r.id))) {
        if (
          await transition(ix, r.id, ['uploading'], {
            status: FAILED_UPLOAD_STATUS,
            size: null,
            virtual_size: null,
          })
        ) {
          report.reset.push(r.id);
        }
      }
    } else if (await ix.staging.head(r.id)) {
      const props = parseProps(r.properties);
      const now = ix.nowIso();
      const task: ImageTask = {
        id: typeof props[IMPORT_LOCK_KEY] === 'string' ? (props[IMPORT_LOCK_KEY] as string) : ix.ids.uuid(),
        type: 'api_image_import',
        status: 'pending',
        owner: r.owner,
        expires_at: null,
        created_at: now,
        updated_at: now,
        deleted_at: null,
        deleted: false,
        image_id: r.id,
        request_id: null,
        user_id: null,
        input: { image_id: r.id, import_req: { method: { name: 'glance-direct' } }, backend: [ix.blobs.id] },
        result: null,
        message: 'Resumed after a restart.',
      };
      resume.push(task);
      report.resumed.push(r.id);
    } else {
      await ix.blobs.delete(r.id);
      await transition(ix, r.id, ['importing'], { status: 'queued', size: null, virtual_size: null }, (p) => {
        p[IMPORTING_STORES_KEY] = '';
        p[IMPORT_FAILED_KEY] = ix.blobs.id;
        delete p[IMPORT_LOCK_KEY];
      });
      report.reset.push(r.id);
    }
  }
  // Garbage first, then the imports: a resumed import must not race the collector over its staged data.
  report.orphans.push(...(await collectOrphans(ix)));
  for (const task of resume) {
    addTask(ix, task);
    startImport(ix, task.image_id, task);
  }
  if (report.reset.length + report.resumed.length + report.orphans.length > 0) {
    ix.log.info(report, 'image data recovered');
  }
  return report;
}

async function collectOrphans(ix: ImageContext): Promise<string[]> {
  const removed: string[] = [];
  const owned = async (keys: string[], column: 'location' | 'id', statuses: ImageStatus[] | undefined) => {
    if (keys.length === 0) return new Set<string>();
    const found = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      let q = ix.db
        .selectFrom('image_images')
        .select(['id', 'location'])
        .where('deleted', '=', 0)
        .where(column, 'in', keys.slice(i, i + 500));
      if (statuses) q = q.where('status', 'in', statuses);
      for (const r of await q.execute()) found.add(column === 'id' ? r.id : (r.location ?? ''));
    }
    return found;
  };
  const stored = await ix.blobs.list();
  const keep = await owned(stored, 'location', undefined);
  // A row mid-import owns its future blob by id.
  const importing = await owned(stored, 'id', ['importing']);
  for (const k of stored) {
    if (!keep.has(k) && !importing.has(k)) {
      await ix.blobs.delete(k);
      removed.push(`${ix.blobs.id}:${k}`);
    }
  }
  const staged = await ix.staging.list();
  const staging = await owned(staged, 'id', ['uploading', 'importing']);
  for (const k of staged) {
    if (!staging.has(k)) {
      await ix.staging.delete(k);
      removed.push(`staging:${k}`);
    }
  }
  return removed;
}
