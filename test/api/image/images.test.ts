// /v2/images: create, list (filters, sort, pagination), show, JSON-patch update, delete, deactivate/reactivate,
// schemas and the default policy — Glance's statuses and texts, through the real HTTP stack.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImageRow } from '../../../src/services/image/store/tables.ts';
import {
  startTestCloud,
  type TestCloud,
  type TestResponse,
  type TestUser,
  uniqueName,
} from '../../support/cloud.ts';

const PATCH_21 = 'application/openstack-images-v2.1-json-patch';
const PATCH_20 = 'application/openstack-images-v2.0-json-patch';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON.
type Img = Record<string, any>;
const URL = '/image/v2/images';

let tc: TestCloud;
let owner: TestUser; // member of project A
let reader: TestUser; // reader of project A
let other: TestUser; // member of project B
let sharee: TestUser; // member of project C, the image members tests share with

before(async () => {
  tc = await startTestCloud();
  const projectA = await tc.makeProject(uniqueName('img-a'));
  owner = await tc.makeUser({ projectId: projectA, role: 'member' });
  reader = await tc.makeUser({ projectId: projectA, role: 'reader' });
  other = await tc.makeUser({ role: 'member' });
  sharee = await tc.makeUser({ role: 'member' });
});
after(async () => {
  await tc.close();
});

const admin = () => tc.adminToken;

function expectError(res: TestResponse, status: number, message?: string | RegExp): void {
  assert.equal(res.status, status, res.text);
  // The auth hook's 401 is Keystone-shaped for every service.
  if (status === 401) return;
  const title = res.body?.title as string | undefined;
  assert.match(String(res.body?.code), new RegExp(`^${status} `), res.text);
  assert.ok(title, res.text);
  if (typeof message === 'string') assert.equal(res.body.message, message);
  else if (message) assert.match(res.body.message, message);
}

async function create(body: Record<string, unknown>, token = owner.token): Promise<TestResponse> {
  return tc.request('POST', URL, { token, body });
}

async function createOk(body: Record<string, unknown> = {}, token = owner.token): Promise<Img> {
  const res = await create({ name: uniqueName('img'), ...body }, token);
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function show(id: string, token = owner.token): Promise<TestResponse> {
  return tc.request('GET', `${URL}/${id}`, { token });
}

async function patch(id: string, ops: unknown, token = owner.token, type = PATCH_21): Promise<TestResponse> {
  return tc.request('PATCH', `${URL}/${id}`, {
    token,
    raw: JSON.stringify(ops),
    headers: { 'content-type': type },
  });
}

async function list(query = '', token = owner.token): Promise<TestResponse> {
  return tc.request('GET', `${URL}${query ? `?${query}` : ''}`, { token });
}

async function listIds(query = '', token = owner.token): Promise<string[]> {
  const res = await list(query, token);
  assert.equal(res.status, 200, res.text);
  return (res.body.images as { id: string }[]).map((i) => i.id);
}

/** Writes columns the data side owns (status, size) directly, as an upload would. */
async function setColumns(id: string, values: Partial<ImageRow>): Promise<void> {
  await tc.cloud.image.context.write(async (trx) => {
    await trx.updateTable('image_images').set(values).where('id', '=', id).execute();
  });
}

/** Everything an image write could touch, to prove a failed request changed nothing. */
async function snapshot(): Promise<string> {
  const db = tc.cloud.image.context.db;
  const images = await db.selectFrom('image_images').selectAll().orderBy('id').execute();
  const tags = await db.selectFrom('image_tags').selectAll().orderBy('image_id').orderBy('value').execute();
  const members = await db
    .selectFrom('image_members')
    .selectAll()
    .orderBy('image_id')
    .orderBy('member_id')
    .execute();
  return JSON.stringify({ images, tags, members });
}

describe('create', () => {
  test('defaults: queued, shared, owned by the caller, custom properties flattened', async () => {
    const name = uniqueName('img');
    const res = await create({
      name,
      disk_format: 'qcow2',
      container_format: 'bare',
      ramdisk_id: 'r1',
      tags: ['b', 'a', 'a'],
    });
    assert.equal(res.status, 201, res.text);
    const img = res.body;
    assert.match(img.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(img.name, name);
    assert.equal(img.status, 'queued');
    assert.equal(img.visibility, 'shared');
    assert.equal(img.protected, false);
    assert.equal(img.os_hidden, false);
    assert.equal(img.owner, owner.projectId);
    assert.equal(img.min_disk, 0);
    assert.equal(img.min_ram, 0);
    assert.equal(img.size, null);
    assert.equal(img.checksum, null);
    assert.equal(img.disk_format, 'qcow2');
    assert.equal(img.container_format, 'bare');
    assert.equal(img.ramdisk_id, 'r1');
    assert.deepEqual(img.tags, ['a', 'b']);
    assert.equal(img.self, `/v2/images/${img.id}`);
    assert.equal(img.file, `/v2/images/${img.id}/file`);
    assert.equal(img.schema, '/v2/schemas/image');
    assert.match(img.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal(img.updated_at, img.created_at);
    assert.match(String(res.headers['location']), new RegExp(`/image/v2/images/${img.id}$`));
    assert.equal(res.headers['openstack-image-import-methods'], 'glance-direct');
    const got = await show(img.id);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, img);
  });

  test('a chosen id, protected, os_hidden, min_* and formats; the id stays taken after delete', async () => {
    const id = tc.cloud.image.context.ids.uuid();
    const img = await createOk({
      id,
      protected: true,
      os_hidden: true,
      min_disk: 5,
      min_ram: 512,
      disk_format: 'iso',
      container_format: 'ova',
      visibility: 'private',
    });
    assert.equal(img['id'], id);
    assert.equal(img['protected'], true);
    assert.equal(img['os_hidden'], true);
    assert.equal(img['min_disk'], 5);
    assert.equal(img['min_ram'], 512);
    assert.equal(img['visibility'], 'private');
    expectError(await create({ id }), 409, `Image ID ${id} already exists!`);
    const id2 = tc.cloud.image.context.ids.uuid();
    await createOk({ id: id2 });
    assert.equal((await tc.request('DELETE', `${URL}/${id2}`, { token: owner.token })).status, 204);
    expectError(await create({ id: id2 }), 409, `Image ID ${id2} already exists!`);
  });

  test('bad input is refused with Glance texts and stores nothing', async () => {
    const before = await snapshot();
    expectError(
      await create({ disk_format: 'wrong' }),
      400,
      /^Provided object does not match schema 'image': 'wrong' is not one of \[None, 'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'\]/,
    );
    expectError(
      await create({ container_format: 'wrong' }),
      400,
      /^Provided object does not match schema 'image': 'wrong' is not one of \[None, 'ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'\]/,
    );
    expectError(
      await create({ visibility: 'everyone' }),
      400,
      /'everyone' is not one of \['community', 'public', 'private', 'shared'\]/,
    );
    expectError(await create({ name: 'n'.repeat(256) }), 400, /is too long/);
    expectError(await create({ min_ram: 'big' }), 400, /'big' is not of type 'integer'/);
    expectError(await create({ protected: 'yes' }), 400, /'yes' is not of type 'boolean'/);
    expectError(await create({ id: 'not-a-uuid' }), 400, /'not-a-uuid' does not match/);
    expectError(await create({ tags: ['t'.repeat(256)] }), 400, /is too long/);
    expectError(await create({ custom: 5 }), 400, /5 is not of type 'string'/);
    expectError(
      await create({ ['k'.repeat(256)]: 'v' }),
      400,
      'Custom property should not be greater than 255 characters.',
    );
    expectError(
      await create({ min_ram: -1 }),
      400,
      "Invalid value '-1' for parameter 'min_ram': Cannot be a negative value",
    );
    expectError(
      await create({ min_disk: 2 ** 31 }),
      400,
      "'min_disk' value out of range, must not exceed 2147483647.",
    );
    expectError(await create({ status: 'active' }), 403, "Attribute 'status' is read-only.");
    expectError(await create({ size: 5 }), 403, "Attribute 'size' is read-only.");
    expectError(await create({ checksum: 'abc' }), 403, "Attribute 'checksum' is read-only.");
    expectError(await create({ self: '/x' }), 403, "Attribute 'self' is read-only.");
    expectError(await create({ direct_url: 'x' }), 403, "Attribute 'direct_url' is read-only.");
    expectError(await create({ location: 'file:///x' }), 403, "Attribute 'location' is reserved.");
    expectError(await create({ deleted: 'x' }), 403, "Attribute 'deleted' is reserved.");
    expectError(await create({ os_glance_foo: 'bar' }), 403, "Attribute 'os_glance_foo' is reserved.");
    expectError(await create({ locations: [] }), 403, "Attribute 'locations' is reserved.");
    expectError(
      await create({ tags: Array.from({ length: 129 }, (_, i) => `t${i}`) }),
      413,
      'The limit has been exceeded on the number of allowed image tags. Attempted: 129, Maximum: 128',
    );
    const props = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`p${i}`, 'v']));
    expectError(
      await create(props),
      413,
      'The limit has been exceeded on the number of allowed image properties. Attempted: 129, Maximum: 128',
    );
    expectError(await tc.request('POST', URL, { token: owner.token }), 400, 'Body expected in request.');
    expectError(
      await tc.request('POST', URL, { token: owner.token, body: ['x'] }),
      400,
      /is not of type 'object'/,
    );
    expectError(await tc.request('POST', URL, { token: owner.token, raw: '{"name": ' }), 400);
    assert.equal(await snapshot(), before);
  });

  test('owner and visibility rules: only an admin publishes or creates for another project', async () => {
    const before = await snapshot();
    expectError(
      await create({ owner: other.projectId }),
      403,
      `You are not permitted to create images owned by '${other.projectId}'`,
    );
    expectError(
      await create({ visibility: 'public' }),
      403,
      'You are not authorized to complete publicize_image action.',
    );
    expectError(
      await create({ name: 'r' }, reader.token),
      403,
      'You are not authorized to complete add_image action.',
    );
    expectError(await tc.request('POST', URL, { body: { name: 'x' } }), 401);
    assert.equal(await snapshot(), before);
    const community = await createOk({ visibility: 'community' });
    assert.equal(community['visibility'], 'community');
    const mine = await createOk({ owner: owner.projectId });
    assert.equal(mine['owner'], owner.projectId);
    const forOther = await createOk({ owner: 'f'.repeat(32), visibility: 'public' }, admin());
    assert.equal(forOther['owner'], 'f'.repeat(32));
    assert.equal(forOther['visibility'], 'public');
  });

  test('image_count_total quota is 413 with oslo.limit words', async () => {
    const limited = await startTestCloud({ image: { quotas: { image_count_total: 1 } } });
    try {
      const u = await limited.makeUser();
      const ok = await limited.request('POST', URL, { token: u.token, body: { name: 'one' } });
      assert.equal(ok.status, 201, ok.text);
      const res = await limited.request('POST', URL, { token: u.token, body: { name: 'two' } });
      expectError(
        res,
        413,
        new RegExp(
          `Project ${u.projectId} is over a limit for \\[Resource image_count_total is over limit of 1 due to current usage 1 and delta 1\\]$`,
        ),
      );
    } finally {
      await limited.close();
    }
  });
});

describe('show and visibility', () => {
  test('missing, deleted and invisible images are 404 "No image found with ID"', async () => {
    const missing = tc.cloud.image.context.ids.uuid();
    expectError(await show(missing), 404, `No image found with ID ${missing}`);
    expectError(await show('x'.repeat(100)), 404);
    const priv = await createOk({ visibility: 'private' });
    expectError(await show(priv['id'], other.token), 404, `No image found with ID ${priv['id']}`);
    assert.equal((await show(priv['id'], reader.token)).status, 200);
    assert.equal((await show(priv['id'], admin())).status, 200);
    const shared = await createOk();
    expectError(await show(shared['id'], other.token), 404);
    const pub = await createOk({ visibility: 'public' }, admin());
    assert.equal((await show(pub['id'], other.token)).status, 200);
    const comm = await createOk({ visibility: 'community' });
    assert.equal((await show(comm['id'], other.token)).status, 200);
    assert.equal((await tc.request('DELETE', `${URL}/${priv['id']}`, { token: owner.token })).status, 204);
    expectError(await show(priv['id']), 404, `No image found with ID ${priv['id']}`);
    expectError(await show(priv['id'], admin()), 404);
    expectError(await tc.request('GET', `${URL}/`, { token: owner.token }), 404);
  });
});

describe('list', () => {
  let lp: TestUser; // a project of its own, so lists hold only this suite's images
  let imgs: Img[];
  const day = (d: number) => `2020-01-${String(d).padStart(2, '0')}T00:00:00Z`;

  before(async () => {
    lp = await tc.makeUser();
    imgs = [];
    const specs: Record<string, unknown>[] = [
      {
        name: 'alpha',
        disk_format: 'raw',
        container_format: 'bare',
        tags: ['x', 'y'],
        color: 'red',
        visibility: 'private',
      },
      { name: 'beta', disk_format: 'qcow2', container_format: 'bare', tags: ['x'], color: 'blue' },
      { name: 'gamma', disk_format: 'qcow2', container_format: 'ovf', protected: true },
      { name: 'delta', disk_format: 'iso', container_format: 'bare', os_hidden: true },
      { name: 'eps,ilon', disk_format: 'raw', container_format: 'bare', visibility: 'community' },
    ];
    for (const [i, spec] of specs.entries()) {
      const img = await createOk(spec, lp.token);
      await setColumns(img['id'], { created_at: day(i + 1), updated_at: day(i + 10), size: (i + 1) * 100 });
      imgs.push({ ...img, size: (i + 1) * 100 });
    }
    await setColumns(imgs[1]!['id'], { status: 'active' });
  });

  const names = async (query: string, token = lp.token) => {
    const res = await list(query, token);
    assert.equal(res.status, 200, res.text);
    return (res.body.images as { name: string }[]).map((i) => i.name);
  };

  test('default: own and public images, newest first; hidden and foreign community images left out', async () => {
    const res = await list('', lp.token);
    assert.equal(res.status, 200);
    assert.equal(res.body.first, '/v2/images');
    assert.equal(res.body.schema, '/v2/schemas/images');
    assert.equal(res.body.next, undefined);
    const mine = (res.body.images as { owner: string; name: string }[]).filter(
      (i) => i.owner === lp.projectId,
    );
    assert.deepEqual(
      mine.map((i) => i.name),
      ['eps,ilon', 'gamma', 'beta', 'alpha'],
    );
    const otherIds = await listIds('', other.token);
    for (const img of imgs)
      assert.ok(!otherIds.includes(img['id']), 'private/shared/community images of others are hidden');
    assert.ok((await listIds('visibility=community', other.token)).includes(imgs[4]!['id']));
    assert.ok((await listIds('visibility=all', other.token)).includes(imgs[4]!['id']));
    assert.ok(!(await listIds('visibility=all', other.token)).includes(imgs[0]!['id']));
    const adminIds = await listIds('limit=1000', admin());
    assert.ok(adminIds.includes(imgs[0]!['id']), 'an admin sees private images of every project');
    assert.ok(!adminIds.includes(imgs[4]!['id']), "but not other projects' community images unless asked");
  });

  test('filters: name, status, visibility, owner, formats, size range, protected, os_hidden', async () => {
    assert.deepEqual(await names('name=beta'), ['beta']);
    assert.deepEqual(await names('name=in:alpha,gamma'), ['gamma', 'alpha']);
    assert.deepEqual(await names('name=in:"eps,ilon",beta'), ['eps,ilon', 'beta']);
    assert.deepEqual(await names('status=active'), ['beta']);
    assert.deepEqual(await names(`id=in:${imgs[0]!['id']},${imgs[2]!['id']}`), ['gamma', 'alpha']);
    assert.deepEqual(await names('visibility=private'), ['alpha']);
    assert.deepEqual(await names('visibility=shared'), ['gamma', 'beta']);
    assert.deepEqual(await names(`owner=${lp.projectId}&disk_format=qcow2`), ['gamma', 'beta']);
    assert.deepEqual(await names('container_format=ovf'), ['gamma']);
    assert.deepEqual(await names('disk_format=in:iso,raw'), ['eps,ilon', 'alpha']);
    assert.deepEqual(await names(`owner=${lp.projectId}&size_min=200&size_max=300`), ['gamma', 'beta']);
    assert.deepEqual(await names(`owner=${lp.projectId}&size=100`), ['alpha']);
    assert.deepEqual(await names(`owner=${lp.projectId}&protected=true`), ['gamma']);
    assert.deepEqual(await names(`owner=${lp.projectId}&os_hidden=true`), ['delta']);
    assert.deepEqual(await names(`owner=${lp.projectId}&os_hidden=TRUE`), ['delta']);
  });

  test('filters: tags (all must match), custom properties, created_at/updated_at operators', async () => {
    assert.deepEqual(await names('tag=x'), ['beta', 'alpha']);
    assert.deepEqual(await names('tag=x&tag=y'), ['alpha']);
    assert.deepEqual(await names('tag=nope'), []);
    assert.deepEqual(await names('color=red'), ['alpha']);
    assert.deepEqual(await names('color=green'), []);
    assert.deepEqual(await names(`owner=${lp.projectId}&created_at=gt:${day(3)}`), ['eps,ilon']);
    assert.deepEqual(await names(`owner=${lp.projectId}&created_at=gte:${day(3)}`), ['eps,ilon', 'gamma']);
    assert.deepEqual(await names(`owner=${lp.projectId}&created_at=lt:2020-01-02`), ['alpha']);
    assert.deepEqual(await names(`owner=${lp.projectId}&created_at=lte:2020-01-02T00:00:00`), [
      'beta',
      'alpha',
    ]);
    assert.deepEqual(await names(`owner=${lp.projectId}&created_at=${day(2)}`), ['beta']);
    assert.deepEqual(await names(`owner=${lp.projectId}&created_at=eq:${day(2)}`), ['beta']);
    assert.deepEqual(await names(`owner=${lp.projectId}&updated_at=neq:${day(10)}`), [
      'eps,ilon',
      'gamma',
      'beta',
    ]);
    assert.deepEqual(await names(`owner=${lp.projectId}&updated_at=lt:2020-01-11T01:00:00%2B02:00`), [
      'alpha',
    ]);
  });

  test('sort: sort_key/sort_dir, sort=key:dir, ties broken by created_at and id', async () => {
    const own = `owner=${lp.projectId}&os_hidden=false`;
    assert.deepEqual(await names(`${own}&sort_key=name&sort_dir=asc`), [
      'alpha',
      'beta',
      'eps,ilon',
      'gamma',
    ]);
    assert.deepEqual(await names(`${own}&sort_key=name`), ['gamma', 'eps,ilon', 'beta', 'alpha']);
    assert.deepEqual(await names(`${own}&sort=size:desc`), ['eps,ilon', 'gamma', 'beta', 'alpha']);
    assert.deepEqual(await names(`${own}&sort=disk_format:asc,name:desc`), [
      'gamma',
      'beta',
      'eps,ilon',
      'alpha',
    ]);
    assert.deepEqual(await names(`${own}&sort_key=disk_format&sort_key=name&sort_dir=asc&sort_dir=desc`), [
      'gamma',
      'beta',
      'eps,ilon',
      'alpha',
    ]);
    assert.deepEqual(await names(`${own}&sort=created_at:asc`), ['alpha', 'beta', 'gamma', 'eps,ilon']);
    assert.deepEqual(await names(`${own}&sort=status`), ['eps,ilon', 'gamma', 'alpha', 'beta']);
  });

  test('pagination: limit, marker and next links walk the whole list', async () => {
    const own = `owner=${lp.projectId}`;
    const seen: string[] = [];
    let url: string | undefined = `${URL}?${own}&limit=2&sort_key=name&sort_dir=asc`;
    let pages = 0;
    while (url) {
      const res = await tc.request('GET', url, { token: lp.token });
      assert.equal(res.status, 200, res.text);
      seen.push(...(res.body.images as { name: string }[]).map((i) => i.name));
      pages++;
      const next = res.body.next as string | undefined;
      if (next) {
        assert.match(next, /^\/v2\/images\?.*limit=2.*&marker=[0-9a-f-]{36}$/);
        assert.ok(next.includes(`owner=${lp.projectId}`));
      }
      url = next ? `/image${next}` : undefined;
    }
    assert.deepEqual(seen, ['alpha', 'beta', 'eps,ilon', 'gamma']);
    assert.equal(pages, 3, 'a full last page still offers an (empty) next page, as Glance does');
    const first = await list(`${own}&limit=1&marker=${imgs[2]!['id']}`, lp.token);
    assert.equal(first.body.first, `/v2/images?owner=${lp.projectId}&limit=1`);
    assert.deepEqual(
      first.body.images.map((i: { name: string }) => i.name),
      ['beta'],
    );
    assert.equal((await list('limit=0', lp.token)).body.images.length, 0);
  });

  test('bad query parameters are 400 with Glance texts', async () => {
    const missing = tc.cloud.image.context.ids.uuid();
    expectError(await list(`marker=${missing}`), 400, `No image found with ID ${missing}`);
    expectError(await list('limit=x'), 400, 'limit param must be an integer');
    expectError(await list('limit=-1'), 400, 'limit param must be positive');
    expectError(
      await list('sort_key=owner'),
      400,
      'Invalid sort key: owner. It must be one of the following: name, status, container_format, disk_format, size, id, created_at, updated_at.',
    );
    expectError(await list('sort_dir=up'), 400, 'Invalid sort direction: up');
    expectError(await list('sort=name:up'), 400, 'Invalid sort direction: up');
    expectError(await list('sort=name&sort_key=size'), 400, 'Old and new sorting syntax cannot be combined');
    expectError(
      await list('sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc&sort_dir=asc'),
      400,
      'Number of sort dirs does not match the number of sort keys',
    );
    expectError(await list('member_status=maybe'), 400, 'Invalid status: maybe');
    expectError(await list('visibility=everyone'), 400, 'Invalid visibility value: everyone');
    expectError(
      await list('os_hidden=maybe'),
      400,
      "Invalid value 'maybe' for 'os_hidden' filter. Valid values are 'true' or 'false'.",
    );
    expectError(
      await list('protected=True'),
      400,
      "Invalid value 'True' for 'protected' filter. Valid values are 'true' or 'false'.",
    );
    expectError(await list('size_min=big'), 400, 'Unable to filter on a range with a non-numeric value.');
    expectError(
      await list('created_at=yesterday'),
      400,
      'Bad "created_at" query filter format. Use ISO 8601 DateTime notation.',
    );
    expectError(
      await list('created_at=near:2020-01-01T00:00:00Z'),
      400,
      'Unable to filter on a unknown operator.',
    );
    expectError(await list('name=like:a'), 400, "Unable to filter by unknown operator 'like'.");
    expectError(await list('name=in:"a'), 400, 'Invalid filter value "a. The quote is not closed.');
    expectError(
      await list('changes-since=2020-01-01'),
      400,
      'The "changes-since" filter is no longer available on v2.',
    );
  });

  test('limit defaults to limit_param_default and is capped at api_limit_max', async () => {
    const small = await startTestCloud({ image: { limit_param_default: 2, api_limit_max: 3 } });
    try {
      const u = await small.makeUser();
      for (let i = 0; i < 4; i++) {
        assert.equal(
          (await small.request('POST', URL, { token: u.token, body: { name: `n${i}` } })).status,
          201,
        );
      }
      const def = await small.request('GET', URL, { token: u.token });
      assert.equal(def.body.images.length, 2);
      assert.match(def.body.next, /^\/v2\/images\?marker=/);
      const capped = await small.request('GET', `${URL}?limit=100`, { token: u.token });
      assert.equal(capped.body.images.length, 3);
    } finally {
      await small.close();
    }
  });
});

describe('update (JSON patch)', () => {
  test('replace, add and remove core and custom properties (draft 10)', async () => {
    const img = await createOk({ disk_format: 'raw', container_format: 'bare' });
    const res = await patch(img['id'], [
      { op: 'replace', path: '/name', value: 'renamed' },
      { op: 'add', path: '/color', value: 'red' },
      { op: 'add', path: '/shape', value: 'round' },
      { op: 'replace', path: '/shape', value: 'square' },
      { op: 'remove', path: '/color' },
      { op: 'replace', path: '/min_ram', value: 1024 },
      { op: 'add', path: '/protected', value: true },
      { op: 'replace', path: '/tags', value: ['t2', 't1', 't1'] },
      { op: 'replace', path: '/disk_format', value: 'qcow2' },
      { op: 'replace', path: '/visibility', value: 'private' },
      { op: 'add', path: '/os_hidden', value: true },
      { op: 'add', path: '/name', value: null },
    ]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.name, null);
    assert.equal(res.body.shape, 'square');
    assert.equal(res.body.color, undefined);
    assert.equal(res.body.min_ram, 1024);
    assert.equal(res.body.protected, true);
    assert.equal(res.body.os_hidden, true);
    assert.equal(res.body.visibility, 'private');
    assert.equal(res.body.disk_format, 'qcow2');
    assert.deepEqual(res.body.tags, ['t1', 't2']);
    assert.deepEqual((await show(img['id'])).body, res.body);
    const empty = await patch(img['id'], []);
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body, res.body);
  });

  test('draft 4 (v2.0 patch): {"replace": "/name"}; add of a present property is 409', async () => {
    const img = await createOk({ color: 'red' });
    const ok = await patch(
      img['id'],
      [
        { replace: '/name', value: 'v20' },
        { add: '/size_hint', value: 'big' },
      ],
      owner.token,
      PATCH_20,
    );
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.name, 'v20');
    assert.equal(ok.body.size_hint, 'big');
    expectError(
      await patch(img['id'], [{ add: '/color', value: 'x' }], owner.token, PATCH_20),
      409,
      'Property color already present.',
    );
    expectError(
      await patch(img['id'], [{ add: '/name', value: 'x' }], owner.token, PATCH_20),
      409,
      'Property name already present.',
    );
    expectError(
      await patch(img['id'], [{ add: '/a', replace: '/b', value: 'x' }], owner.token, PATCH_20),
      400,
      'Operation objects must contain only one member named "add", "remove", or "replace".',
    );
    expectError(
      await patch(img['id'], [{ path: '/a', value: 'x' }], owner.token, PATCH_20),
      400,
      'Operation objects must contain exactly one member named "add", "remove", or "replace".',
    );
    // draft 10 replaces an existing custom property on add
    const d10 = await patch(img['id'], [{ op: 'add', path: '/color', value: 'blue' }]);
    assert.equal(d10.body.color, 'blue');
  });

  test('bad patches are refused with Glance texts and change nothing', async () => {
    const img = await createOk({ color: 'red' });
    await setColumns(img['id'], { status: 'active' });
    const id = img['id'];
    const before = await snapshot();
    expectError(
      await patch(id, { op: 'replace', path: '/name', value: 'x' }),
      400,
      'Request body must be a JSON array of operation objects.',
    );
    expectError(await patch(id, ['x']), 400, 'Operations must be JSON objects.');
    expectError(
      await tc.request('PATCH', `${URL}/${id}`, {
        token: owner.token,
        headers: { 'content-type': PATCH_21 },
      }),
      400,
      'Body expected in request.',
    );
    const wrongType = await tc.request('PATCH', `${URL}/${id}`, {
      token: owner.token,
      body: [{ op: 'replace', path: '/name', value: 'x' }],
    });
    expectError(wrongType, 415, 'The request media type application/json is not supported by this server.');
    assert.equal(wrongType.headers['accept-patch'], `${PATCH_20}, ${PATCH_21}`);
    expectError(
      await patch(id, [{ op: 'move', path: '/name', value: 'x' }]),
      400,
      'Invalid operation: `move`. It must be one of the following: add, remove, replace.',
    );
    expectError(
      await patch(id, [{ path: '/name', value: 'x' }]),
      400,
      'Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.',
    );
    expectError(
      await patch(id, [{ op: 'replace', value: 'x' }]),
      400,
      "Unable to find 'path' in JSON Schema change",
    );
    expectError(
      await patch(id, [{ op: 'replace', path: 'name', value: 'x' }]),
      400,
      'Pointer `name` does not start with "/".',
    );
    expectError(
      await patch(id, [{ op: 'replace', path: '/a//b', value: 'x' }]),
      400,
      'Pointer `/a//b` contains adjacent "/".',
    );
    expectError(
      await patch(id, [{ op: 'replace', path: '/name/', value: 'x' }]),
      400,
      'Pointer `/name/` end with "/".',
    );
    expectError(
      await patch(id, [{ op: 'replace', path: '/a~2', value: 'x' }]),
      400,
      'Pointer `/a~2` contains "~" not part of a recognized escape sequence.',
    );
    expectError(
      await patch(id, [{ op: 'replace', path: '/name/x', value: 'x' }]),
      400,
      "Invalid JSON pointer for this resource: '/name/x'",
    );
    expectError(
      await patch(id, [{ op: 'replace', path: '/name' }]),
      400,
      'Operation "replace" requires a member named "value".',
    );
    expectError(
      await patch(id, [{ op: 'replace', path: '/visibility', value: 'everyone' }]),
      400,
      /^Provided object does not match schema 'image': 'everyone' is not one of/,
    );
    expectError(
      await patch(id, [{ op: 'add', path: '/custom', value: 1 }]),
      400,
      /1 is not of type 'string'/,
    );
    expectError(
      await patch(id, [{ op: 'replace', path: '/min_disk', value: -1 }]),
      400,
      "Invalid value '-1' for parameter 'min_disk': Cannot be a negative value",
    );
    for (const attr of [
      'status',
      'id',
      'checksum',
      'size',
      'created_at',
      'self',
      'file',
      'schema',
      'os_hash_value',
      'direct_url',
    ]) {
      expectError(
        await patch(id, [{ op: 'replace', path: `/${attr}`, value: 'x' }]),
        403,
        `Attribute '${attr}' is read-only.`,
      );
    }
    expectError(
      await patch(id, [{ op: 'add', path: '/location', value: 'x' }]),
      403,
      "Attribute 'location' is reserved.",
    );
    expectError(
      await patch(id, [{ op: 'add', path: '/os_glance_x', value: 'x' }]),
      403,
      "Attribute 'os_glance_x' is reserved.",
    );
    expectError(await patch(id, [{ op: 'remove', path: '/name' }]), 403, 'Property name may not be removed.');
    expectError(await patch(id, [{ op: 'remove', path: '/nope' }]), 409, 'Property nope does not exist.');
    expectError(
      await patch(id, [{ op: 'replace', path: '/nope', value: 'x' }]),
      409,
      'Property nope does not exist.',
    );
    expectError(
      await patch(id, [{ op: 'replace', path: '/disk_format', value: 'raw' }]),
      403,
      'Attribute disk_format can be only replaced for a queued image.',
    );
    expectError(
      await patch(id, [{ op: 'replace', path: '/owner', value: other.projectId }]),
      403,
      "Owner can't be updated by non admin.",
    );
    expectError(
      await patch(id, [{ op: 'replace', path: '/visibility', value: 'public' }]),
      403,
      'You are not authorized to complete publicize_image action.',
    );
    expectError(
      await patch(id, [{ op: 'replace', path: '/locations', value: [] }]),
      403,
      'Cannot set locations to empty list.',
    );
    expectError(
      await patch(id, [{ op: 'add', path: '/locations/-', value: { url: 'file:///x', metadata: {} } }]),
      403,
      "It's not allowed to add locations if locations are invisible.",
    );
    expectError(
      await patch(id, [
        { op: 'replace', path: '/tags', value: Array.from({ length: 129 }, (_, i) => `t${i}`) },
      ]),
      413,
      'The limit has been exceeded on the number of allowed image tags. Attempted: 129, Maximum: 128',
    );
    // A good change followed by a bad one changes nothing.
    expectError(
      await patch(id, [
        { op: 'replace', path: '/name', value: 'half' },
        { op: 'remove', path: '/nope' },
      ]),
      409,
    );
    const missing = tc.cloud.image.context.ids.uuid();
    expectError(
      await patch(missing, [{ op: 'replace', path: '/name', value: 'x' }]),
      404,
      `No image found with ID ${missing}`,
    );
    assert.equal(await snapshot(), before);
  });

  test('an admin changes the owner and publishes; a member may make its image community', async () => {
    const img = await createOk();
    const comm = await patch(img['id'], [{ op: 'replace', path: '/visibility', value: 'community' }]);
    assert.equal(comm.status, 200, comm.text);
    assert.equal(comm.body.visibility, 'community');
    const res = await patch(
      img['id'],
      [
        { op: 'replace', path: '/owner', value: other.projectId },
        { op: 'replace', path: '/visibility', value: 'public' },
      ],
      admin(),
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.owner, other.projectId);
    assert.equal(res.body.visibility, 'public');
  });
});

describe('delete', () => {
  test('protected images are 403 until unprotected; then 204 and 404 afterwards', async () => {
    const img = await createOk({ protected: true });
    const before = await snapshot();
    expectError(
      await tc.request('DELETE', `${URL}/${img['id']}`, { token: owner.token }),
      403,
      `Image ${img['id']} is protected and cannot be deleted.`,
    );
    assert.equal(await snapshot(), before);
    assert.equal((await patch(img['id'], [{ op: 'replace', path: '/protected', value: false }])).status, 200);
    const del = await tc.request('DELETE', `${URL}/${img['id']}`, { token: owner.token });
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, '');
    expectError(await show(img['id']), 404);
    expectError(
      await tc.request('DELETE', `${URL}/${img['id']}`, { token: owner.token }),
      404,
      `Failed to find image ${img['id']} to delete`,
    );
    expectError(await patch(img['id'], [{ op: 'replace', path: '/name', value: 'x' }]), 404);
    const row = await tc.cloud.image.context.db
      .selectFrom('image_images')
      .selectAll()
      .where('id', '=', img['id'])
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'deleted');
    assert.equal(row.deleted, 1);
    assert.ok(row.deleted_at);
    assert.ok(!(await listIds()).includes(img['id']));
  });
});

describe('deactivate and reactivate', () => {
  test('only active images deactivate, only deactivated ones reactivate; repeats are no-ops', async () => {
    const img = await createOk({ disk_format: 'raw', container_format: 'bare' });
    const act = (which: string, token = owner.token) =>
      tc.request('POST', `${URL}/${img['id']}/actions/${which}`, { token });
    expectError(await act('deactivate'), 403, "Not allowed to deactivate image in status 'queued'");
    expectError(await act('reactivate'), 403, "Not allowed to reactivate image in status 'queued'");
    await setColumns(img['id'], { status: 'active' });
    assert.equal((await act('reactivate')).status, 204);
    assert.equal((await act('deactivate')).status, 204);
    assert.equal((await show(img['id'])).body.status, 'deactivated');
    assert.equal((await act('deactivate')).status, 204);
    expectError(
      await act('deactivate', reader.token),
      403,
      'You are not authorized to complete deactivate action.',
    );
    expectError(await act('deactivate', other.token), 404);
    assert.equal((await act('reactivate', admin())).status, 204);
    assert.equal((await show(img['id'])).body.status, 'active');
    const missing = tc.cloud.image.context.ids.uuid();
    expectError(
      await tc.request('POST', `${URL}/${missing}/actions/deactivate`, { token: owner.token }),
      404,
      `No image found with ID ${missing}`,
    );
  });
});

describe('schemas', () => {
  test('image, images, member and members schemas as Glance renders them', async () => {
    const image = await tc.request('GET', '/image/v2/schemas/image', { token: owner.token });
    assert.equal(image.status, 200);
    assert.equal(image.body.name, 'image');
    assert.deepEqual(image.body.additionalProperties, { type: 'string' });
    assert.deepEqual(image.body.properties.status.readOnly, true);
    assert.deepEqual(image.body.properties.disk_format.enum, [
      null,
      'ami',
      'ari',
      'aki',
      'vhd',
      'vhdx',
      'vmdk',
      'raw',
      'qcow2',
      'vdi',
      'iso',
      'ploop',
    ]);
    assert.deepEqual(
      image.body.links.map((l: { rel: string }) => l.rel),
      ['self', 'enclosure', 'describedby'],
    );
    const images = await tc.request('GET', '/image/v2/schemas/images', { token: owner.token });
    assert.equal(images.body.name, 'images');
    assert.equal(images.body.properties.images.items.name, 'image');
    assert.deepEqual(Object.keys(images.body.properties), ['images', 'first', 'next', 'schema']);
    const member = await tc.request('GET', '/image/v2/schemas/member', { token: owner.token });
    assert.equal(member.body.name, 'member');
    assert.deepEqual(member.body.properties.status.enum, ['pending', 'accepted', 'rejected']);
    const members = await tc.request('GET', '/image/v2/schemas/members', { token: owner.token });
    assert.equal(members.body.name, 'members');
    assert.equal(members.body.properties.members.items.name, 'member');
    expectError(await tc.request('GET', '/image/v2/schemas/image'), 401);
  });
});

describe('policy matrix', () => {
  // One shared image of project A, accepted by project C; each persona tries each operation.
  let img: Img;
  let pub: Img;

  before(async () => {
    img = await createOk({ visibility: 'shared' });
    pub = await createOk({ visibility: 'public' }, admin());
    await setColumns(pub['id'], { owner: owner.projectId });
    const add = await tc.request('POST', `${URL}/${img['id']}/members`, {
      token: owner.token,
      body: { member: sharee.projectId },
    });
    assert.equal(add.status, 200, add.text);
    const accept = await tc.request('PUT', `${URL}/${img['id']}/members/${sharee.projectId}`, {
      token: sharee.token,
      body: { status: 'accepted' },
    });
    assert.equal(accept.status, 200, accept.text);
  });

  type Persona = 'owner' | 'sharee' | 'other' | 'admin' | 'reader';
  const token = (p: Persona) =>
    ({ owner: owner.token, sharee: sharee.token, other: other.token, admin: admin(), reader: reader.token })[
      p
    ];

  test('show and list', async () => {
    const expected: Record<Persona, number> = {
      owner: 200,
      sharee: 200,
      other: 404,
      admin: 200,
      reader: 200,
    };
    for (const [p, status] of Object.entries(expected) as [Persona, number][]) {
      assert.equal((await show(img['id'], token(p))).status, status, `show as ${p}`);
      const ids = await listIds('limit=1000', token(p));
      assert.equal(ids.includes(img['id']), status === 200, `list as ${p}`);
      assert.equal((await show(pub['id'], token(p))).status, 200, `public show as ${p}`);
    }
  });

  test('update, tags, deactivate and delete', async () => {
    const rename = (p: Persona, id = img['id']) =>
      patch(id, [{ op: 'replace', path: '/name', value: `by-${p}` }], token(p));
    const expected: Record<Persona, number> = {
      owner: 200,
      sharee: 403,
      other: 404,
      admin: 200,
      reader: 403,
    };
    for (const [p, status] of Object.entries(expected) as [Persona, number][]) {
      assert.equal((await rename(p)).status, status, `patch as ${p}`);
      const tag = await tc.request('PUT', `${URL}/${img['id']}/tags/by-${p}`, { token: token(p) });
      assert.equal(tag.status, status === 200 ? 204 : status, `tag as ${p}`);
    }
    // On a public image every project sees, a foreign member is refused with 403, not 404.
    expectError(
      await rename('other', pub['id']),
      403,
      'You are not authorized to complete modify_image action.',
    );
    expectError(await rename('sharee'), 403, 'You are not authorized to complete modify_image action.');
    expectError(await rename('reader'), 403, 'You are not authorized to complete modify_image action.');
    for (const p of ['sharee', 'reader'] as Persona[]) {
      expectError(
        await tc.request('DELETE', `${URL}/${img['id']}`, { token: token(p) }),
        403,
        'You are not authorized to complete delete_image action.',
      );
    }
    expectError(await tc.request('DELETE', `${URL}/${img['id']}`, { token: other.token }), 404);
    expectError(await tc.request('DELETE', `${URL}/${pub['id']}`, { token: other.token }), 403);
    assert.equal((await tc.request('DELETE', `${URL}/${pub['id']}`, { token: admin() })).status, 204);
    assert.equal((await tc.request('DELETE', `${URL}/${img['id']}`, { token: owner.token })).status, 204);
  });
});
