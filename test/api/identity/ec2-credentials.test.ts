// OS-EC2 credentials under /v3/users/{id}/credentials/OS-EC2, and users in unknown domains.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';

describe('identity OS-EC2 credentials', () => {
  let c: TestCloud;
  before(async () => {
    c = await startTestCloud();
  });
  after(async () => {
    await c.close();
  });

  it('creates, lists, shows and deletes a user’s EC2 credentials', async () => {
    const u = await c.makeUser();
    const base = `/v3/users/${u.id}/credentials/OS-EC2`;
    const made = await c.request('POST', base, { token: u.token, body: { tenant_id: u.projectId } });
    assert.equal(made.status, 201, made.text);
    const cred = made.body.credential;
    assert.equal(cred.user_id, u.id);
    assert.equal(cred.tenant_id, u.projectId);
    assert.match(cred.access, /^[0-9a-f]{32}$/);
    assert.match(cred.secret, /^[0-9a-f]{32}$/);
    const list = await c.request('GET', base, { token: u.token });
    assert.deepEqual(
      list.body.credentials.map((x: { access: string }) => x.access),
      [cred.access],
    );
    const shown = await c.request('GET', `${base}/${cred.access}`, { token: u.token });
    assert.equal(shown.status, 200);
    assert.equal(shown.body.credential.secret, cred.secret);
    // It is an ordinary ec2 credential too.
    const v3 = await c.request('GET', `/v3/credentials?user_id=${u.id}`, { token: c.adminToken });
    assert.equal(v3.body.credentials.length, 1);
    assert.equal(v3.body.credentials[0].type, 'ec2');
    const other = await c.makeUser();
    assert.equal((await c.request('GET', `${base}/${cred.access}`, { token: other.token })).status, 403);
    assert.equal(
      (
        await c.request('GET', `/v3/users/${other.id}/credentials/OS-EC2/${cred.access}`, {
          token: c.adminToken,
        })
      ).status,
      404,
    );
    assert.equal((await c.request('DELETE', `${base}/${cred.access}`, { token: u.token })).status, 204);
    assert.equal((await c.request('GET', `${base}/${cred.access}`, { token: u.token })).status, 404);
  });

  it('refuses an unknown project and keeps nothing', async () => {
    const u = await c.makeUser();
    const base = `/v3/users/${u.id}/credentials/OS-EC2`;
    const res = await c.request('POST', base, { token: u.token, body: { tenant_id: 'no-such-project' } });
    assert.equal(res.status, 404);
    assert.deepEqual((await c.request('GET', base, { token: u.token })).body.credentials, []);
  });

  it('answers 404 for a user in an unknown domain', async () => {
    const res = await c.request('POST', '/v3/users', {
      token: c.adminToken,
      body: { user: { name: 'x', domain_id: 'nope' } },
    });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.message, 'Could not find domain: nope.');
  });
});
