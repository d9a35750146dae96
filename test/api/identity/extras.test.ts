// /v3/policies, /v3/OS-OAUTH1/consumers, /v3/OS-EP-FILTER and /v3/domains/{id}/config: Keystone's behaviour,
// messages and default policy.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';

let tc: TestCloud;
let member: TestUser;
let reader: TestUser;
/** scheme://host[:port] as the server sees the test requests. */
let BASE = '';

before(async () => {
  tc = await startTestCloud();
  const project = await tc.makeProject(uniqueName('p'));
  member = await tc.makeUser({ projectId: project, role: 'member' });
  reader = await tc.makeUser({ projectId: project, role: 'reader' });
  const self = (await tc.request('GET', '/v3/policies', { token: tc.adminToken })).body.links.self as string;
  BASE = self.replace(/\/v3\/policies$/, '');
});
after(async () => {
  await tc.close();
});

const admin = () => tc.adminToken;

const TABLES = [
  'identity_policies',
  'identity_oauth_consumers',
  'identity_endpoint_groups',
  'identity_project_endpoint_groups',
  'identity_project_endpoints',
  'identity_domain_configs',
] as const;

async function snapshot(): Promise<string> {
  const db = tc.cloud.database.db;
  const out: Record<string, unknown> = {};
  for (const t of TABLES) {
    out[t] = ((await db.selectFrom(t).selectAll().execute()) as unknown[])
      .map((r) => JSON.stringify(r))
      .sort();
  }
  return JSON.stringify(out);
}

function expectError(
  res: { status: number; body: { error?: { code: number; message: string } } },
  status: number,
  message?: string | RegExp,
) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error?.code, status);
  if (typeof message === 'string') assert.equal(res.body.error?.message, message);
  else if (message) assert.match(res.body.error?.message ?? '', message);
}

const req = (method: string, path: string, body?: unknown, token = admin()) =>
  tc.request(method, path, body === undefined ? { token } : { token, body });

async function created(
  method: string,
  path: string,
  body: unknown,
  key: string,
): Promise<Record<string, unknown>> {
  const res = await req(method, path, body);
  assert.equal(res.status, 201, res.text);
  return res.body[key];
}

// ---- policies

describe('policies', () => {
  test('create, show, list with a type filter, update, delete', async () => {
    const type = uniqueName('application/json');
    const p = await created(
      'POST',
      '/v3/policies',
      { policy: { blob: '{"a": 1}', type, 'x-extra': 'e' } },
      'policy',
    );
    assert.match(p['id'] as string, /^[0-9a-f]{32}$/);
    assert.equal(p['blob'], '{"a": 1}');
    assert.equal(p['type'], type);
    assert.equal(p['x_extra'], 'e');
    assert.equal((p['links'] as { self: string }).self, `${BASE}/v3/policies/${p['id']}`);
    const got = await req('GET', `/v3/policies/${p['id']}`);
    assert.deepEqual(got.body.policy, p);
    await created('POST', '/v3/policies', { policy: { blob: 'b', type: 'other' } }, 'policy');
    const listed = await req('GET', `/v3/policies?type=${encodeURIComponent(type)}`);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.policies, [p]);
    assert.match(listed.body.links.self, /\/v3\/policies\?type=/);
    const upd = await req('PATCH', `/v3/policies/${p['id']}`, {
      policy: { type: 'new', id: p['id'], more: 2 },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.policy.type, 'new');
    assert.equal(upd.body.policy.blob, '{"a": 1}');
    assert.equal(upd.body.policy.x_extra, 'e');
    assert.equal(upd.body.policy.more, 2);
    assert.equal((await req('GET', `/v3/policies/${p['id']}`)).body.policy.type, 'new');
    assert.equal((await req('DELETE', `/v3/policies/${p['id']}`)).status, 204);
    expectError(await req('GET', `/v3/policies/${p['id']}`), 404, `Could not find policy: ${p['id']}.`);
  });

  test('refusals; nothing stored', async () => {
    const p = await created('POST', '/v3/policies', { policy: { blob: 'b', type: 't' } }, 'policy');
    const before = await snapshot();
    expectError(await req('POST', '/v3/policies', {}), 400, "'blob' is a required property");
    expectError(
      await req('POST', '/v3/policies', { policy: { blob: 'b' } }),
      400,
      "'type' is a required property",
    );
    expectError(
      await req('POST', '/v3/policies', { policy: { blob: {}, type: 't' } }),
      400,
      "Invalid input for field 'blob': {} is not of type 'string'",
    );
    expectError(
      await req('POST', '/v3/policies', { policy: { blob: 'b', type: 't'.repeat(256) } }),
      400,
      /^Invalid input for field 'type': .* is too long$/,
    );
    expectError(await req('POST', '/v3/policies', { policy: null }), 400, "None is not of type 'object'");
    expectError(
      await req('PATCH', `/v3/policies/${p['id']}`, { policy: {} }),
      400,
      '{} does not have enough properties',
    );
    expectError(
      await req('PATCH', `/v3/policies/${p['id']}`, { policy: { id: 'x' } }),
      400,
      'Cannot change policy ID',
    );
    expectError(
      await req('PATCH', '/v3/policies/nope', { policy: { type: 'x' } }),
      404,
      'Could not find policy: nope.',
    );
    expectError(await req('DELETE', '/v3/policies/nope'), 404, 'Could not find policy: nope.');
    assert.equal(await snapshot(), before);
  });
});

// ---- OAuth1 consumers

describe('OAuth1 consumers', () => {
  test('the secret is shown once and stored hashed; show, list, update, delete', async () => {
    const c = await created(
      'POST',
      '/v3/OS-OAUTH1/consumers',
      { consumer: { description: 'd', 'a-b': 1 } },
      'consumer',
    );
    const secret = c['secret'] as string;
    assert.match(secret, /^[0-9a-f]{32}$/);
    assert.equal(c['description'], 'd');
    assert.equal(c['a_b'], 1);
    assert.equal((c['links'] as { self: string }).self, `${BASE}/v3/OS-OAUTH1/consumers/${c['id']}`);
    const row = await tc.cloud.database.db
      .selectFrom('identity_oauth_consumers')
      .selectAll()
      .where('id', '=', c['id'] as string)
      .executeTakeFirstOrThrow();
    assert.notEqual(row.secret_hash, secret);
    assert.ok(await tc.cloud.identity.context.passwords.verify(secret, row.secret_hash));
    const { secret: _s, ...shown } = c;
    const got = await req('GET', `/v3/OS-OAUTH1/consumers/${c['id']}`);
    assert.deepEqual(got.body.consumer, shown);
    const list = await req('GET', '/v3/OS-OAUTH1/consumers');
    assert.deepEqual(
      list.body.consumers.find((x: { id: string }) => x.id === c['id']),
      shown,
    );
    assert.ok(list.body.consumers.every((x: Record<string, unknown>) => !('secret' in x)));
    const bare = await created('POST', '/v3/OS-OAUTH1/consumers', {}, 'consumer');
    assert.equal(bare['description'], null);
    const upd = await req('PATCH', `/v3/OS-OAUTH1/consumers/${c['id']}`, {
      consumer: { description: 'new' },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.consumer.description, 'new');
    assert.equal(upd.body.consumer.secret, undefined);
    assert.equal((await req('DELETE', `/v3/OS-OAUTH1/consumers/${c['id']}`)).status, 204);
    expectError(await req('GET', `/v3/OS-OAUTH1/consumers/${c['id']}`), 404, 'Consumer not found');
  });

  test('refusals; nothing stored', async () => {
    const c = await created(
      'POST',
      '/v3/OS-OAUTH1/consumers',
      { consumer: { description: 'd' } },
      'consumer',
    );
    const path = `/v3/OS-OAUTH1/consumers/${c['id']}`;
    const before = await snapshot();
    expectError(
      await req('POST', '/v3/OS-OAUTH1/consumers', { consumer: { description: 5 } }),
      400,
      "Invalid input for field 'description': 5 is not of type 'string', 'null'",
    );
    expectError(
      await req('PATCH', path, { consumer: { secret: 'x', description: 'd' } }),
      400,
      "{'secret': 'x', 'description': 'd'} should not be valid under {'required': ['secret']}",
    );
    expectError(await req('PATCH', path, { consumer: {} }), 400, '{} does not have enough properties');
    expectError(await req('PATCH', path, { consumer: { id: 'other' } }), 400, 'Cannot change ID');
    expectError(
      await req('PATCH', '/v3/OS-OAUTH1/consumers/nope', { consumer: { description: 'x' } }),
      404,
      'Consumer not found',
    );
    expectError(await req('DELETE', '/v3/OS-OAUTH1/consumers/nope'), 404, 'Consumer not found');
    assert.equal(await snapshot(), before);
  });
});

// ---- OS-EP-FILTER

async function service(): Promise<string> {
  const s = await created(
    'POST',
    '/v3/services',
    { service: { type: uniqueName('t'), name: 'svc' } },
    'service',
  );
  return s['id'] as string;
}
async function endpoint(serviceId: string, iface = 'public'): Promise<Record<string, unknown>> {
  return created(
    'POST',
    '/v3/endpoints',
    { endpoint: { service_id: serviceId, interface: iface, url: 'http://h:1/x', region_id: 'RegionOne' } },
    'endpoint',
  );
}
async function group(
  filters: Record<string, unknown>,
  name = uniqueName('epg'),
): Promise<Record<string, unknown>> {
  return created(
    'POST',
    '/v3/OS-EP-FILTER/endpoint_groups',
    { endpoint_group: { name, filters } },
    'endpoint_group',
  );
}
const EPG = '/v3/OS-EP-FILTER/endpoint_groups';

describe('endpoint groups', () => {
  test('create, list, show, HEAD, update, delete (Tempest’s flows)', async () => {
    const s1 = await service();
    const g = await created(
      'POST',
      EPG,
      { endpoint_group: { name: 'g1', description: 'd', filters: { service_id: s1 } } },
      'endpoint_group',
    );
    assert.deepEqual(Object.keys(g).sort(), ['description', 'filters', 'id', 'links', 'name']);
    assert.equal((g['links'] as { self: string }).self, `${BASE}${EPG}/${g['id']}`);
    const list = await req('GET', EPG);
    assert.ok(list.body.endpoint_groups.some((x: unknown) => JSON.stringify(x) === JSON.stringify(g)));
    assert.equal(list.body.links.self, `${BASE}${EPG}`);
    assert.deepEqual((await req('GET', `${EPG}?name=g1`)).body.endpoint_groups, [g]);
    assert.deepEqual((await req('GET', `${EPG}/${g['id']}`)).body.endpoint_group, g);
    assert.equal((await req('HEAD', `${EPG}/${g['id']}`)).status, 200);
    const s2 = await service();
    const upd = await req('PATCH', `${EPG}/${g['id']}`, {
      endpoint_group: { name: 'g2', description: null, filters: { service_id: s2, interface: 'admin' } },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.endpoint_group.name, 'g2');
    assert.equal(upd.body.endpoint_group.description, null);
    assert.deepEqual(upd.body.endpoint_group.filters, { service_id: s2, interface: 'admin' });
    const noDesc = await group({ interface: 'public' });
    assert.equal(noDesc['description'], null);
    assert.equal((await req('DELETE', `${EPG}/${g['id']}`)).status, 204);
    expectError(await req('GET', `${EPG}/${g['id']}`), 404, `Could not find Endpoint Group: ${g['id']}.`);
    assert.equal((await req('HEAD', `${EPG}/${g['id']}`)).status, 404);
  });

  test('refusals; nothing stored', async () => {
    const g = await group({ interface: 'public' });
    const before = await snapshot();
    const expecting =
      'Expecting to find service_id or region_id or interface in endpoint_group. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.';
    expectError(
      await req('POST', EPG, { endpoint_group: { name: 'x', filters: { color: 'red' } } }),
      400,
      expecting,
    );
    expectError(
      await req('POST', EPG, { endpoint_group: { name: 'x', filters: {} } }),
      400,
      'filters field is required and cannot be empty',
    );
    expectError(
      await req('POST', EPG, { endpoint_group: { filters: { interface: 'public' } } }),
      400,
      "'name' is a required property",
    );
    expectError(await req('POST', EPG, {}), 400, "'name' is a required property");
    expectError(
      await req('POST', EPG, { endpoint_group: { name: 'x', filters: 'service_id' } }),
      400,
      "Invalid input for field 'filters': 'service_id' is not of type 'object'",
    );
    expectError(
      await req('PATCH', `${EPG}/${g['id']}`, { endpoint_group: { filters: { nope: 1 } } }),
      400,
      expecting,
    );
    expectError(
      await req('PATCH', `${EPG}/${g['id']}`, { endpoint_group: {} }),
      400,
      '{} does not have enough properties',
    );
    expectError(
      await req('PATCH', `${EPG}/${g['id']}`, { endpoint_group: { id: 'other' } }),
      400,
      'Cannot change ID',
    );
    expectError(
      await req('PATCH', `${EPG}/nope`, { endpoint_group: { name: 'x' } }),
      404,
      'Could not find Endpoint Group: nope.',
    );
    expectError(await req('DELETE', `${EPG}/nope`), 404, 'Could not find Endpoint Group: nope.');
    assert.equal(await snapshot(), before);
  });

  test('projects of a group, groups of a project, endpoints of a group', async () => {
    const s = await service();
    const pub = await endpoint(s, 'public');
    const adm = await endpoint(s, 'admin');
    const g = await group({ service_id: s, interface: 'public' });
    const p = await tc.makeProject(uniqueName('epg-p'));
    const assoc = `${EPG}/${g['id']}/projects/${p}`;
    expectError(await req('GET', assoc), 404, 'Endpoint Group Project Association not found');
    assert.equal((await req('PUT', assoc)).status, 204);
    const before = await snapshot();
    expectError(
      await req('PUT', assoc),
      409,
      'Conflict occurred attempting to store project_endpoint_group - Duplicate entry.',
    );
    expectError(await req('PUT', `${EPG}/${g['id']}/projects/nope`), 404, 'Could not find project: nope.');
    expectError(await req('PUT', `${EPG}/nope/projects/${p}`), 404, 'Could not find Endpoint Group: nope.');
    assert.equal(await snapshot(), before);
    const shown = await req('GET', assoc);
    assert.deepEqual(shown.body, {
      project_endpoint_group: {
        endpoint_group_id: g['id'],
        project_id: p,
        links: { self: `/OS-EP-FILTER/endpoint_groups/${g['id']}/projects/${p}` },
      },
    });
    assert.equal((await req('HEAD', assoc)).status, 200);
    const projects = await req('GET', `${EPG}/${g['id']}/projects`);
    assert.deepEqual(
      projects.body.projects.map((x: { id: string }) => x.id),
      [p],
    );
    assert.equal(projects.body.projects[0].links.self, `${BASE}/v3/projects/${p}`);
    assert.equal(projects.body.links.self, `${BASE}${EPG}/${g['id']}/projects`);
    assert.deepEqual((await req('GET', `${EPG}/nope/projects`)).body.projects, []);
    const groups = await req('GET', `/v3/OS-EP-FILTER/projects/${p}/endpoint_groups`);
    assert.deepEqual(groups.body.endpoint_groups, [g]);
    expectError(
      await req('GET', '/v3/OS-EP-FILTER/projects/nope/endpoint_groups'),
      404,
      'Could not find project: nope.',
    );
    const eps = await req('GET', `${EPG}/${g['id']}/endpoints`);
    assert.deepEqual(
      eps.body.endpoints.map((e: { id: string }) => e.id),
      [pub['id']],
    );
    assert.deepEqual(eps.body.endpoints[0], pub);
    assert.notEqual(adm['id'], pub['id']);
    expectError(await req('GET', `${EPG}/nope/endpoints`), 404, 'Could not find Endpoint Group: nope.');
    // Through the group, the project sees the public endpoint.
    const projectEps = await req('GET', `/v3/OS-EP-FILTER/projects/${p}/endpoints`);
    assert.deepEqual(
      projectEps.body.endpoints.map((e: { id: string }) => e.id),
      [pub['id']],
    );
    assert.equal((await req('DELETE', assoc)).status, 204);
    expectError(await req('DELETE', assoc), 404, 'Endpoint Group Project Association not found');
    assert.equal((await req('PUT', assoc)).status, 204);
    // Deleting the group removes its associations.
    assert.equal((await req('DELETE', `${EPG}/${g['id']}`)).status, 204);
    assert.deepEqual(
      (await req('GET', `/v3/OS-EP-FILTER/projects/${p}/endpoint_groups`)).body.endpoint_groups,
      [],
    );
    const left = await tc.cloud.database.db
      .selectFrom('identity_project_endpoint_groups')
      .selectAll()
      .where('endpoint_group_id', '=', g['id'] as string)
      .execute();
    assert.deepEqual(left, []);
  });

  test('project ↔ endpoint associations; dangling rows are skipped', async () => {
    const s = await service();
    const e1 = await endpoint(s);
    const e2 = await endpoint(s, 'internal');
    const p = await tc.makeProject(uniqueName('pe-p'));
    const q = await tc.makeProject(uniqueName('pe-q'));
    const PE = `/v3/OS-EP-FILTER/projects/${p}/endpoints`;
    expectError(await req('GET', `${PE}/${e1['id']}`), 404, `Endpoint ${e1['id']} not found in project ${p}`);
    assert.equal((await req('PUT', `${PE}/${e1['id']}`)).status, 204);
    assert.equal((await req('PUT', `${PE}/${e1['id']}`)).status, 204);
    assert.equal((await req('PUT', `${PE}/${e2['id']}`)).status, 204);
    assert.equal((await req('PUT', `/v3/OS-EP-FILTER/projects/${q}/endpoints/${e1['id']}`)).status, 204);
    const before = await snapshot();
    expectError(await req('PUT', `${PE}/nope`), 404, 'Could not find endpoint: nope.');
    expectError(
      await req('PUT', `/v3/OS-EP-FILTER/projects/nope/endpoints/${e1['id']}`),
      404,
      'Could not find project: nope.',
    );
    expectError(await req('DELETE', `${PE}/nope`), 404, `Endpoint nope not found in project ${p}`);
    assert.equal(await snapshot(), before);
    assert.equal((await req('GET', `${PE}/${e1['id']}`)).status, 204);
    assert.equal((await req('HEAD', `${PE}/${e1['id']}`)).status, 204);
    const list = await req('GET', PE);
    assert.deepEqual(
      list.body.endpoints.map((e: { id: string }) => e.id).sort(),
      [e1['id'], e2['id']].sort(),
    );
    assert.equal(list.body.links.self, `${BASE}${PE}`);
    expectError(
      await req('GET', '/v3/OS-EP-FILTER/projects/nope/endpoints'),
      404,
      'Could not find project: nope.',
    );
    const projects = await req('GET', `/v3/OS-EP-FILTER/endpoints/${e1['id']}/projects`);
    assert.deepEqual(projects.body.projects.map((x: { id: string }) => x.id).sort(), [p, q].sort());
    expectError(
      await req('GET', '/v3/OS-EP-FILTER/endpoints/nope/projects'),
      404,
      'Could not find endpoint: nope.',
    );
    // Deleting the endpoint and a project leaves rows behind that every read skips.
    assert.equal((await req('DELETE', `/v3/endpoints/${e2['id']}`)).status, 204);
    assert.deepEqual(
      (await req('GET', PE)).body.endpoints.map((e: { id: string }) => e.id),
      [e1['id']],
    );
    assert.equal((await req('PATCH', `/v3/projects/${q}`, { project: { enabled: false } })).status, 200);
    assert.equal((await req('DELETE', `/v3/projects/${q}`)).status, 204);
    assert.deepEqual(
      (await req('GET', `/v3/OS-EP-FILTER/endpoints/${e1['id']}/projects`)).body.projects.map(
        (x: { id: string }) => x.id,
      ),
      [p],
    );
    assert.equal((await req('DELETE', `${PE}/${e1['id']}`)).status, 204);
    expectError(await req('GET', `${PE}/${e1['id']}`), 404, `Endpoint ${e1['id']} not found in project ${p}`);
  });
});

// ---- domain configuration

const CUSTOM = {
  identity: { driver: 'ldap' },
  ldap: { url: 'ldap://myldap.com:389/', user_tree_dn: 'ou=Users,dc=my_new_root,dc=org' },
};
async function domain(): Promise<string> {
  const d = await created('POST', '/v3/domains', { domain: { name: uniqueName('dom') } }, 'domain');
  return d['id'] as string;
}
const invalid = (reason: string) => `Invalid domain specific configuration: ${reason}.`;

describe('domain configuration', () => {
  test('create (201, then 200 on replace), show by group and option, update, delete (Tempest’s flows)', async () => {
    const d = await domain();
    const C = `/v3/domains/${d}/config`;
    const put = await req('PUT', C, { config: CUSTOM });
    assert.equal(put.status, 201, put.text);
    assert.deepEqual(put.body.config, CUSTOM);
    assert.deepEqual((await req('GET', C)).body.config, CUSTOM);
    assert.equal((await req('HEAD', C)).status, 200);
    assert.deepEqual((await req('GET', `${C}/ldap`)).body.config, { ldap: CUSTOM.ldap });
    assert.deepEqual((await req('GET', `${C}/ldap/url`)).body.config, { url: CUSTOM.ldap.url });
    const patched = await req('PATCH', C, { config: { ldap: { url: 'ldap://other' } } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.body.config, { ...CUSTOM, ldap: { ...CUSTOM.ldap, url: 'ldap://other' } });
    const g = await req('PATCH', `${C}/identity`, { config: { identity: { driver: 'd2', list_limit: 7 } } });
    assert.equal(g.status, 200, g.text);
    assert.deepEqual(g.body.config.identity, { driver: 'd2', list_limit: 7 });
    const o = await req('PATCH', `${C}/identity/driver`, { config: { driver: 'd3' } });
    assert.equal(o.status, 200, o.text);
    assert.equal(o.body.config.identity.driver, 'd3');
    assert.equal((await req('DELETE', `${C}/identity/driver`)).status, 204);
    expectError(
      await req('GET', `${C}/identity/driver`),
      404,
      `Could not find option driver in group identity in domain configuration for domain ${d}.`,
    );
    assert.equal((await req('DELETE', `${C}/identity`)).status, 204);
    expectError(
      await req('GET', `${C}/identity`),
      404,
      `Could not find group identity in domain configuration for domain ${d}.`,
    );
    // A second PUT replaces everything and answers 200.
    const again = await req('PUT', C, { config: { identity: { driver: 'sql' } } });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual((await req('GET', C)).body.config, { identity: { driver: 'sql' } });
    assert.equal((await req('DELETE', C)).status, 204);
    expectError(
      await req('GET', C),
      404,
      `Could not find any options in domain configuration for domain ${d}.`,
    );
  });

  test('the ldap password is stored but never shown', async () => {
    const d = await domain();
    const C = `/v3/domains/${d}/config`;
    const put = await req('PUT', C, { config: { ldap: { url: 'ldap://x', password: 's3cret' } } });
    assert.equal(put.status, 201, put.text);
    assert.deepEqual(put.body.config, { ldap: { url: 'ldap://x' } });
    assert.ok(!(await req('GET', C)).text.includes('s3cret'));
    expectError(
      await req('GET', `${C}/ldap/password`),
      404,
      `Could not find option password in group ldap in domain configuration for domain ${d}.`,
    );
    const row = await tc.cloud.database.db
      .selectFrom('identity_domain_configs')
      .selectAll()
      .where('domain_id', '=', d)
      .where('option_name', '=', 'password')
      .executeTakeFirstOrThrow();
    assert.equal(row.sensitive, 1);
    // It exists, so it can be updated and deleted on its own.
    assert.equal((await req('PATCH', `${C}/ldap/password`, { config: { password: 'n3w' } })).status, 200);
    assert.equal((await req('DELETE', `${C}/ldap/password`)).status, 204);
  });

  test('refusals: Keystone’s 403s, 404s and 400s; nothing stored', async () => {
    const d = await domain();
    const C = `/v3/domains/${d}/config`;
    assert.equal((await req('PUT', C, { config: CUSTOM })).status, 201);
    const before = await snapshot();
    expectError(await req('PUT', C, { config: {} }), 403, invalid('No options specified'));
    expectError(await req('PUT', C, {}), 403, invalid('No options specified'));
    expectError(await req('PUT', C, { config: null }), 403, invalid('No options specified'));
    expectError(
      await req('PUT', C, { config: { ldap: {} } }),
      403,
      invalid('The value of group ldap specified in the config should be a dictionary of options'),
    );
    expectError(
      await req('PUT', C, { config: { ldap: 'url' } }),
      403,
      invalid('The value of group ldap specified in the config should be a dictionary of options'),
    );
    expectError(
      await req('PUT', C, { config: { assignment: { driver: 'sql' } } }),
      403,
      invalid('Group assignment is not supported for domain specific configurations'),
    );
    expectError(
      await req('PUT', C, { config: { identity: { driver: 'ldap', nope: 1 } } }),
      403,
      invalid('Option nope in group identity is not supported for domain specific configurations'),
    );
    expectError(await req('PUT', C, { config: 'ldap' }), 400, /is not of type 'object'/);
    expectError(
      await req('PUT', '/v3/domains/nope/config', { config: CUSTOM }),
      404,
      'Could not find domain: nope.',
    );
    expectError(
      await req('PATCH', `${C}/ldap`, { config: CUSTOM }),
      403,
      invalid('Trying to update group ldap, so that, and only that, group must be specified in the config'),
    );
    expectError(
      await req('PATCH', `${C}/ldap`, { config: { identity: { driver: 'x' } } }),
      403,
      invalid('request to update group ldap, but config provided contains group identity instead'),
    );
    expectError(
      await req('PATCH', `${C}/ldap/url`, { config: { url: 'a', user: 'b' } }),
      403,
      invalid(
        'Trying to update option url in group ldap, so that, and only that, option must be specified  in the config',
      ),
    );
    expectError(
      await req('PATCH', `${C}/ldap/url`, { config: { user: 'b' } }),
      403,
      invalid('Trying to update option url in group ldap, but config provided contains option user instead'),
    );
    expectError(
      await req('PATCH', `${C}/ldap/suffix`, { config: { suffix: 'x' } }),
      404,
      `Could not find option suffix in group ldap in domain configuration for domain ${d}.`,
    );
    expectError(
      await req('PATCH', `${C}/nope`, { config: { nope: { a: 1 } } }),
      403,
      invalid('Group nope is not supported for domain specific configurations'),
    );
    expectError(
      await req('PATCH', '/v3/domains/nope/config', { config: CUSTOM }),
      404,
      'Could not find domain: nope.',
    );
    expectError(
      await req('GET', `${C}/nope`),
      403,
      invalid('Group nope is not supported for domain specific configurations'),
    );
    expectError(
      await req('GET', `${C}/ldap/nope`),
      403,
      invalid('Option nope in group ldap is not supported for domain specific configurations'),
    );
    expectError(
      await req('GET', '/v3/domains/nope/config'),
      404,
      'Could not find any options in domain configuration for domain nope.',
    );
    expectError(
      await req('DELETE', `${C}/ldap/suffix`),
      404,
      `Could not find option suffix in group ldap in domain configuration for domain ${d}.`,
    );
    expectError(await req('DELETE', '/v3/domains/nope/config'), 404, 'Could not find domain: nope.');
    assert.equal(await snapshot(), before);
  });

  test('defaults and security compliance', async () => {
    const all = await req('GET', '/v3/domains/config/default');
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.body.config.identity, { driver: 'sql', list_limit: null });
    assert.equal(all.body.config.ldap.url, 'ldap://localhost');
    assert.equal(all.body.config.ldap.password, undefined);
    assert.equal(Object.keys(all.body.config.ldap).length, 49);
    assert.deepEqual((await req('GET', '/v3/domains/config/identity/default')).body.config, {
      identity: { driver: 'sql', list_limit: null },
    });
    assert.deepEqual((await req('GET', '/v3/domains/config/ldap/user_tree_dn/default')).body.config, {
      user_tree_dn: null,
    });
    assert.deepEqual((await req('GET', '/v3/domains/config/ldap/pool_retry_delay/default')).body.config, {
      pool_retry_delay: 0.1,
    });
    expectError(
      await req('GET', '/v3/domains/config/ldap/password/default'),
      403,
      invalid('Reading the default for option password in group ldap is not supported'),
    );
    expectError(
      await req('GET', '/v3/domains/config/resource/default'),
      403,
      invalid('Group resource is not supported for domain specific configurations'),
    );
    // A domain literally named "config" still routes to its own config.
    expectError(
      await req('GET', '/v3/domains/config/config'),
      404,
      'Could not find any options in domain configuration for domain config.',
    );
    const sc = await req('GET', '/v3/domains/default/config/security_compliance', undefined, member.token);
    assert.equal(sc.status, 200, sc.text);
    assert.deepEqual(sc.body.config, {
      security_compliance: { password_regex: null, password_regex_description: null },
    });
    assert.deepEqual(
      (
        await req(
          'GET',
          '/v3/domains/default/config/security_compliance/password_regex',
          undefined,
          member.token,
        )
      ).body.config,
      { password_regex: null },
    );
    expectError(
      await req('GET', '/v3/domains/default/config/security_compliance/lockout_duration'),
      403,
      invalid(
        'Reading security compliance values other than password_regex and password_regex_description is not allowed.',
      ),
    );
    const d = await domain();
    expectError(
      await req('GET', `/v3/domains/${d}/config/security_compliance`),
      403,
      invalid(
        'Reading security compliance information for any domain other than the default domain is not allowed or supported.',
      ),
    );
  });
});

// ---- policy matrix

describe('policy matrix', () => {
  test('admin manages and reads everything; members and readers get 403, nothing stored', async () => {
    const pol = await created('POST', '/v3/policies', { policy: { blob: 'b', type: 't' } }, 'policy');
    const con = await created('POST', '/v3/OS-OAUTH1/consumers', {}, 'consumer');
    const g = await group({ interface: 'public' });
    const d = await domain();
    assert.equal((await req('PUT', `/v3/domains/${d}/config`, { config: CUSTOM })).status, 201);
    const p = tc.demoProjectId;
    const reads = [
      ['GET', '/v3/policies', 'identity:list_policies'],
      ['GET', `/v3/policies/${pol['id']}`, 'identity:get_policy'],
      ['GET', '/v3/OS-OAUTH1/consumers', 'identity:list_consumers'],
      ['GET', `/v3/OS-OAUTH1/consumers/${con['id']}`, 'identity:get_consumer'],
      ['GET', EPG, 'identity:list_endpoint_groups'],
      ['GET', `${EPG}/${g['id']}`, 'identity:get_endpoint_group'],
      ['GET', `${EPG}/${g['id']}/projects`, 'identity:list_projects_associated_with_endpoint_group'],
      ['GET', `${EPG}/${g['id']}/endpoints`, 'identity:list_endpoints_associated_with_endpoint_group'],
      ['GET', `/v3/OS-EP-FILTER/projects/${p}/endpoint_groups`, 'identity:list_endpoint_groups_for_project'],
      ['GET', `/v3/OS-EP-FILTER/projects/${p}/endpoints`, 'identity:list_endpoints_for_project'],
      ['GET', `/v3/domains/${d}/config`, 'identity:get_domain_config'],
      ['GET', `/v3/domains/${d}/config/ldap/url`, 'identity:get_domain_config'],
      ['GET', '/v3/domains/config/default', 'identity:get_domain_config_default'],
    ] as const;
    const writes = [
      ['POST', '/v3/policies', { policy: { blob: 'b', type: 't' } }, 'identity:create_policy'],
      ['PATCH', `/v3/policies/${pol['id']}`, { policy: { type: 'x' } }, 'identity:update_policy'],
      ['DELETE', `/v3/policies/${pol['id']}`, undefined, 'identity:delete_policy'],
      ['POST', '/v3/OS-OAUTH1/consumers', {}, 'identity:create_consumer'],
      [
        'PATCH',
        `/v3/OS-OAUTH1/consumers/${con['id']}`,
        { consumer: { description: 'x' } },
        'identity:update_consumer',
      ],
      ['DELETE', `/v3/OS-OAUTH1/consumers/${con['id']}`, undefined, 'identity:delete_consumer'],
      [
        'POST',
        EPG,
        { endpoint_group: { name: 'n', filters: { interface: 'public' } } },
        'identity:create_endpoint_group',
      ],
      ['PATCH', `${EPG}/${g['id']}`, { endpoint_group: { name: 'x' } }, 'identity:update_endpoint_group'],
      ['DELETE', `${EPG}/${g['id']}`, undefined, 'identity:delete_endpoint_group'],
      ['PUT', `${EPG}/${g['id']}/projects/${p}`, undefined, 'identity:add_endpoint_group_to_project'],
      ['PUT', `/v3/domains/${d}/config`, { config: CUSTOM }, 'identity:create_domain_config'],
      ['PATCH', `/v3/domains/${d}/config`, { config: CUSTOM }, 'identity:update_domain_config'],
      ['DELETE', `/v3/domains/${d}/config`, undefined, 'identity:delete_domain_config'],
    ] as const;
    const before = await snapshot();
    for (const t of [member.token, reader.token]) {
      for (const [method, path, rule] of reads) {
        expectError(
          await req(method, path, undefined, t),
          403,
          `You are not authorized to perform the requested action: ${rule}.`,
        );
      }
      for (const [method, path, body, rule] of writes) {
        expectError(
          await req(method, path, body, t),
          403,
          `You are not authorized to perform the requested action: ${rule}.`,
        );
      }
    }
    for (const [method, path] of reads) expectError(await tc.request(method, path), 401);
    assert.equal(await snapshot(), before);
    for (const [method, path] of reads) {
      const res = await req(method, path);
      assert.equal(res.status, 200, `${method} ${path}: ${res.text}`);
    }
  });
});
