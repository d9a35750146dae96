// /v3/groups through the real handlers: CRUD, filters, membership, group-derived access and policy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';

describe('identity groups', () => {
  let c: TestCloud;
  let member: TestUser;
  let reader: TestUser;

  before(async () => {
    c = await startTestCloud();
    member = await c.makeUser();
    reader = await c.makeUser({ role: 'reader' });
  });
  after(async () => {
    await c.close();
  });

  const admin = () => c.adminToken;
  const createGroup = async (group: Record<string, unknown>) => {
    const res = await c.request('POST', '/v3/groups', { token: admin(), body: { group } });
    assert.equal(res.status, 201, res.text);
    return res.body.group as { id: string; name: string; domain_id: string; description: string };
  };
  const validate = (subject: string) =>
    c.request('GET', '/v3/auth/tokens', { token: admin(), headers: { 'x-subject-token': subject } });

  it('creates, shows, lists, filters, updates and deletes a group', async () => {
    const name = uniqueName('group');
    const res = await c.request('POST', '/v3/groups', {
      token: admin(),
      body: { group: { name: `  ${name} `, description: 'the testers', 'team:color': 'red' } },
    });
    assert.equal(res.status, 201, res.text);
    const g = res.body.group;
    assert.match(g.id, /^[0-9a-f]{32}$/);
    assert.equal(g.name, name, 'the name is stripped');
    assert.equal(g.domain_id, 'default', 'the default domain when none is given');
    assert.equal(g.description, 'the testers');
    assert.equal(g.team_color, 'red', 'extra attributes are kept, with normalised keys');
    assert.match(g.links.self, new RegExp(`/v3/groups/${g.id}$`));

    const shown = await c.request('GET', `/v3/groups/${g.id}`, { token: admin() });
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body.group, g);
    assert.equal((await c.request('HEAD', `/v3/groups/${g.id}`, { token: admin() })).status, 200);

    const other = await createGroup({ name: uniqueName('other') });
    const byName = await c.request('GET', `/v3/groups?name=${name}`, { token: admin() });
    assert.equal(byName.status, 200);
    assert.deepEqual(
      byName.body.groups.map((x: { id: string }) => x.id),
      [g.id],
    );
    assert.match(byName.body.links.self, /\/v3\/groups\?name=/);
    assert.equal(byName.body.links.next, null);
    const inexact = await c.request('GET', `/v3/groups?name__icontains=${name.toUpperCase().slice(0, 8)}`, {
      token: admin(),
    });
    assert.ok(inexact.body.groups.some((x: { id: string }) => x.id === g.id));
    assert.ok(!inexact.body.groups.some((x: { id: string }) => x.id === other.id));
    const inDomain = await c.request('GET', '/v3/groups?domain_id=default', { token: admin() });
    assert.ok(inDomain.body.groups.length >= 2);
    const noDomain = await c.request('GET', '/v3/groups?domain_id=nowhere', { token: admin() });
    assert.deepEqual(noDomain.body.groups, []);

    const upd = await c.request('PATCH', `/v3/groups/${g.id}`, {
      token: admin(),
      body: { group: { name: `${name}-2`, description: 'renamed' } },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.group.name, `${name}-2`);
    assert.equal(upd.body.group.description, 'renamed');
    assert.equal(upd.body.group.team_color, 'red');

    const del = await c.request('DELETE', `/v3/groups/${g.id}`, { token: admin() });
    assert.equal(del.status, 204);
    const gone = await c.request('GET', `/v3/groups/${g.id}`, { token: admin() });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.message, `Could not find group: ${g.id}.`);
    assert.equal((await c.request('DELETE', `/v3/groups/${g.id}`, { token: admin() })).status, 404);
  });

  it("answers Keystone's errors for bad requests and conflicts, storing nothing", async () => {
    const before = (await c.request('GET', '/v3/groups', { token: admin() })).body.groups.length;
    const noName = await c.request('POST', '/v3/groups', {
      token: admin(),
      body: { group: { description: 'x' } },
    });
    assert.equal(noName.status, 400);
    assert.equal(noName.body.error.message, "'name' is a required property");
    const blank = await c.request('POST', '/v3/groups', { token: admin(), body: { group: { name: '   ' } } });
    assert.equal(blank.status, 400);
    assert.match(blank.body.error.message, /^Invalid input for field 'name'/);
    const badDomain = await c.request('POST', '/v3/groups', {
      token: admin(),
      body: { group: { name: uniqueName('g'), domain_id: 'nowhere' } },
    });
    assert.equal(badDomain.status, 404);
    assert.equal(badDomain.body.error.message, 'Could not find domain: nowhere.');
    const name = uniqueName('dup');
    const g = await createGroup({ name });
    const dup = await c.request('POST', '/v3/groups', { token: admin(), body: { group: { name } } });
    assert.equal(dup.status, 409);
    assert.equal(
      dup.body.error.message,
      `Conflict occurred attempting to store group - Duplicate entry found with name ${name} at domain ID default.`,
    );
    const other = await createGroup({ name: uniqueName('dup2') });
    const clash = await c.request('PATCH', `/v3/groups/${other.id}`, {
      token: admin(),
      body: { group: { name } },
    });
    assert.equal(clash.status, 409);
    assert.equal(
      clash.body.error.message,
      `Conflict occurred attempting to store group - Duplicate entry found with name ${name}.`,
    );
    const moveDomain = await c.request('PATCH', `/v3/groups/${g.id}`, {
      token: admin(),
      body: { group: { domain_id: 'other' } },
    });
    assert.equal(moveDomain.status, 400);
    assert.equal(moveDomain.body.error.message, 'Cannot change Domain ID');
    const changeId = await c.request('PATCH', `/v3/groups/${g.id}`, {
      token: admin(),
      body: { group: { id: 'abc' } },
    });
    assert.equal(changeId.status, 400);
    assert.equal(changeId.body.error.message, 'Cannot change ID');
    const empty = await c.request('PATCH', `/v3/groups/${g.id}`, { token: admin(), body: { group: {} } });
    assert.equal(empty.status, 400);
    const missing = await c.request('PATCH', '/v3/groups/nope', {
      token: admin(),
      body: { group: { name: 'x' } },
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, 'Could not find group: nope.');
    const after = (await c.request('GET', '/v3/groups', { token: admin() })).body.groups.length;
    assert.equal(after, before + 2, 'only the two valid groups were stored');
  });

  it('adds, checks, lists and removes members', async () => {
    const g = await createGroup({ name: uniqueName('members') });
    const u = await c.makeUser();
    const path = `/v3/groups/${g.id}/users/${u.id}`;
    const notMember = await c.request('HEAD', path, { token: admin() });
    assert.equal(notMember.status, 404);
    const notMemberGet = await c.request('GET', path, { token: admin() });
    assert.equal(notMemberGet.body.error.message, `User '${u.id}' not found in group '${g.id}'`);

    assert.equal((await c.request('PUT', path, { token: admin() })).status, 204);
    assert.equal((await c.request('PUT', path, { token: admin() })).status, 204, 'adding twice is fine');
    assert.equal((await c.request('HEAD', path, { token: admin() })).status, 204);
    assert.equal((await c.request('GET', path, { token: admin() })).status, 204);

    const list = await c.request('GET', `/v3/groups/${g.id}/users`, { token: admin() });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.users.map((x: { id: string }) => x.id),
      [u.id],
    );
    assert.equal(list.body.users[0].name, u.name);
    assert.match(list.body.links.self, new RegExp(`/v3/groups/${g.id}/users$`));
    const filtered = await c.request('GET', `/v3/groups/${g.id}/users?enabled=false`, { token: admin() });
    assert.deepEqual(filtered.body.users, []);

    const mine = await c.request('GET', `/v3/users/${u.id}/groups`, { token: admin() });
    if (mine.status === 200) assert.ok(mine.body.groups.some((x: { id: string }) => x.id === g.id));

    const noUser = await c.request('PUT', `/v3/groups/${g.id}/users/nobody`, { token: admin() });
    assert.equal(noUser.status, 404);
    assert.equal(noUser.body.error.message, 'Could not find user: nobody.');
    const noGroup = await c.request('PUT', `/v3/groups/nogroup/users/${u.id}`, { token: admin() });
    assert.equal(noGroup.status, 404);
    assert.equal(noGroup.body.error.message, 'Could not find group: nogroup.');
    const noGroupList = await c.request('GET', '/v3/groups/nogroup/users', { token: admin() });
    assert.equal(noGroupList.status, 404);

    // Removing a user from a group revokes the user's tokens, as Keystone does.
    assert.equal((await validate(u.token)).status, 200);
    assert.equal((await c.request('DELETE', path, { token: admin() })).status, 204);
    assert.equal((await c.request('HEAD', path, { token: admin() })).status, 404);
    assert.equal((await validate(u.token)).status, 404, 'the removed user must re-authenticate');
    const again = await c.request('DELETE', path, { token: admin() });
    assert.equal(again.status, 404);
    assert.equal(again.body.error.message, `User '${u.id}' not found in group '${g.id}'`);
    assert.ok(await c.login({ userId: u.id, password: u.password, projectId: u.projectId }));
  });

  it('gives members the roles of the group, and deleting the group takes them away', async () => {
    const g = await createGroup({ name: uniqueName('grp') });
    const project = await c.makeProject();
    const u = await c.makeUser();
    const memberRole = await c.roleId('member');
    await c.request('PUT', `/v3/groups/${g.id}/users/${u.id}`, { token: admin() });
    await assert.rejects(c.login({ userId: u.id, password: u.password, projectId: project }), /401/);
    const grant = await c.request('PUT', `/v3/projects/${project}/groups/${g.id}/roles/${memberRole}`, {
      token: admin(),
    });
    assert.equal(grant.status, 204, grant.text);
    const token = await c.login({ userId: u.id, password: u.password, projectId: project });
    const v = await validate(token);
    assert.equal(v.status, 200);
    assert.deepEqual(v.body.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);

    assert.equal((await c.request('DELETE', `/v3/groups/${g.id}`, { token: admin() })).status, 204);
    assert.equal((await validate(token)).status, 404, 'the group-derived token is no longer valid');
    const left = await c.request('GET', `/v3/role_assignments?group.id=${g.id}`, { token: admin() });
    assert.equal(left.status, 200);
    assert.deepEqual(left.body.role_assignments, [], "the group's assignments are gone");
    const rows = await c.cloud.database.db
      .selectFrom('identity_group_members')
      .selectAll()
      .where('group_id', '=', g.id)
      .execute();
    assert.deepEqual(rows, [], 'and so are its memberships');
  });

  it('enforces policy: admins manage groups, project members and readers may not', async () => {
    const g = await createGroup({ name: uniqueName('policy') });
    const other = await c.makeUser();
    for (const who of [member, reader, other]) {
      const create = await c.request('POST', '/v3/groups', {
        token: who.token,
        body: { group: { name: uniqueName('x') } },
      });
      assert.equal(create.status, 403, create.text);
      assert.equal(
        create.body.error.message,
        'You are not authorized to perform the requested action: identity:create_group.',
      );
      assert.equal((await c.request('GET', '/v3/groups', { token: who.token })).status, 403);
      assert.equal((await c.request('GET', `/v3/groups/${g.id}`, { token: who.token })).status, 403);
      assert.equal(
        (await c.request('PATCH', `/v3/groups/${g.id}`, { token: who.token, body: { group: { name: 'y' } } }))
          .status,
        403,
      );
      assert.equal(
        (await c.request('PUT', `/v3/groups/${g.id}/users/${who.id}`, { token: who.token })).status,
        403,
      );
      assert.equal((await c.request('DELETE', `/v3/groups/${g.id}`, { token: who.token })).status, 403);
    }
    assert.equal((await c.request('GET', '/v3/groups')).status, 401);
    assert.equal(
      (await c.request('GET', `/v3/groups/${g.id}`, { token: admin() })).status,
      200,
      'nothing changed',
    );
  });
});
