// POST/GET/HEAD/DELETE /v3/auth/tokens and the /v3/auth/* listings, through the real handlers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';

describe('identity auth', () => {
  let c: TestCloud;
  before(async () => {
    c = await startTestCloud();
  });
  after(async () => {
    await c.close();
  });

  const pw = (name: string, password: string, scope?: unknown) => ({
    auth: {
      identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } },
      ...(scope ? { scope } : {}),
    },
  });

  it('issues a project-scoped token with roles and catalog', async () => {
    const res = await c.request('POST', '/v3/auth/tokens', {
      body: pw('admin', c.adminPassword, { project: { name: 'admin', domain: { name: 'Default' } } }),
    });
    assert.equal(res.status, 201);
    assert.match(String(res.headers['x-subject-token']), /^gAAAAA/);
    const t = res.body.token;
    assert.deepEqual(t.methods, ['password']);
    assert.equal(t.project.name, 'admin');
    assert.equal(t.project.domain.id, 'default');
    assert.equal(t.is_domain, false);
    assert.deepEqual(t.roles.map((r: { name: string }) => r.name).sort(), ['admin', 'member', 'reader']);
    const identity = t.catalog.find((s: { type: string }) => s.type === 'identity');
    assert.equal(identity.endpoints.length, 3);
    assert.equal(identity.endpoints[0].url, 'http://localhost/v3');
    const swift = t.catalog.find((s: { type: string }) => s.type === 'object-store');
    assert.equal(swift.endpoints[0].url, `http://localhost/object/v1/AUTH_${t.project.id}`);
    assert.match(t.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(t.audit_ids.length, 1);
  });

  it('issues unscoped tokens without roles or catalog, and honours nocatalog', async () => {
    const res = await c.request('POST', '/v3/auth/tokens', { body: pw('admin', c.adminPassword) });
    assert.equal(res.status, 201);
    assert.equal(res.body.token.project, undefined);
    assert.equal(res.body.token.roles, undefined);
    assert.equal(res.body.token.catalog, undefined);
    const nocat = await c.request('POST', '/v3/auth/tokens?nocatalog', {
      body: pw('admin', c.adminPassword, { project: { id: c.adminProjectId } }),
    });
    assert.equal(nocat.status, 201);
    assert.equal(nocat.body.token.catalog, undefined);
    assert.ok(nocat.body.token.roles.length > 0);
  });

  it('issues system- and domain-scoped tokens only with a role there', async () => {
    const sys = await c.request('POST', '/v3/auth/tokens', {
      body: pw('admin', c.adminPassword, { system: { all: true } }),
    });
    assert.equal(sys.status, 201);
    assert.deepEqual(sys.body.token.system, { all: true });
    const demoSys = await c.request('POST', '/v3/auth/tokens', {
      body: pw('demo', c.demoPassword, { system: { all: true } }),
    });
    assert.equal(demoSys.status, 401);
    assert.equal(demoSys.body.error.code, 401);
    const dom = await c.request('POST', '/v3/auth/tokens', {
      body: pw('admin', c.adminPassword, { domain: { id: 'default' } }),
    });
    assert.equal(dom.status, 401, 'admin has no role on the default domain itself');
  });

  it('answers 401 alike for a wrong password and an unknown user', async () => {
    const wrong = await c.request('POST', '/v3/auth/tokens', { body: pw('admin', 'nope') });
    const unknown = await c.request('POST', '/v3/auth/tokens', { body: pw('nobody-here', 'nope') });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.deepEqual(wrong.body, unknown.body);
    assert.equal(wrong.body.error.title, 'Unauthorized');
    assert.match(String(wrong.headers['www-authenticate']), /^Keystone uri=/);
  });

  it('rejects malformed bodies with 400 and Keystone error bodies', async () => {
    const bad = await c.request('POST', '/v3/auth/tokens', { raw: '{"auth": ' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 400);
    assert.equal(bad.body.error.title, 'Bad Request');
    const missing = await c.request('POST', '/v3/auth/tokens', { body: { auth: {} } });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error.message, /identity/);
    const typed = await c.request('POST', '/v3/auth/tokens', {
      body: { auth: { identity: { methods: 'password' } } },
    });
    assert.equal(typed.status, 400);
    const unsupported = await c.request('POST', '/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['kerberos'], kerberos: {} } } },
    });
    assert.equal(unsupported.status, 401);
  });

  it('validates, checks and revokes tokens', async () => {
    const user = await c.makeUser();
    const get = await c.request('GET', '/v3/auth/tokens', {
      token: c.adminToken,
      headers: { 'x-subject-token': user.token },
    });
    assert.equal(get.status, 200);
    assert.equal(get.body.token.user.id, user.id);
    assert.equal(get.headers['x-subject-token'], user.token);
    const head = await c.request('HEAD', '/v3/auth/tokens', {
      token: c.adminToken,
      headers: { 'x-subject-token': user.token },
    });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    // A user may validate their own token, not somebody else's.
    const self = await c.request('GET', '/v3/auth/tokens', {
      token: user.token,
      headers: { 'x-subject-token': user.token },
    });
    assert.equal(self.status, 200);
    const other = await c.request('GET', '/v3/auth/tokens', {
      token: user.token,
      headers: { 'x-subject-token': c.adminToken },
    });
    assert.equal(other.status, 403);
    const del = await c.request('DELETE', '/v3/auth/tokens', {
      token: c.adminToken,
      headers: { 'x-subject-token': user.token },
    });
    assert.equal(del.status, 204);
    const gone = await c.request('GET', '/v3/auth/tokens', {
      token: c.adminToken,
      headers: { 'x-subject-token': user.token },
    });
    assert.equal(gone.status, 404);
    assert.match(gone.body.error.message, /^Could not find token/);
    const used = await c.request('GET', '/v3/auth/projects', { token: user.token });
    assert.equal(used.status, 401);
    // A new token for the same user still works.
    const fresh = await c.login({ userId: user.id, password: user.password, projectId: user.projectId });
    const ok = await c.request('GET', '/v3/auth/projects', { token: fresh });
    assert.equal(ok.status, 200);
  });

  it('rejects garbage tokens with 404 as subject and 401 as X-Auth-Token', async () => {
    const get = await c.request('GET', '/v3/auth/tokens', {
      token: c.adminToken,
      headers: { 'x-subject-token': 'garbage' },
    });
    assert.equal(get.status, 404);
    const auth = await c.request('GET', '/v3/auth/projects', { token: 'garbage' });
    assert.equal(auth.status, 401);
    const none = await c.request('GET', '/v3/auth/projects');
    assert.equal(none.status, 401);
  });

  it('rescopes with the token method, keeping expiry and the audit chain', async () => {
    const unscoped = await c.login({ username: 'admin', password: c.adminPassword });
    const parent = await c.request('GET', '/v3/auth/tokens', {
      token: c.adminToken,
      headers: { 'x-subject-token': unscoped },
    });
    const res = await c.request('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['token'], token: { id: unscoped } },
          scope: { project: { id: c.adminProjectId } },
        },
      },
    });
    assert.equal(res.status, 201);
    const t = res.body.token;
    assert.ok(t.methods.includes('token') && t.methods.includes('password'));
    assert.equal(t.expires_at, parent.body.token.expires_at);
    assert.equal(t.audit_ids.length, 2);
    assert.equal(t.audit_ids[1], parent.body.token.audit_ids[0]);
    // Revoking the parent chain's first token does not revoke the child, revoking the child does not touch the parent.
  });

  it('lists the projects, domains and system of the token user', async () => {
    const user = await c.makeUser();
    const res = await c.request('GET', '/v3/auth/projects', { token: user.token });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.projects.map((p: { id: string }) => p.id),
      [user.projectId],
    );
    assert.ok(res.body.links.self.endsWith('/v3/auth/projects'));
    const domains = await c.request('GET', '/v3/auth/domains', { token: user.token });
    assert.equal(domains.status, 200);
    assert.deepEqual(domains.body.domains, []);
    const sys = await c.request('GET', '/v3/auth/system', { token: c.adminToken });
    assert.deepEqual(sys.body.system, [{ all: true }]);
    const sysUser = await c.request('GET', '/v3/auth/system', { token: user.token });
    assert.deepEqual(sysUser.body.system, []);
    const cat = await c.request('GET', '/v3/auth/catalog', { token: user.token });
    assert.equal(cat.status, 200);
    assert.ok(cat.body.catalog.some((s: { type: string }) => s.type === 'compute'));
  });

  it('revokes tokens when a user is disabled, deleted, or changes password', async () => {
    const u1 = await c.makeUser();
    const dis = await c.request('PATCH', `/v3/users/${u1.id}`, {
      token: c.adminToken,
      body: { user: { enabled: false } },
    });
    assert.equal(dis.status, 200);
    assert.equal((await c.request('GET', '/v3/auth/projects', { token: u1.token })).status, 401);
    const relogin = await c.request('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { id: u1.id, password: u1.password } } },
        },
      },
    });
    assert.equal(relogin.status, 401);

    const u2 = await c.makeUser();
    assert.equal((await c.request('DELETE', `/v3/users/${u2.id}`, { token: c.adminToken })).status, 204);
    assert.equal((await c.request('GET', '/v3/auth/projects', { token: u2.token })).status, 401);

    const u3 = await c.makeUser();
    const change = await c.request('POST', `/v3/users/${u3.id}/password`, {
      token: u3.token,
      body: { user: { original_password: u3.password, password: 'a-new-password' } },
    });
    assert.equal(change.status, 204);
    assert.equal((await c.request('GET', '/v3/auth/projects', { token: u3.token })).status, 401);
    const again = await c.login({ userId: u3.id, password: 'a-new-password', projectId: u3.projectId });
    assert.equal((await c.request('GET', '/v3/auth/projects', { token: again })).status, 200);
  });

  it('serves version discovery at / and /v3', async () => {
    const root = await c.request('GET', '/');
    assert.equal(root.status, 300);
    const v = root.body.versions.values[0];
    assert.equal(v.id, 'v3.14');
    assert.equal(v['media-types'][0].type, 'application/vnd.openstack.identity-v3+json');
    const v3 = await c.request('GET', '/v3');
    assert.equal(v3.status, 200);
    assert.match(v3.body.version.links[0].href, /^http:\/\/localhost(:80)?\/v3\/$/);
    assert.ok(v3.headers['x-openstack-request-id']);
  });
});
