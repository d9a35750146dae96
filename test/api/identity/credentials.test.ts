// /v3/credentials through the real handlers: ownership, ec2 ids, blob-only updates, delegated tokens.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';

describe('identity credentials', () => {
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

  const post = (token: string, credential: unknown) =>
    c.request('POST', '/v3/credentials', { token, body: { credential } });
  const ec2Blob = (access: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ access, secret: 's3cr3t', ...extra });
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
  const count = async () =>
    (await c.cloud.database.db.selectFrom('identity_credentials').select('id').execute()).length;

  it('creates a credential for oneself and shows it', async () => {
    const res = await post(alice.token, {
      type: 'cert',
      user_id: alice.id,
      blob: 'a-certificate',
      label: 'laptop',
    });
    assert.equal(res.status, 201, res.text);
    const cred = res.body.credential;
    assert.match(cred.id, /^[0-9a-f]{32}$/);
    assert.equal(cred.type, 'cert');
    assert.equal(cred.user_id, alice.id);
    assert.equal(cred.project_id, null);
    assert.equal(cred.blob, 'a-certificate');
    assert.equal(cred.label, 'laptop', 'extra attributes are kept');
    assert.match(cred.links.self, new RegExp(`^http://localhost(:80)?/v3/credentials/${cred.id}$`));
    const shown = await c.request('GET', `/v3/credentials/${cred.id}`, { token: alice.token });
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body.credential, cred);
  });

  it('ids an ec2 credential by the sha256 of its access key and requires its project', async () => {
    const access = uniqueName('access');
    const noProject = await post(alice.token, { type: 'ec2', user_id: alice.id, blob: ec2Blob(access) });
    assert.equal(noProject.status, 400);
    assert.equal(noProject.body.error.message, "'project_id' is a required property");
    const res = await post(alice.token, {
      type: 'ec2',
      user_id: alice.id,
      project_id: alice.projectId,
      blob: ec2Blob(access),
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.credential.id, sha256(access));
    assert.equal(res.body.credential.blob, ec2Blob(access));
    assert.equal(res.body.credential.project_id, alice.projectId);

    const dup = await post(alice.token, {
      type: 'ec2',
      user_id: alice.id,
      project_id: alice.projectId,
      blob: ec2Blob(access),
    });
    assert.equal(dup.status, 409);
    assert.equal(
      dup.body.error.message,
      `Conflict occurred attempting to store credential - Duplicate entry found with ID ${sha256(access)}.`,
    );
  });

  it('refuses malformed input with Keystone errors and stores nothing', async () => {
    const before = await count();
    const ec2 = (blob: string) =>
      post(alice.token, { type: 'ec2', user_id: alice.id, project_id: alice.projectId, blob });
    const notJson = await ec2('{not json');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error.message, 'Invalid blob in credential');
    const empty = await ec2('{}');
    assert.equal(empty.status, 400);
    assert.match(empty.body.error.message, /^Expecting to find blob in credential\./);
    const noAccess = await ec2('{"secret":"x"}');
    assert.equal(noAccess.status, 400);
    assert.match(noAccess.body.error.message, /^Expecting to find access in credential\./);
    const noBlob = await post(alice.token, { type: 'cert', user_id: alice.id });
    assert.equal(noBlob.status, 400);
    assert.equal(noBlob.body.error.message, "'blob' is a required property");
    const badType = await post(alice.token, { type: 'cert', user_id: alice.id, blob: { a: 1 } });
    assert.equal(badType.status, 400);
    assert.match(badType.body.error.message, /^Invalid input for field 'blob'/);
    // Keystone enforces policy before validating: a body without a user is someone else's.
    assert.equal((await c.request('POST', '/v3/credentials', { token: alice.token, body: {} })).status, 403);
    const adminEmpty = await c.request('POST', '/v3/credentials', { token: c.adminToken, body: {} });
    assert.equal(adminEmpty.status, 400);
    assert.equal(await count(), before);
  });

  it('lets only the owner and an admin manage a credential', async () => {
    const forBob = await post(alice.token, { type: 'cert', user_id: bob.id, blob: 'x' });
    assert.equal(forBob.status, 403);
    assert.equal(
      forBob.body.error.message,
      'You are not authorized to perform the requested action: identity:create_credential.',
    );
    const byAdmin = await post(c.adminToken, { type: 'totp', user_id: bob.id, blob: 'JBSWY3DPEHPK3PXP' });
    assert.equal(byAdmin.status, 201);

    const mine = (await post(alice.token, { type: 'cert', user_id: alice.id, blob: 'mine' })).body.credential;
    const url = `/v3/credentials/${mine.id}`;
    assert.equal((await c.request('GET', url, { token: bob.token })).status, 403);
    assert.equal(
      (await c.request('PATCH', url, { token: bob.token, body: { credential: { blob: 'stolen' } } })).status,
      403,
    );
    assert.equal((await c.request('DELETE', url, { token: bob.token })).status, 403);
    assert.equal((await c.request('GET', url, { token: c.adminToken })).status, 200);

    const unknown = `/v3/credentials/${'e'.repeat(32)}`;
    assert.equal(
      (await c.request('GET', unknown, { token: bob.token })).status,
      403,
      'policy first, as Keystone',
    );
    const missing = await c.request('GET', unknown, { token: c.adminToken });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, `Could not find credential: ${'e'.repeat(32)}.`);

    assert.equal((await c.request('DELETE', url, { token: alice.token })).status, 204);
    assert.equal((await c.request('GET', url, { token: c.adminToken })).status, 404);
    assert.equal((await c.request('DELETE', url, { token: c.adminToken })).status, 404);
  });

  it('lists only what the caller may see, with user_id and type filters', async () => {
    const carol = await c.makeUser();
    const dave = await c.makeUser({ projectId: carol.projectId });
    await post(carol.token, { type: 'cert', user_id: carol.id, blob: 'c1' });
    await post(carol.token, { type: 'totp', user_id: carol.id, blob: 'c2' });
    await post(dave.token, { type: 'cert', user_id: dave.id, blob: 'd1' });

    const own = await c.request('GET', '/v3/credentials', { token: carol.token });
    assert.equal(own.status, 200);
    assert.deepEqual(own.body.credentials.map((x: { blob: string }) => x.blob).sort(), ['c1', 'c2']);
    assert.match(own.body.links.self, /^http:\/\/localhost(:80)?\/v3\/credentials$/);
    const others = await c.request('GET', `/v3/credentials?user_id=${dave.id}`, { token: carol.token });
    assert.equal(others.status, 200);
    assert.deepEqual(others.body.credentials, []);
    const typed = await c.request('GET', '/v3/credentials?type=totp', { token: carol.token });
    assert.deepEqual(
      typed.body.credentials.map((x: { blob: string }) => x.blob),
      ['c2'],
    );

    const all = await c.request('GET', '/v3/credentials', { token: c.adminToken });
    const blobs = all.body.credentials.map((x: { blob: string }) => x.blob);
    for (const b of ['c1', 'c2', 'd1']) assert.ok(blobs.includes(b));
    const davesByAdmin = await c.request('GET', `/v3/credentials?user_id=${dave.id}&type=cert`, {
      token: c.adminToken,
    });
    assert.deepEqual(
      davesByAdmin.body.credentials.map((x: { blob: string }) => x.blob),
      ['d1'],
    );
  });

  it('updates blob, type and project, and keeps an ec2 credential scope', async () => {
    const cert = (await post(alice.token, { type: 'cert', user_id: alice.id, blob: 'old' })).body.credential;
    const url = `/v3/credentials/${cert.id}`;
    const ok = await c.request('PATCH', url, { token: alice.token, body: { credential: { blob: 'new' } } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.credential.blob, 'new');
    assert.equal(ok.body.credential.id, cert.id);
    const retype = await c.request('PATCH', url, {
      token: alice.token,
      body: { credential: { blob: 'x', type: 'totp' } },
    });
    assert.equal(retype.status, 200, retype.text);
    assert.equal(retype.body.credential.type, 'totp');
    const empty = await c.request('PATCH', url, { token: alice.token, body: { credential: {} } });
    assert.equal(empty.status, 400);
    const toEc2 = await c.request('PATCH', url, {
      token: alice.token,
      body: { credential: { type: 'ec2' } },
    });
    assert.equal(toEc2.status, 400, 'an ec2 credential needs a project');
    const stored = (await c.request('GET', url, { token: alice.token })).body.credential;
    assert.equal(stored.blob, 'x');
    assert.equal(stored.type, 'totp');

    const access = uniqueName('access');
    const ec2 = (
      await post(alice.token, {
        type: 'ec2',
        user_id: alice.id,
        project_id: alice.projectId,
        blob: ec2Blob(access, { trust_id: 't1' }),
      })
    ).body.credential;
    const ec2Url = `/v3/credentials/${ec2.id}`;
    const rescope = await c.request('PATCH', ec2Url, {
      token: alice.token,
      body: { credential: { blob: ec2Blob(access) } },
    });
    assert.equal(rescope.status, 400);
    assert.equal(rescope.body.error.message, 'trust_id can not be updated for credential');
    const newSecret = ec2Blob(access, { trust_id: 't1', secret: 'rotated' });
    const rotated = await c.request('PATCH', ec2Url, {
      token: alice.token,
      body: { credential: { blob: newSecret } },
    });
    assert.equal(rotated.status, 200, rotated.text);
    assert.equal(rotated.body.credential.blob, newSecret);
  });

  it('refuses tokens issued from an application credential', async () => {
    const mine = (await post(alice.token, { type: 'cert', user_id: alice.id, blob: 'kept' })).body.credential;
    const ac = await c.request('POST', `/v3/users/${alice.id}/application_credentials`, {
      token: alice.token,
      body: { application_credential: { name: uniqueName('ac'), unrestricted: true } },
    });
    assert.equal(ac.status, 201, ac.text);
    const auth = await c.request('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: {
            methods: ['application_credential'],
            application_credential: {
              id: ac.body.application_credential.id,
              secret: ac.body.application_credential.secret,
            },
          },
        },
      },
    });
    assert.equal(auth.status, 201, auth.text);
    const token = String(auth.headers['x-subject-token']);
    const denied = await post(token, { type: 'cert', user_id: alice.id, blob: 'x' });
    assert.equal(denied.status, 403);
    assert.equal(
      denied.body.error.message,
      'You are not authorized to perform the requested action: Delegated tokens cannot access credentials directly.',
    );
    assert.equal((await c.request('GET', `/v3/credentials/${mine.id}`, { token })).status, 403);
    assert.equal((await c.request('DELETE', `/v3/credentials/${mine.id}`, { token })).status, 403);
    const list = await c.request('GET', '/v3/credentials', { token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.credentials, []);
  });
});
