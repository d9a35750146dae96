// /os-server-groups: create per microversion (policies, soft policies, policy + rules), members, listing
// (own project, all_projects for admins, limit/offset), quota and access by other projects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, expectKeys, insertServer, nova } from './compute-support.ts';

let tc: TestCloud;
let member: TestUser;
let reader: TestUser;
let other: TestUser;

before(async () => {
  tc = await startTestCloud({ compute: { quotas: { server_groups: 4 } } } as never);
  member = await tc.makeUser();
  reader = await tc.makeUser({ projectId: member.projectId, role: 'reader' });
  other = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

const create = (body: unknown, mv?: string, token = member.token) =>
  nova(tc, 'POST', '/os-server-groups', { token, mv, body: { server_group: body } });

describe('server groups', () => {
  test('create per microversion and the bodies', async () => {
    let res = await create({ name: 'g1', policies: ['affinity'] });
    assert.equal(res.status, 200, res.text);
    expectKeys(res.body.server_group, ['id', 'name', 'policies', 'members', 'metadata']);
    assert.deepEqual(res.body.server_group.policies, ['affinity']);
    expectFault(await create({ name: 'g', policies: ['soft-affinity'] }), 400);
    res = await create({ name: 'g2', policies: ['soft-anti-affinity'] }, '2.15');
    assert.equal(res.status, 200);
    expectKeys(res.body.server_group, [
      'id',
      'name',
      'policies',
      'members',
      'metadata',
      'project_id',
      'user_id',
    ]);
    assert.equal(res.body.server_group.project_id, member.projectId);
    res = await create({ name: 'g3', policy: 'anti-affinity', rules: { max_server_per_host: 2 } }, '2.64');
    assert.equal(res.status, 200, res.text);
    expectKeys(res.body.server_group, ['id', 'name', 'policy', 'rules', 'members', 'project_id', 'user_id']);
    assert.deepEqual(res.body.server_group.rules, { max_server_per_host: 2 });
    expectFault(
      await create({ name: 'g', policy: 'affinity', rules: { max_server_per_host: 2 } }, '2.64'),
      400,
      'Only anti-affinity policy supports rules.',
    );
    expectFault(await create({ name: 'g', policies: ['affinity'] }, '2.64'), 400);
    expectFault(await create({ name: 'g', policies: ['affinity', 'anti-affinity'] }), 400);
    expectFault(await create({ policies: ['affinity'] }), 400);
  });

  test('quota server_groups: 403 with Nova message', async () => {
    const res = await create({ name: 'g4', policies: ['affinity'] });
    assert.equal(res.status, 200);
    expectFault(
      await create({ name: 'g5', policies: ['affinity'] }),
      403,
      'Quota exceeded, too many server groups.',
    );
  });

  test('members come from the member rows of servers not deleted', async () => {
    const list = await nova(tc, 'GET', '/os-server-groups', { token: member.token });
    const g = list.body.server_groups[0];
    const live = await insertServer(tc, { projectId: member.projectId });
    const gone = await insertServer(tc, { projectId: member.projectId, deleted: true });
    await tc.cloud.compute.context.write(async (trx) => {
      await trx
        .insertInto('compute_server_group_members')
        .values([
          { group_id: g.id, server_id: live },
          { group_id: g.id, server_id: gone },
        ])
        .execute();
    });
    const shown = await nova(tc, 'GET', `/os-server-groups/${g.id}`, { token: reader.token });
    assert.deepEqual(shown.body.server_group.members, [live]);
  });

  test('listing: own project, all_projects for admins, limit and offset', async () => {
    await create({ name: 'theirs', policies: ['affinity'] }, undefined, other.token);
    const own = await nova(tc, 'GET', '/os-server-groups', { token: member.token });
    assert.equal(own.body.server_groups.length, 4);
    // all_projects is ignored for non-admins.
    const mine = await nova(tc, 'GET', '/os-server-groups?all_projects=True', { token: member.token });
    assert.equal(mine.body.server_groups.length, 4);
    const all = await nova(tc, 'GET', '/os-server-groups?all_projects=True', { token: tc.adminToken });
    assert.equal(all.body.server_groups.length, 5);
    const page = await nova(tc, 'GET', '/os-server-groups?limit=2&offset=1', { token: member.token });
    assert.deepEqual(
      page.body.server_groups.map((g: { id: string }) => g.id),
      own.body.server_groups.slice(1, 3).map((g: { id: string }) => g.id),
    );
    expectFault(await nova(tc, 'GET', '/os-server-groups?limit=-1', { token: member.token }), 400);
  });

  test('show and delete: 404 unknown, 403 for another project', async () => {
    const g = (await nova(tc, 'GET', '/os-server-groups', { token: member.token })).body.server_groups[1];
    expectFault(await nova(tc, 'GET', `/os-server-groups/${g.id}`, { token: other.token }), 403);
    expectFault(
      await nova(tc, 'GET', '/os-server-groups/nope', { token: member.token }),
      404,
      'Instance group nope could not be found.',
    );
    expectFault(await nova(tc, 'DELETE', `/os-server-groups/${g.id}`, { token: other.token }), 403);
    assert.equal(
      (await nova(tc, 'DELETE', `/os-server-groups/${g.id}`, { token: member.token })).status,
      204,
    );
    expectFault(await nova(tc, 'DELETE', `/os-server-groups/${g.id}`, { token: member.token }), 404);
  });
});
