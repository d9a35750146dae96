// Bad input gets Keystone's status and error body, never a 500, and changes nothing stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';

describe('identity bad input', () => {
  let c: TestCloud;
  before(async () => {
    c = await startTestCloud();
  });
  after(async () => {
    await c.close();
  });

  const count = async (table: string) =>
    Number(
      (
        await c.cloud.database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirst()
      )?.n,
    );
  const assertKeystoneError = (
    res: { status: number; body: { error?: { code: number; title: string; message: string } } },
    status: number,
  ) => {
    assert.equal(res.status, status);
    assert.equal(res.body.error?.code, status);
    assert.equal(typeof res.body.error?.title, 'string');
    assert.equal(typeof res.body.error?.message, 'string');
  };

  it('rejects malformed JSON, wrong types and missing fields with 400, storing nothing', async () => {
    const before = await count('identity_projects');
    assertKeystoneError(
      await c.request('POST', '/v3/projects', { token: c.adminToken, raw: '{"project": {"name": ' }),
      400,
    );
    assertKeystoneError(
      await c.request('POST', '/v3/projects', { token: c.adminToken, body: { project: { name: 42 } } }),
      400,
    );
    assertKeystoneError(
      await c.request('POST', '/v3/projects', { token: c.adminToken, body: { project: {} } }),
      400,
    );
    assertKeystoneError(await c.request('POST', '/v3/projects', { token: c.adminToken, body: [] }), 400);
    assertKeystoneError(
      await c.request('POST', '/v3/users', {
        token: c.adminToken,
        body: { user: { name: 'x', enabled: 'yes' } },
      }),
      400,
    );
    const wrongType = await c.request('POST', '/v3/users', {
      token: c.adminToken,
      body: { user: { name: 7 } },
    });
    assert.equal(
      wrongType.body.error.message,
      "Invalid input for field 'user/name': 7 is not of type 'string'",
    );
    assert.equal(await count('identity_projects'), before);
  });

  it('rejects unknown fields where Keystone’s schema is closed', async () => {
    const u = await c.makeUser();
    const res = await c.request('POST', `/v3/users/${u.id}/password`, {
      token: u.token,
      body: { user: { password: 'n3w', original_password: u.password, sneaky: true } },
    });
    assertKeystoneError(res, 400);
    assert.match(res.body.error.message, /sneaky/);
    await c.login({ userId: u.id, password: u.password, projectId: u.projectId });
  });

  it('answers 413 to an oversized body', async () => {
    const before = await count('identity_projects');
    const res = await c.request('POST', '/v3/projects', {
      token: c.adminToken,
      body: { project: { name: 'big', description: 'x'.repeat(200_000) } },
    });
    assertKeystoneError(res, 413);
    assert.equal(await count('identity_projects'), before);
  });

  it('answers 404 for ids that are not ids, without leaking to the unauthorised', async () => {
    const res = await c.request('GET', '/v3/projects/not-a-uuid', { token: c.adminToken });
    assertKeystoneError(res, 404);
    assert.equal(res.body.error.message, 'Could not find project: not-a-uuid.');
    const u = await c.makeUser();
    // A member may not read users at all: the same 403 whether or not the user exists.
    const a = await c.request('GET', `/v3/users/${c.adminUserId}`, { token: u.token });
    const b = await c.request('GET', '/v3/users/0123456789abcdef0123456789abcdef', { token: u.token });
    assert.equal(a.status, 403);
    assert.equal(b.status, 403);
    assert.deepEqual(a.body, b.body);
  });

  it('keeps unicode names intact', async () => {
    const name = 'проект-日本-🚀-é';
    const res = await c.request('POST', '/v3/projects', { token: c.adminToken, body: { project: { name } } });
    assert.equal(res.status, 201, res.text);
    const got = await c.request('GET', `/v3/projects?name=${encodeURIComponent(name)}`, {
      token: c.adminToken,
    });
    assert.equal(got.body.projects.length, 1);
    assert.equal(got.body.projects[0].name, name);
  });

  it('answers 409 to duplicate names in a domain and keeps the original', async () => {
    const first = await c.request('POST', '/v3/users', {
      token: c.adminToken,
      body: { user: { name: 'dup-user', description: 'first' } },
    });
    assert.equal(first.status, 201);
    const second = await c.request('POST', '/v3/users', {
      token: c.adminToken,
      body: { user: { name: 'dup-user', description: 'second' } },
    });
    assertKeystoneError(second, 409);
    assert.match(second.body.error.message, /^Conflict occurred attempting to store user - Duplicate entry/);
    const list = await c.request('GET', '/v3/users?name=dup-user', { token: c.adminToken });
    assert.equal(list.body.users.length, 1);
    assert.equal(list.body.users[0].description, 'first');
  });

  it('refuses to remove the last admin', async () => {
    const admin = await c.roleId('admin');
    // Remove every other admin holder first: the system grant and the service user's.
    const sys = await c.request('DELETE', `/v3/system/users/${c.adminUserId}/roles/${admin}`, {
      token: c.adminToken,
    });
    assert.equal(sys.status, 204);
    const svc = await c.request('GET', '/v3/users?name=monostack', { token: c.adminToken });
    const svcId = svc.body.users[0].id as string;
    const projects = await c.request('GET', '/v3/projects?name=service', { token: c.adminToken });
    const service = projects.body.projects[0].id as string;
    assert.equal(
      (
        await c.request('DELETE', `/v3/projects/${service}/users/${svcId}/roles/${admin}`, {
          token: c.adminToken,
        })
      ).status,
      204,
    );
    const last = await c.request(
      'DELETE',
      `/v3/projects/${c.adminProjectId}/users/${c.adminUserId}/roles/${admin}`,
      { token: c.adminToken },
    );
    assertKeystoneError(last, 403);
    const del = await c.request('DELETE', `/v3/users/${c.adminUserId}`, { token: c.adminToken });
    assertKeystoneError(del, 403);
    const still = await c.request(
      'HEAD',
      `/v3/projects/${c.adminProjectId}/users/${c.adminUserId}/roles/${admin}`,
      { token: c.adminToken },
    );
    assert.equal(still.status, 204);
    // Restore what this test took away.
    await c.request('PUT', `/v3/system/users/${c.adminUserId}/roles/${admin}`, { token: c.adminToken });
    await c.request('PUT', `/v3/projects/${service}/users/${svcId}/roles/${admin}`, { token: c.adminToken });
  });

  it('refuses tokens for a disabled project, old and new', async () => {
    const u = await c.makeUser();
    const dis = await c.request('PATCH', `/v3/projects/${u.projectId}`, {
      token: c.adminToken,
      body: { project: { enabled: false } },
    });
    assert.equal(dis.status, 200);
    assertKeystoneError(await c.request('GET', '/v3/auth/projects', { token: u.token }), 401);
    const res = await c.request('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { id: u.id, password: u.password } } },
          scope: { project: { id: u.projectId } },
        },
      },
    });
    assertKeystoneError(res, 401);
  });

  it('never answers 500 to junk bodies on any identity route', async () => {
    const junk: unknown[] = [
      null,
      [],
      'text',
      42,
      {},
      { x: {} },
      { user: null },
      { project: [] },
      { auth: 'x' },
    ];
    const routes = c.cloud.identity.http.routes;
    for (const route of routes) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (method === 'GET' || method === 'HEAD') continue;
        const path = route.path.replace(/:[a-z_]+/g, '0123456789abcdef0123456789abcdef');
        for (const body of junk) {
          const res = await c.request(method, path, { token: c.adminToken, raw: JSON.stringify(body) });
          assert.ok(
            res.status < 500,
            `${method} ${path} ${JSON.stringify(body)} → ${res.status} ${res.text}`,
          );
        }
      }
    }
    // The admin is still intact afterwards.
    assert.equal((await c.request('GET', `/v3/users/${c.adminUserId}`, { token: c.adminToken })).status, 200);
  });
});
