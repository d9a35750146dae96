// /v2/images/{id}/tags/{tag}: add and delete one tag, with Glance's statuses, texts and tag quota.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  startTestCloud,
  type TestCloud,
  type TestResponse,
  type TestUser,
  uniqueName,
} from '../../support/cloud.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON.
type Img = Record<string, any>;
const URL = '/image/v2/images';

let tc: TestCloud;
let owner: TestUser;
let reader: TestUser;
let other: TestUser;

before(async () => {
  tc = await startTestCloud();
  const project = await tc.makeProject(uniqueName('tags'));
  owner = await tc.makeUser({ projectId: project });
  reader = await tc.makeUser({ projectId: project, role: 'reader' });
  other = await tc.makeUser();
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

async function createImage(body: Record<string, unknown> = {}): Promise<Img> {
  const res = await tc.request('POST', URL, {
    token: owner.token,
    body: { name: uniqueName('tagged'), ...body },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

const putTag = (id: string, tag: string, token = owner.token) =>
  tc.request('PUT', `${URL}/${id}/tags/${encodeURIComponent(tag)}`, { token });
const deleteTag = (id: string, tag: string, token = owner.token) =>
  tc.request('DELETE', `${URL}/${id}/tags/${encodeURIComponent(tag)}`, { token });
const tagsOf = async (id: string): Promise<string[]> =>
  (await tc.request('GET', `${URL}/${id}`, { token: owner.token })).body.tags;

describe('image tags', () => {
  test('add (idempotent) and delete; the image shows them and updated_at moves', async () => {
    const img = await createImage({ tags: ['keep'] });
    await tc.cloud.image.context.write(async (trx) => {
      await trx
        .updateTable('image_images')
        .set({ updated_at: '2020-01-01T00:00:00Z' })
        .where('id', '=', img['id'])
        .execute();
    });
    const put = await putTag(img['id'], 'new tag');
    assert.equal(put.status, 204, put.text);
    assert.equal(put.text, '');
    assert.equal((await putTag(img['id'], 'new tag')).status, 204);
    assert.deepEqual(await tagsOf(img['id']), ['keep', 'new tag']);
    const shown = await tc.request('GET', `${URL}/${img['id']}`, { token: owner.token });
    assert.notEqual(shown.body.updated_at, '2020-01-01T00:00:00Z');
    const listed = await tc.request('GET', `${URL}?tag=${encodeURIComponent('new tag')}`, {
      token: owner.token,
    });
    assert.deepEqual(
      listed.body.images.map((i: { id: string }) => i.id),
      [img['id']],
    );
    assert.equal((await deleteTag(img['id'], 'new tag')).status, 204);
    assert.deepEqual(await tagsOf(img['id']), ['keep']);
  });

  test('missing tag, missing image, too long a tag', async () => {
    const img = await createImage();
    expectError(await deleteTag(img['id'], 'absent'), 404, 'The resource could not be found.');
    const missing = tc.cloud.image.context.ids.uuid();
    expectError(await putTag(missing, 't'), 404, `Image ${missing} not found.`);
    expectError(await deleteTag(missing, 't'), 404, `Image ${missing} not found.`);
    expectError(
      await putTag(img['id'], 'x'.repeat(256)),
      400,
      /^Provided object does not match schema 'image': 'x+' is too long/,
    );
    assert.deepEqual(await tagsOf(img['id']), []);
  });

  test('the tag quota (128) is 413', async () => {
    const img = await createImage();
    await tc.cloud.image.context.write(async (trx) => {
      await trx
        .insertInto('image_tags')
        .values(Array.from({ length: 128 }, (_, i) => ({ image_id: img['id'], value: `t${i}` })))
        .execute();
    });
    expectError(
      await putTag(img['id'], 'one-more'),
      413,
      `Image tag limit exceeded for image ${img['id']}: The limit has been exceeded on the number of allowed image tags. Attempted: 129, Maximum: 128:`,
    );
    assert.equal((await putTag(img['id'], 't5')).status, 204, 'an existing tag adds nothing');
    assert.equal((await tagsOf(img['id'])).length, 128);
  });

  test('who may tag: owner and admin; reader 403; other projects 404 (private) or 403 (public)', async () => {
    const img = await createImage({ visibility: 'private' });
    assert.equal((await putTag(img['id'], 'by-admin', tc.adminToken)).status, 204);
    expectError(
      await putTag(img['id'], 'by-reader', reader.token),
      403,
      'You are not authorized to complete modify_image action.',
    );
    expectError(
      await deleteTag(img['id'], 'by-admin', reader.token),
      403,
      'You are not authorized to complete modify_image action.',
    );
    expectError(await putTag(img['id'], 'by-other', other.token), 404);
    const pub = await tc.request('POST', URL, {
      token: tc.adminToken,
      body: { name: 'pub', visibility: 'public' },
    });
    expectError(
      await putTag(pub.body.id, 'by-other', other.token),
      403,
      'You are not authorized to complete modify_image action.',
    );
    assert.deepEqual(await tagsOf(img['id']), ['by-admin']);
  });
});
