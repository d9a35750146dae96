// /v2/images/{image_id}/members: sharing an image with other projects (glance/api/v2/image_members.py). Only
// shared images have members; the owner adds and removes them, each member accepts or rejects its own.
import { isApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ImageContext, ImageTrx } from '../context.ts';
import { ImageErrors } from '../errors.ts';
import { imageTarget } from '../policy.ts';
import type { ImageMemberRow, ImageRow, MemberStatus } from '../store/tables.ts';
import {
  type Caller,
  callerOf,
  enforceImage,
  findImage,
  IMAGE_MEMBER_QUOTA,
  policyForbidden,
} from './images.ts';
import { memberView } from './views.ts';

type Body = Record<string, unknown>;

const MEMBER_STATUSES: readonly MemberStatus[] = ['pending', 'accepted', 'rejected'];

function isObject(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** _lookup_image: "Image X not found." for a missing, deleted or invisible image. */
async function lookupImage(ix: ImageContext, trx: ImageTrx | undefined, ctx: RouteContext, caller: Caller) {
  const id = ctx.params['image_id'] ?? '';
  const row = await findImage(trx ?? ix.db, id, caller);
  if (!row) throw ImageErrors.notFound(`Image ${id} not found.`);
  return row;
}

/** MemberAPIPolicy._enforce: get_image first (404 when the caller cannot see the image), then the member rule. */
function enforceMember(ctx: RouteContext, rule: string, row: ImageRow): void {
  enforceImage(ctx, 'get_image', row);
  if (!ctx.can(rule, imageTarget(row, ctx))) throw policyForbidden(rule);
}

/**
 * image_member_find as the caller sees it: an admin or the image's owner sees every membership, anyone else
 * only the one of its own project.
 */
function memberQuery(ix: ImageContext, trx: ImageTrx | undefined, row: ImageRow, caller: Caller) {
  let q = (trx ?? ix.db).selectFrom('image_members').selectAll().where('image_id', '=', row.id);
  if (!caller.isAdmin && row.owner !== caller.projectId)
    q = q.where('member_id', '=', caller.projectId ?? '');
  return q;
}

/** _lookup_member: get_member policy, then the membership (404 "X not found in the member list of the image Y."). */
async function lookupMember(
  ix: ImageContext,
  trx: ImageTrx | undefined,
  ctx: RouteContext,
  caller: Caller,
  row: ImageRow,
): Promise<ImageMemberRow> {
  const memberId = ctx.params['member_id'] ?? '';
  enforceMember(ctx, 'get_member', row);
  const m = await memberQuery(ix, trx, row, caller).where('member_id', '=', memberId).executeTakeFirst();
  if (!m) throw ImageErrors.notFound(`${memberId} not found in the member list of the image ${row.id}.`);
  return m;
}

async function create(ix: ImageContext, ctx: RouteContext) {
  const body: unknown = ctx.body;
  if (body === undefined) throw ImageErrors.badRequest('Body expected in request.');
  if (!isObject(body)) throw ImageErrors.badRequest('Expected a member in the form: {"member": "image_id"}');
  if (!('member' in body)) throw ImageErrors.badRequest('Member to be added not specified');
  const memberId = body['member'];
  if (!memberId) throw ImageErrors.badRequest("Member can't be empty");
  if (typeof memberId !== 'string' || memberId.length > 255) {
    throw ImageErrors.badRequest('Expected a member in the form: {"member": "image_id"}');
  }
  const caller = callerOf(ctx);
  const member = await ix.write(async (trx, record) => {
    const row = await lookupImage(ix, trx, ctx, caller);
    const refused = () => ImageErrors.forbidden(`Not allowed to create members for image ${row.id}.`);
    if (row.visibility !== 'shared') throw refused();
    if (!caller.isAdmin && (row.owner === null || row.owner !== caller.projectId)) throw refused();
    enforceMember(ctx, 'add_member', row);
    const count = await trx
      .selectFrom('image_members')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('image_id', '=', row.id)
      .executeTakeFirstOrThrow();
    const attempted = Number(count.n) + 1;
    if (attempted > IMAGE_MEMBER_QUOTA) {
      throw ImageErrors.tooLarge(
        `Image member limit exceeded for image ${row.id}: The limit has been exceeded on the number of allowed image members for this image. Attempted: ${attempted}, Maximum: ${IMAGE_MEMBER_QUOTA}:`,
      );
    }
    const exists = await trx
      .selectFrom('image_members')
      .select('member_id')
      .where('image_id', '=', row.id)
      .where('member_id', '=', memberId)
      .executeTakeFirst();
    if (exists) throw ImageErrors.conflict(`Member ${memberId} is duplicated for image ${row.id}`);
    const now = ix.nowIso();
    const m: ImageMemberRow = {
      image_id: row.id,
      member_id: memberId,
      status: 'pending',
      created_at: now,
      updated_at: now,
    };
    await trx.insertInto('image_members').values(m).execute();
    record({ kind: 'image_member', id: `${row.id}/${memberId}`, action: 'create', projectId: row.owner });
    return m;
  });
  return { body: memberView(member) };
}

async function list(ix: ImageContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const row = await lookupImage(ix, undefined, ctx, caller);
  if (row.visibility !== 'shared') {
    throw ImageErrors.forbidden(
      `Not allowed to list members for image ${row.id}: Only shared images have members.`,
    );
  }
  enforceMember(ctx, 'get_members', row);
  const members = ctx.can('get_member', imageTarget(row, ctx))
    ? await memberQuery(ix, undefined, row, caller).orderBy('created_at').orderBy('member_id').execute()
    : [];
  return { body: { members: members.map(memberView), schema: '/v2/schemas/members' } };
}

async function show(ix: ImageContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const row = await lookupImage(ix, undefined, ctx, caller);
  // Upstream answers 404 for everything it refuses here, so as not to reveal memberships.
  if (row.visibility !== 'shared') throw ImageErrors.notFound('Only shared images have members.');
  try {
    return { body: memberView(await lookupMember(ix, undefined, ctx, caller, row)) };
  } catch (err) {
    if (isApiError(err) && err.status === 403) throw ImageErrors.notFound(err.message);
    throw err;
  }
}

async function update(ix: ImageContext, ctx: RouteContext) {
  const body: unknown = ctx.body;
  if (body === undefined) throw ImageErrors.badRequest('Body expected in request.');
  if (!isObject(body)) throw ImageErrors.badRequest('Expected a status in the form: {"status": "status"}');
  if (!('status' in body)) throw ImageErrors.badRequest('Status not specified');
  const status = body['status'];
  const caller = callerOf(ctx);
  const member = await ix.write(async (trx, record) => {
    const row = await lookupImage(ix, trx, ctx, caller);
    const refused = () => ImageErrors.forbidden(`Not allowed to update members for image ${row.id}.`);
    if (row.visibility !== 'shared') throw refused();
    // The owner shares; only the member (or an admin) answers.
    if (!caller.isAdmin && caller.projectId === row.owner) throw refused();
    const m = await lookupMember(ix, trx, ctx, caller, row);
    enforceMember(ctx, 'modify_member', row);
    if (typeof status !== 'string' || !MEMBER_STATUSES.includes(status as MemberStatus)) {
      throw ImageErrors.badRequest('Incorrect request: Status must be "pending", "accepted" or "rejected".');
    }
    const updated: ImageMemberRow = { ...m, status: status as MemberStatus, updated_at: ix.nowIso() };
    await trx
      .updateTable('image_members')
      .set({ status: updated.status, updated_at: updated.updated_at })
      .where('image_id', '=', m.image_id)
      .where('member_id', '=', m.member_id)
      .execute();
    record({
      kind: 'image_member',
      id: `${m.image_id}/${m.member_id}`,
      action: 'update',
      projectId: row.owner,
    });
    return updated;
  });
  return { body: memberView(member) };
}

async function remove(ix: ImageContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  await ix.write(async (trx, record) => {
    const row = await lookupImage(ix, trx, ctx, caller);
    const refused = () => ImageErrors.forbidden(`Not allowed to delete members for image ${row.id}.`);
    if (row.visibility !== 'shared') throw refused();
    if (!caller.isAdmin && caller.projectId !== row.owner) throw refused();
    const m = await lookupMember(ix, trx, ctx, caller, row);
    enforceMember(ctx, 'delete_member', row);
    await trx
      .deleteFrom('image_members')
      .where('image_id', '=', m.image_id)
      .where('member_id', '=', m.member_id)
      .execute();
    record({
      kind: 'image_member',
      id: `${m.image_id}/${m.member_id}`,
      action: 'delete',
      projectId: row.owner,
    });
  });
  return { status: 204 };
}

export function memberRoutes(ix: ImageContext): Route[] {
  const base = '/image/v2/images/:image_id/members';
  return [
    { method: 'POST', path: base, handler: (ctx) => create(ix, ctx) },
    { method: 'GET', path: base, handler: (ctx) => list(ix, ctx) },
    { method: 'GET', path: `${base}/:member_id`, handler: (ctx) => show(ix, ctx) },
    { method: 'PUT', path: `${base}/:member_id`, handler: (ctx) => update(ix, ctx) },
    { method: 'DELETE', path: `${base}/:member_id`, handler: (ctx) => remove(ix, ctx) },
  ];
}
