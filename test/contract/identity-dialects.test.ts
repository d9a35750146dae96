// Identity end to end on every database dialect: the same flows on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud } from '../support/cloud.ts';
import { skipFor, TEST_DIALECTS } from '../support/databases.ts';

for (const d of TEST_DIALECTS) {
  describe(`identity on ${d.name}`, { skip: skipFor(d) }, () => {
    let c: TestCloud;
    before(async () => {
      c = await startTestCloud({ database: { url: await d.freshUrl() } });
    });
    after(async () => {
      await c?.close();
    });

    it('bootstraps, issues, validates and revokes tokens', async () => {
      const u = await c.makeUser();
      const v = await c.request('GET', '/v3/auth/tokens', {
        token: c.adminToken,
        headers: { 'x-subject-token': u.token },
      });
      assert.equal(v.status, 200);
      assert.deepEqual(v.body.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
      assert.equal(
        (
          await c.request('DELETE', '/v3/auth/tokens', {
            token: c.adminToken,
            headers: { 'x-subject-token': u.token },
          })
        ).status,
        204,
      );
      assert.equal(
        (
          await c.request('GET', '/v3/auth/tokens', {
            token: c.adminToken,
            headers: { 'x-subject-token': u.token },
          })
        ).status,
        404,
      );
    });

    it('answers 409 on duplicates and leaves one row', async () => {
      const body = { project: { name: 'dialect-dup' } };
      assert.equal((await c.request('POST', '/v3/projects', { token: c.adminToken, body })).status, 201);
      const dup = await c.request('POST', '/v3/projects', { token: c.adminToken, body });
      assert.equal(dup.status, 409);
      assert.equal(
        (await c.request('GET', '/v3/projects?name=dialect-dup', { token: c.adminToken })).body.projects
          .length,
        1,
      );
    });

    it('expands inherited and group role assignments', async () => {
      const parent = await c.makeProject();
      const child = await c.request('POST', '/v3/projects', {
        token: c.adminToken,
        body: { project: { name: 'child-of', parent_id: parent } },
      });
      assert.equal(child.status, 201);
      const g = await c.request('POST', '/v3/groups', {
        token: c.adminToken,
        body: { group: { name: 'dialect-group' } },
      });
      const u = await c.makeUser();
      assert.equal(
        (await c.request('PUT', `/v3/groups/${g.body.group.id}/users/${u.id}`, { token: c.adminToken }))
          .status,
        204,
      );
      const reader = await c.roleId('reader');
      const grant = await c.request(
        'PUT',
        `/v3/OS-INHERIT/projects/${parent}/groups/${g.body.group.id}/roles/${reader}/inherited_to_projects`,
        {
          token: c.adminToken,
        },
      );
      assert.equal(grant.status, 204);
      const token = await c.login({ userId: u.id, password: u.password, projectId: child.body.project.id });
      const mine = await c.request('GET', '/v3/auth/projects', { token });
      assert.ok(mine.body.projects.some((p: { id: string }) => p.id === child.body.project.id));
    });

    it('records failed logins without locking out when lockout is off (the default)', async () => {
      const u = await c.makeUser();
      for (let i = 0; i < 3; i++) {
        const bad = await c.request('POST', '/v3/auth/tokens', {
          body: {
            auth: {
              identity: { methods: ['password'], password: { user: { id: u.id, password: 'wrong' } } },
            },
          },
        });
        assert.equal(bad.status, 401);
      }
      // Lockout is off by default, so the right password still works.
      await c.login({ userId: u.id, password: u.password });
    });
  });
}
