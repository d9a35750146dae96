// /v3/projects and project tags: Keystone's behaviour, messages and default policy, through the real HTTP stack.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';

let tc: TestCloud;
let member: TestUser; // member of projectA
let reader: TestUser; // reader of projectA
let other: TestUser; // member of another project
let projectA: string;

before(async () => {
  tc = await startTestCloud();
  projectA = await tc.makeProject(uniqueName('pa'));
  member = await tc.makeUser({ projectId: projectA, role: 'member' });
  reader = await tc.makeUser({ projectId: projectA, role: 'reader' });
  other = await tc.makeUser({ role: 'member' });
});
after(async () => {
  await tc.close();
});

const admin = () => tc.adminToken;

/** Everything a project write could touch, to prove a failed request changed nothing. */
async function snapshot(): Promise<string> {
  const db = tc.cloud.identity.context.db;
  const projects = await db.selectFrom('identity_projects').selectAll().orderBy('id').execute();
  const tags = await db
    .selectFrom('identity_project_tags')
    .selectAll()
    .orderBy('project_id')
    .orderBy('tag')
    .execute();
  const assignments = await db
    .selectFrom('identity_assignments')
    .selectAll()
    .orderBy('actor_id')
    .orderBy('target_id')
    .execute();
  const domains = await db.selectFrom('identity_domains').selectAll().orderBy('id').execute();
  return JSON.stringify({ projects, tags, assignments, domains });
}

async function create(body: Record<string, unknown>, token = admin()) {
  return tc.request('POST', '/v3/projects', { token, body: { project: body } });
}

async function createOk(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await create(body);
  assert.equal(res.status, 201, res.text);
  return res.body.project;
}

async function createDomain(name = uniqueName('dom')): Promise<string> {
  const res = await tc.request('POST', '/v3/domains', { token: admin(), body: { domain: { name } } });
  assert.equal(res.status, 201, res.text);
  return res.body.domain.id;
}

/** A token for a user holding `role` on a domain (the assignment written directly). */
async function domainToken(domainId: string, role: string): Promise<string> {
  const name = uniqueName('du');
  const password = 'pw-domain-user';
  const res = await tc.request('POST', '/v3/users', {
    token: admin(),
    body: { user: { name, password, domain_id: 'default' } },
  });
  assert.equal(res.status, 201, res.text);
  const userId = res.body.user.id as string;
  const roleId = await tc.roleId(role);
  await tc.cloud.identity.context.write(async (trx) => {
    await trx
      .insertInto('identity_assignments')
      .values({ type: 'UserDomain', actor_id: userId, target_id: domainId, role_id: roleId, inherited: 0 })
      .execute();
  });
  return tc.login({ userId, password, domainId });
}

function expectError(
  res: { status: number; body: { error?: { code: number; message: string } } },
  status: number,
  message?: string | RegExp,
) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error?.code, status);
  if (typeof message === 'string') assert.equal(res.body.error?.message, message);
  else if (message) assert.match(res.body.error?.message ?? '', message);
}

describe('create project', () => {
  test('defaults: default domain, top-level parent, enabled, extra attributes flattened', async () => {
    const name = uniqueName('p');
    const res = await create({ name: `  ${name} `, description: 'd', 'custom-attr': 'x', color: 'blue' });
    assert.equal(res.status, 201, res.text);
    const p = res.body.project;
    assert.equal(p.name, name);
    assert.equal(p.domain_id, 'default');
    assert.equal(p.parent_id, 'default');
    assert.equal(p.is_domain, false);
    assert.equal(p.enabled, true);
    assert.equal(p.description, 'd');
    assert.deepEqual(p.tags, []);
    assert.deepEqual(p.options, {});
    assert.equal(p.custom_attr, 'x', 'Keystone normalises - and : in attribute names');
    assert.equal(p.color, 'blue');
    assert.match(p.links.self, new RegExp(`/v3/projects/${p.id}$`));
    assert.match(p.id, /^[0-9a-f]{32}$/);
    const got = await tc.request('GET', `/v3/projects/${p.id}`, { token: admin() });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.project, p);
  });

  test('tags, enabled=false and explicit domain', async () => {
    const dom = await createDomain();
    const p = await createOk({ name: uniqueName('p'), domain_id: dom, enabled: false, tags: ['a', 'b c'] });
    assert.equal(p['domain_id'], dom);
    assert.equal(p['parent_id'], dom);
    assert.equal(p['enabled'], false);
    assert.deepEqual([...(p['tags'] as string[])].sort(), ['a', 'b c']);
  });

  test('invalid bodies are 400 with the field named, and store nothing', async () => {
    const before = await snapshot();
    expectError(await create({}), 400, "'name' is a required property");
    expectError(
      await tc.request('POST', '/v3/projects', { token: admin(), body: {} }),
      400,
      "'name' is a required property",
    );
    expectError(await create({ name: 'x'.repeat(65) }), 400, /^Invalid input for field 'name': /);
    expectError(await create({ name: '   ' }), 400, /^Invalid input for field 'name': /);
    expectError(await create({ name: 'n', enabled: 'yes' }), 400, /^Invalid input for field 'enabled': /);
    expectError(await create({ name: 'n', tags: ['a/b'] }), 400, /^Invalid input for field 'tags\/0': /);
    expectError(await create({ name: 'n', tags: ['a,b'] }), 400, /^Invalid input for field 'tags\/0': /);
    expectError(await create({ name: 'n', tags: ['t'.repeat(256)] }), 400, /too long/);
    expectError(
      await create({ name: 'n', tags: Array.from({ length: 81 }, (_, i) => `t${i}`) }),
      400,
      /^Invalid input for field 'tags': .* is too long$/,
    );
    expectError(
      await create({ name: 'n', tags: ['a', 'a'] }),
      400,
      "Invalid input for field 'tags': ['a', 'a'] has non-unique elements",
    );
    expectError(await create({ name: 'n', domain_id: 'nope' }), 400, 'Could not find domain: nope.');
    expectError(await create({ name: 'n', parent_id: 'nope' }), 400, 'Could not find project: nope.');
    expectError(
      await create({ name: 'n', domain_id: 'default', parent_id: 'nope' }),
      400,
      'Could not find project: nope.',
    );
    expectError(
      await create({ name: 'n', is_domain: true, parent_id: 'x' }),
      400,
      'only root projects are allowed to act as domains.',
    );
    expectError(
      await tc.request('POST', '/v3/projects', { token: admin(), raw: '{"project": ' }),
      400,
      /valid JSON/,
    );
    assert.equal(await snapshot(), before);
  });

  test("a duplicate name in the domain is 409 with Keystone's message; another domain is fine", async () => {
    const name = uniqueName('dup');
    await createOk({ name });
    const before = await snapshot();
    const res = await create({ name });
    assert.equal(res.status, 409);
    assert.match(
      res.body.error.message,
      new RegExp(
        `^Conflict occurred attempting to store project - it is not permitted to have two projects with either the same name or same id in the same domain: name is ${name}, project id [0-9a-f]{32}\\.$`,
      ),
    );
    assert.equal(await snapshot(), before);
    const dom = await createDomain();
    await createOk({ name, domain_id: dom });
  });

  test('hierarchy: the parent gives the domain; parents in another domain and disabled branches are refused', async () => {
    const dom = await createDomain();
    const root = await createOk({ name: uniqueName('root'), domain_id: dom });
    const child = await createOk({ name: uniqueName('child'), parent_id: root['id'] });
    assert.equal(child['domain_id'], dom, "without domain_id the parent's domain is used");
    assert.equal(child['parent_id'], root['id']);
    // parent_id naming the domain itself is a top-level project
    const top = await createOk({ name: uniqueName('top'), parent_id: dom });
    assert.equal(top['parent_id'], dom);
    const before = await snapshot();
    expectError(
      await create({ name: uniqueName('x'), domain_id: 'default', parent_id: root['id'] }),
      400,
      `Cannot create project, since it specifies its domain_id default, but specifies a parent in a different domain (${dom}).`,
    );
    expectError(
      await create({ name: uniqueName('x'), domain_id: 'default', parent_id: dom }),
      400,
      `Cannot create project, the parent (${dom}) is acting as a domain, but this project's domain id (default) does not match the parent's id.`,
    );
    assert.equal(await snapshot(), before);
    const off = await createOk({ name: uniqueName('off'), domain_id: dom, enabled: false });
    expectError(
      await create({ name: uniqueName('x'), parent_id: off['id'] }),
      400,
      `cannot create a project in a branch containing a disabled project: ${off['id']}`,
    );
  });

  test('hierarchy depth is limited to 5 projects below the domain', async () => {
    let parent = await createOk({ name: uniqueName('l1') });
    for (let level = 2; level <= 5; level++)
      parent = await createOk({ name: uniqueName(`l${level}`), parent_id: parent['id'] });
    const before = await snapshot();
    expectError(
      await create({ name: uniqueName('l6'), parent_id: parent['id'] }),
      403,
      `Max hierarchy depth reached for ${parent['id']} branch.`,
    );
    assert.equal(await snapshot(), before);
  });
});

describe('show project', () => {
  test('parents and subtree, as ids and as lists of projects the caller has roles on', async () => {
    const a = await createOk({ name: uniqueName('A') });
    const b = await createOk({ name: uniqueName('B'), parent_id: a['id'] });
    const c = await createOk({ name: uniqueName('C'), parent_id: b['id'] });
    const d = await createOk({ name: uniqueName('D'), parent_id: b['id'] });
    const get = (id: unknown, q: string, token = admin()) =>
      tc.request('GET', `/v3/projects/${id}?${q}`, { token });

    let res = await get(c['id'], 'parents_as_ids');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.project.parents, {
      [b['id'] as string]: { [a['id'] as string]: { default: null } },
    });
    res = await get(a['id'], 'subtree_as_ids');
    assert.deepEqual(res.body.project.subtree, {
      [b['id'] as string]: { [c['id'] as string]: null, [d['id'] as string]: null },
    });
    res = await get(c['id'], 'subtree_as_ids=1');
    assert.equal(res.body.project.subtree, null);
    res = await get(c['id'], 'parents_as_ids=0');
    assert.equal(res.body.project.parents, undefined, '=0 means false');

    // The admin holds no role on these projects: the lists are empty until it does.
    res = await get(c['id'], 'parents_as_list');
    assert.deepEqual(res.body.project.parents, []);
    res = await get(a['id'], 'subtree_as_list');
    assert.deepEqual(res.body.project.subtree, []);
    const readerRole = await tc.roleId('reader');
    await tc.cloud.identity.context.write(async (trx) => {
      await trx
        .insertInto('identity_assignments')
        .values({
          type: 'UserProject',
          actor_id: tc.adminUserId,
          target_id: b['id'] as string,
          role_id: readerRole,
          inherited: 0,
        })
        .execute();
    });
    res = await get(c['id'], 'parents_as_list');
    assert.deepEqual(
      res.body.project.parents.map((x: { project: { id: string } }) => x.project.id),
      [b['id']],
    );
    res = await get(a['id'], 'subtree_as_list');
    assert.deepEqual(
      res.body.project.subtree.map((x: { project: { id: string } }) => x.project.id),
      [b['id']],
    );

    expectError(
      await get(c['id'], 'parents_as_list&parents_as_ids'),
      400,
      'Cannot use parents_as_list and parents_as_ids query params at the same time.',
    );
    expectError(
      await get(c['id'], 'subtree_as_list&subtree_as_ids'),
      400,
      'Cannot use subtree_as_list and subtree_as_ids query params at the same time.',
    );
  });

  test('unknown project: 404 for the admin, 403 for others (policy before existence)', async () => {
    expectError(
      await tc.request('GET', '/v3/projects/nope', { token: admin() }),
      404,
      'Could not find project: nope.',
    );
    expectError(await tc.request('GET', '/v3/projects/nope', { token: member.token }), 403);
    expectError(await tc.request('GET', `/v3/projects/${projectA}`), 401);
  });
});

describe('list projects', () => {
  test('filters: name, enabled, domain_id, parent_id, tags, is_domain', async () => {
    const dom = await createDomain();
    const prefix = uniqueName('flt');
    const p1 = await createOk({ name: `${prefix}-1`, domain_id: dom, tags: ['red', 'big'] });
    const p2 = await createOk({ name: `${prefix}-2`, domain_id: dom, tags: ['red'], enabled: false });
    const p3 = await createOk({ name: `${prefix}-3`, parent_id: p1['id'], tags: ['blue'] });
    const ids = async (q: string) => {
      const res = await tc.request('GET', `/v3/projects?${q}`, { token: admin() });
      assert.equal(res.status, 200, res.text);
      assert.match(res.body.links.self, /\/v3\/projects/);
      return (res.body.projects as { id: string }[]).map((p) => p.id).sort();
    };
    const sorted = (...xs: unknown[]) => (xs as string[]).sort();
    assert.deepEqual(await ids(`domain_id=${dom}`), sorted(p1['id'], p2['id'], p3['id']));
    assert.deepEqual(await ids(`name=${p2['name']}`), [p2['id']]);
    assert.deepEqual(await ids(`domain_id=${dom}&enabled=false`), [p2['id']]);
    assert.deepEqual(await ids(`domain_id=${dom}&enabled=true`), sorted(p1['id'], p3['id']));
    assert.deepEqual(await ids(`parent_id=${p1['id']}`), [p3['id']]);
    assert.deepEqual(await ids(`parent_id=${dom}`), sorted(p1['id'], p2['id']));
    assert.deepEqual(await ids(`domain_id=${dom}&tags=red,big`), [p1['id']]);
    assert.deepEqual(await ids(`domain_id=${dom}&tags-any=big,blue`), sorted(p1['id'], p3['id']));
    assert.deepEqual(await ids(`domain_id=${dom}&not-tags=red,big`), sorted(p2['id'], p3['id']));
    assert.deepEqual(await ids(`domain_id=${dom}&not-tags-any=red`), [p3['id']]);
    assert.deepEqual(await ids(`name__startswith=${prefix}`), sorted(p1['id'], p2['id'], p3['id']));
    assert.deepEqual(await ids(`name__iendswith=${prefix.toUpperCase()}-2`), [p2['id']]);
    const asDomains = await tc.request('GET', '/v3/projects?is_domain=true', { token: admin() });
    const d = (asDomains.body.projects as { id: string; is_domain: boolean; domain_id: unknown }[]).find(
      (x) => x.id === dom,
    );
    assert.ok(d);
    assert.equal(d.is_domain, true);
    assert.equal(d.domain_id, null);
    const all = await tc.request('GET', '/v3/projects', { token: admin() });
    assert.ok((all.body.projects as { is_domain: boolean }[]).every((p) => p.is_domain === false));
  });

  test('policy: admin lists all, a domain reader lists its domain, project-scoped members and readers get 403', async () => {
    const dom = await createDomain();
    const inDom = await createOk({ name: uniqueName('dp'), domain_id: dom });
    const res = await tc.request('GET', '/v3/projects', { token: admin() });
    assert.equal(res.status, 200);
    assert.ok((res.body.projects as { id: string }[]).some((p) => p.id === projectA));
    expectError(await tc.request('GET', '/v3/projects', { token: member.token }), 403);
    expectError(await tc.request('GET', '/v3/projects', { token: reader.token }), 403);
    expectError(await tc.request('GET', '/v3/projects', { token: other.token }), 403);
    const domReader = await domainToken(dom, 'reader');
    const scoped = await tc.request('GET', '/v3/projects', { token: domReader });
    assert.equal(scoped.status, 200, scoped.text);
    assert.deepEqual(
      (scoped.body.projects as { id: string }[]).map((p) => p.id),
      [inDom['id']],
    );
    const filtered = await tc.request('GET', '/v3/projects?domain_id=default', { token: domReader });
    assert.deepEqual(filtered.body.projects, [], 'a domain-scoped token never sees another domain');
  });
});

describe('update project', () => {
  test('name, description, enabled, tags and extra attributes', async () => {
    const p = await createOk({ name: uniqueName('u'), tags: ['x'], keep: 1 });
    const name = uniqueName('renamed');
    const res = await tc.request('PATCH', `/v3/projects/${p['id']}`, {
      token: admin(),
      body: { project: { name, description: 'new', enabled: false, tags: ['y', 'z'], extra_attr: 'e' } },
    });
    assert.equal(res.status, 200, res.text);
    const q = res.body.project;
    assert.equal(q.name, name);
    assert.equal(q.description, 'new');
    assert.equal(q.enabled, false);
    assert.deepEqual([...q.tags].sort(), ['y', 'z']);
    assert.equal(q.extra_attr, 'e');
    assert.equal(q.keep, 1);
    const got = await tc.request('GET', `/v3/projects/${p['id']}`, { token: admin() });
    assert.deepEqual(got.body.project, q);
    // Re-stating the immutable fields with their current values is allowed.
    const same = await tc.request('PATCH', `/v3/projects/${p['id']}`, {
      token: admin(),
      body: {
        project: { id: p['id'], domain_id: 'default', parent_id: 'default', is_domain: false, enabled: true },
      },
    });
    assert.equal(same.status, 200, same.text);
  });

  test("refusals carry Keystone's status and message, and change nothing", async () => {
    const dom = await createDomain();
    const parent = await createOk({ name: uniqueName('par'), domain_id: dom });
    const child = await createOk({ name: uniqueName('chi'), parent_id: parent['id'] });
    const taken = await createOk({ name: uniqueName('taken'), domain_id: dom });
    const patch = (id: unknown, project: unknown) =>
      tc.request('PATCH', `/v3/projects/${id}`, { token: admin(), body: { project } });
    const before = await snapshot();
    expectError(await patch(child['id'], {}), 400, '{} does not have enough properties');
    expectError(await patch(child['id'], { id: 'other' }), 400, 'Cannot change ID');
    expectError(await patch(child['id'], { domain_id: 'default' }), 400, 'Cannot change Domain ID');
    expectError(await patch(child['id'], { parent_id: dom }), 403, 'Update of `parent_id` is not allowed.');
    expectError(await patch(child['id'], { is_domain: true }), 400, 'Update of `is_domain` is not allowed.');
    expectError(await patch(child['id'], { name: 'x'.repeat(65) }), 400, /^Invalid input for field 'name'/);
    expectError(await patch(child['id'], { tags: ['a', 'a'] }), 400, /has non-unique elements$/);
    expectError(
      await patch(child['id'], { name: taken['name'] }),
      409,
      `Conflict occurred attempting to store project - it is not permitted to have two projects with either the same name or same id in the same domain: name is ${taken['name']}, project id ${child['id']}.`,
    );
    expectError(
      await patch(parent['id'], { enabled: false }),
      403,
      `Cannot disable project ${parent['id']} since its subtree contains enabled projects.`,
    );
    expectError(await patch('nope', { name: 'x' }), 404, 'Could not find project: nope.');
    assert.equal(await snapshot(), before);

    assert.equal((await patch(child['id'], { enabled: false })).status, 200);
    assert.equal((await patch(parent['id'], { enabled: false })).status, 200);
    expectError(
      await patch(child['id'], { enabled: true }),
      403,
      `Cannot enable project ${child['id']} since it has disabled parents`,
    );
  });
});

describe('delete project', () => {
  test('a project with children is refused; a leaf goes with its tags and role assignments', async () => {
    const parent = await createOk({ name: uniqueName('dp') });
    const leaf = await createOk({ name: uniqueName('dl'), parent_id: parent['id'], tags: ['t'] });
    const u = await tc.makeUser({ projectId: leaf['id'] as string, role: 'member' });
    const before = await snapshot();
    expectError(
      await tc.request('DELETE', `/v3/projects/${parent['id']}`, { token: admin() }),
      403,
      `Cannot delete the project ${parent['id']} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.`,
    );
    assert.equal(await snapshot(), before);
    const res = await tc.request('DELETE', `/v3/projects/${leaf['id']}`, { token: admin() });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    expectError(await tc.request('GET', `/v3/projects/${leaf['id']}`, { token: admin() }), 404);
    const db = tc.cloud.identity.context.db;
    assert.equal(
      (
        await db
          .selectFrom('identity_project_tags')
          .selectAll()
          .where('project_id', '=', leaf['id'] as string)
          .execute()
      ).length,
      0,
    );
    assert.equal(
      (
        await db
          .selectFrom('identity_assignments')
          .selectAll()
          .where('target_id', '=', leaf['id'] as string)
          .execute()
      ).length,
      0,
    );
    assert.ok(
      await db.selectFrom('identity_users').select('id').where('id', '=', u.id).executeTakeFirst(),
      'users stay',
    );
    expectError(
      await tc.request('DELETE', `/v3/projects/${leaf['id']}`, { token: admin() }),
      404,
      `Could not find project: ${leaf['id']}.`,
    );
    assert.equal(
      (await tc.request('DELETE', `/v3/projects/${parent['id']}`, { token: admin() })).status,
      204,
    );
  });
});

describe('project tags', () => {
  test('list, replace, add, check, remove, clear', async () => {
    const p = await createOk({ name: uniqueName('tags'), tags: ['one'] });
    const url = `/v3/projects/${p['id']}/tags`;
    let res = await tc.request('GET', url, { token: admin() });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.tags, ['one']);
    assert.ok(res.body.links.self);

    res = await tc.request('PUT', url, { token: admin(), body: { tags: ['a', ' b '] } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.tags, ['a', 'b'], 'replacing tags strips them');

    res = await tc.request('PUT', `${url}/c%20d`, { token: admin() });
    assert.equal(res.status, 201, res.text);
    assert.match(String(res.headers['location']), new RegExp(`/v3/projects/${p['id']}/tags/c%20d$`));
    assert.equal((await tc.request('GET', `${url}/c%20d`, { token: admin() })).status, 204);
    assert.equal((await tc.request('HEAD', `${url}/a`, { token: admin() })).status, 204);
    expectError(
      await tc.request('GET', `${url}/zzz`, { token: admin() }),
      404,
      'Could not find project tag: zzz.',
    );

    const before = await snapshot();
    expectError(
      await tc.request('PUT', `${url}/a`, { token: admin() }),
      400,
      "['a', 'b', 'c d', 'a'] has non-unique elements",
    );
    expectError(
      await tc.request('PUT', `${url}/x%2Cy`, { token: admin() }),
      400,
      "'x,y' does not match '^[^,/]*$'",
    );
    expectError(
      await tc.request('PUT', url, { token: admin(), body: { tags: 'a' } }),
      400,
      "'a' is not of type 'array'",
    );
    expectError(await tc.request('PUT', url, { token: admin(), body: {} }), 400, "{} is not of type 'array'");
    expectError(
      await tc.request('PUT', url, { token: admin(), body: { tags: ['q', 'q'] } }),
      400,
      "['q', 'q'] has non-unique elements",
    );
    expectError(
      await tc.request('DELETE', `${url}/zzz`, { token: admin() }),
      404,
      'Could not find project tag: zzz.',
    );
    expectError(
      await tc.request('PUT', '/v3/projects/nope/tags/a', { token: admin() }),
      404,
      'Could not find project: nope.',
    );
    expectError(
      await tc.request('GET', '/v3/projects/nope/tags', { token: admin() }),
      404,
      'Could not find project: nope.',
    );
    assert.equal(await snapshot(), before);

    assert.equal((await tc.request('DELETE', `${url}/a`, { token: admin() })).status, 204);
    res = await tc.request('GET', url, { token: admin() });
    assert.deepEqual([...res.body.tags].sort(), ['b', 'c d']);
    assert.equal((await tc.request('DELETE', url, { token: admin() })).status, 204);
    res = await tc.request('GET', `/v3/projects/${p['id']}`, { token: admin() });
    assert.deepEqual(res.body.project.tags, []);
  });

  test('the 81st tag is refused', async () => {
    const tags = Array.from({ length: 80 }, (_, i) => `t${i}`);
    const p = await createOk({ name: uniqueName('full'), tags });
    expectError(
      await tc.request('PUT', `/v3/projects/${p['id']}/tags/extra`, { token: admin() }),
      400,
      /is too long$/,
    );
  });
});

describe('policy matrix', () => {
  test('create: only admins', async () => {
    const before = await snapshot();
    for (const t of [member.token, reader.token, other.token]) {
      expectError(
        await create({ name: uniqueName('nope') }, t),
        403,
        'You are not authorized to perform the requested action: identity:create_project.',
      );
    }
    expectError(await tc.request('POST', '/v3/projects', { body: { project: { name: 'x' } } }), 401);
    assert.equal(await snapshot(), before);
  });

  test('show: admin and users of the project; not users of another project', async () => {
    assert.equal((await tc.request('GET', `/v3/projects/${projectA}`, { token: admin() })).status, 200);
    assert.equal((await tc.request('GET', `/v3/projects/${projectA}`, { token: member.token })).status, 200);
    assert.equal((await tc.request('GET', `/v3/projects/${projectA}`, { token: reader.token })).status, 200);
    expectError(
      await tc.request('GET', `/v3/projects/${projectA}`, { token: other.token }),
      403,
      'You are not authorized to perform the requested action: identity:get_project.',
    );
  });

  test('update and delete: only admins, and a refused request changes nothing', async () => {
    const p = await createOk({ name: uniqueName('pm') });
    const before = await snapshot();
    for (const t of [member.token, reader.token, other.token]) {
      expectError(
        await tc.request('PATCH', `/v3/projects/${projectA}`, {
          token: t,
          body: { project: { name: 'hijack' } },
        }),
        403,
      );
      expectError(await tc.request('DELETE', `/v3/projects/${p['id']}`, { token: t }), 403);
      expectError(await tc.request('DELETE', `/v3/projects/${projectA}`, { token: t }), 403);
    }
    assert.equal(await snapshot(), before);
  });

  test('tags: users of the project read them; only admins change them', async () => {
    const url = `/v3/projects/${projectA}/tags`;
    assert.equal((await tc.request('GET', url, { token: member.token })).status, 200);
    assert.equal((await tc.request('GET', url, { token: reader.token })).status, 200);
    expectError(await tc.request('GET', url, { token: other.token }), 403);
    const before = await snapshot();
    for (const t of [member.token, reader.token, other.token]) {
      expectError(await tc.request('PUT', url, { token: t, body: { tags: ['x'] } }), 403);
      expectError(await tc.request('PUT', `${url}/x`, { token: t }), 403);
      expectError(await tc.request('DELETE', url, { token: t }), 403);
      expectError(await tc.request('DELETE', `${url}/x`, { token: t }), 403);
    }
    assert.equal(await snapshot(), before);
    assert.equal((await tc.request('PUT', `${url}/x`, { token: admin() })).status, 201);
  });
});

describe('projects acting as domains', () => {
  test('creates a domain through the projects API, lists it both ways, and deletes it once disabled', async () => {
    const res = await tc.request('POST', '/v3/projects', {
      token: tc.adminToken,
      body: { project: { name: 'acting-domain', is_domain: true } },
    });
    assert.equal(res.status, 201, res.text);
    const id = res.body.project.id as string;
    assert.equal(res.body.project.is_domain, true);
    assert.equal(res.body.project.domain_id, null);
    const asProjects = await tc.request('GET', '/v3/projects?is_domain=true', { token: tc.adminToken });
    assert.ok(asProjects.body.projects.some((p: { id: string }) => p.id === id));
    const domains = await tc.request('GET', '/v3/domains', { token: tc.adminToken });
    assert.ok(domains.body.domains.some((d: { id: string }) => d.id === id));
    assert.equal((await tc.request('DELETE', `/v3/projects/${id}`, { token: tc.adminToken })).status, 403);
    const off = await tc.request('PATCH', `/v3/projects/${id}`, {
      token: tc.adminToken,
      body: { project: { enabled: false } },
    });
    assert.equal(off.status, 200);
    assert.equal(off.body.project.enabled, false);
    assert.equal((await tc.request('DELETE', `/v3/projects/${id}`, { token: tc.adminToken })).status, 204);
    assert.equal((await tc.request('GET', `/v3/domains/${id}`, { token: tc.adminToken })).status, 404);
  });
});
