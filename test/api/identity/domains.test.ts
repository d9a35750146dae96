// /v3/domains: Keystone's behaviour, messages and default policy, through the real HTTP stack.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';

let tc: TestCloud;
let member: TestUser; // member of a project in the default domain
let reader: TestUser; // reader of the same project

before(async () => {
  tc = await startTestCloud();
  const project = await tc.makeProject(uniqueName('p'));
  member = await tc.makeUser({ projectId: project, role: 'member' });
  reader = await tc.makeUser({ projectId: project, role: 'reader' });
});
after(async () => {
  await tc.close();
});

const admin = () => tc.adminToken;

async function snapshot(): Promise<string> {
  const db = tc.cloud.identity.context.db;
  const out: Record<string, unknown> = {};
  for (const t of [
    'identity_domains',
    'identity_projects',
    'identity_project_tags',
    'identity_users',
    'identity_groups',
    'identity_roles',
    'identity_assignments',
  ] as const) {
    out[t] = (await db.selectFrom(t).selectAll().execute()).map((r) => JSON.stringify(r)).sort();
  }
  return JSON.stringify(out);
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

const create = (domain: unknown, token = admin()) =>
  tc.request('POST', '/v3/domains', { token, body: { domain } });

async function createOk(domain: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await create(domain);
  assert.equal(res.status, 201, res.text);
  return res.body.domain;
}

describe('create and read domains', () => {
  test('create returns the domain; GET and the list show it', async () => {
    const name = uniqueName('dom');
    const d = await createOk({ name: ` ${name} `, description: 'desc', tags: ['x'], 'team:name': 'ops' });
    assert.match(d['id'] as string, /^[0-9a-f]{32}$/);
    assert.equal(d['name'], name);
    assert.equal(d['description'], 'desc');
    assert.equal(d['enabled'], true);
    assert.deepEqual(d['tags'], ['x']);
    assert.equal(d['team_name'], 'ops');
    assert.match((d['links'] as { self: string }).self, new RegExp(`/v3/domains/${d['id']}$`));
    const got = await tc.request('GET', `/v3/domains/${d['id']}`, { token: admin() });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.domain, d);
    const list = await tc.request('GET', `/v3/domains?name=${name}`, { token: admin() });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.domains, [d]);
    assert.match(list.body.links.self, /\/v3\/domains\?name=/);
  });

  test('explicit_domain_id must be a uuid4 hex', async () => {
    const id = 'a'.repeat(32);
    const d = await createOk({ name: uniqueName('explicit'), explicit_domain_id: id });
    assert.equal(d['id'], id);
    assert.equal(d['explicit_domain_id'], undefined);
    const before = await snapshot();
    expectError(
      await create({ name: uniqueName('bad'), explicit_domain_id: 'not-a-uuid' }),
      400,
      'Domain ID does not conform to required UUID format.',
    );
    assert.equal(await snapshot(), before);
  });

  test("invalid bodies and duplicates: Keystone's status and message, nothing stored", async () => {
    const name = uniqueName('taken');
    await createOk({ name });
    const before = await snapshot();
    expectError(await create({}), 400, "'name' is a required property");
    expectError(
      await tc.request('POST', '/v3/domains', { token: admin(), body: {} }),
      400,
      "'name' is a required property",
    );
    expectError(await create({ name: 'n'.repeat(65) }), 400, /^Invalid input for field 'name'/);
    expectError(await create({ name: 'n', enabled: 1 }), 400, /^Invalid input for field 'enabled'/);
    expectError(await create({ name: 'n', tags: ['a/b'] }), 400, /^Invalid input for field 'tags\/0'/);
    expectError(
      await create({ name }),
      409,
      `Conflict occurred attempting to store project - it is not permitted to have two projects acting as domains with the same name: ${name}.`,
    );
    assert.equal(await snapshot(), before);
  });

  test('list filters: name and enabled', async () => {
    const on = await createOk({ name: uniqueName('on') });
    const off = await createOk({ name: uniqueName('off'), enabled: false });
    const ids = async (q: string) =>
      (
        (await tc.request('GET', `/v3/domains?${q}`, { token: admin() })).body.domains as { id: string }[]
      ).map((d) => d.id);
    assert.ok((await ids('enabled=false')).includes(off['id'] as string));
    assert.ok(!(await ids('enabled=false')).includes(on['id'] as string));
    assert.ok((await ids('enabled=true')).includes('default'));
    assert.deepEqual(await ids(`name=${on['name']}`), [on['id']]);
    assert.deepEqual(await ids('name=nothing-like-this'), []);
  });

  test('unknown domain is 404 for the admin', async () => {
    expectError(
      await tc.request('GET', '/v3/domains/nope', { token: admin() }),
      404,
      'Could not find domain: nope.',
    );
  });
});

describe('update domains', () => {
  test('name, description, enabled, tags; disabling records a change event', async () => {
    const d = await createOk({ name: uniqueName('upd') });
    const name = uniqueName('renamed');
    const res = await tc.request('PATCH', `/v3/domains/${d['id']}`, {
      token: admin(),
      body: { domain: { name, description: 'new', enabled: false, tags: ['t1', 't2'], color: 'red' } },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.domain.name, name);
    assert.equal(res.body.domain.description, 'new');
    assert.equal(res.body.domain.enabled, false);
    assert.deepEqual([...res.body.domain.tags].sort(), ['t1', 't2']);
    assert.equal(res.body.domain.color, 'red');
    const got = await tc.request('GET', `/v3/domains/${d['id']}`, { token: admin() });
    assert.deepEqual(got.body.domain, res.body.domain);
    const events = await tc.cloud.identity.context.db
      .selectFrom('monostack_events')
      .selectAll()
      .where('kind', '=', 'domain')
      .where('resource_id', '=', d['id'] as string)
      .where('action', '=', 'update')
      .execute();
    assert.equal(events.length, 1);
    assert.deepEqual(JSON.parse(events[0]!.data), { enabled: false });
  });

  test('refusals: empty body, duplicate name, unknown domain', async () => {
    const a = await createOk({ name: uniqueName('a') });
    const b = await createOk({ name: uniqueName('b') });
    const before = await snapshot();
    const patch = (id: unknown, domain: unknown, token = admin()) =>
      tc.request('PATCH', `/v3/domains/${id}`, { token, body: { domain } });
    expectError(await patch(a['id'], {}), 400, '{} does not have enough properties');
    expectError(
      await patch(a['id'], { name: b['name'] }),
      409,
      `Conflict occurred attempting to store project - it is not permitted to have two projects acting as domains with the same name: ${b['name']}.`,
    );
    expectError(await patch('nope', { name: 'x' }), 404, 'Could not find domain: nope.');
    expectError(await patch('nope', { name: 'x' }, member.token), 404, 'Could not find domain: nope.');
    assert.equal(await snapshot(), before);
  });
});

describe('delete domains', () => {
  test('an enabled domain cannot be deleted', async () => {
    const d = await createOk({ name: uniqueName('enabled') });
    const before = await snapshot();
    expectError(
      await tc.request('DELETE', `/v3/domains/${d['id']}`, { token: admin() }),
      403,
      'Cannot delete a domain that is enabled, please disable it first.',
    );
    expectError(
      await tc.request('DELETE', '/v3/domains/default', { token: admin() }),
      403,
      'Cannot delete a domain that is enabled, please disable it first.',
    );
    expectError(
      await tc.request('DELETE', '/v3/domains/nope', { token: admin() }),
      404,
      'Could not find domain: nope.',
    );
    assert.equal(await snapshot(), before);
  });

  test('deleting a disabled domain deletes its projects, users, groups, roles and the assignments on them', async () => {
    const d = await createOk({ name: uniqueName('doomed'), tags: ['dt'] });
    const domainId = d['id'] as string;
    const parent = await tc.request('POST', '/v3/projects', {
      token: admin(),
      body: { project: { name: 'parent', domain_id: domainId, tags: ['pt'] } },
    });
    assert.equal(parent.status, 201, parent.text);
    const child = await tc.request('POST', '/v3/projects', {
      token: admin(),
      body: { project: { name: 'child', parent_id: parent.body.project.id } },
    });
    assert.equal(child.status, 201, child.text);
    const user = await tc.request('POST', '/v3/users', {
      token: admin(),
      body: { user: { name: 'u', password: 'pw-u', domain_id: domainId } },
    });
    assert.equal(user.status, 201, user.text);
    const userId = user.body.user.id as string;
    // An outsider (default domain) with a role on the doomed project: the assignment goes, the user stays.
    const outsider = await tc.makeUser({ projectId: parent.body.project.id, role: 'member' });
    const groupId = tc.cloud.identity.context.ids.hexId();
    const roleId = tc.cloud.identity.context.ids.hexId();
    const memberRole = await tc.roleId('member');
    await tc.cloud.identity.context.write(async (trx) => {
      await trx
        .insertInto('identity_groups')
        .values({ id: groupId, name: 'g', domain_id: domainId, description: '', extra: '{}' })
        .execute();
      await trx
        .insertInto('identity_group_members')
        .values({ group_id: groupId, user_id: outsider.id })
        .execute();
      await trx
        .insertInto('identity_roles')
        .values({
          id: roleId,
          name: 'domain-role',
          domain_id: domainId,
          description: '',
          options: '{}',
          extra: '{}',
        })
        .execute();
      await trx
        .insertInto('identity_assignments')
        .values([
          { type: 'UserDomain', actor_id: userId, target_id: domainId, role_id: memberRole, inherited: 0 },
          {
            type: 'UserProject',
            actor_id: outsider.id,
            target_id: demoProject(),
            role_id: roleId,
            inherited: 0,
          },
          {
            type: 'GroupProject',
            actor_id: groupId,
            target_id: demoProject(),
            role_id: memberRole,
            inherited: 0,
          },
        ])
        .execute();
    });

    expectError(
      await tc.request('DELETE', `/v3/domains/${domainId}`, { token: admin() }),
      403,
      'Cannot delete a domain that is enabled, please disable it first.',
    );
    const off = await tc.request('PATCH', `/v3/domains/${domainId}`, {
      token: admin(),
      body: { domain: { enabled: false } },
    });
    assert.equal(off.status, 200);
    const res = await tc.request('DELETE', `/v3/domains/${domainId}`, { token: admin() });
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');

    expectError(await tc.request('GET', `/v3/domains/${domainId}`, { token: admin() }), 404);
    expectError(await tc.request('GET', `/v3/projects/${parent.body.project.id}`, { token: admin() }), 404);
    expectError(await tc.request('GET', `/v3/projects/${child.body.project.id}`, { token: admin() }), 404);
    const db = tc.cloud.identity.context.db;
    const count = async (
      t: 'identity_users' | 'identity_groups' | 'identity_roles' | 'identity_projects',
      col: 'domain_id',
    ) => (await db.selectFrom(t).select('id').where(col, '=', domainId).execute()).length;
    assert.equal(await count('identity_users', 'domain_id'), 0);
    assert.equal(await count('identity_groups', 'domain_id'), 0);
    assert.equal(await count('identity_roles', 'domain_id'), 0);
    assert.equal(await count('identity_projects', 'domain_id'), 0);
    const left = await db
      .selectFrom('identity_assignments')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('actor_id', 'in', [userId, groupId]),
          eb('target_id', 'in', [domainId, parent.body.project.id, child.body.project.id]),
          eb('role_id', '=', roleId),
        ]),
      )
      .execute();
    assert.deepEqual(left, []);
    assert.deepEqual(
      await db.selectFrom('identity_group_members').selectAll().where('group_id', '=', groupId).execute(),
      [],
    );
    assert.deepEqual(
      await db.selectFrom('identity_project_tags').selectAll().where('project_id', '=', domainId).execute(),
      [],
    );
    assert.ok(
      await db.selectFrom('identity_users').select('id').where('id', '=', outsider.id).executeTakeFirst(),
    );
    const events = await db
      .selectFrom('monostack_events')
      .select(['kind', 'action'])
      .where('resource_id', '=', domainId)
      .execute();
    assert.ok(events.some((e) => e.kind === 'domain' && e.action === 'delete'));
  });
});

function demoProject(): string {
  return tc.demoProjectId;
}

describe('policy matrix', () => {
  test('list: admin only (project members and readers get 403)', async () => {
    assert.equal((await tc.request('GET', '/v3/domains', { token: admin() })).status, 200);
    for (const t of [member.token, reader.token]) {
      expectError(
        await tc.request('GET', '/v3/domains', { token: t }),
        403,
        'You are not authorized to perform the requested action: identity:list_domains.',
      );
    }
    expectError(await tc.request('GET', '/v3/domains'), 401);
  });

  test("show: a project-scoped user reads their project's domain, not another one", async () => {
    const d = await createOk({ name: uniqueName('elsewhere') });
    for (const t of [member.token, reader.token]) {
      assert.equal((await tc.request('GET', '/v3/domains/default', { token: t })).status, 200);
      expectError(await tc.request('GET', `/v3/domains/${d['id']}`, { token: t }), 403);
      expectError(await tc.request('GET', '/v3/domains/nope', { token: t }), 403);
    }
    assert.equal((await tc.request('GET', `/v3/domains/${d['id']}`, { token: admin() })).status, 200);
  });

  test('create, update, delete: admin only; refusals change nothing', async () => {
    const d = await createOk({ name: uniqueName('guarded'), enabled: false });
    const before = await snapshot();
    for (const t of [member.token, reader.token]) {
      expectError(
        await create({ name: uniqueName('x') }, t),
        403,
        'You are not authorized to perform the requested action: identity:create_domain.',
      );
      expectError(
        await tc.request('PATCH', `/v3/domains/${d['id']}`, {
          token: t,
          body: { domain: { name: 'hijack' } },
        }),
        403,
        'You are not authorized to perform the requested action: identity:update_domain.',
      );
      expectError(
        await tc.request('DELETE', `/v3/domains/${d['id']}`, { token: t }),
        403,
        'You are not authorized to perform the requested action: identity:delete_domain.',
      );
    }
    assert.equal(await snapshot(), before);
    assert.equal((await tc.request('DELETE', `/v3/domains/${d['id']}`, { token: admin() })).status, 204);
  });
});
