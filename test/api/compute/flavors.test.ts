// /flavors, flavor-manage, os-flavor-access and os-extra_specs: Nova's statuses, bodies per microversion,
// visibility of private flavors and who may do what.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureDefaultFlavors } from '../../../src/services/compute/bootstrap.ts';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';
import { expectFault, expectKeys, nova } from './compute-support.ts';

let tc: TestCloud;
let admin: string;
let member: TestUser;
let reader: TestUser;
let other: TestUser;

before(async () => {
  tc = await startTestCloud();
  admin = tc.adminToken;
  member = await tc.makeUser();
  reader = await tc.makeUser({ projectId: member.projectId, role: 'reader' });
  other = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

async function createFlavor(body: Record<string, unknown>, mv?: string): Promise<Record<string, unknown>> {
  const res = await nova(tc, 'POST', '/flavors', {
    token: admin,
    mv,
    body: { flavor: { name: uniqueName('flv'), ram: 64, vcpus: 1, disk: 1, ...body } },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.flavor;
}

const FULL_KEYS = [
  'id',
  'name',
  'ram',
  'disk',
  'swap',
  'OS-FLV-EXT-DATA:ephemeral',
  'OS-FLV-DISABLED:disabled',
  'vcpus',
  'os-flavor-access:is_public',
  'rxtx_factor',
  'links',
];

describe('default flavors and views', () => {
  test('DevStack flavors exist, sorted by flavorid as strings, with links', async () => {
    const res = await nova(tc, 'GET', '/flavors', { token: member.token });
    assert.equal(res.status, 200);
    const ids = res.body.flavors.map((f: { id: string }) => f.id);
    for (const id of ['1', '2', '3', '4', '5', '42', '84']) assert.ok(ids.includes(id));
    assert.deepEqual(ids.slice(0, 6), ['1', '2', '3', '4', '42', '5']);
    const tiny = res.body.flavors[0];
    expectKeys(tiny, ['id', 'name', 'links']);
    assert.equal(tiny.name, 'm1.tiny');
    assert.match(tiny.links[0].href, /\/compute\/v2\.1\/flavors\/1$/);
    assert.match(tiny.links[1].href, /\/compute\/flavors\/1$/);
  });

  test('detail at 2.1 has swap "" and no description; 2.55 description; 2.61 extra_specs; 2.75 swap 0', async () => {
    let res = await nova(tc, 'GET', '/flavors/1', { token: member.token });
    expectKeys(res.body.flavor, FULL_KEYS);
    assert.equal(res.body.flavor.swap, '');
    assert.equal(res.body.flavor.ram, 512);
    assert.equal(res.body.flavor.rxtx_factor, 1);
    res = await nova(tc, 'GET', '/flavors/1', { token: member.token, mv: '2.55' });
    expectKeys(res.body.flavor, [...FULL_KEYS, 'description']);
    res = await nova(tc, 'GET', '/flavors/1', { token: member.token, mv: '2.61' });
    expectKeys(res.body.flavor, [...FULL_KEYS, 'description', 'extra_specs']);
    assert.equal(res.body.flavor.swap, '');
    res = await nova(tc, 'GET', '/flavors/detail', { token: member.token, mv: '2.75' });
    assert.equal(res.body.flavors[0].swap, 0);
    res = await nova(tc, 'GET', '/flavors', { token: member.token, mv: '2.55' });
    expectKeys(res.body.flavors[0], ['id', 'name', 'links', 'description']);
  });

  test('minRam, minDisk, sort and pagination with next links', async () => {
    let res = await nova(tc, 'GET', '/flavors/detail?minRam=4096&minDisk=40', { token: member.token });
    const names = res.body.flavors.map((f: { name: string }) => f.name);
    for (const n of ['m1.medium', 'm1.large', 'm1.xlarge']) assert.ok(names.includes(n));
    assert.ok(!names.includes('m1.tiny'));
    res = await nova(tc, 'GET', '/flavors?sort_key=memory_mb&sort_dir=desc&limit=2', { token: member.token });
    assert.deepEqual(
      res.body.flavors.map((f: { id: string }) => f.id),
      ['5', '4'],
    );
    assert.match(res.body.flavors_links[0].href, /marker=4/);
    res = await nova(tc, 'GET', '/flavors?sort_key=memory_mb&sort_dir=desc&limit=2&marker=4', {
      token: member.token,
    });
    assert.deepEqual(
      res.body.flavors.map((f: { id: string }) => f.id),
      ['3', '2'],
    );
    expectFault(
      await nova(tc, 'GET', '/flavors?marker=nope', { token: member.token }),
      400,
      'marker [nope] not found',
    );
    expectFault(
      await nova(tc, 'GET', '/flavors?minRam=abc', { token: member.token }),
      400,
      'Invalid minRam filter [abc]',
    );
    expectFault(await nova(tc, 'GET', '/flavors?sort_key=bogus', { token: member.token }), 400);
    // Unknown query parameters: ignored before 2.75, refused from it.
    assert.equal((await nova(tc, 'GET', '/flavors?foo=1', { token: member.token })).status, 200);
    expectFault(await nova(tc, 'GET', '/flavors?foo=1', { token: member.token, mv: '2.75' }), 400);
  });

  test('ensureDefaultFlavors is idempotent', async () => {
    assert.equal(await ensureDefaultFlavors(tc.cloud.compute.context), 0);
  });

  test('unknown flavor: 404 with Nova message', async () => {
    expectFault(
      await nova(tc, 'GET', '/flavors/nope', { token: member.token }),
      404,
      'Flavor nope could not be found.',
    );
  });
});

describe('flavor-manage', () => {
  test('create: given or generated id, defaults, 2.55 description, 2.61 empty extra_specs', async () => {
    const f = await createFlavor({ id: 'given-1', swap: 128, 'OS-FLV-EXT-DATA:ephemeral': 2 });
    assert.equal(f['id'], 'given-1');
    assert.equal(f['swap'], 128);
    assert.equal(f['OS-FLV-EXT-DATA:ephemeral'], 2);
    assert.equal(f['os-flavor-access:is_public'], true);
    const g = await createFlavor({ description: 'hello' }, '2.61');
    assert.match(String(g['id']), /^[0-9a-f-]{36}$/);
    assert.equal(g['description'], 'hello');
    assert.deepEqual(g['extra_specs'], {});
    const n = await createFlavor({ id: 777 });
    assert.equal(n['id'], '777');
  });

  test('create conflicts and bad input', async () => {
    const name = uniqueName('dup');
    await createFlavor({ name, id: 'dup-id' });
    const byName = await nova(tc, 'POST', '/flavors', {
      token: admin,
      body: { flavor: { name, ram: 64, vcpus: 1, disk: 1 } },
    });
    expectFault(byName, 409, `Flavor with name ${name} already exists.`);
    const byId = await nova(tc, 'POST', '/flavors', {
      token: admin,
      body: { flavor: { name: uniqueName('x'), id: 'dup-id', ram: 64, vcpus: 1, disk: 1 } },
    });
    expectFault(byId, 409, 'Flavor with ID dup-id already exists.');
    for (const flavor of [
      { name: 'x', ram: 0, vcpus: 1, disk: 1 },
      { name: 'x', ram: 64, vcpus: 1 },
      { name: ' x', ram: 64, vcpus: 1, disk: 1 },
      { name: 'x', ram: 64, vcpus: 1, disk: 1, bogus: 1 },
      { name: 'x', ram: 64, vcpus: 1, disk: 1, rxtx_factor: 0 },
    ]) {
      expectFault(await nova(tc, 'POST', '/flavors', { token: admin, body: { flavor } }), 400);
    }
    // description only from 2.55
    expectFault(
      await nova(tc, 'POST', '/flavors', {
        token: admin,
        body: { flavor: { name: uniqueName('d'), ram: 64, vcpus: 1, disk: 1, description: 'd' } },
      }),
      400,
    );
  });

  test('only admins manage flavors', async () => {
    const body = { flavor: { name: uniqueName('nope'), ram: 64, vcpus: 1, disk: 1 } };
    expectFault(await nova(tc, 'POST', '/flavors', { token: member.token, body }), 403);
    expectFault(await nova(tc, 'DELETE', '/flavors/1', { token: member.token }), 403);
    expectFault(
      await nova(tc, 'PUT', '/flavors/1', {
        token: member.token,
        mv: '2.55',
        body: { flavor: { description: 'x' } },
      }),
      403,
    );
  });

  test('update description (2.55) and delete (202, then 404)', async () => {
    const f = await createFlavor({});
    const id = String(f['id']);
    expectFault(
      await nova(tc, 'PUT', `/flavors/${id}`, { token: admin, body: { flavor: { description: 'x' } } }),
      404,
    );
    const up = await nova(tc, 'PUT', `/flavors/${id}`, {
      token: admin,
      mv: '2.55',
      body: { flavor: { description: 'new' } },
    });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.flavor.description, 'new');
    expectFault(
      await nova(tc, 'PUT', '/flavors/nope', {
        token: admin,
        mv: '2.55',
        body: { flavor: { description: 'x' } },
      }),
      404,
    );
    assert.equal((await nova(tc, 'DELETE', `/flavors/${id}`, { token: admin })).status, 202);
    expectFault(
      await nova(tc, 'DELETE', `/flavors/${id}`, { token: admin }),
      404,
      `Flavor ${id} could not be found.`,
    );
  });
});

describe('private flavors and os-flavor-access', () => {
  test('a private flavor is visible to admins and projects given access only', async () => {
    const f = await createFlavor({ 'os-flavor-access:is_public': false });
    const id = String(f['id']);
    expectFault(await nova(tc, 'GET', `/flavors/${id}`, { token: member.token }), 404);
    const publicList = await nova(tc, 'GET', '/flavors', { token: admin });
    assert.ok(!publicList.body.flavors.some((x: { id: string }) => x.id === id));
    const privateOnly = await nova(tc, 'GET', '/flavors?is_public=false', { token: admin });
    assert.ok(privateOnly.body.flavors.some((x: { id: string }) => x.id === id));
    assert.ok(!privateOnly.body.flavors.some((x: { id: string }) => x.id === '1'));
    const all = await nova(tc, 'GET', '/flavors?is_public=None', { token: admin });
    assert.ok(all.body.flavors.some((x: { id: string }) => x.id === id));
    assert.ok(all.body.flavors.some((x: { id: string }) => x.id === '1'));
    expectFault(
      await nova(tc, 'GET', '/flavors?is_public=maybe', { token: admin }),
      400,
      'Invalid is_public filter [maybe]',
    );

    const add = await nova(tc, 'POST', `/flavors/${id}/action`, {
      token: admin,
      body: { addTenantAccess: { tenant: member.projectId } },
    });
    assert.equal(add.status, 200, add.text);
    assert.deepEqual(add.body.flavor_access, [{ flavor_id: id, tenant_id: member.projectId }]);
    expectFault(
      await nova(tc, 'POST', `/flavors/${id}/action`, {
        token: admin,
        body: { addTenantAccess: { tenant: member.projectId } },
      }),
      409,
      `Flavor access already exists for flavor ${id} and project ${member.projectId} combination.`,
    );
    // Now the member's project sees it (list and show), another project does not.
    assert.equal((await nova(tc, 'GET', `/flavors/${id}`, { token: member.token })).status, 200);
    const memberList = await nova(tc, 'GET', '/flavors', { token: reader.token });
    assert.ok(memberList.body.flavors.some((x: { id: string }) => x.id === id));
    expectFault(await nova(tc, 'GET', `/flavors/${id}`, { token: other.token }), 404);

    const list = await nova(tc, 'GET', `/flavors/${id}/os-flavor-access`, { token: admin });
    assert.equal(list.status, 200);
    assert.equal(list.body.flavor_access.length, 1);
    // Zed's default ORs in the legacy owner rule: a project that can see the flavor may read its list.
    assert.equal(
      (await nova(tc, 'GET', `/flavors/${id}/os-flavor-access`, { token: member.token })).status,
      200,
    );
    expectFault(await nova(tc, 'GET', `/flavors/${id}/os-flavor-access`, { token: other.token }), 404);

    const rm = await nova(tc, 'POST', `/flavors/${id}/action`, {
      token: admin,
      body: { removeTenantAccess: { tenant: member.projectId } },
    });
    assert.deepEqual(rm.body.flavor_access, []);
    expectFault(
      await nova(tc, 'POST', `/flavors/${id}/action`, {
        token: admin,
        body: { removeTenantAccess: { tenant: member.projectId } },
      }),
      404,
      `Flavor access not found for ${id} / ${member.projectId} combination.`,
    );
  });

  test('public flavors: no access list, no access to add (2.7+), members may not add', async () => {
    expectFault(
      await nova(tc, 'GET', '/flavors/1/os-flavor-access', { token: admin }),
      404,
      'Access list not available for public flavors.',
    );
    expectFault(
      await nova(tc, 'POST', '/flavors/1/action', {
        token: admin,
        mv: '2.7',
        body: { addTenantAccess: { tenant: 'abc' } },
      }),
      409,
      'Can not add access to a public flavor.',
    );
    expectFault(
      await nova(tc, 'POST', '/flavors/1/action', {
        token: member.token,
        body: { addTenantAccess: { tenant: 'abc' } },
      }),
      403,
    );
    expectFault(
      await nova(tc, 'POST', '/flavors/nope/action', {
        token: admin,
        body: { addTenantAccess: { tenant: 'a' } },
      }),
      404,
    );
    expectFault(
      await nova(tc, 'POST', '/flavors/1/action', { token: admin, body: { addTenantAccess: {} } }),
      400,
    );
  });
});

describe('os-extra_specs', () => {
  test('create, show, update, delete; members read, only admins write', async () => {
    const f = await createFlavor({});
    const base = `/flavors/${f['id']}/os-extra_specs`;
    const created = await nova(tc, 'POST', base, {
      token: admin,
      body: { extra_specs: { 'hw:cpu_policy': 'dedicated', n: 2 } },
    });
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(created.body, { extra_specs: { 'hw:cpu_policy': 'dedicated', n: 2 } });
    const listed = await nova(tc, 'GET', base, { token: member.token });
    assert.deepEqual(listed.body, { extra_specs: { 'hw:cpu_policy': 'dedicated', n: '2' } });
    const one = await nova(tc, 'GET', `${base}/hw:cpu_policy`, { token: reader.token });
    assert.deepEqual(one.body, { 'hw:cpu_policy': 'dedicated' });
    expectFault(
      await nova(tc, 'GET', `${base}/missing`, { token: member.token }),
      404,
      `Flavor ${f['id']} has no extra specs with key missing.`,
    );
    const put = await nova(tc, 'PUT', `${base}/n`, { token: admin, body: { n: '3' } });
    assert.deepEqual(put.body, { n: '3' });
    expectFault(
      await nova(tc, 'PUT', `${base}/n`, { token: admin, body: { m: '3' } }),
      400,
      'Request body and URI mismatch',
    );
    expectFault(await nova(tc, 'PUT', `${base}/n`, { token: admin, body: { n: '3', m: '4' } }), 400);
    expectFault(
      await nova(tc, 'POST', base, { token: member.token, body: { extra_specs: { a: 'b' } } }),
      403,
    );
    expectFault(
      await nova(tc, 'POST', base, { token: admin, body: { extra_specs: { 'bad/key': 'b' } } }),
      400,
    );
    assert.equal((await nova(tc, 'DELETE', `${base}/n`, { token: admin })).status, 200);
    expectFault(await nova(tc, 'DELETE', `${base}/n`, { token: admin }), 404);
    expectFault(
      await nova(tc, 'GET', '/flavors/nope/os-extra_specs', { token: admin }),
      404,
      'Flavor nope could not be found.',
    );
    // 2.61: the flavor body carries the specs.
    const shown = await nova(tc, 'GET', `/flavors/${f['id']}`, { token: member.token, mv: '2.61' });
    assert.deepEqual(shown.body.flavor.extra_specs, { 'hw:cpu_policy': 'dedicated' });
  });
});
