// /v3/users/{user_id}/application_credentials through the real handlers, and authenticating with one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';

describe('identity application credentials', () => {
  let c: TestCloud;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    c = await startTestCloud();
    alice = await c.makeUser();
    bob = await c.makeUser({ projectId: alice.projectId });
  });
  after(async () => {
    await c.close();
  });

  const path = (userId: string, id?: string) =>
    `/v3/users/${userId}/application_credentials${id ? `/${id}` : ''}`;
  const create = (user: { id: string; token: string }, cred: Record<string, unknown>) =>
    c.request('POST', path(user.id), { token: user.token, body: { application_credential: cred } });
  const authWith = (cred: Record<string, unknown>) =>
    c.request('POST', '/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['application_credential'], application_credential: cred } } },
    });
  const roleNames = (roles: { name: string }[]) => roles.map((r) => r.name).sort();
  const selfLink = (p: string) => new RegExp(`^http://localhost(:80)?${p.replaceAll('?', '\\?')}$`);

  it('creates one with a generated secret that is shown only once', async () => {
    const res = await create(alice, { name: uniqueName('ac'), description: 'monitoring' });
    assert.equal(res.status, 201, res.text);
    const ac = res.body.application_credential;
    assert.match(ac.id, /^[0-9a-f]{32}$/);
    assert.equal(typeof ac.secret, 'string');
    assert.ok(ac.secret.length >= 80, 'a 64-byte urlsafe secret');
    assert.match(ac.secret, /^[A-Za-z0-9_-]+$/);
    assert.equal(ac.user_id, alice.id);
    assert.equal(ac.project_id, alice.projectId);
    assert.equal(ac.description, 'monitoring');
    assert.equal(ac.unrestricted, false);
    assert.equal(ac.expires_at, null);
    assert.deepEqual(ac.access_rules, []);
    assert.deepEqual(roleNames(ac.roles), ['member', 'reader'], 'defaults to the roles of the token');
    for (const r of ac.roles) assert.deepEqual(Object.keys(r).sort(), ['domain_id', 'id', 'name']);
    assert.match(ac.links.self, selfLink(path(alice.id, ac.id)));

    const shown = await c.request('GET', path(alice.id, ac.id), { token: alice.token });
    assert.equal(shown.status, 200);
    assert.equal(shown.body.application_credential.secret, undefined);
    assert.equal(shown.body.application_credential.name, ac.name);
    const row = await c.cloud.database.db
      .selectFrom('identity_app_credentials')
      .selectAll()
      .where('id', '=', ac.id)
      .executeTakeFirstOrThrow();
    assert.notEqual(row.secret_hash, ac.secret);
    assert.match(row.secret_hash, /^\$2[aby]\$/);
  });

  it('lists them, filtered by name', async () => {
    const user = await c.makeUser();
    const a = uniqueName('ac');
    const b = uniqueName('ac');
    assert.equal((await create(user, { name: a })).status, 201);
    assert.equal((await create(user, { name: b })).status, 201);
    const all = await c.request('GET', path(user.id), { token: user.token });
    assert.equal(all.status, 200);
    assert.equal(all.body.application_credentials.length, 2);
    assert.match(all.body.links.self, selfLink(path(user.id)));
    for (const x of all.body.application_credentials) assert.equal(x.secret, undefined);
    const one = await c.request('GET', `${path(user.id)}?name=${b}`, { token: user.token });
    assert.equal(one.status, 200);
    assert.deepEqual(
      one.body.application_credentials.map((x: { name: string }) => x.name),
      [b],
    );
    assert.match(one.body.links.self, selfLink(`${path(user.id)}?name=${b}`));
  });

  it('keeps a given secret and the microseconds of expires_at', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, '.123456');
    const res = await create(alice, { name: uniqueName('ac'), secret: 'my-own-secret', expires_at: future });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.application_credential.secret, 'my-own-secret');
    assert.equal(res.body.application_credential.expires_at, future);
    const withZone = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, '-02:00');
    const zoned = await create(alice, { name: uniqueName('ac'), expires_at: withZone });
    assert.equal(zoned.status, 201, zoned.text);
    assert.equal(
      Date.parse(`${zoned.body.application_credential.expires_at}Z`),
      Date.parse(withZone),
      'converted to UTC',
    );
  });

  it('refuses bad input with Keystone errors and stores nothing', async () => {
    const before = await c.cloud.database.db.selectFrom('identity_app_credentials').select('id').execute();
    const missing = await c.request('POST', path(alice.id), {
      token: alice.token,
      body: { application_credential: {} },
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.message, "'name' is a required property");
    const noWrapper = await c.request('POST', path(alice.id), { token: alice.token, body: {} });
    assert.equal(noWrapper.status, 400);
    const badType = await create(alice, { name: 'x', unrestricted: 'yes' });
    assert.equal(badType.status, 400);
    assert.match(badType.body.error.message, /unrestricted/);
    const past = await create(alice, { name: uniqueName('ac'), expires_at: '2001-01-01T00:00:00' });
    assert.equal(past.status, 400);
    assert.equal(
      past.body.error.message,
      "The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
    );
    const garbage = await create(alice, { name: uniqueName('ac'), expires_at: 'tomorrow' });
    assert.equal(garbage.status, 400);
    assert.match(garbage.body.error.message, /^Timestamp not in expected format\./);
    const rules = await create(alice, {
      name: uniqueName('ac'),
      access_rules: [{ service: 'compute', path: '/v2.1/servers', method: 'GET' }],
    });
    assert.equal(rules.status, 400);
    assert.match(rules.body.error.message, /^Invalid application credential: access rules are not supported/);
    const emptyRules = await create(alice, { name: uniqueName('ac'), access_rules: [] });
    assert.equal(emptyRules.status, 201);
    const after = await c.cloud.database.db.selectFrom('identity_app_credentials').select('id').execute();
    assert.equal(after.length, before.length + 1);
  });

  it('answers 409 for a duplicate name of the same user, not of another', async () => {
    const name = uniqueName('ac');
    assert.equal((await create(alice, { name })).status, 201);
    const dup = await create(alice, { name });
    assert.equal(dup.status, 409);
    assert.equal(
      dup.body.error.message,
      `Conflict occurred attempting to store application_credential - Duplicate entry found with name ${name}.`,
    );
    assert.equal((await create(bob, { name })).status, 201);
  });

  it('allows only roles the token carries', async () => {
    const reader = await create(alice, { name: uniqueName('ac'), roles: [{ name: 'reader' }] });
    assert.equal(reader.status, 201, reader.text);
    assert.deepEqual(roleNames(reader.body.application_credential.roles), ['reader']);
    const byId = await create(alice, { name: uniqueName('ac'), roles: [{ id: await c.roleId('member') }] });
    assert.equal(byId.status, 201);
    assert.deepEqual(roleNames(byId.body.application_credential.roles), ['member']);

    const admin = await create(alice, { name: uniqueName('ac'), roles: [{ name: 'admin' }] });
    assert.equal(admin.status, 400);
    assert.equal(
      admin.body.error.message,
      'Invalid application credential: Cannot create an application credential with unassigned role',
    );
    const adminById = await create(alice, {
      name: uniqueName('ac'),
      roles: [{ id: await c.roleId('admin') }],
    });
    assert.equal(adminById.status, 400);
    const unknown = await create(alice, { name: uniqueName('ac'), roles: [{ name: 'no-such-role' }] });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.message, 'Role no-such-role is not defined');
    const both = await create(alice, { name: uniqueName('ac'), roles: [{ id: 'x', name: 'reader' }] });
    assert.equal(both.status, 400);
  });

  it('requires a project-scoped token of the same user', async () => {
    const unscoped = await c.login({ userId: alice.id, password: alice.password });
    const res = await c.request('POST', path(alice.id), {
      token: unscoped,
      body: { application_credential: { name: uniqueName('ac') } },
    });
    assert.equal(res.status, 403);
    assert.equal(
      res.body.error.message,
      'You are not authorized to perform the requested action: identity:create_application_credential.',
    );
    const other = await create({ id: alice.id, token: bob.token }, { name: uniqueName('ac') });
    assert.equal(other.status, 403);
    const byAdmin = await create({ id: alice.id, token: c.adminToken }, { name: uniqueName('ac') });
    assert.equal(byAdmin.status, 403, 'not even an admin creates one for someone else');
  });

  it('lets the owner and an admin read and delete, not another user', async () => {
    const made = await create(alice, { name: uniqueName('ac') });
    const id = made.body.application_credential.id as string;

    assert.equal((await c.request('GET', path(alice.id), { token: bob.token })).status, 403);
    assert.equal((await c.request('GET', path(alice.id, id), { token: bob.token })).status, 403);
    // The owner comes from the credential, not from the path.
    assert.equal((await c.request('GET', path(bob.id, id), { token: bob.token })).status, 403);
    assert.equal((await c.request('DELETE', path(bob.id, id), { token: bob.token })).status, 403);
    assert.equal((await c.request('DELETE', path(alice.id, id), { token: bob.token })).status, 403);

    const listed = await c.request('GET', path(alice.id), { token: c.adminToken });
    assert.equal(listed.status, 200);
    assert.ok(listed.body.application_credentials.some((x: { id: string }) => x.id === id));
    assert.equal((await c.request('GET', path(alice.id, id), { token: c.adminToken })).status, 200);

    const missing = await c.request('GET', path(alice.id, 'f'.repeat(32)), { token: alice.token });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, `Could not find Application Credential: ${'f'.repeat(32)}.`);
    assert.equal((await c.request('GET', path(alice.id, 'f'.repeat(32)), { token: bob.token })).status, 403);
    assert.equal(
      (await c.request('DELETE', path(alice.id, 'f'.repeat(32)), { token: alice.token })).status,
      404,
    );

    assert.equal((await c.request('DELETE', path(alice.id, id), { token: c.adminToken })).status, 204);
    assert.equal((await c.request('GET', path(alice.id, id), { token: alice.token })).status, 404);
  });

  it('authenticates with one: scoped to its project, with only its roles', async () => {
    const made = await create(alice, { name: uniqueName('ac'), roles: [{ name: 'reader' }] });
    const ac = made.body.application_credential;
    const res = await authWith({ id: ac.id, secret: ac.secret });
    assert.equal(res.status, 201, res.text);
    const t = res.body.token;
    assert.deepEqual(t.methods, ['application_credential']);
    assert.equal(t.project.id, alice.projectId);
    assert.equal(t.user.id, alice.id);
    assert.deepEqual(roleNames(t.roles), ['reader']);
    assert.equal(t.application_credential.id, ac.id);

    const byName = await authWith({ name: ac.name, secret: ac.secret, user: { id: alice.id } });
    assert.equal(byName.status, 201, byName.text);
    const wrong = await authWith({ id: ac.id, secret: 'not-the-secret' });
    assert.equal(wrong.status, 401);
  });

  it('keeps a restricted credential from managing application credentials', async () => {
    const restricted = (await create(alice, { name: uniqueName('ac') })).body.application_credential;
    const token = String(
      (await authWith({ id: restricted.id, secret: restricted.secret })).headers['x-subject-token'],
    );
    const denied = await create({ id: alice.id, token }, { name: uniqueName('ac') });
    assert.equal(denied.status, 403);
    assert.equal(
      denied.body.error.message,
      "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials..",
    );
    assert.equal((await c.request('DELETE', path(alice.id, restricted.id), { token })).status, 403);
    assert.equal((await c.request('GET', path(alice.id), { token })).status, 200, 'reading is allowed');

    const open = (await create(alice, { name: uniqueName('ac'), unrestricted: true })).body
      .application_credential;
    assert.equal(open.unrestricted, true);
    const openToken = String(
      (await authWith({ id: open.id, secret: open.secret })).headers['x-subject-token'],
    );
    const child = await create({ id: alice.id, token: openToken }, { name: uniqueName('ac') });
    assert.equal(child.status, 201, child.text);
    assert.deepEqual(roleNames(child.body.application_credential.roles), ['member', 'reader']);
  });

  it('invalidates tokens issued from a deleted credential', async () => {
    const ac = (await create(alice, { name: uniqueName('ac') })).body.application_credential;
    const token = String((await authWith({ id: ac.id, secret: ac.secret })).headers['x-subject-token']);
    const check = () =>
      c.request('GET', '/v3/auth/tokens', { token: c.adminToken, headers: { 'x-subject-token': token } });
    assert.equal((await check()).status, 200);

    assert.equal((await c.request('DELETE', path(alice.id, ac.id), { token: alice.token })).status, 204);
    assert.notEqual((await check()).status, 200);
    assert.equal((await c.request('GET', path(alice.id), { token })).status, 401);
    assert.equal((await authWith({ id: ac.id, secret: ac.secret })).status, 401);
    const events = await c.cloud.database.db
      .selectFrom('identity_revocation_events')
      .selectAll()
      .where('app_cred_id', '=', ac.id)
      .execute();
    assert.equal(events.length, 1);
    const roles = await c.cloud.database.db
      .selectFrom('identity_app_credential_roles')
      .selectAll()
      .where('app_cred_id', '=', ac.id)
      .execute();
    assert.equal(roles.length, 0);
  });

  it('refuses an expired credential', async () => {
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    const ac = (await create(alice, { name: uniqueName('ac'), expires_at: soon })).body
      .application_credential;
    assert.equal((await authWith({ id: ac.id, secret: ac.secret })).status, 201);
    await c.cloud.identity.context.write(async (trx) => {
      await trx
        .updateTable('identity_app_credentials')
        .set({ expires_at: '2001-01-01T00:00:00.000000Z' })
        .where('id', '=', ac.id)
        .execute();
    });
    assert.equal((await authWith({ id: ac.id, secret: ac.secret })).status, 401);
  });
});
