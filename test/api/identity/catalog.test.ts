// /v3/regions, /v3/services, /v3/endpoints: Keystone's behaviour, messages and default policy.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isValidEndpointUrl } from '../../../src/services/identity/api/catalog.schema.ts';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';

let tc: TestCloud;
let member: TestUser;
let reader: TestUser;

before(async () => {
  tc = await startTestCloud();
  const project = await tc.makeProject(uniqueName('p'));
  member = await tc.makeUser({ projectId: project, role: 'member' });
  reader = await tc.makeUser({ projectId: project, role: 'reader' });
});
after(async () => {
  await tc.close();
});

const admin = () => tc.adminToken;

async function snapshot(): Promise<string> {
  const db = tc.cloud.identity.context.db;
  const out: Record<string, unknown> = {};
  for (const t of ['identity_regions', 'identity_services', 'identity_endpoints'] as const) {
    out[t] = (await db.selectFrom(t).selectAll().execute()).map((r) => JSON.stringify(r)).sort();
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

const post = (path: string, body: unknown, token = admin()) => tc.request('POST', path, { token, body });

async function region(body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const res = await post('/v3/regions', { region: body });
  assert.equal(res.status, 201, res.text);
  return res.body.region;
}

async function service(body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const res = await post('/v3/services', { service: { type: 'compute', ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body.service;
}

async function endpoint(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await post('/v3/endpoints', {
    endpoint: { interface: 'public', url: 'http://h:1/v1', ...body },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.endpoint;
}

describe('regions', () => {
  test('create with a generated or given id, PUT with an explicit id, read and list', async () => {
    const gen = await region({ description: 'generated' });
    assert.match(gen['id'] as string, /^[0-9a-f]{32}$/);
    assert.equal(gen['description'], 'generated');
    assert.equal(gen['parent_region_id'], null);
    const id = uniqueName('Region');
    const given = await region({ id, parent_region_id: gen['id'], extra_thing: 1 });
    assert.equal(given['id'], id);
    assert.equal(given['description'], '');
    assert.equal(given['parent_region_id'], gen['id']);
    assert.equal(given['extra_thing'], 1);
    const putId = uniqueName('Put');
    const put = await tc.request('PUT', `/v3/regions/${putId}`, {
      token: admin(),
      body: { region: { description: 'p' } },
    });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.body.region.id, putId);
    const got = await tc.request('GET', `/v3/regions/${id}`, { token: admin() });
    assert.deepEqual(got.body.region, given);
    const kids = await tc.request('GET', `/v3/regions?parent_region_id=${gen['id']}`, { token: admin() });
    assert.deepEqual(kids.body.regions, [given]);
  });

  test('refusals: duplicate id, missing parent, conflicting ids, bad types; nothing stored', async () => {
    const r = await region();
    const before = await snapshot();
    expectError(
      await post('/v3/regions', { region: { id: r['id'] } }),
      409,
      `Conflict occurred attempting to store region - Duplicate ID, ${r['id']}.`,
    );
    expectError(
      await post('/v3/regions', { region: { parent_region_id: 'nope' } }),
      404,
      'Could not find region: nope.',
    );
    expectError(
      await tc.request('PUT', '/v3/regions/one', { token: admin(), body: { region: { id: 'two' } } }),
      400,
      'Conflicting region IDs specified: "one" != "two"',
    );
    expectError(
      await tc.request('PUT', '/v3/regions/one', { token: admin(), body: {} }),
      400,
      "None is not of type 'object'",
    );
    expectError(await post('/v3/regions', {}), 400, "None is not of type 'object'");
    expectError(
      await post('/v3/regions', { region: { description: 5 } }),
      400,
      /^Invalid input for field 'description'/,
    );
    expectError(
      await post('/v3/regions', { region: { id: 'x'.repeat(256) } }),
      400,
      /^String length exceeded/,
    );
    expectError(
      await tc.request('GET', '/v3/regions/nope', { token: admin() }),
      404,
      'Could not find region: nope.',
    );
    assert.equal(await snapshot(), before);
  });

  test('update: description, parent; cycles and unknown parents refused', async () => {
    const a = await region();
    const b = await region({ parent_region_id: a['id'] });
    const c = await region({ parent_region_id: b['id'] });
    const patch = (id: unknown, r: unknown) =>
      tc.request('PATCH', `/v3/regions/${id}`, { token: admin(), body: { region: r } });
    const before = await snapshot();
    expectError(
      await patch(a['id'], { parent_region_id: c['id'] }),
      400,
      `The specified parent region ${a['id']} would create a circular region hierarchy.`,
    );
    expectError(
      await patch(a['id'], { parent_region_id: a['id'] }),
      400,
      `The specified parent region ${a['id']} would create a circular region hierarchy.`,
    );
    expectError(await patch(a['id'], { parent_region_id: 'nope' }), 404, 'Could not find region: nope.');
    expectError(await patch('nope', { description: 'x' }), 404, 'Could not find region: nope.');
    expectError(await patch(a['id'], { id: 'other' }), 400, 'Cannot change ID');
    expectError(await patch(a['id'], {}), 400, '{} does not have enough properties');
    assert.equal(await snapshot(), before);
    const res = await patch(c['id'], { description: 'leaf', parent_region_id: null });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.region.description, 'leaf');
    assert.equal(res.body.region.parent_region_id, null);
  });

  test('delete takes the subtree, unless an endpoint lives in it', async () => {
    const a = await region();
    const b = await region({ parent_region_id: a['id'] });
    const s = await service();
    const e = await endpoint({ service_id: s['id'], region_id: b['id'] });
    const before = await snapshot();
    expectError(
      await tc.request('DELETE', `/v3/regions/${a['id']}`, { token: admin() }),
      403,
      `Unable to delete region ${a['id']} because it or its child regions have associated endpoints.`,
    );
    assert.equal(await snapshot(), before);
    assert.equal((await tc.request('DELETE', `/v3/endpoints/${e['id']}`, { token: admin() })).status, 204);
    assert.equal((await tc.request('DELETE', `/v3/regions/${a['id']}`, { token: admin() })).status, 204);
    expectError(await tc.request('GET', `/v3/regions/${b['id']}`, { token: admin() }), 404);
    expectError(await tc.request('DELETE', `/v3/regions/${a['id']}`, { token: admin() }), 404);
  });
});

describe('services', () => {
  test('create, read, list by type and name, update', async () => {
    const type = uniqueName('type');
    const s = await service({ type, name: 'svc', description: 'about' });
    assert.equal(s['type'], type);
    assert.equal(s['name'], 'svc');
    assert.equal(s['description'], 'about');
    assert.equal(s['enabled'], true);
    const bare = await service({ type });
    assert.equal(bare['name'], '', 'Keystone defaults the name to an empty string');
    const byType = await tc.request('GET', `/v3/services?type=${type}`, { token: admin() });
    assert.deepEqual(
      (byType.body.services as { id: string }[]).map((x) => x.id).sort(),
      [s['id'], bare['id']].sort(),
    );
    const byName = await tc.request('GET', `/v3/services?type=${type}&name=svc`, { token: admin() });
    assert.deepEqual(byName.body.services, [s]);
    const res = await tc.request('PATCH', `/v3/services/${s['id']}`, {
      token: admin(),
      body: { service: { enabled: false, name: 'renamed', type: 'image' } },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.service.enabled, false);
    assert.equal(res.body.service.name, 'renamed');
    assert.equal(res.body.service.type, 'image');
    assert.equal(res.body.service.description, 'about');
    assert.deepEqual(
      (await tc.request('GET', `/v3/services/${s['id']}`, { token: admin() })).body.service,
      res.body.service,
    );
  });

  test('refusals: type required, bad fields, unknown service', async () => {
    const s = await service();
    const before = await snapshot();
    expectError(await post('/v3/services', { service: {} }), 400, "'type' is a required property");
    expectError(await post('/v3/services', {}), 400, "None is not of type 'object'");
    expectError(
      await post('/v3/services', { service: { type: '' } }),
      400,
      /^Invalid input for field 'type'/,
    );
    expectError(
      await post('/v3/services', { service: { type: 't', enabled: 'no' } }),
      400,
      /^Invalid input for field 'enabled'/,
    );
    expectError(
      await tc.request('PATCH', `/v3/services/${s['id']}`, {
        token: admin(),
        body: { service: { id: 'x' } },
      }),
      400,
      'Cannot change ID',
    );
    expectError(
      await tc.request('PATCH', '/v3/services/nope', { token: admin(), body: { service: { name: 'x' } } }),
      404,
      'Could not find service: nope.',
    );
    expectError(
      await tc.request('GET', '/v3/services/nope', { token: admin() }),
      404,
      'Could not find service: nope.',
    );
    expectError(
      await tc.request('DELETE', '/v3/services/nope', { token: admin() }),
      404,
      'Could not find service: nope.',
    );
    assert.equal(await snapshot(), before);
  });

  test('deleting a service deletes its endpoints', async () => {
    const s = await service();
    const e1 = await endpoint({ service_id: s['id'] });
    const e2 = await endpoint({ service_id: s['id'], interface: 'internal' });
    assert.equal((await tc.request('DELETE', `/v3/services/${s['id']}`, { token: admin() })).status, 204);
    expectError(
      await tc.request('GET', `/v3/endpoints/${e1['id']}`, { token: admin() }),
      404,
      `Could not find endpoint: ${e1['id']}.`,
    );
    expectError(await tc.request('GET', `/v3/endpoints/${e2['id']}`, { token: admin() }), 404);
  });
});

describe('endpoints', () => {
  test('create, read, list with filters, update, delete', async () => {
    const r = await region();
    const s = await service();
    const e = await endpoint({
      service_id: s['id'],
      region_id: r['id'],
      url: 'http://h:8774/v2.1/$(project_id)s',
      name: 'x',
    });
    assert.equal(e['service_id'], s['id']);
    assert.equal(e['region_id'], r['id']);
    assert.equal(e['region'], r['id']);
    assert.equal(e['interface'], 'public');
    assert.equal(e['enabled'], true);
    assert.equal(e['name'], 'x');
    const admin2 = await endpoint({ service_id: s['id'], interface: 'admin' });
    assert.equal(admin2['region_id'], null);
    const list = async (q: string) =>
      ((await tc.request('GET', `/v3/endpoints?${q}`, { token: admin() })).body.endpoints as { id: string }[])
        .map((x) => x.id)
        .sort();
    assert.deepEqual(await list(`service_id=${s['id']}`), [e['id'], admin2['id']].sort());
    assert.deepEqual(await list(`service_id=${s['id']}&interface=admin`), [admin2['id']]);
    assert.deepEqual(await list(`region_id=${r['id']}`), [e['id']]);
    const res = await tc.request('PATCH', `/v3/endpoints/${e['id']}`, {
      token: admin(),
      body: { endpoint: { url: 'https://new:1/', enabled: false, interface: 'internal' } },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.endpoint.url, 'https://new:1/');
    assert.equal(res.body.endpoint.enabled, false);
    assert.equal(res.body.endpoint.interface, 'internal');
    assert.equal(res.body.endpoint.region_id, r['id']);
    assert.deepEqual(
      (await tc.request('GET', `/v3/endpoints/${e['id']}`, { token: admin() })).body.endpoint,
      res.body.endpoint,
    );
    assert.equal((await tc.request('DELETE', `/v3/endpoints/${e['id']}`, { token: admin() })).status, 204);
    expectError(
      await tc.request('DELETE', `/v3/endpoints/${e['id']}`, { token: admin() }),
      404,
      `Could not find endpoint: ${e['id']}.`,
    );
  });

  test('the legacy region attribute creates a missing region', async () => {
    const s = await service();
    const name = uniqueName('legacy');
    const e = await endpoint({ service_id: s['id'], region: name });
    assert.equal(e['region_id'], name);
    assert.equal(e['region'], name);
    const r = await tc.request('GET', `/v3/regions/${name}`, { token: admin() });
    assert.equal(r.status, 200);
  });

  test('refusals: unknown service or region, bad interface and URLs; nothing stored (not even a legacy region)', async () => {
    const s = await service();
    const before = await snapshot();
    const create = (e: Record<string, unknown>) =>
      post('/v3/endpoints', {
        endpoint: { interface: 'public', url: 'http://h/', service_id: s['id'], ...e },
      });
    expectError(
      await create({ service_id: 'nope' }),
      400,
      'Expecting to find endpoint service_id in service table. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
    );
    expectError(
      await create({ service_id: 'nope', region: uniqueName('never') }),
      400,
      /^Expecting to find endpoint service_id in service table/,
    );
    expectError(
      await create({ region_id: 'nope' }),
      400,
      'Expecting to find endpoint region_id in region table. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
    );
    expectError(await create({ interface: 'private' }), 400, /^Invalid input for field 'interface'/);
    expectError(await create({ url: 'not a url' }), 400, /^Invalid input for field 'url'/);
    expectError(
      await create({ url: 'http://h/$(tenant_id)s/$(bogus)s' }),
      400,
      'Cannot create an endpoint with an invalid URL: http://h/$(tenant_id)s/$(bogus)s.',
    );
    expectError(
      await post('/v3/endpoints', { endpoint: { interface: 'public', url: 'http://h/' } }),
      400,
      "'service_id' is a required property",
    );
    expectError(await post('/v3/endpoints', {}), 400, "None is not of type 'object'");
    expectError(
      await tc.request('GET', '/v3/endpoints/nope', { token: admin() }),
      404,
      'Could not find endpoint: nope.',
    );
    assert.equal(await snapshot(), before);

    const e = await endpoint({ service_id: s['id'] });
    const patch = (body: unknown) =>
      tc.request('PATCH', `/v3/endpoints/${e['id']}`, { token: admin(), body: { endpoint: body } });
    const mid = await snapshot();
    expectError(
      await patch({ service_id: 'nope' }),
      400,
      /^Expecting to find endpoint service_id in service table/,
    );
    expectError(
      await patch({ region_id: 'nope' }),
      400,
      /^Expecting to find endpoint region_id in region table/,
    );
    expectError(await patch({ id: 'other' }), 400, 'Cannot change ID');
    expectError(await patch({}), 400, '{} does not have enough properties');
    assert.equal(await snapshot(), mid);
  });

  test('URL substitutions follow Python %-formatting with the whitelisted names', () => {
    for (const ok of [
      'http://h:8774/v2.1/$(tenant_id)s',
      'http://h/$(project_id)s/x/$(user_id)s',
      'http://h/%(public_port)s',
      'http://h/100%%',
      'http://h/%s',
      'http://h/$(project_id)10s',
    ]) {
      assert.equal(isValidEndpointUrl(ok), true, ok);
    }
    for (const bad of [
      'http://h/$(foo)s',
      'http://h/%2F',
      'http://h/%',
      'http://h/$(project_id)d',
      'http://h/$(project_id)',
      'http://h/%s/%s',
      'http://h/$(tenant_id)s/%s',
      'http://h/%z',
    ]) {
      assert.equal(isValidEndpointUrl(bad), false, bad);
    }
  });
});

describe('policy matrix', () => {
  test('regions: anyone authenticated reads; only admins write', async () => {
    const r = await region();
    for (const t of [member.token, reader.token]) {
      assert.equal((await tc.request('GET', '/v3/regions', { token: t })).status, 200);
      assert.equal((await tc.request('GET', `/v3/regions/${r['id']}`, { token: t })).status, 200);
    }
    expectError(await tc.request('GET', '/v3/regions'), 401);
    const before = await snapshot();
    for (const t of [member.token, reader.token]) {
      expectError(
        await post('/v3/regions', { region: {} }, t),
        403,
        'You are not authorized to perform the requested action: identity:create_region.',
      );
      expectError(await tc.request('PUT', '/v3/regions/mine', { token: t, body: { region: {} } }), 403);
      expectError(
        await tc.request('PATCH', `/v3/regions/${r['id']}`, {
          token: t,
          body: { region: { description: 'x' } },
        }),
        403,
      );
      expectError(await tc.request('DELETE', `/v3/regions/${r['id']}`, { token: t }), 403);
    }
    assert.equal(await snapshot(), before);
  });

  test('services and endpoints: admin (or system reader) only', async () => {
    const s = await service();
    const e = await endpoint({ service_id: s['id'] });
    assert.equal((await tc.request('GET', '/v3/services', { token: admin() })).status, 200);
    assert.equal((await tc.request('GET', '/v3/endpoints', { token: admin() })).status, 200);
    const before = await snapshot();
    for (const t of [member.token, reader.token]) {
      expectError(
        await tc.request('GET', '/v3/services', { token: t }),
        403,
        'You are not authorized to perform the requested action: identity:list_services.',
      );
      expectError(await tc.request('GET', `/v3/services/${s['id']}`, { token: t }), 403);
      expectError(await post('/v3/services', { service: { type: 'x' } }, t), 403);
      expectError(
        await tc.request('PATCH', `/v3/services/${s['id']}`, { token: t, body: { service: { name: 'x' } } }),
        403,
      );
      expectError(await tc.request('DELETE', `/v3/services/${s['id']}`, { token: t }), 403);
      expectError(await tc.request('GET', '/v3/endpoints', { token: t }), 403);
      expectError(await tc.request('GET', `/v3/endpoints/${e['id']}`, { token: t }), 403);
      expectError(
        await post(
          '/v3/endpoints',
          { endpoint: { interface: 'public', url: 'http://h/', service_id: s['id'] } },
          t,
        ),
        403,
      );
      expectError(
        await tc.request('PATCH', `/v3/endpoints/${e['id']}`, {
          token: t,
          body: { endpoint: { url: 'http://x/' } },
        }),
        403,
      );
      expectError(await tc.request('DELETE', `/v3/endpoints/${e['id']}`, { token: t }), 403);
      // Endpoints are loaded before enforcement, as Keystone does.
      expectError(await tc.request('GET', '/v3/endpoints/nope', { token: t }), 404);
    }
    assert.equal(await snapshot(), before);
  });
});
