// /v3/OS-TRUST/trusts through the real handlers, and trust-scoped tokens (POST /v3/auth/tokens with an
// OS-TRUST:trust scope): who may see and delete a trust, what a trust token carries, and when it stops working.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  startTestCloud,
  type TestCloud,
  type TestResponse,
  type TestUser,
  uniqueName,
} from '../../support/cloud.ts';

describe('identity trusts (OS-TRUST)', () => {
  let c: TestCloud;
  /** Holds the delegated and the not-delegated role (and member) on its project. */
  let trustor: TestUser;
  let trustee: TestUser;
  let other: TestUser;
  let delegatedRole: { id: string; name: string };
  let keptRole: { id: string; name: string };

  const base = '/v3/OS-TRUST/trusts';
  type Trust = Record<string, unknown>;

  const createRole = async (): Promise<{ id: string; name: string }> => {
    const res = await c.request('POST', '/v3/roles', {
      token: c.adminToken,
      body: { role: { name: uniqueName('role') } },
    });
    assert.equal(res.status, 201, res.text);
    return { id: res.body.role.id, name: res.body.role.name };
  };
  const grant = async (
    projectId: string,
    userId: string,
    roleId: string,
    method: 'PUT' | 'DELETE' = 'PUT',
  ) => {
    const res = await c.request(method, `/v3/projects/${projectId}/users/${userId}/roles/${roleId}`, {
      token: c.adminToken,
    });
    assert.equal(res.status, 204, res.text);
  };
  const create = (token: string, trust: Trust) => c.request('POST', base, { token, body: { trust } });
  const trustBody = (over: Trust = {}): Trust => ({
    trustor_user_id: trustor.id,
    trustee_user_id: trustee.id,
    project_id: trustor.projectId,
    impersonation: true,
    roles: [{ name: delegatedRole.name }],
    ...over,
  });
  const makeTrust = async (over: Trust = {}): Promise<TestResponse['body']> => {
    const res = await create(trustor.token, trustBody(over));
    assert.equal(res.status, 201, res.text);
    return res.body.trust;
  };
  /** Password authentication of `user` scoped to a trust. */
  const trustAuth = (user: TestUser, trustId: string) =>
    c.request('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { id: user.id, password: user.password } } },
          scope: { 'OS-TRUST:trust': { id: trustId } },
        },
      },
    });
  const trustToken = async (trustId: string): Promise<string> => {
    const res = await trustAuth(trustee, trustId);
    assert.equal(res.status, 201, res.text);
    return String(res.headers['x-subject-token']);
  };
  const validate = (token: string) =>
    c.request('GET', '/v3/auth/tokens', { token: c.adminToken, headers: { 'x-subject-token': token } });
  const names = (roles: { name: string }[]) => roles.map((r) => r.name).sort();

  before(async () => {
    c = await startTestCloud();
    trustor = await c.makeUser();
    trustee = await c.makeUser();
    other = await c.makeUser();
    delegatedRole = await createRole();
    keptRole = await createRole();
    await grant(trustor.projectId, trustor.id, delegatedRole.id);
    await grant(trustor.projectId, trustor.id, keptRole.id);
  });
  after(async () => {
    await c.close();
  });

  it('creates a trust with Keystone’s body, shows it, and lists its roles', async () => {
    const t = await makeTrust();
    assert.match(t.id, /^[0-9a-f]{32}$/);
    assert.equal(t.trustor_user_id, trustor.id);
    assert.equal(t.trustee_user_id, trustee.id);
    assert.equal(t.project_id, trustor.projectId);
    assert.equal(t.impersonation, true);
    assert.equal(t.expires_at, null);
    assert.equal(t.remaining_uses, null);
    assert.equal(t.redelegation_count, 0);
    assert.equal(t.redelegated_trust_id, null);
    assert.equal(t.deleted_at, null);
    assert.match(t.links.self, new RegExp(`v3/OS-TRUST/trusts/${t.id}$`));
    assert.deepEqual(names(t.roles), [delegatedRole.name]);
    assert.equal(t.roles[0].id, delegatedRole.id);
    assert.match(t.roles[0].links.self, new RegExp(`v3/roles/${delegatedRole.id}$`));
    assert.match(t.roles_links.self, new RegExp(`v3/OS-TRUST/trusts/${t.id}/roles$`));

    const shown = await c.request('GET', `${base}/${t.id}`, { token: trustor.token });
    assert.equal(shown.status, 200, shown.text);
    assert.deepEqual(shown.body.trust, t);

    const roles = await c.request('GET', `${base}/${t.id}/roles`, { token: trustor.token });
    assert.equal(roles.status, 200);
    assert.deepEqual(names(roles.body.roles), [delegatedRole.name]);
    assert.match(roles.body.links.self, new RegExp(`v3/OS-TRUST/trusts/${t.id}/roles$`));
    const one = await c.request('GET', `${base}/${t.id}/roles/${delegatedRole.id}`, { token: trustor.token });
    assert.equal(one.status, 200);
    assert.equal(one.body.role.name, delegatedRole.name);
    assert.match(one.body.role.links.self, new RegExp(`v3/roles/${delegatedRole.id}$`));
    assert.equal(
      (await c.request('HEAD', `${base}/${t.id}/roles/${delegatedRole.id}`, { token: trustor.token })).status,
      200,
    );
    const kept = await c.request('GET', `${base}/${t.id}/roles/${keptRole.id}`, { token: trustor.token });
    assert.equal(kept.status, 404);
    assert.equal(kept.body.error.message, `Could not find role: ${keptRole.id}.`);
    assert.equal(
      (await c.request('HEAD', `${base}/${t.id}/roles/${keptRole.id}`, { token: trustor.token })).status,
      404,
    );

    assert.equal((await c.request('DELETE', `${base}/${t.id}`, { token: trustor.token })).status, 204);
    const gone = await c.request('GET', `${base}/${t.id}`, { token: trustor.token });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.message, `Could not find trust: ${t.id}.`);
    assert.equal((await c.request('DELETE', `${base}/${t.id}`, { token: trustor.token })).status, 404);
    const row = await c.cloud.database.db
      .selectFrom('identity_trusts')
      .selectAll()
      .where('id', '=', t.id)
      .executeTakeFirstOrThrow();
    assert.notEqual(row.deleted_at, null, 'soft-deleted, as Keystone does');
  });

  it('keeps an expiry in Keystone’s format and refuses bad ones', async () => {
    const at = new Date(Date.now() + 3_600_000);
    at.setUTCMilliseconds(0);
    const expires = at.toISOString().replace(/\.000Z$/, 'Z');
    const t = await makeTrust({ impersonation: false, expires_at: expires });
    assert.equal(t.expires_at, expires.replace(/Z$/, '.000000Z'));
    assert.equal(t.impersonation, false);
    const shown = await c.request('GET', `${base}/${t.id}`, { token: trustor.token });
    assert.equal(shown.body.trust.expires_at, t.expires_at);
    const dup = await create(trustor.token, trustBody({ impersonation: false, expires_at: expires }));
    assert.equal(dup.status, 409);

    const bad = await create(trustor.token, trustBody({ expires_at: 'bad.123Z' }));
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^Timestamp not in expected format\./);
    const past = await create(trustor.token, trustBody({ expires_at: '2001-01-01T00:00:00Z' }));
    assert.equal(past.status, 400);
    assert.match(past.body.error.message, /^The 'expires_at' must not be before now\./);
  });

  it('refuses bad requests as Keystone does', async () => {
    const cases: [Trust, number, RegExp?][] = [
      [trustBody({ impersonation: undefined }), 400, /'impersonation' is a required property/],
      [trustBody({ impersonation: 'yes' }), 400],
      [trustBody({ remaining_uses: 0 }), 400],
      [trustBody({ remaining_uses: 'two' }), 400],
      [trustBody({ roles: [] }), 403, /At least one role should be specified/],
      [trustBody({ roles: undefined }), 403, /At least one role should be specified/],
      [trustBody({ trustee_user_id: 'f'.repeat(32) }), 404, /Could not find user/],
      [trustBody({ roles: [{ name: 'no-such-role' }] }), 404, /^Role no-such-role is not defined$/],
      [trustBody({ roles: [{ id: await c.roleId('admin') }] }), 404, /^Could not find role: /],
      [trustBody({ project_id: other.projectId }), 404, /^Could not find role: /],
      [trustBody({ project_id: 'f'.repeat(32) }), 404, /^Could not find project: /],
      [trustBody({ roles: [{ id: 'x', name: 'y' }] }), 400],
      [trustBody({ allow_redelegation: true, remaining_uses: 2 }), 400, /remaining_uses must not be set/],
      [trustBody({ allow_redelegation: true, redelegation_count: 4 }), 403, /greater than allowed 3/],
    ];
    for (const [body, status, message] of cases) {
      const res = await create(trustor.token, body);
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.text}`);
      if (message) assert.match(res.body.error.message, message);
    }
    const notMe = await create(other.token, trustBody());
    assert.equal(notMe.status, 403, 'only the trustor creates a trust');
    const byAdmin = await create(c.adminToken, trustBody());
    assert.equal(byAdmin.status, 403, 'not even an admin, for someone else');
  });

  it('keeps redelegation settings and extra attributes', async () => {
    const t = await makeTrust({ allow_redelegation: true, remaining_uses: null, note: 'for heat' });
    assert.equal(t.redelegation_count, 3);
    assert.equal(t.note, 'for heat');
    assert.equal(t.allow_redelegation, undefined);
    const two = await makeTrust({ allow_redelegation: true, redelegation_count: 2 });
    assert.equal(two.redelegation_count, 2);
    const off = await makeTrust({ allow_redelegation: false, redelegation_count: 2 });
    assert.equal(off.redelegation_count, 0);
    const byId = await makeTrust({ roles: [{ id: delegatedRole.id }, { name: delegatedRole.name }] });
    assert.deepEqual(names(byId.roles), [delegatedRole.name], 'a role named twice is delegated once');
  });

  it('lists trusts by trustor or trustee for those parties, and all of them for an admin', async () => {
    const t = await makeTrust();
    const byTrustor = await c.request('GET', `${base}?trustor_user_id=${trustor.id}`, {
      token: trustor.token,
    });
    assert.equal(byTrustor.status, 200, byTrustor.text);
    const mine = byTrustor.body.trusts.find((x: Trust) => x.id === t.id);
    assert.ok(mine);
    assert.equal(mine.roles, undefined, 'a listing has no roles');
    assert.equal(mine.trustor_user_id, trustor.id);
    assert.match(mine.links.self, /v3\/OS-TRUST\/trusts\//);
    assert.match(
      byTrustor.body.links.self,
      new RegExp(`v3/OS-TRUST/trusts\\?trustor_user_id=${trustor.id}$`),
    );
    for (const x of byTrustor.body.trusts) assert.equal(x.trustor_user_id, trustor.id);

    const byTrustee = await c.request('GET', `${base}/?trustee_user_id=${trustee.id}`, {
      token: trustee.token,
    });
    assert.equal(byTrustee.status, 200);
    assert.ok(byTrustee.body.trusts.some((x: Trust) => x.id === t.id));
    for (const x of byTrustee.body.trusts) assert.equal(x.trustee_user_id, trustee.id);

    assert.equal(
      (await c.request('GET', `${base}?trustor_user_id=${trustor.id}`, { token: other.token })).status,
      403,
    );
    assert.equal(
      (await c.request('GET', `${base}?trustee_user_id=${trustee.id}`, { token: trustor.token })).status,
      403,
    );
    assert.equal(
      (await c.request('GET', `${base}?trustee_user_id=${trustee.id}`, { token: other.token })).status,
      403,
    );
    assert.equal(
      (await c.request('GET', base, { token: trustor.token })).status,
      403,
      'listing all is for admins',
    );

    const all = await c.request('GET', base, { token: c.adminToken });
    assert.equal(all.status, 200);
    assert.ok(all.body.trusts.some((x: Trust) => x.id === t.id));
    const adminByTrustor = await c.request('GET', `${base}?trustor_user_id=${trustor.id}`, {
      token: c.adminToken,
    });
    assert.ok(adminByTrustor.body.trusts.some((x: Trust) => x.id === t.id));
    const unknownFilter = await c.request('GET', `${base}?project_id=${trustor.projectId}`, {
      token: c.adminToken,
    });
    assert.equal(unknownFilter.status, 200);
    assert.deepEqual(
      unknownFilter.body.trusts,
      [],
      'as Keystone: a query without trustor or trustee lists none',
    );

    assert.equal((await c.request('DELETE', `${base}/${t.id}`, { token: c.adminToken })).status, 204);
    const after = await c.request('GET', `${base}?trustor_user_id=${trustor.id}`, { token: trustor.token });
    assert.ok(!after.body.trusts.some((x: Trust) => x.id === t.id), 'deleted trusts are not listed');
  });

  it('applies the policy matrix: trustor, trustee, another user, admin', async () => {
    const t = await makeTrust();
    const matrix: [string, string, Record<string, number>][] = [
      ['GET', `${base}/${t.id}`, { trustor: 200, trustee: 200, other: 403, admin: 200 }],
      ['GET', `${base}/${t.id}/roles`, { trustor: 200, trustee: 200, other: 403, admin: 200 }],
      [
        'GET',
        `${base}/${t.id}/roles/${delegatedRole.id}`,
        { trustor: 200, trustee: 200, other: 403, admin: 200 },
      ],
      [
        'HEAD',
        `${base}/${t.id}/roles/${delegatedRole.id}`,
        { trustor: 200, trustee: 200, other: 403, admin: 200 },
      ],
      ['DELETE', `${base}/${t.id}`, { trustee: 403, other: 403 }],
    ];
    const tokens: Record<string, string> = {
      trustor: trustor.token,
      trustee: trustee.token,
      other: other.token,
      admin: c.adminToken,
    };
    for (const [method, path, expect] of matrix) {
      for (const [who, status] of Object.entries(expect)) {
        const res = await c.request(method, path, { token: tokens[who] });
        assert.equal(res.status, status, `${who} ${method} ${path}: ${res.text}`);
      }
    }
    // A trust that does not exist is a 404 for anyone, before policy.
    assert.equal((await c.request('GET', `${base}/${'f'.repeat(32)}`, { token: other.token })).status, 404);
    assert.equal((await c.request('GET', `${base}/${t.id}`)).status, 401);
    assert.equal((await c.request('DELETE', `${base}/${t.id}`, { token: trustor.token })).status, 204);
    const byAdmin = await makeTrust();
    assert.equal((await c.request('DELETE', `${base}/${byAdmin.id}`, { token: c.adminToken })).status, 204);
  });

  it('issues an impersonating trust token: the trustor, on the trust’s project, with the trust’s roles', async () => {
    const member = await makeTrust({ roles: [{ name: 'member' }] });
    const res = await trustAuth(trustee, member.id);
    assert.equal(res.status, 201, res.text);
    const t = res.body.token;
    assert.equal(t.user.id, trustor.id);
    assert.equal(t.user.name, trustor.name);
    assert.equal(t.project.id, trustor.projectId);
    assert.deepEqual(t['OS-TRUST:trust'], {
      id: member.id,
      trustor_user: { id: trustor.id },
      trustee_user: { id: trustee.id },
      impersonation: true,
    });
    assert.deepEqual(names(t.roles), ['member', 'reader'], 'implied roles come along');
    assert.deepEqual(t.methods, ['password']);
    assert.ok(Array.isArray(t.catalog));

    const token = String(res.headers['x-subject-token']);
    const v = await validate(token);
    assert.equal(v.status, 200, v.text);
    assert.equal(v.body.token.user.id, trustor.id);
    assert.equal(v.body.token['OS-TRUST:trust'].id, member.id);
    // The token works as the trustor: it reads the trustor's own trusts.
    const listed = await c.request('GET', `${base}?trustor_user_id=${trustor.id}`, { token });
    assert.equal(listed.status, 200, listed.text);
  });

  it('issues a non-impersonating trust token as the trustee', async () => {
    const t = await makeTrust({ impersonation: false });
    const res = await trustAuth(trustee, t.id);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.token.user.id, trustee.id);
    assert.equal(res.body.token.project.id, trustor.projectId);
    assert.equal(res.body.token['OS-TRUST:trust'].impersonation, false);
    assert.deepEqual(names(res.body.token.roles), [delegatedRole.name]);
    assert.equal(res.body.token.is_domain, undefined);

    // The token method works too: the trustee's unscoped token, scoped to the trust.
    const unscoped = await c.login({ userId: trustee.id, password: trustee.password });
    const viaToken = await c.request('POST', '/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['token'], token: { id: unscoped } },
          scope: { 'OS-TRUST:trust': { id: t.id } },
        },
      },
    });
    assert.equal(viaToken.status, 201, viaToken.text);
    assert.deepEqual([...viaToken.body.token.methods].sort(), ['password', 'token']);
  });

  it('refuses a trust scope for anyone but the trustee, and malformed ones', async () => {
    const t = await makeTrust({ remaining_uses: 3 });
    const notTrustee = await trustAuth(other, t.id);
    assert.equal(notTrustee.status, 403);
    assert.equal(notTrustee.body.error.message, 'User is not a trustee.');
    const asTrustor = await trustAuth(trustor, t.id);
    assert.equal(asTrustor.status, 403);
    const shown = await c.request('GET', `${base}/${t.id}`, { token: trustor.token });
    assert.equal(shown.body.trust.remaining_uses, 3, 'a refused token uses nothing');

    const unknown = await trustAuth(trustee, 'f'.repeat(32));
    assert.equal(unknown.status, 401);
    const scope = (s: unknown) =>
      c.request('POST', '/v3/auth/tokens', {
        body: {
          auth: {
            identity: {
              methods: ['password'],
              password: { user: { id: trustee.id, password: trustee.password } },
            },
            scope: s,
          },
        },
      });
    assert.equal((await scope({ 'OS-TRUST:trust': '' })).status, 400);
    assert.equal((await scope({ 'OS-TRUST:trust': {} })).status, 400);
    assert.equal(
      (await scope({ 'OS-TRUST:trust': { id: t.id }, project: { id: trustor.projectId } })).status,
      400,
    );
  });

  it('counts remaining uses down and refuses a used-up trust', async () => {
    const t = await makeTrust({ remaining_uses: 2 });
    const first = await trustToken(t.id);
    const shown = await c.request('GET', `${base}/${t.id}`, { token: trustor.token });
    assert.equal(shown.body.trust.remaining_uses, 1);
    await trustToken(t.id);
    const third = await trustAuth(trustee, t.id);
    assert.equal(third.status, 401);
    assert.equal(third.body.error.message, `Could not find trust: ${t.id}.`);
    assert.equal(
      (await c.request('GET', `${base}/${t.id}`, { token: trustor.token })).status,
      404,
      'a used-up trust is gone',
    );
    assert.equal((await validate(first)).status, 200, 'tokens already issued stay valid');
  });

  it('revokes the tokens of a deleted trust', async () => {
    const t = await makeTrust();
    const token = await trustToken(t.id);
    assert.equal((await validate(token)).status, 200);
    assert.equal((await c.request('DELETE', `${base}/${t.id}`, { token: trustor.token })).status, 204);
    assert.equal((await validate(token)).status, 404);
    assert.equal((await c.request('GET', '/v3/auth/projects', { token })).status, 401);
    assert.equal((await trustAuth(trustee, t.id)).status, 401);
    const events = await c.cloud.database.db
      .selectFrom('identity_revocation_events')
      .selectAll()
      .where('trust_id', '=', t.id)
      .execute();
    assert.equal(events.length, 1);
  });

  it('revokes trust tokens with the trustee’s or the trustor’s other tokens (password change)', async () => {
    const user = await c.makeUser();
    const t = await makeTrust({ trustee_user_id: user.id });
    const issue = async () => {
      const res = await trustAuth(user, t.id);
      assert.equal(res.status, 201, res.text);
      return String(res.headers['x-subject-token']);
    };
    const token = await issue();
    assert.equal((await validate(token)).status, 200);
    const changed = await c.request('POST', `/v3/users/${user.id}/password`, {
      body: { user: { original_password: user.password, password: `${user.password}-2` } },
    });
    assert.equal(changed.status, 204, changed.text);
    assert.equal((await validate(token)).status, 404, 'the trustee changed their password');
    user.password = `${user.password}-2`;
    const next = await issue();
    assert.equal((await validate(next)).status, 200);
    await c.cloud.identity.context.write(async (trx) => {
      await c.cloud.identity.tokens.revoke(trx, { userId: trustor.id });
    });
    assert.equal((await validate(next)).status, 404, 'an event for the trustor revokes it too');
    trustor.token = await c.login({
      userId: trustor.id,
      password: trustor.password,
      projectId: trustor.projectId,
    });
  });

  it('invalidates trust tokens when the trustor loses a delegated role or is disabled, or the trust expires', async () => {
    const user = await c.makeUser();
    const role = await createRole();
    await grant(user.projectId, user.id, role.id);
    const res = await create(user.token, {
      trustor_user_id: user.id,
      trustee_user_id: trustee.id,
      project_id: user.projectId,
      impersonation: false,
      roles: [{ id: role.id }],
    });
    assert.equal(res.status, 201, res.text);
    const trust = res.body.trust;
    const token = await trustToken(trust.id);
    assert.equal((await validate(token)).status, 200);
    await grant(user.projectId, user.id, role.id, 'DELETE');
    assert.equal((await validate(token)).status, 404);
    const refused = await trustAuth(trustee, trust.id);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.message, 'Trustee has no delegated roles.');

    await grant(user.projectId, user.id, role.id);
    const again = await trustToken(trust.id);
    assert.equal((await validate(again)).status, 200);
    const disable = (enabled: boolean) =>
      c.request('PATCH', `/v3/users/${user.id}`, { token: c.adminToken, body: { user: { enabled } } });
    assert.equal((await disable(false)).status, 200);
    assert.equal((await validate(again)).status, 404);
    const disabled = await trustAuth(trustee, trust.id);
    assert.equal(disabled.status, 403);
    assert.equal(disabled.body.error.message, 'Trustor is disabled.');
    assert.equal((await disable(true)).status, 200);

    const last = await trustToken(trust.id);
    await c.cloud.identity.context.write(async (trx) => {
      await trx
        .updateTable('identity_trusts')
        .set({ expires_at: '2001-01-01T00:00:00.000000Z' })
        .where('id', '=', trust.id)
        .execute();
    });
    assert.equal((await validate(last)).status, 404);
    assert.equal((await trustAuth(trustee, trust.id)).status, 401);
  });

  it('ends a trust token at the trust’s expiry', async () => {
    const at = new Date(Date.now() + 600_000);
    at.setUTCMilliseconds(0);
    const t = await makeTrust({ expires_at: at.toISOString() });
    const res = await trustAuth(trustee, t.id);
    assert.equal(res.status, 201, res.text);
    assert.equal(Date.parse(res.body.token.expires_at), at.getTime());
  });

  it('keeps trust tokens from rescoping and from making trusts, application credentials or credentials', async () => {
    const t = await makeTrust({ allow_redelegation: true });
    const token = await trustToken(t.id);
    const rescope = await c.request('POST', '/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['token'], token: { id: token } } } },
    });
    assert.equal(rescope.status, 403);
    assert.equal(
      rescope.body.error.message,
      'You are not authorized to perform the requested action: Using trust-scoped token to create another token. Create a new trust-scoped token instead.',
    );
    const another = await create(token, trustBody());
    assert.equal(another.status, 403, another.text);
    const appCred = await c.request('POST', `/v3/users/${trustor.id}/application_credentials`, {
      token,
      body: { application_credential: { name: uniqueName('ac') } },
    });
    assert.equal(appCred.status, 403, appCred.text);
    const cred = await c.request('POST', '/v3/credentials', {
      token,
      body: { credential: { type: 'cert', blob: 'x', user_id: trustor.id } },
    });
    assert.equal(cred.status, 403, cred.text);
  });

  it('keeps application credential tokens away from trusts', async () => {
    const t = await makeTrust();
    const ac = await c.request('POST', `/v3/users/${trustor.id}/application_credentials`, {
      token: trustor.token,
      body: { application_credential: { name: uniqueName('ac') } },
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
    const token = String(auth.headers['x-subject-token']);
    const res = await c.request('GET', `${base}/${t.id}`, { token });
    assert.equal(res.status, 403);
    assert.equal(
      res.body.error.message,
      'You are not authorized to perform the requested action: Delegated tokens cannot manage trusts..',
    );
    assert.equal((await create(token, trustBody())).status, 403);
  });

  it('removes the trusts of a deleted user', async () => {
    const gone = await c.makeUser();
    const t = await makeTrust({ trustee_user_id: gone.id });
    assert.equal((await c.request('DELETE', `/v3/users/${gone.id}`, { token: c.adminToken })).status, 204);
    assert.equal((await c.request('GET', `${base}/${t.id}`, { token: trustor.token })).status, 404);
  });
});
