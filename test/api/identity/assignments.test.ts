// Role grants (projects, domains, system, OS-INHERIT) and /v3/role_assignments through the real handlers:
// effective, inherited and implied expansion, immediate token effect, the last-admin guard and policy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';

// biome-ignore lint/suspicious/noExplicitAny: assignment entries are arbitrary JSON.
type Entry = any;

/** Helpers that create domains and child projects through the API, or directly before those APIs exist. */
function fixtures(c: TestCloud) {
  const ix = () => c.cloud.identity.context;
  const makeDomain = async (): Promise<string> => {
    const name = uniqueName('domain');
    const res = await c.request('POST', '/v3/domains', { token: c.adminToken, body: { domain: { name } } });
    if (res.status === 201) return res.body.domain.id as string;
    assert.equal(res.status, 404, res.text);
    const id = ix().ids.hexId();
    await ix().write(async (trx) => {
      await trx
        .insertInto('identity_domains')
        .values({ id, name, description: '', enabled: 1, extra: '{}', created_at: new Date().toISOString() })
        .execute();
    });
    return id;
  };
  const makeProject = async (domainId: string, parentId?: string): Promise<string> => {
    const name = uniqueName('project');
    const body = { project: { name, domain_id: domainId, ...(parentId ? { parent_id: parentId } : {}) } };
    const res = await c.request('POST', '/v3/projects', { token: c.adminToken, body });
    if (res.status === 201) return res.body.project.id as string;
    assert.equal(res.status, 404, res.text);
    const id = ix().ids.hexId();
    await ix().write(async (trx) => {
      await trx
        .insertInto('identity_projects')
        .values({
          id,
          name,
          domain_id: domainId,
          parent_id: parentId ?? null,
          description: '',
          enabled: 1,
          extra: '{}',
          created_at: new Date().toISOString(),
        })
        .execute();
    });
    return id;
  };
  const makeGroup = async (domainId = 'default'): Promise<string> => {
    const res = await c.request('POST', '/v3/groups', {
      token: c.adminToken,
      body: { group: { name: uniqueName('group'), domain_id: domainId } },
    });
    assert.equal(res.status, 201, res.text);
    return res.body.group.id as string;
  };
  const makeRole = async (role: Record<string, unknown>): Promise<string> => {
    const res = await c.request('POST', '/v3/roles', { token: c.adminToken, body: { role } });
    assert.equal(res.status, 201, res.text);
    return res.body.role.id as string;
  };
  const validate = (subject: string) =>
    c.request('GET', '/v3/auth/tokens', { token: c.adminToken, headers: { 'x-subject-token': subject } });
  const assignments = async (query: string): Promise<Entry[]> => {
    const res = await c.request('GET', `/v3/role_assignments${query ? `?${query}` : ''}`, {
      token: c.adminToken,
    });
    assert.equal(res.status, 200, res.text);
    return res.body.role_assignments as Entry[];
  };
  return { makeDomain, makeProject, makeGroup, makeRole, validate, assignments };
}

describe('identity grants and role assignments', () => {
  let c: TestCloud;
  let f: ReturnType<typeof fixtures>;
  let base: string;
  let member: string;
  let reader: string;

  before(async () => {
    c = await startTestCloud();
    f = fixtures(c);
    member = await c.roleId('member');
    reader = await c.roleId('reader');
    const me = await c.request('GET', `/v3/roles/${member}`, { token: c.adminToken });
    base = String(me.body.role.links.self).replace(/\/v3\/roles\/.*$/, '');
  });
  after(async () => {
    await c.close();
  });

  const admin = () => c.adminToken;

  it('grants, checks, lists and revokes a user role on a project', async () => {
    const project = await f.makeProject('default');
    const u = await c.makeUser();
    const path = `/v3/projects/${project}/users/${u.id}/roles/${reader}`;
    const missing = await c.request('GET', path, { token: admin() });
    assert.equal(missing.status, 404);
    assert.equal(
      missing.body.error.message,
      `Could not find role assignment with role: ${reader}, user or group: ${u.id}, project, domain, or system: ${project}.`,
    );
    assert.equal((await c.request('HEAD', path, { token: admin() })).status, 404);

    assert.equal((await c.request('PUT', path, { token: admin() })).status, 204);
    assert.equal((await c.request('PUT', path, { token: admin() })).status, 204, 'granting twice is silent');
    assert.equal((await c.request('HEAD', path, { token: admin() })).status, 204);
    assert.equal((await c.request('GET', path, { token: admin() })).status, 204);

    const list = await c.request('GET', `/v3/projects/${project}/users/${u.id}/roles`, { token: admin() });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.roles.map((r: { id: string; name: string }) => [r.id, r.name]),
      [[reader, 'reader']],
    );
    assert.equal(list.body.links.self, `${base}/v3/projects/${project}/users/${u.id}/roles`);

    const entries = await f.assignments(`user.id=${u.id}&scope.project.id=${project}`);
    assert.deepEqual(entries, [
      {
        links: { assignment: `${base}/v3/projects/${project}/users/${u.id}/roles/${reader}` },
        scope: { project: { id: project } },
        user: { id: u.id },
        role: { id: reader },
      },
    ]);

    const token = await c.login({ userId: u.id, password: u.password, projectId: project });
    assert.equal((await f.validate(token)).status, 200);
    assert.equal((await c.request('DELETE', path, { token: admin() })).status, 204);
    // Token validation recomputes roles: the token for that project stops working at once.
    const v = await f.validate(token);
    assert.equal(v.status, 404);
    assert.equal(v.body.error.message, `Could not find token: ${token}.`);
    await assert.rejects(c.login({ userId: u.id, password: u.password, projectId: project }), /401/);
    const again = await c.request('DELETE', path, { token: admin() });
    assert.equal(again.status, 404);
    assert.match(again.body.error.message, /^Could not find role assignment with role: /);
    assert.equal((await c.request('HEAD', path, { token: admin() })).status, 404);
  });

  it("answers Keystone's 404s for unknown roles, actors and targets, storing nothing", async () => {
    const project = await f.makeProject('default');
    const u = await c.makeUser();
    const g = await f.makeGroup();
    const cases: [string, string][] = [
      [`/v3/projects/${project}/users/${u.id}/roles/nope`, 'Could not find role: nope.'],
      [`/v3/projects/${project}/users/nope/roles/${reader}`, 'Could not find user: nope.'],
      [`/v3/projects/nope/users/${u.id}/roles/${reader}`, 'Could not find project: nope.'],
      [`/v3/projects/${project}/groups/nope/roles/${reader}`, 'Could not find group: nope.'],
      [`/v3/domains/nope/users/${u.id}/roles/${reader}`, 'Could not find domain: nope.'],
      [`/v3/domains/default/groups/${g}/roles/nope`, 'Could not find role: nope.'],
      [`/v3/system/users/nope/roles/${reader}`, 'Could not find user: nope.'],
      [`/v3/system/groups/${g}/roles/nope`, 'Could not find role: nope.'],
      [
        `/v3/OS-INHERIT/domains/nope/users/${u.id}/roles/${reader}/inherited_to_projects`,
        'Could not find domain: nope.',
      ],
      [
        `/v3/OS-INHERIT/domains/default/users/nope/roles/${reader}/inherited_to_projects`,
        'Could not find user: nope.',
      ],
      [
        `/v3/OS-INHERIT/projects/${project}/groups/${g}/roles/nope/inherited_to_projects`,
        'Could not find role: nope.',
      ],
    ];
    for (const [path, message] of cases) {
      const res = await c.request('PUT', path, { token: admin() });
      assert.equal(res.status, 404, `${path}: ${res.text}`);
      assert.equal(res.body.error.message, message, path);
    }
    const listMissing = await c.request('GET', `/v3/projects/nope/users/${u.id}/roles`, { token: admin() });
    assert.equal(listMissing.status, 404);
    assert.deepEqual(await f.assignments(`user.id=${u.id}&scope.project.id=${project}`), []);
    assert.deepEqual(await f.assignments(`group.id=${g}`), []);
  });

  it('grants on domains, to groups and on the system', async () => {
    const u = await c.makeUser();
    const g = await f.makeGroup();
    const project = await f.makeProject('default');
    const domainPath = `/v3/domains/default/users/${u.id}/roles/${reader}`;
    assert.equal((await c.request('PUT', domainPath, { token: admin() })).status, 204);
    assert.equal((await c.request('HEAD', domainPath, { token: admin() })).status, 204);
    const domainList = await c.request('GET', `/v3/domains/default/users/${u.id}/roles`, { token: admin() });
    assert.deepEqual(
      domainList.body.roles.map((r: { id: string }) => r.id),
      [reader],
    );
    assert.ok(
      await c.login({ userId: u.id, password: u.password, domainId: 'default' }),
      'a domain-scoped token',
    );
    assert.deepEqual(await f.assignments(`user.id=${u.id}&scope.domain.id=default`), [
      {
        links: { assignment: `${base}/v3/domains/default/users/${u.id}/roles/${reader}` },
        scope: { domain: { id: 'default' } },
        user: { id: u.id },
        role: { id: reader },
      },
    ]);

    assert.equal(
      (await c.request('PUT', `/v3/projects/${project}/groups/${g}/roles/${member}`, { token: admin() }))
        .status,
      204,
    );
    assert.equal(
      (await c.request('PUT', `/v3/domains/default/groups/${g}/roles/${reader}`, { token: admin() })).status,
      204,
    );
    const groupProjectList = await c.request('GET', `/v3/projects/${project}/groups/${g}/roles`, {
      token: admin(),
    });
    assert.deepEqual(
      groupProjectList.body.roles.map((r: { id: string }) => r.id),
      [member],
    );
    const groupEntries = await f.assignments(`group.id=${g}`);
    assert.equal(groupEntries.length, 2);
    assert.ok(
      groupEntries.some(
        (e) =>
          e.group.id === g &&
          e.scope.project?.id === project &&
          e.links.assignment === `${base}/v3/projects/${project}/groups/${g}/roles/${member}`,
      ),
    );

    const sysPath = `/v3/system/users/${u.id}/roles/${reader}`;
    assert.equal((await c.request('GET', sysPath, { token: admin() })).status, 404);
    const sysMissing = await c.request('GET', sysPath, { token: admin() });
    assert.equal(
      sysMissing.body.error.message,
      `Could not find role assignment with role: ${reader}, user or group: ${u.id}, project, domain, or system: system.`,
    );
    assert.equal((await c.request('PUT', sysPath, { token: admin() })).status, 204);
    assert.equal((await c.request('HEAD', sysPath, { token: admin() })).status, 204);
    const sysList = await c.request('GET', `/v3/system/users/${u.id}/roles`, { token: admin() });
    assert.deepEqual(
      sysList.body.roles.map((r: { id: string }) => r.id),
      [reader],
    );
    assert.ok(await c.login({ userId: u.id, password: u.password, system: true }), 'a system-scoped token');
    const sysEntries = await f.assignments(`user.id=${u.id}&scope.system=all`);
    assert.deepEqual(sysEntries, [
      {
        links: { assignment: `${base}/v3/system/users/${u.id}/roles/${reader}` },
        scope: { system: { all: true } },
        user: { id: u.id },
        role: { id: reader },
      },
    ]);
    const allOfUser = await f.assignments(`user.id=${u.id}`);
    assert.equal(allOfUser.length, 3, 'the domain, the system and the project (from makeUser) grants');
    assert.equal((await c.request('DELETE', sysPath, { token: admin() })).status, 204);
    assert.equal(
      (await c.request('PUT', `/v3/system/groups/${g}/roles/${reader}`, { token: admin() })).status,
      204,
    );
    assert.equal(
      (await c.request('GET', `/v3/system/groups/${g}/roles/${reader}`, { token: admin() })).status,
      204,
    );
    assert.equal(
      (await c.request('DELETE', `/v3/system/groups/${g}/roles/${reader}`, { token: admin() })).status,
      204,
    );
    assert.equal(
      (await c.request('DELETE', `/v3/domains/default/users/${u.id}/roles/${reader}`, { token: admin() }))
        .status,
      204,
    );
    await assert.rejects(c.login({ userId: u.id, password: u.password, domainId: 'default' }), /401/);
  });

  it('assigns a domain-specific role only within its domain, and infers through it', async () => {
    const other = await f.makeDomain();
    const here = await f.makeProject('default');
    const there = await f.makeProject(other);
    const u = await c.makeUser();
    const dsr = await f.makeRole({ name: uniqueName('dsr'), domain_id: 'default' });
    const mismatch = await c.request('PUT', `/v3/projects/${there}/users/${u.id}/roles/${dsr}`, {
      token: admin(),
    });
    assert.equal(mismatch.status, 403);
    assert.equal(
      mismatch.body.error.message,
      `Project ${there} must be in the same domain as the role ${dsr} being assigned.`,
    );
    const otherDomain = await c.request('PUT', `/v3/domains/${other}/users/${u.id}/roles/${dsr}`, {
      token: admin(),
    });
    assert.equal(otherDomain.status, 403);
    const system = await c.request('PUT', `/v3/system/users/${u.id}/roles/${dsr}`, { token: admin() });
    assert.equal(system.status, 400);
    assert.equal(
      system.body.error.message,
      `Role ${dsr} is a domain-specific role. Unable to use a domain-specific role in a system assignment.`,
    );

    assert.equal(
      (await c.request('PUT', `/v3/roles/${dsr}/implies/${reader}`, { token: admin() })).status,
      201,
    );
    assert.equal(
      (await c.request('PUT', `/v3/projects/${here}/users/${u.id}/roles/${dsr}`, { token: admin() })).status,
      204,
    );
    const direct = await f.assignments(`user.id=${u.id}&scope.project.id=${here}`);
    assert.deepEqual(
      direct.map((e) => e.role.id),
      [dsr],
      'the direct listing shows the domain role',
    );
    const effective = await f.assignments(`user.id=${u.id}&scope.project.id=${here}&effective`);
    assert.deepEqual(effective, [
      {
        links: {
          assignment: `${base}/v3/projects/${here}/users/${u.id}/roles/${dsr}`,
          prior_role: `${base}/v3/prior_role/${reader}/implies/${dsr}`,
        },
        scope: { project: { id: here } },
        user: { id: u.id },
        role: { id: reader },
      },
    ]);
    const token = await c.login({ userId: u.id, password: u.password, projectId: here });
    const v = await f.validate(token);
    assert.ok(v.body.token.roles.some((r: { name: string }) => r.name === 'reader'));
  });

  it('expands OS-INHERIT grants from a domain and from a parent project', async () => {
    const domain = await f.makeDomain();
    const parent = await f.makeProject(domain);
    const child = await f.makeProject(domain, parent);
    const u = await c.makeUser();
    const inheritPath = `/v3/OS-INHERIT/domains/${domain}/users/${u.id}/roles/${member}/inherited_to_projects`;
    assert.equal((await c.request('HEAD', inheritPath, { token: admin() })).status, 404);
    assert.equal((await c.request('PUT', inheritPath, { token: admin() })).status, 204, 'created');
    assert.equal((await c.request('HEAD', inheritPath, { token: admin() })).status, 204);
    assert.equal((await c.request('GET', inheritPath, { token: admin() })).status, 204);
    const inheritedList = await c.request(
      'GET',
      `/v3/OS-INHERIT/domains/${domain}/users/${u.id}/roles/inherited_to_projects`,
      { token: admin() },
    );
    assert.equal(inheritedList.status, 200);
    assert.deepEqual(
      inheritedList.body.roles.map((r: { id: string }) => r.id),
      [member],
    );
    const directList = await c.request('GET', `/v3/domains/${domain}/users/${u.id}/roles`, {
      token: admin(),
    });
    assert.deepEqual(directList.body.roles, [], 'an inherited grant is not a grant on the domain itself');

    assert.ok(
      await c.login({ userId: u.id, password: u.password, projectId: child }),
      'inherited onto the child',
    );
    await assert.rejects(c.login({ userId: u.id, password: u.password, domainId: domain }), /401/);

    const domainEntry = {
      links: {
        assignment: `${base}/v3/OS-INHERIT/domains/${domain}/users/${u.id}/roles/${member}/inherited_to_projects`,
      },
      scope: { domain: { id: domain }, 'OS-INHERIT:inherited_to': 'projects' },
      user: { id: u.id },
      role: { id: member },
    };
    assert.deepEqual(await f.assignments(`user.id=${u.id}&scope.domain.id=${domain}`), [domainEntry]);
    assert.deepEqual(await f.assignments(`user.id=${u.id}&scope.OS-INHERIT:inherited_to=projects`), [
      domainEntry,
    ]);

    const effective = await f.assignments(`user.id=${u.id}&effective`);
    const onTree = effective.filter((e) => e.scope.project && [parent, child].includes(e.scope.project.id));
    assert.deepEqual(
      onTree.map((e) => [e.scope.project.id, e.role.id]).sort(),
      [
        [child, member],
        [child, reader],
        [parent, member],
        [parent, reader],
      ].sort(),
    );
    for (const e of onTree) {
      assert.equal(e.scope['OS-INHERIT:inherited_to'], 'projects');
      assert.equal(
        e.links.assignment,
        `${base}/v3/OS-INHERIT/domains/${domain}/users/${u.id}/roles/${member}/inherited_to_projects`,
      );
      if (e.role.id === reader)
        assert.equal(e.links.prior_role, `${base}/v3/prior_role/${reader}/implies/${member}`);
    }
    assert.ok(
      !effective.some((e) => e.scope.domain),
      'inherited domain grants never show on the domain when effective',
    );

    // A grant inherited from a project applies to its subtree, not to the project itself.
    const u2 = await c.makeUser();
    const projPath = `/v3/OS-INHERIT/projects/${parent}/users/${u2.id}/roles/${member}/inherited_to_projects`;
    assert.equal((await c.request('PUT', projPath, { token: admin() })).status, 204);
    const childToken = await c.login({ userId: u2.id, password: u2.password, projectId: child });
    await assert.rejects(c.login({ userId: u2.id, password: u2.password, projectId: parent }), /401/);
    const onChild = await f.assignments(`user.id=${u2.id}&scope.project.id=${child}&effective`);
    assert.deepEqual(onChild.map((e) => e.role.id).sort(), [member, reader].sort());
    assert.equal(
      onChild.find((e) => e.role.id === member).links.assignment,
      `${base}/v3/OS-INHERIT/projects/${parent}/users/${u2.id}/roles/${member}/inherited_to_projects`,
    );
    assert.deepEqual(await f.assignments(`user.id=${u2.id}&scope.project.id=${parent}&effective`), []);
    assert.equal((await c.request('DELETE', projPath, { token: admin() })).status, 204);
    assert.equal(
      (await f.validate(childToken)).status,
      404,
      'revoking the inherited grant ends the child token',
    );
  });

  it('lists assignments with filters, names, group expansion and subtrees', async () => {
    const domain = await f.makeDomain();
    const parent = await f.makeProject(domain);
    const child = await f.makeProject(domain, parent);
    const g = await f.makeGroup();
    const u1 = await c.makeUser();
    const u2 = await c.makeUser();
    for (const u of [u1, u2]) await c.request('PUT', `/v3/groups/${g}/users/${u.id}`, { token: admin() });
    assert.equal(
      (await c.request('PUT', `/v3/projects/${parent}/groups/${g}/roles/${member}`, { token: admin() }))
        .status,
      204,
    );
    assert.equal(
      (await c.request('PUT', `/v3/projects/${child}/users/${u1.id}/roles/${reader}`, { token: admin() }))
        .status,
      204,
    );

    const direct = await f.assignments(`scope.project.id=${parent}`);
    assert.deepEqual(direct, [
      {
        links: { assignment: `${base}/v3/projects/${parent}/groups/${g}/roles/${member}` },
        scope: { project: { id: parent } },
        group: { id: g },
        role: { id: member },
      },
    ]);

    const effective = await f.assignments(`scope.project.id=${parent}&effective`);
    const memberEntries = effective.filter((e) => e.role.id === member);
    assert.deepEqual(memberEntries.map((e) => e.user.id).sort(), [u1.id, u2.id].sort());
    for (const e of memberEntries) {
      assert.equal(e.links.membership, `${base}/v3/groups/${g}/users/${e.user.id}`);
      assert.equal(e.links.assignment, `${base}/v3/projects/${parent}/groups/${g}/roles/${member}`);
    }
    assert.equal(
      effective.filter((e) => e.role.id === reader).length,
      2,
      'member implies reader for each user',
    );
    assert.ok(!effective.some((e) => e.group), 'no group entries when effective');
    const onlyReader = await f.assignments(`scope.project.id=${parent}&effective&role.id=${reader}`);
    assert.equal(onlyReader.length, 2);

    const mine = await f.assignments(`user.id=${u1.id}&effective`);
    assert.ok(mine.some((e) => e.scope.project?.id === parent && e.role.id === member && e.links.membership));
    assert.ok(mine.some((e) => e.scope.project?.id === child && e.role.id === reader && !e.links.membership));

    const named = await f.assignments(`user.id=${u1.id}&scope.project.id=${child}&include_names`);
    assert.equal(named.length, 1);
    assert.equal(named[0].user.name, u1.name);
    assert.deepEqual(named[0].user.domain, { id: 'default', name: 'Default' });
    assert.equal(named[0].scope.project.id, child);
    assert.equal(named[0].scope.project.domain.id, domain);
    assert.equal(typeof named[0].scope.project.name, 'string');
    assert.deepEqual(named[0].role, { id: reader, name: 'reader' });
    const namedGroup = await f.assignments(`group.id=${g}&include_names=1`);
    assert.equal(namedGroup[0].group.domain.name, 'Default');

    const tree = await f.assignments(`scope.project.id=${parent}&include_subtree=true`);
    assert.deepEqual(tree.map((e) => e.scope.project.id).sort(), [child, parent].sort());
    const noSubtree = await f.assignments(`scope.project.id=${parent}&include_subtree=0`);
    assert.equal(noSubtree.length, 1, 'include_subtree=0 is false');
  });

  it("rejects filter combinations with Keystone's messages", async () => {
    const cases: [string, string][] = [
      ['scope.domain.id=a&scope.project.id=b', 'Specify a domain or project, not both'],
      ['scope.domain.id=a&scope.system=all', 'Specify system or domain, not both'],
      ['scope.project.id=a&scope.system=all', 'Specify system or project, not both'],
      ['user.id=a&group.id=b', 'Specify a user or group, not both'],
      ['effective&group.id=b', 'Combining effective and group filter will always result in an empty list.'],
      [
        'effective&scope.domain.id=default&scope.OS-INHERIT:inherited_to=projects',
        'Combining effective, domain and inherited filters will always result in an empty list.',
      ],
      ['include_subtree=true', 'scope.project.id must be specified if include_subtree is also specified'],
    ];
    for (const [query, message] of cases) {
      const res = await c.request('GET', `/v3/role_assignments?${query}`, { token: admin() });
      assert.equal(res.status, 400, query);
      assert.equal(res.body.error.message, message, query);
    }
    const unknownTree = await c.request('GET', '/v3/role_assignments?scope.project.id=nope&include_subtree', {
      token: admin(),
    });
    assert.equal(unknownTree.status, 404);
    assert.equal(unknownTree.body.error.message, 'Could not find project: nope.');
  });

  it('enforces policy on grants and listings: admin only, by default', async () => {
    const project = await f.makeProject('default');
    const memberUser = await c.makeUser({ projectId: project });
    const readerUser = await c.makeUser({ projectId: project, role: 'reader' });
    const outsider = await c.makeUser();
    const otherAdmin = await c.makeUser({ role: 'admin' });
    const target = await c.makeUser();
    const grant = `/v3/projects/${project}/users/${target.id}/roles/${reader}`;
    const matrix: [string, TestUser | 'admin', number][] = [
      ['admin', 'admin', 204],
      // Keystone's legacy default: admin on any project is a cloud admin.
      ['admin of another project', otherAdmin, 204],
      ['member', memberUser, 403],
      ['reader', readerUser, 403],
      ['user of another project', outsider, 403],
    ];
    for (const [label, who, expected] of matrix) {
      const token = who === 'admin' ? admin() : who.token;
      const put = await c.request('PUT', grant, { token });
      assert.equal(put.status, expected, `${label}: PUT grant`);
      const check = await c.request('HEAD', grant, { token });
      assert.equal(check.status, expected === 204 ? 204 : 403, `${label}: HEAD grant`);
      const list = await c.request('GET', `/v3/projects/${project}/users/${target.id}/roles`, { token });
      assert.equal(list.status, expected === 204 ? 200 : 403, `${label}: list grants`);
      const listAll = await c.request('GET', '/v3/role_assignments', { token });
      assert.equal(listAll.status, expected === 204 ? 200 : 403, `${label}: list role assignments`);
      const self = who === 'admin' ? c.adminUserId : who.id;
      const own = await c.request('GET', `/v3/role_assignments?user.id=${self}`, { token });
      assert.equal(own.status, expected === 204 ? 200 : 403, `${label}: list own role assignments`);
      const sys = await c.request('PUT', `/v3/system/users/${target.id}/roles/${reader}`, { token });
      assert.equal(sys.status, expected, `${label}: PUT system grant`);
      const del = await c.request('DELETE', grant, { token });
      assert.equal(del.status, expected, `${label}: DELETE grant`);
      if (expected !== 204) {
        assert.equal(
          put.body.error.message,
          'You are not authorized to perform the requested action: identity:create_grant.',
        );
        assert.equal(
          listAll.body.error.message,
          'You are not authorized to perform the requested action: identity:list_role_assignments.',
        );
      } else {
        await c.request('DELETE', `/v3/system/users/${target.id}/roles/${reader}`, { token: admin() });
      }
    }
    assert.equal((await c.request('GET', '/v3/role_assignments')).status, 401);
    assert.equal((await c.request('PUT', grant)).status, 401);
    assert.deepEqual(
      await f.assignments(`user.id=${target.id}&scope.system=all`),
      [],
      'refused grants were not stored',
    );
  });
});

describe('the last admin', () => {
  let c: TestCloud;
  let f: ReturnType<typeof fixtures>;

  before(async () => {
    c = await startTestCloud();
    f = fixtures(c);
  });
  after(async () => {
    await c.close();
  });

  it('cannot be removed, by any route, while no other user holds admin', async () => {
    const token = c.adminToken;
    const adminRole = await c.roleId('admin');
    // Reduce the bootstrap cloud to one admin assignment: the admin user's admin role on the admin project.
    for (const e of await f.assignments(`role.id=${adminRole}`)) {
      if (e.user?.id === c.adminUserId && e.scope.project?.id === c.adminProjectId) continue;
      const path = e.scope.system
        ? `/v3/system/users/${e.user.id}/roles/${adminRole}`
        : `/v3/projects/${e.scope.project.id}/users/${e.user.id}/roles/${adminRole}`;
      assert.equal((await c.request('DELETE', path, { token })).status, 204, path);
    }
    const last = `/v3/projects/${c.adminProjectId}/users/${c.adminUserId}/roles/${adminRole}`;
    const refused = await c.request('DELETE', last, { token });
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.body.error.message, /^Refusing to remove the last admin role assignment/);
    assert.equal((await c.request('HEAD', last, { token })).status, 204, 'the assignment is still there');
    assert.equal((await f.validate(token)).status, 200, 'and the admin token still works');

    // Holding admin through a group instead: the direct grant may go, the membership and the group may not.
    const g = await f.makeGroup();
    assert.equal((await c.request('PUT', `/v3/groups/${g}/users/${c.adminUserId}`, { token })).status, 204);
    assert.equal(
      (await c.request('PUT', `/v3/projects/${c.adminProjectId}/groups/${g}/roles/${adminRole}`, { token }))
        .status,
      204,
    );
    assert.equal((await c.request('DELETE', last, { token })).status, 204);
    assert.equal(
      (await c.request('DELETE', `/v3/groups/${g}/users/${c.adminUserId}`, { token })).status,
      403,
    );
    const token2 = await c.login({
      username: 'admin',
      password: c.adminPassword,
      projectId: c.adminProjectId,
    });
    assert.equal((await c.request('DELETE', `/v3/groups/${g}`, { token: token2 })).status, 403);
    assert.equal(
      (
        await c.request('DELETE', `/v3/projects/${c.adminProjectId}/groups/${g}/roles/${adminRole}`, {
          token: token2,
        })
      ).status,
      403,
    );
    const delRole = await c.request('DELETE', `/v3/roles/${adminRole}`, { token: token2 });
    assert.equal(delRole.status, 403);
    assert.match(delRole.body.error.message, /^Refusing to remove the last admin role assignment/);

    // Once someone else is an admin, the change is allowed.
    const other = await c.makeUser({ role: 'admin' });
    assert.equal(
      (
        await c.request('DELETE', `/v3/projects/${c.adminProjectId}/groups/${g}/roles/${adminRole}`, {
          token: token2,
        })
      ).status,
      204,
    );
    const v = await c.request('GET', '/v3/auth/tokens', {
      token: other.token,
      headers: { 'x-subject-token': token2 },
    });
    assert.equal(v.status, 404, 'the former admin token is no longer valid');
  });
});
