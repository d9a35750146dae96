// /v2/images: create, list, show, update (JSON patch), delete, deactivate and reactivate — Glance's behaviour and
// texts (glance/api/v2/images.py, image_actions.py, domain/__init__.py, db/sqlalchemy/api.py).
import { uniqueOr } from '../../../platform/db/errors.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext, ImageDb, ImageTrx } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import { imageTarget, newImageTarget } from '../policy.ts';
import type { ImageRow, Visibility } from '../store/tables.ts';
import { listImages } from './image-list.ts';
import { imagePropertyType, validateImageBody } from './schemas.ts';
import { imageView, parseProps } from './views.ts';

type Body = Record<string, unknown>;

/** Glance's image_tag_quota, image_property_quota and image_member_quota defaults. */
export const IMAGE_TAG_QUOTA = 128;
export const IMAGE_PROPERTY_QUOTA = 128;
export const IMAGE_MEMBER_QUOTA = 128;
/** Glance keeps min_disk and min_ram in 4-byte integers (_validate_db_int). */
const MAX_DB_INT = 2 ** 31 - 1;
const RESERVED_NAMESPACE = 'os_glance';

/** What the data side does when an image is deleted: drop its stored and staged bytes. */
export interface ImageHooks {
  deleteImageData(row: ImageRow): Promise<void>;
}

/** The caller as Glance's RequestContext sees it: `owner` (the project) and is_admin (context_is_admin). */
export interface Caller {
  projectId: string | undefined;
  isAdmin: boolean;
}

export function callerOf(ctx: RouteContext): Caller {
  const auth = ctx.requireAuth();
  return { projectId: auth.projectId, isAdmin: ctx.can('context_is_admin', {}) };
}

export const resourceNotFound = () => ImageErrors.notFound('The resource could not be found.');
export const policyForbidden = (rule: string) =>
  ImageErrors.forbidden(`You are not authorized to complete ${rule} action.`);

/**
 * Glance's ImageRepo.get: the image when it exists, is not deleted and the caller may see it (is_image_visible:
 * admin, no owner, public or community, the owner, or a member of a shared image whatever its member status).
 */
export async function findImage(
  db: ImageDb | ImageTrx,
  id: string,
  caller: Caller,
): Promise<ImageRow | undefined> {
  if (id.length > 36) return undefined;
  const row = await db.selectFrom('image_images').selectAll().where('id', '=', id).executeTakeFirst();
  if (row?.deleted !== 0) return undefined;
  if (caller.isAdmin || row.owner === null) return row;
  if (row.visibility === 'public' || row.visibility === 'community') return row;
  if (caller.projectId === undefined) return undefined;
  if (row.owner === caller.projectId) return row;
  if (row.visibility !== 'shared') return undefined;
  const m = await db
    .selectFrom('image_members')
    .select('member_id')
    .where('image_id', '=', id)
    .where('member_id', '=', caller.projectId)
    .executeTakeFirst();
  return m ? row : undefined;
}

/** Tags of each image, in a stable (sorted) order. */
export async function tagsOf(db: ImageDb | ImageTrx, ids: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await db
      .selectFrom('image_tags')
      .select(['image_id', 'value'])
      .where('image_id', 'in', chunk)
      .orderBy('value')
      .execute();
    for (const r of rows) {
      const list = out.get(r.image_id);
      if (list) list.push(r.value);
      else out.set(r.image_id, [r.value]);
    }
  }
  return out;
}

/**
 * ImageAPIPolicy._enforce: a failed rule is 404 when the caller may not even see the image (get_image), and
 * 403 "You are not authorized to complete <rule> action." otherwise.
 */
export function enforceImage(ctx: RouteContext, rule: string, row: ImageRow): void {
  const target = imageTarget(row, ctx);
  if (ctx.can(rule, target)) return;
  if (rule === 'get_image' || !ctx.can('get_image', target)) throw resourceNotFound();
  throw policyForbidden(rule);
}

/** check_is_image_mutable (api/v2/policy.py): only an admin or the owning project changes an image. */
export function isMutable(caller: Caller, row: ImageRow): boolean {
  if (caller.isAdmin) return true;
  return row.owner !== null && caller.projectId !== undefined && row.owner === caller.projectId;
}

function requireMutable(caller: Caller, row: ImageRow): void {
  if (!isMutable(caller, row)) throw ImageErrors.forbidden('You do not own this image');
}

/** _enforce_image_visibility: making an image public or community has its own rule. */
function enforceVisibility(ctx: RouteContext, visibility: unknown, target: Record<string, unknown>): void {
  const rule =
    visibility === 'public'
      ? 'publicize_image'
      : visibility === 'community'
        ? 'communitize_image'
        : undefined;
  if (rule && !ctx.can(rule, target)) throw policyForbidden(rule);
}

function tagLimit(attempted: number): ApiError {
  return ImageErrors.tooLarge(
    `The limit has been exceeded on the number of allowed image tags. Attempted: ${attempted}, Maximum: ${IMAGE_TAG_QUOTA}`,
  );
}

function checkPropertyQuota(props: Record<string, unknown>): void {
  const attempted = Object.keys(props).filter((k) => !k.startsWith(RESERVED_NAMESPACE)).length;
  if (attempted > IMAGE_PROPERTY_QUOTA) {
    throw ImageErrors.tooLarge(
      `The limit has been exceeded on the number of allowed image properties. Attempted: ${attempted}, Maximum: ${IMAGE_PROPERTY_QUOTA}`,
    );
  }
}

/** The min_disk/min_ram setters and _validate_db_int. */
function checkMinimum(name: 'min_disk' | 'min_ram', value: number): void {
  if (value < 0) {
    throw ImageErrors.badRequest(
      `Invalid value '${value}' for parameter '${name}': Cannot be a negative value`,
    );
  }
  if (value > MAX_DB_INT) {
    throw ImageErrors.badRequest(`'${name}' value out of range, must not exceed ${MAX_DB_INT}.`);
  }
}

function uniq(values: readonly string[]): string[] {
  return [...new Set(values)];
}

async function writeTags(trx: ImageTrx, id: string, tags: readonly string[]): Promise<void> {
  await trx.deleteFrom('image_tags').where('image_id', '=', id).execute();
  if (tags.length > 0) {
    await trx
      .insertInto('image_tags')
      .values(tags.map((value) => ({ image_id: id, value })))
      .execute();
  }
}

// --- create -------------------------------------------------------------------------------------------------

/** Refused anywhere in a create body (RequestDeserializer._disallowed_properties). */
const DISALLOWED = ['direct_url', 'self', 'file', 'schema', 'stores'];
/** Read-only attributes: the deserializer's and the factory's lists. */
const READ_ONLY = [
  'created_at',
  'updated_at',
  'status',
  'checksum',
  'size',
  'virtual_size',
  'direct_url',
  'self',
  'file',
  'schema',
  'id',
  'os_hash_algo',
  'os_hash_value',
];
const RESERVED = ['location', 'deleted', 'deleted_at'];
/** Attributes the create body may carry at the top level besides custom properties (_base_properties). */
const BASE = [
  'checksum',
  'created_at',
  'container_format',
  'disk_format',
  'id',
  'min_disk',
  'min_ram',
  'name',
  'size',
  'virtual_size',
  'status',
  'tags',
  'owner',
  'updated_at',
  'visibility',
  'protected',
  'os_hidden',
];
/** ImageFactory's read-only and reserved attributes. */
const FACTORY_READ_ONLY = [
  'created_at',
  'updated_at',
  'status',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'size',
  'virtual_size',
];
const FACTORY_RESERVED = [
  'owner',
  'locations',
  'deleted',
  'deleted_at',
  'direct_url',
  'self',
  'file',
  'schema',
];

function isReservedKey(key: string): boolean {
  return RESERVED.includes(key) || key.startsWith(RESERVED_NAMESPACE);
}

async function countImages(ix: ImageContext, owner: string): Promise<number> {
  const r = await ix.db
    .selectFrom('image_images')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('owner', '=', owner)
    .where('status', 'not in', ['killed', 'deleted'])
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** image_count_total, as oslo.limit words an over-limit project (glance/quota/keystone.py). */
async function enforceImageCount(ix: ImageContext, projectId: string | undefined): Promise<void> {
  const limit = ix.config.quotas.image_count_total;
  if (limit < 0 || projectId === undefined) return;
  const usage = await countImages(ix, projectId);
  if (usage + 1 > limit) {
    throw ImageErrors.tooLarge(
      'The request returned a 413 Request Entity Too Large. This generally means that rate limiting or a quota ' +
        `threshold was breached.\n\nThe response body:\nProject ${projectId} is over a limit for [Resource ` +
        `image_count_total is over limit of ${limit} due to current usage ${usage} and delta 1]`,
    );
  }
}

async function create(ix: ImageContext, ctx: RouteContext) {
  const auth = ctx.requireAuth();
  const caller = callerOf(ctx);
  const body: unknown = ctx.body;
  if (body === undefined) throw ImageErrors.badRequest('Body expected in request.');
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    for (const key of DISALLOWED)
      if (key in body) throw ImageErrors.forbidden(`Attribute '${key}' is read-only.`);
  }
  validateImageBody(body);
  const extra: Body = { ...(body as Body) };
  const tags = (extra['tags'] as string[] | undefined) ?? [];
  const core: Body = {};
  for (const key of BASE) {
    if (key in extra) {
      core[key] = extra[key];
      delete extra[key];
    }
  }
  for (const key of Object.keys(extra)) {
    if ([...key].length > 255) {
      throw ImageErrors.badRequest('Custom property should not be greater than 255 characters.');
    }
    if (isReservedKey(key)) throw ImageErrors.forbidden(`Attribute '${key}' is reserved.`);
  }

  const owner = 'owner' in core ? ((core['owner'] as string | null) ?? null) : (auth.projectId ?? null);
  const visibility = (core['visibility'] as Visibility | undefined) ?? 'shared';
  const target = newImageTarget(
    { owner, ...(core['visibility'] !== undefined ? { visibility: core['visibility'] as string } : {}) },
    ctx,
  );
  if (!ctx.can('add_image', target)) {
    if (owner !== (auth.projectId ?? null)) {
      throw ImageErrors.forbidden(`You are not permitted to create images owned by '${owner ?? 'None'}'`);
    }
    throw policyForbidden('add_image');
  }
  enforceVisibility(ctx, target['visibility'], target);
  if (!caller.isAdmin && owner !== (auth.projectId ?? null)) {
    throw ImageErrors.forbidden(`You are not permitted to create images owned by '${owner ?? 'None'}'.`);
  }
  await enforceImageCount(ix, auth.projectId);
  if (tags.length > IMAGE_TAG_QUOTA) throw tagLimit(tags.length);
  for (const key of FACTORY_READ_ONLY) {
    if (key in core || key in extra) throw ImageErrors.forbidden(`Attribute '${key}' is read-only.`);
  }
  for (const key of FACTORY_RESERVED)
    if (key in extra) throw ImageErrors.forbidden(`Attribute '${key}' is reserved.`);
  const minDisk = (core['min_disk'] as number | undefined) ?? 0;
  const minRam = (core['min_ram'] as number | undefined) ?? 0;
  checkMinimum('min_disk', minDisk);
  checkMinimum('min_ram', minRam);
  checkPropertyQuota(extra);

  const id = (core['id'] as string | undefined) ?? ix.ids.uuid();
  const now = ix.nowIso();
  const row: ImageRow = {
    id,
    name: (core['name'] as string | null | undefined) ?? null,
    status: 'queued',
    visibility,
    protected: core['protected'] === true ? 1 : 0,
    os_hidden: core['os_hidden'] === true ? 1 : 0,
    owner,
    disk_format: (core['disk_format'] as string | null | undefined) ?? null,
    container_format: (core['container_format'] as string | null | undefined) ?? null,
    min_disk: minDisk,
    min_ram: minRam,
    size: null,
    virtual_size: null,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    properties: JSON.stringify(extra),
    location: null,
    created_at: now,
    updated_at: now,
    deleted: 0,
    deleted_at: null,
  };
  const tagList = uniq(tags);
  const duplicate = () => ImageErrors.conflict(`Image ID ${id} already exists!`);
  await uniqueOr(
    ix.write(async (trx, record) => {
      // Deleted images keep their row, so their ids stay taken (Glance soft-deletes too).
      const taken = await trx.selectFrom('image_images').select('id').where('id', '=', id).executeTakeFirst();
      if (taken) throw duplicate();
      await trx.insertInto('image_images').values(row).execute();
      await writeTags(trx, id, tagList);
      record({ kind: 'image', id, action: 'create', projectId: owner });
    }),
    () => duplicate(),
  );
  return {
    status: 201,
    body: imageView(row, [...tagList].sort()),
    // Glance names its enabled import methods on every create; ours is glance-direct (see /v2/info/import).
    headers: {
      location: `${ctx.baseUrl()}/image/v2/images/${id}`,
      'openstack-image-import-methods': 'glance-direct',
    },
  };
}

// --- update (JSON patch) ------------------------------------------------------------------------------------

const PATCH_TYPES: Readonly<Record<string, 4 | 10>> = {
  'application/openstack-images-v2.0-json-patch': 4,
  'application/openstack-images-v2.1-json-patch': 10,
};
const OPERATIONS = ['add', 'remove', 'replace'] as const;
type Op = (typeof OPERATIONS)[number];

interface Change {
  op: Op;
  path: string[];
  value?: unknown;
  draft: 4 | 10;
}

/** Attributes of Glance's Image domain object: set in place, never "custom". */
const CORE_ATTRIBUTES = new Set([
  'name',
  'visibility',
  'protected',
  'os_hidden',
  'min_disk',
  'min_ram',
  'owner',
  'disk_format',
  'container_format',
  'tags',
  'status',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'size',
  'virtual_size',
  'created_at',
  'updated_at',
  'locations',
]);

function decodePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string')
    throw ImageErrors.badRequest(`Pointer \`${String(pointer)}\` does not start with "/".`);
  if (!pointer.startsWith('/'))
    throw ImageErrors.badRequest(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1)))
    throw ImageErrors.badRequest(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/'))
    throw ImageErrors.badRequest(`Pointer \`${pointer}\` end with "/".`);
  if (pointer.slice(1).trim() === '/') {
    throw ImageErrors.badRequest(`Pointer \`${pointer}\` does not contains valid token.`);
  }
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) {
    throw ImageErrors.badRequest(
      `Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`,
    );
  }
  return pointer
    .replace(/^\/+/, '')
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~').trim());
}

function parseChange(raw: Body, draft: 4 | 10): Change {
  let op: Op | undefined;
  let pointer: unknown;
  const available = OPERATIONS.join(', ');
  if (draft === 10) {
    const o = raw['op'];
    if (o === undefined || o === null) {
      throw ImageErrors.badRequest(
        `Unable to find \`op\` in JSON Schema change. It must be one of the following: ${available}.`,
      );
    }
    if (!OPERATIONS.includes(o as Op)) {
      throw ImageErrors.badRequest(
        `Invalid operation: \`${String(o)}\`. It must be one of the following: ${available}.`,
      );
    }
    op = o as Op;
    if (!('path' in raw)) throw ImageErrors.badRequest("Unable to find 'path' in JSON Schema change");
    pointer = raw['path'];
  } else {
    for (const key of OPERATIONS) {
      if (key in raw) {
        if (op !== undefined) {
          throw ImageErrors.badRequest(
            'Operation objects must contain only one member named "add", "remove", or "replace".',
          );
        }
        op = key;
      }
    }
    if (op === undefined) {
      throw ImageErrors.badRequest(
        'Operation objects must contain exactly one member named "add", "remove", or "replace".',
      );
    }
    pointer = raw[op];
  }
  const path = decodePointer(pointer);
  const root = path[0] ?? '';
  const depth = root === 'locations' ? { add: 2, remove: 2, replace: 1 }[op] : 1;
  if (path.length !== depth) {
    throw ImageErrors.badRequest(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
  }
  const change: Change = { op, path, draft };
  if (op !== 'remove') {
    if (!('value' in raw)) throw ImageErrors.badRequest(`Operation "${op}" requires a member named "value".`);
    change.value = raw['value'];
  }
  // _validate_change
  if (READ_ONLY.includes(root)) throw ImageErrors.forbidden(`Attribute '${root}' is read-only.`);
  if (isReservedKey(root)) throw ImageErrors.forbidden(`Attribute '${root}' is reserved.`);
  if (op !== 'remove') {
    if (path.length === 1) validateImageBody({ [root]: change.value });
    else if (imagePropertyType(root) === 'array') validateImageBody({ [root]: [change.value] });
  }
  return change;
}

/** RequestDeserializer.update: the content type picks the JSON-patch draft; the body is a list of operations. */
function parsePatch(ctx: RouteContext): Change[] {
  const contentType =
    String(ctx.headers['content-type'] ?? '')
      .split(';', 1)[0]
      ?.trim()
      .toLowerCase() ?? '';
  const draft = PATCH_TYPES[contentType];
  if (draft === undefined) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `The request media type ${contentType || 'None'} is not supported by this server.`,
      { headers: { 'accept-patch': Object.keys(PATCH_TYPES).sort().join(', ') } },
    );
  }
  const body: unknown = ctx.body;
  if (body === undefined) throw ImageErrors.badRequest('Body expected in request.');
  if (!Array.isArray(body))
    throw ImageErrors.badRequest('Request body must be a JSON array of operation objects.');
  return body.map((raw: unknown) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw ImageErrors.badRequest('Operations must be JSON objects.');
    }
    return parseChange(raw as Body, draft);
  });
}

/** The image being patched: the row and its custom properties and tags, changed in memory until saved. */
interface Draft {
  row: ImageRow;
  props: Body;
  tags: string[];
  tagsChanged: boolean;
  propsAdded: boolean;
}

function setCore(draft: Draft, name: string, value: unknown): void {
  const row = draft.row;
  switch (name) {
    case 'name':
      row.name = value as string | null;
      break;
    case 'visibility':
      row.visibility = value as Visibility;
      break;
    case 'protected':
      row.protected = value === true ? 1 : 0;
      break;
    case 'os_hidden':
      row.os_hidden = value === true ? 1 : 0;
      break;
    case 'min_disk':
    case 'min_ram':
      checkMinimum(name, value as number);
      row[name] = value as number;
      break;
    case 'owner':
      row.owner = value as string | null;
      break;
    case 'disk_format':
    case 'container_format':
      if (row.status !== 'queued' && row.status !== 'importing') {
        throw ImageErrors.forbidden(`Attribute ${name} can be only replaced for a queued image.`);
      }
      row[name] = value as string | null;
      break;
    case 'tags': {
      const list = value as string[];
      if (list.length > IMAGE_TAG_QUOTA) throw tagLimit(list.length);
      draft.tags = uniq(list);
      draft.tagsChanged = true;
      break;
    }
    default:
      break;
  }
}

function applyChange(ctx: RouteContext, caller: Caller, draft: Draft, change: Change): void {
  const root = change.path[0] ?? '';
  const target = imageTarget(draft.row, ctx);
  const modify = () => {
    enforceImage(ctx, 'modify_image', draft.row);
    requireMutable(caller, draft.row);
  };
  /** ImageAPIPolicy.update_property: visibility has its own rule, then modify_image. */
  const updateProperty = (value?: unknown) => {
    if (root === 'visibility') enforceVisibility(ctx, value, target);
    modify();
  };
  if (root === 'locations') {
    // show_multiple_locations is off, as in Glance's default: locations cannot be changed through the API.
    if (change.op === 'replace' && (!Array.isArray(change.value) || change.value.length === 0)) {
      throw ImageErrors.forbidden('Cannot set locations to empty list.');
    }
    if (change.op === 'remove') {
      enforceImage(ctx, 'delete_image_location', draft.row);
      requireMutable(caller, draft.row);
      throw ImageErrors.forbidden("It's not allowed to remove locations if locations are invisible.");
    }
    enforceImage(ctx, 'set_image_location', draft.row);
    throw ImageErrors.forbidden(
      change.op === 'add'
        ? "It's not allowed to add locations if locations are invisible."
        : "It's not allowed to update locations if locations are invisible.",
    );
  }
  const isCore = CORE_ATTRIBUTES.has(root);
  switch (change.op) {
    case 'replace':
      if (root === 'owner' && !caller.isAdmin)
        throw ImageErrors.forbidden("Owner can't be updated by non admin.");
      updateProperty(change.value);
      if (isCore) setCore(draft, root, change.value);
      else if (root in draft.props) draft.props[root] = change.value;
      else throw ImageErrors.conflict(`Property ${root} does not exist.`);
      return;
    case 'add':
      // Upstream checks the owner only on replace; an add of /owner is the same change, so it is refused too.
      if (root === 'owner' && !caller.isAdmin)
        throw ImageErrors.forbidden("Owner can't be updated by non admin.");
      updateProperty(change.value);
      if ((isCore || root in draft.props) && change.draft === 4) {
        throw ImageErrors.conflict(`Property ${root} already present.`);
      }
      if (isCore) setCore(draft, root, change.value);
      else {
        if (!(root in draft.props)) draft.propsAdded = true;
        draft.props[root] = change.value;
      }
      return;
    case 'remove':
      updateProperty();
      if (isCore) throw ImageErrors.forbidden(`Property ${root} may not be removed.`);
      if (!(root in draft.props)) throw ImageErrors.conflict(`Property ${root} does not exist.`);
      delete draft.props[root];
      return;
  }
}

async function update(ix: ImageContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const changes = parsePatch(ctx);
  const id = ctx.params['image_id'] ?? '';
  const result = await ix.write(async (trx, record) => {
    const row = await findImage(trx, id, caller);
    if (!row) throw ImageErrors.imageNotFound(id);
    const tags = (await tagsOf(trx, [id])).get(id) ?? [];
    const draft: Draft = {
      row: { ...row },
      props: parseProps(row.properties),
      tags,
      tagsChanged: false,
      propsAdded: false,
    };
    for (const change of changes) applyChange(ctx, caller, draft, change);
    if (changes.length === 0) return { row, tags };
    if (draft.propsAdded) checkPropertyQuota(draft.props);
    draft.row.properties = JSON.stringify(draft.props);
    draft.row.updated_at = ix.nowIso();
    const { id: _id, ...values } = draft.row;
    await trx.updateTable('image_images').set(values).where('id', '=', id).execute();
    if (draft.tagsChanged) await writeTags(trx, id, draft.tags);
    record({ kind: 'image', id, action: 'update', projectId: draft.row.owner });
    return { row: draft.row, tags: draft.tags };
  });
  return { body: imageView(result.row, [...result.tags].sort()) };
}

// --- show, delete, actions ----------------------------------------------------------------------------------

async function show(ix: ImageContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const id = ctx.params['image_id'] ?? '';
  const row = await findImage(ix.db, id, caller);
  if (!row) throw ImageErrors.imageNotFound(id);
  enforceImage(ctx, 'get_image', row);
  const tags = (await tagsOf(ix.db, [id])).get(id) ?? [];
  return { body: imageView(row, tags) };
}

async function remove(ix: ImageContext, ctx: RouteContext, hooks: ImageHooks) {
  const caller = callerOf(ctx);
  const id = ctx.params['image_id'] ?? '';
  const notFound = () => ImageErrors.notFound(`Failed to find image ${id} to delete`);
  const deleted = await ix.write(async (trx, record) => {
    const row = await findImage(trx, id, caller);
    if (!row) throw notFound();
    enforceImage(ctx, 'delete_image', row);
    requireMutable(caller, row);
    if (row.protected === 1) throw ImageErrors.forbidden(`Image ${id} is protected and cannot be deleted.`);
    const now = ix.nowIso();
    const done: ImageRow = { ...row, status: 'deleted', deleted: 1, deleted_at: now, updated_at: now };
    await trx
      .updateTable('image_images')
      .set({ status: 'deleted', deleted: 1, deleted_at: now, updated_at: now })
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .execute();
    await trx.deleteFrom('image_tags').where('image_id', '=', id).execute();
    await trx.deleteFrom('image_members').where('image_id', '=', id).execute();
    record({ kind: 'image', id, action: 'delete', projectId: row.owner });
    return done;
  });
  // The row is gone for the API once committed; a failure to drop the bytes leaves garbage, not a broken image.
  try {
    await hooks.deleteImageData(deleted);
  } catch (err) {
    ctx.log.warn({ err, image_id: id }, 'deleting image data failed');
  }
  return { status: 204 };
}

async function action(ix: ImageContext, ctx: RouteContext, which: 'deactivate' | 'reactivate') {
  const caller = callerOf(ctx);
  const id = ctx.params['image_id'] ?? '';
  await ix.write(async (trx, record) => {
    const row = await findImage(trx, id, caller);
    if (!row) throw ImageErrors.imageNotFound(id);
    enforceImage(ctx, which, row);
    requireMutable(caller, row);
    const [from, to] = which === 'deactivate' ? ['active', 'deactivated'] : ['deactivated', 'active'];
    if (row.status === to) return;
    if (row.status !== from)
      throw ImageErrors.forbidden(`Not allowed to ${which} image in status '${row.status}'`);
    await trx
      .updateTable('image_images')
      .set({ status: to as ImageRow['status'], updated_at: ix.nowIso() })
      .where('id', '=', id)
      .where('status', '=', from as ImageRow['status'])
      .execute();
    record({ kind: 'image', id, action: 'update', projectId: row.owner });
  });
  return { status: 204 };
}

export function imagesRoutes(ix: ImageContext, hooks: ImageHooks): Route[] {
  const base = '/image/v2/images';
  return [
    { method: 'POST', path: base, handler: (ctx) => create(ix, ctx) },
    { method: 'GET', path: base, handler: (ctx) => listImages(ix, ctx) },
    { method: 'GET', path: `${base}/:image_id`, handler: (ctx) => show(ix, ctx) },
    { method: 'PATCH', path: `${base}/:image_id`, handler: (ctx) => update(ix, ctx) },
    { method: 'DELETE', path: `${base}/:image_id`, handler: (ctx) => remove(ix, ctx, hooks) },
    {
      method: 'POST',
      path: `${base}/:image_id/actions/deactivate`,
      handler: (ctx) => action(ix, ctx, 'deactivate'),
    },
    {
      method: 'POST',
      path: `${base}/:image_id/actions/reactivate`,
      handler: (ctx) => action(ix, ctx, 'reactivate'),
    },
  ];
}
