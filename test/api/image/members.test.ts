// /v2/images/{id}/members: sharing, accepting and rejecting, member_status listing, and who may do what —
// Glance's statuses and texts, through the real HTTP stack.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  startTestCloud,
  type TestCloud,
  type TestResponse,
  type TestUser,
  uniqueName,
} from '../../support/cloud.ts';

const URL = '/image/v2/images';

let tc: TestCloud;
let owner: TestUser; // member of project A
let ownerReader: TestUser; // reader of project A
let alt: TestUser; // member of project B, the one images are shared with
let third: TestUser; // member of project C

before(async () => {
  tc = await startTestCloud();
  const projectA = await tc.makeProject(uniqueName('share-a'));
  owner = await tc.makeUser({ projectId: projectA });
  ownerReader = await tc.makeUser({ projectId: projectA, role: 'reader' });
  alt = await tc.makeUser();
  third = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

function expectError(res: TestResponse, status: number, message?: string | RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.code, `${status} ${res.body?.title}`, res.text);
  if (typeof message === 'string') assert.equal(res.body.message, message);
  else if (message) assert.match(res.body.message, message);
}

async function createImage(body: Record<string, unknown> = {}, token = owner.token): Promise<string> {
  const res = await tc.request('POST', URL, { token, body: { name: uniqueName('shared'), ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

const addMember = (id: string, member: unknown, token = owner.token) =>
  tc.request('POST', `${URL}/${id}/members`, { token, body: { member } });
const setStatus = (id: string, member: string, status: unknown, token = alt.token) =>
  tc.request('PUT', `${URL}/${id}/members/${member}`, { token, body: { status } });
const getMember = (id: string, member: string, token = owner.token) =>
  tc.request('GET', `${URL}/${id}/members/${member}`, { token });
const listMembers = (id: string, token = owner.token) => tc.request('GET', `${URL}/${id}/members`, { token });
const deleteMember = (id: string, member: string, token = owner.token) =>
  tc.request('DELETE', `${URL}/${id}/members/${member}`, { token });

async function listIds(query: string, token: string): Promise<string[]> {
  const res = await tc.request('GET', `${URL}${query ? `?${query}` : ''}`, { token });
  assert.equal(res.status, 200, res.text);
  return (res.body.images as { id: string }[]).map((i) => i.id);
}

async function snapshot(): Promise<string> {
  const db = tc.cloud.image.context.db;
  const images = await db.selectFrom('image_images').selectAll().orderBy('id').execute();
  const members = await db
    .selectFrom('image_members')
    .selectAll()
    .orderBy('image_id')
    .orderBy('member_id')
    .execute();
  return JSON.stringify({ images, members });
}

describe('sharing flow', () => {
  test('share, accept, list as the member, reject, remove', async () => {
    const id = await createImage();
    const add = await addMember(id, alt.projectId);
    assert.equal(add.status, 200, add.text);
    assert.equal(add.body.image_id, id);
    assert.equal(add.body.member_id, alt.projectId);
    assert.equal(add.body.status, 'pending');
    assert.equal(add.body.schema, '/v2/schemas/member');
    assert.match(add.body.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal(add.body.updated_at, add.body.created_at);

    // Pending: the member can see the image by id but does not list it by default.
    assert.equal((await tc.request('GET', `${URL}/${id}`, { token: alt.token })).status, 200);
    assert.ok(!(await listIds('', alt.token)).includes(id));
    assert.ok((await listIds('member_status=pending&visibility=shared', alt.token)).includes(id));
    assert.ok((await listIds('member_status=all', alt.token)).includes(id));
    assert.ok(!(await listIds('member_status=accepted', alt.token)).includes(id));
    // Third parties neither see nor list it.
    assert.equal((await tc.request('GET', `${URL}/${id}`, { token: third.token })).status, 404);
    assert.ok(!(await listIds('member_status=all', third.token)).includes(id));

    const accept = await setStatus(id, alt.projectId, 'accepted');
    assert.equal(accept.status, 200, accept.text);
    assert.equal(accept.body.status, 'accepted');
    assert.ok((await listIds('', alt.token)).includes(id));
    assert.ok((await listIds('visibility=shared', alt.token)).includes(id));
    assert.ok(!(await listIds('member_status=pending', alt.token)).includes(id));

    const shown = await getMember(id, alt.projectId);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.status, 'accepted');
    assert.equal((await getMember(id, alt.projectId, alt.token)).status, 200);

    const members = await listMembers(id);
    assert.equal(members.status, 200);
    assert.equal(members.body.schema, '/v2/schemas/members');
    assert.deepEqual(
      members.body.members.map((m: { member_id: string }) => m.member_id),
      [alt.projectId],
    );

    const reject = await setStatus(id, alt.projectId, 'rejected');
    assert.equal(reject.status, 200);
    assert.ok(!(await listIds('', alt.token)).includes(id));
    assert.ok((await listIds('member_status=rejected', alt.token)).includes(id));

    const del = await deleteMember(id, alt.projectId);
    assert.equal(del.status, 204, del.text);
    expectError(
      await getMember(id, alt.projectId),
      404,
      `${alt.projectId} not found in the member list of the image ${id}.`,
    );
    expectError(await tc.request('GET', `${URL}/${id}`, { token: alt.token }), 404);
    // Sharing again after removal starts over as pending.
    assert.equal((await addMember(id, alt.projectId)).body.status, 'pending');
  });

  test('each member sees only its own membership; the owner and an admin see all', async () => {
    const id = await createImage();
    assert.equal((await addMember(id, alt.projectId)).status, 200);
    assert.equal((await addMember(id, third.projectId)).status, 200);
    const ids = (res: TestResponse) => res.body.members.map((m: { member_id: string }) => m.member_id).sort();
    assert.deepEqual(ids(await listMembers(id)), [alt.projectId, third.projectId].sort());
    assert.deepEqual(ids(await listMembers(id, tc.adminToken)), [alt.projectId, third.projectId].sort());
    assert.deepEqual(ids(await listMembers(id, alt.token)), [alt.projectId]);
    assert.deepEqual(ids(await listMembers(id, ownerReader.token)), [alt.projectId, third.projectId].sort());
    expectError(
      await getMember(id, third.projectId, alt.token),
      404,
      `${third.projectId} not found in the member list of the image ${id}.`,
    );
    expectError(await setStatus(id, third.projectId, 'accepted', alt.token), 404);
    assert.equal(
      (await setStatus(id, third.projectId, 'accepted', tc.adminToken)).status,
      200,
      'an admin answers for anyone',
    );
  });
});

describe('refusals', () => {
  test('only shared images have members', async () => {
    const id = await createImage({ visibility: 'private' });
    const before = await snapshot();
    expectError(await addMember(id, alt.projectId), 403, `Not allowed to create members for image ${id}.`);
    expectError(
      await listMembers(id),
      403,
      `Not allowed to list members for image ${id}: Only shared images have members.`,
    );
    expectError(await getMember(id, alt.projectId), 404, 'Only shared images have members.');
    expectError(
      await setStatus(id, alt.projectId, 'accepted', owner.token),
      403,
      `Not allowed to update members for image ${id}.`,
    );
    expectError(await deleteMember(id, alt.projectId), 403, `Not allowed to delete members for image ${id}.`);
    assert.equal(await snapshot(), before);
  });

  test('the owner shares and removes; the member answers; others are refused', async () => {
    const id = await createImage();
    assert.equal((await addMember(id, alt.projectId)).status, 200);
    const before = await snapshot();
    expectError(
      await setStatus(id, alt.projectId, 'accepted', owner.token),
      403,
      `Not allowed to update members for image ${id}.`,
    );
    expectError(
      await addMember(id, third.projectId, alt.token),
      403,
      `Not allowed to create members for image ${id}.`,
    );
    expectError(
      await deleteMember(id, alt.projectId, alt.token),
      403,
      `Not allowed to delete members for image ${id}.`,
    );
    expectError(
      await addMember(id, third.projectId, ownerReader.token),
      403,
      'You are not authorized to complete add_member action.',
    );
    expectError(
      await deleteMember(id, alt.projectId, ownerReader.token),
      403,
      'You are not authorized to complete delete_member action.',
    );
    expectError(
      await addMember(id, alt.projectId),
      409,
      `Member ${alt.projectId} is duplicated for image ${id}`,
    );
    expectError(await addMember(id, third.projectId, third.token), 404, `Image ${id} not found.`);
    expectError(await listMembers(id, third.token), 404, `Image ${id} not found.`);
    expectError(
      await setStatus(id, alt.projectId, 'maybe'),
      400,
      'Incorrect request: Status must be "pending", "accepted" or "rejected".',
    );
    expectError(
      await setStatus(id, 'nobody', 'accepted', tc.adminToken),
      404,
      `nobody not found in the member list of the image ${id}.`,
    );
    const missing = tc.cloud.image.context.ids.uuid();
    expectError(await addMember(missing, alt.projectId), 404, `Image ${missing} not found.`);
    assert.equal(await snapshot(), before);
  });

  test('bad bodies are 400 with Glance texts', async () => {
    const id = await createImage();
    const before = await snapshot();
    const post = (body: unknown) => tc.request('POST', `${URL}/${id}/members`, { token: owner.token, body });
    expectError(
      await tc.request('POST', `${URL}/${id}/members`, { token: owner.token }),
      400,
      'Body expected in request.',
    );
    expectError(await post({}), 400, 'Member to be added not specified');
    expectError(await post({ member: '' }), 400, "Member can't be empty");
    expectError(await post(['x']), 400, 'Expected a member in the form: {"member": "image_id"}');
    const put = (body: unknown) =>
      tc.request('PUT', `${URL}/${id}/members/${alt.projectId}`, { token: alt.token, body });
    expectError(await put({}), 400, 'Status not specified');
    expectError(await put('accepted'), 400, 'Expected a status in the form: {"status": "status"}');
    assert.equal(await snapshot(), before);
  });

  test('an image deleted with its members leaves no memberships behind', async () => {
    const id = await createImage();
    assert.equal((await addMember(id, alt.projectId)).status, 200);
    assert.equal((await tc.request('DELETE', `${URL}/${id}`, { token: owner.token })).status, 204);
    const rows = await tc.cloud.image.context.db
      .selectFrom('image_members')
      .selectAll()
      .where('image_id', '=', id)
      .execute();
    assert.equal(rows.length, 0);
    expectError(await listMembers(id), 404, `Image ${id} not found.`);
  });
});
