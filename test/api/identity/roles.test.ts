// /v3/roles, domain-specific roles, implied roles and /v3/role_inferences through the real handlers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';

describe('identity roles', () => {
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
  const createRole = async (role: Record<string, unknown>) => {
    const res = await c.request('POST', '/v3/roles', { token: admin(), body: { role } });
    assert.equal(res.status, 201, res.text);
    return res.body.role as { id: string; name: string; domain_id: string | null };
  };
  const ids = (list: { id: string }[]) => list.map((x) => x.id);
  const validate = (subject: string) =>
    c.request('GET', '/v3/auth/tokens', { token: admin(), headers: { 'x-subject-token': subject } });

  it('creates, shows, lists, updates and deletes a global role', async () => {
    const name = uniqueName('role');
    const res = await c.request('POST', '/v3/roles', {
      token: admin(),
      body: { role: { name, description: 'a test role', custom: 1 } },
    });
    assert.equal(res.status, 201, res.text);
    const r = res.body.role;
    assert.match(r.id, /^[0-9a-f]{32}$/);
    assert.equal(r.name, name);
    assert.equal(r.domain_id, null);
    assert.equal(r.description, 'a test role');
    assert.deepEqual(r.options, {});
    assert.equal(r.custom, 1);
    assert.match(r.links.self, new RegExp(`/v3/roles/${r.id}$`));

    const shown = await c.request('GET', `/v3/roles/${r.id}`, { token: admin() });
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body.role, r);

    const list = await c.request('GET', '/v3/roles', { token: admin() });
    assert.equal(list.status, 200);
    const names = list.body.roles.map((x: { name: string }) => x.name);
    for (const n of ['admin', 'member', 'reader', name]) assert.ok(names.includes(n), n);
    const byName = await c.request('GET', `/v3/roles?name=${name}`, { token: admin() });
    assert.deepEqual(ids(byName.body.roles), [r.id]);

    const upd = await c.request('PATCH', `/v3/roles/${r.id}`, {
      token: admin(),
      body: { role: { description: 'changed' } },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.role.description, 'changed');
    assert.equal(upd.body.role.name, name);

    assert.equal((await c.request('DELETE', `/v3/roles/${r.id}`, { token: admin() })).status, 204);
    const gone = await c.request('GET', `/v3/roles/${r.id}`, { token: admin() });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.message, `Could not find role: ${r.id}.`);
  });

  it("answers Keystone's errors for bad input and conflicts", async () => {
    const noName = await c.request('POST', '/v3/roles', { token: admin(), body: { role: {} } });
    assert.equal(noName.status, 400);
    assert.equal(noName.body.error.message, "'name' is a required property");
    const badOption = await c.request('POST', '/v3/roles', {
      token: admin(),
      body: { role: { name: uniqueName('r'), options: { shiny: true } } },
    });
    assert.equal(badOption.status, 400);
    assert.match(badOption.body.error.message, /^Invalid input for field 'options'/);
    const dup = await c.request('POST', '/v3/roles', { token: admin(), body: { role: { name: 'member' } } });
    assert.equal(dup.status, 409);
    assert.equal(
      dup.body.error.message,
      'Conflict occurred attempting to store role - Duplicate entry found with name member.',
    );
    const r = await createRole({ name: uniqueName('r') });
    const rename = await c.request('PATCH', `/v3/roles/${r.id}`, {
      token: admin(),
      body: { role: { name: 'reader' } },
    });
    assert.equal(rename.status, 409);
    const move = await c.request('PATCH', `/v3/roles/${r.id}`, {
      token: admin(),
      body: { role: { domain_id: 'default' } },
    });
    assert.equal(move.status, 400);
    assert.equal(move.body.error.message, 'Update of `domain_id` is not allowed.');
    const changeId = await c.request('PATCH', `/v3/roles/${r.id}`, {
      token: admin(),
      body: { role: { id: 'x' } },
    });
    assert.equal(changeId.status, 400);
    assert.equal(changeId.body.error.message, 'Cannot change ID');
    const missing = await c.request('PATCH', '/v3/roles/nope', {
      token: admin(),
      body: { role: { name: 'x' } },
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, 'Could not find role: nope.');
    assert.equal((await c.request('DELETE', '/v3/roles/nope', { token: admin() })).status, 404);
  });

  it('keeps domain-specific roles apart from global ones', async () => {
    const name = uniqueName('dsr');
    const global = await createRole({ name });
    const dsr = await createRole({ name, domain_id: 'default' });
    assert.equal(dsr.domain_id, 'default');
    const globals = await c.request('GET', '/v3/roles', { token: admin() });
    assert.ok(ids(globals.body.roles).includes(global.id));
    assert.ok(!ids(globals.body.roles).includes(dsr.id), 'domain roles are not listed without domain_id');
    const inDomain = await c.request('GET', '/v3/roles?domain_id=default', { token: admin() });
    assert.deepEqual(ids(inDomain.body.roles), [dsr.id]);
    const dup = await c.request('POST', '/v3/roles', {
      token: admin(),
      body: { role: { name, domain_id: 'default' } },
    });
    assert.equal(dup.status, 409);
    assert.equal(
      dup.body.error.message,
      `Conflict occurred attempting to store role - Duplicate entry found with name ${name} at domain ID default.`,
    );
    const badDomain = await c.request('POST', '/v3/roles', {
      token: admin(),
      body: { role: { name, domain_id: 'nowhere' } },
    });
    assert.equal(badDomain.status, 404);
    assert.equal(badDomain.body.error.message, 'Could not find domain: nowhere.');
    const shown = await c.request('GET', `/v3/roles/${dsr.id}`, { token: admin() });
    assert.equal(shown.body.role.domain_id, 'default');
  });

  it('protects immutable roles until the option is cleared', async () => {
    const r = await createRole({ name: uniqueName('imm'), options: { immutable: true } });
    const shown = await c.request('GET', `/v3/roles/${r.id}`, { token: admin() });
    assert.deepEqual(shown.body.role.options, { immutable: true });
    const del = await c.request('DELETE', `/v3/roles/${r.id}`, { token: admin() });
    assert.equal(del.status, 403);
    assert.equal(
      del.body.error.message,
      `Unable to delete immutable role resource: \`${r.id}. Set resource option "immutable" to false first.`,
    );
    const upd = await c.request('PATCH', `/v3/roles/${r.id}`, {
      token: admin(),
      body: { role: { description: 'x' } },
    });
    assert.equal(upd.status, 403);
    assert.match(upd.body.error.message, /^Unable to update immutable role resource/);
    const clear = await c.request('PATCH', `/v3/roles/${r.id}`, {
      token: admin(),
      body: { role: { options: { immutable: null } } },
    });
    assert.equal(clear.status, 200, clear.text);
    assert.deepEqual(clear.body.role.options, {});
    assert.equal((await c.request('DELETE', `/v3/roles/${r.id}`, { token: admin() })).status, 204);
  });

  it('creates, shows, checks, lists and deletes role implications', async () => {
    const prior = await createRole({ name: uniqueName('prior') });
    const implied = await createRole({ name: uniqueName('implied') });
    const path = `/v3/roles/${prior.id}/implies/${implied.id}`;
    const missing = await c.request('GET', path, { token: admin() });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, `${prior.id} does not imply ${implied.id}.`);

    const put = await c.request('PUT', path, { token: admin() });
    assert.equal(put.status, 201, put.text);
    const inference = put.body.role_inference;
    assert.deepEqual(Object.keys(inference.prior_role).sort(), ['id', 'links', 'name']);
    assert.equal(inference.prior_role.id, prior.id);
    assert.equal(inference.prior_role.name, prior.name);
    assert.match(inference.prior_role.links.self, new RegExp(`/v3/roles/${prior.id}$`));
    assert.equal(inference.implies.id, implied.id);
    assert.equal(inference.implies.name, implied.name);
    assert.match(put.body.links.self, new RegExp(`/v3/roles/${prior.id}/implies/${implied.id}$`));

    const got = await c.request('GET', path, { token: admin() });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, put.body);
    assert.equal((await c.request('HEAD', path, { token: admin() })).status, 204);

    const dup = await c.request('PUT', path, { token: admin() });
    assert.equal(dup.status, 409);
    assert.equal(
      dup.body.error.message,
      'Conflict occurred attempting to store implied_role - Duplicate entry.',
    );

    const list = await c.request('GET', `/v3/roles/${prior.id}/implies`, { token: admin() });
    assert.equal(list.status, 200);
    assert.equal(list.body.role_inference.prior_role.id, prior.id);
    assert.deepEqual(ids(list.body.role_inference.implies), [implied.id]);
    assert.match(list.body.links.self, new RegExp(`/v3/roles/${prior.id}/implies$`));

    const all = await c.request('GET', '/v3/role_inferences', { token: admin() });
    assert.equal(all.status, 200);
    const rule = all.body.role_inferences.find(
      (x: { prior_role: { id: string } }) => x.prior_role.id === prior.id,
    );
    assert.deepEqual(ids(rule.implies), [implied.id]);
    const adminRule = all.body.role_inferences.find(
      (x: { prior_role: { name: string } }) => x.prior_role.name === 'admin',
    );
    assert.deepEqual(
      adminRule.implies.map((x: { name: string }) => x.name),
      ['member'],
    );

    assert.equal((await c.request('DELETE', path, { token: admin() })).status, 204);
    const again = await c.request('DELETE', path, { token: admin() });
    assert.equal(again.status, 404);
    assert.equal(again.body.error.message, `${prior.id} does not imply ${implied.id}.`);
    assert.equal((await c.request('HEAD', path, { token: admin() })).status, 404);
  });

  it('refuses implying admin, a domain role from a global one, and cycles', async () => {
    const a = await createRole({ name: uniqueName('a') });
    const b = await createRole({ name: uniqueName('b') });
    const adminRole = await c.roleId('admin');
    const impliesAdmin = await c.request('PUT', `/v3/roles/${a.id}/implies/${adminRole}`, { token: admin() });
    assert.equal(impliesAdmin.status, 403);
    assert.equal(impliesAdmin.body.error.message, `${adminRole} cannot be an implied roles.`);
    const dsr = await createRole({ name: uniqueName('dsr'), domain_id: 'default' });
    const toDomain = await c.request('PUT', `/v3/roles/${a.id}/implies/${dsr.id}`, { token: admin() });
    assert.equal(toDomain.status, 403);
    assert.equal(toDomain.body.error.message, `${dsr.id} cannot be an implied roles.`);
    const fromDomain = await c.request('PUT', `/v3/roles/${dsr.id}/implies/${a.id}`, { token: admin() });
    assert.equal(fromDomain.status, 201, 'a domain role may imply a global role');

    assert.equal(
      (await c.request('PUT', `/v3/roles/${a.id}/implies/${b.id}`, { token: admin() })).status,
      201,
    );
    const cycle = await c.request('PUT', `/v3/roles/${b.id}/implies/${a.id}`, { token: admin() });
    assert.equal(cycle.status, 403);
    assert.equal(cycle.body.error.message, `${a.id} cannot be an implied roles.`);
    const self = await c.request('PUT', `/v3/roles/${a.id}/implies/${a.id}`, { token: admin() });
    assert.equal(self.status, 403);
    const unknown = await c.request('PUT', `/v3/roles/${a.id}/implies/nope`, { token: admin() });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.message, 'Could not find role: nope.');
    const unknownPrior = await c.request('GET', '/v3/roles/nope/implies', { token: admin() });
    assert.equal(unknownPrior.status, 404);
    const list = await c.request('GET', `/v3/roles/${b.id}/implies`, { token: admin() });
    assert.deepEqual(list.body.role_inference.implies, [], 'the refused rule was not stored');
  });

  it('puts implied roles in tokens, and deleting a role removes its assignments and implications', async () => {
    const prior = await createRole({ name: uniqueName('boss') });
    const implied = await createRole({ name: uniqueName('worker') });
    await c.request('PUT', `/v3/roles/${prior.id}/implies/${implied.id}`, { token: admin() });
    const project = await c.makeProject();
    const u = await c.makeUser({ projectId: project });
    const grant = await c.request('PUT', `/v3/projects/${project}/users/${u.id}/roles/${prior.id}`, {
      token: admin(),
    });
    assert.equal(grant.status, 204);
    const token = await c.login({ userId: u.id, password: u.password, projectId: project });
    const v = await validate(token);
    const names = v.body.token.roles.map((r: { name: string }) => r.name);
    assert.ok(names.includes(prior.name) && names.includes(implied.name), names.join(','));

    assert.equal((await c.request('DELETE', `/v3/roles/${prior.id}`, { token: admin() })).status, 204);
    const after = await validate(token);
    assert.equal(after.status, 200, 'the user still holds member on the project');
    const afterNames = after.body.token.roles.map((r: { name: string }) => r.name);
    assert.ok(!afterNames.includes(prior.name) && !afterNames.includes(implied.name), afterNames.join(','));
    const left = await c.request('GET', `/v3/role_assignments?role.id=${prior.id}`, { token: admin() });
    assert.deepEqual(left.body.role_assignments, []);
    const inferences = await c.request('GET', '/v3/role_inferences', { token: admin() });
    assert.ok(
      !inferences.body.role_inferences.some(
        (x: { prior_role: { id: string } }) => x.prior_role.id === prior.id,
      ),
    );
  });

  it('enforces policy: admins manage roles, members and readers may not', async () => {
    const r = await createRole({ name: uniqueName('pol') });
    const other = await c.makeUser();
    for (const who of [member, reader, other]) {
      const create = await c.request('POST', '/v3/roles', {
        token: who.token,
        body: { role: { name: uniqueName('x') } },
      });
      assert.equal(create.status, 403, create.text);
      assert.equal(
        create.body.error.message,
        'You are not authorized to perform the requested action: identity:create_role.',
      );
      const createDomain = await c.request('POST', '/v3/roles', {
        token: who.token,
        body: { role: { name: uniqueName('x'), domain_id: 'default' } },
      });
      assert.equal(
        createDomain.body.error.message,
        'You are not authorized to perform the requested action: identity:create_domain_role.',
      );
      assert.equal((await c.request('GET', '/v3/roles', { token: who.token })).status, 403);
      const unknown = await c.request('GET', '/v3/roles/nope', { token: who.token });
      assert.equal(unknown.status, 403, 'policy is enforced before an unknown role is reported');
      assert.equal(
        (await c.request('PATCH', `/v3/roles/${r.id}`, { token: who.token, body: { role: { name: 'y' } } }))
          .status,
        403,
      );
      assert.equal((await c.request('DELETE', `/v3/roles/${r.id}`, { token: who.token })).status, 403);
      assert.equal(
        (await c.request('PUT', `/v3/roles/${r.id}/implies/${r.id}`, { token: who.token })).status,
        403,
      );
      assert.equal((await c.request('GET', '/v3/role_inferences', { token: who.token })).status, 403);
    }
    assert.equal((await c.request('GET', '/v3/roles')).status, 401);
    assert.equal(
      (await c.request('GET', `/v3/roles/${r.id}`, { token: admin() })).body.role.name,
      r.name,
      'nothing changed',
    );
  });
});
