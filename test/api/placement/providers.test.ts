// Placement resource providers over the in-process cloud: the version document and microversion negotiation,
// provider CRUD, nesting and re-parenting, list filters, delete conflicts, 405s, and the policy matrix.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';
import { claim, errorCode, errorDetail, makeProvider, type Pl, placement } from './helpers.ts';

let tc: TestCloud;
let pl: Pl;
before(async () => {
  tc = await startTestCloud();
  pl = placement(tc);
});
after(async () => {
  await tc.close();
});

describe('placement root and microversions', () => {
  it('serves the version document without a token', async () => {
    const res = await tc.request('GET', '/placement');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.versions[0], {
      id: 'v1.0',
      max_version: '1.39',
      min_version: '1.0',
      status: 'CURRENT',
      links: [{ rel: 'self', href: '' }],
    });
    assert.equal(res.headers['openstack-api-version'], 'placement 1.0');
  });

  it('negotiates latest, echoes the version, and refuses versions out of range with 406', async () => {
    const latest = await pl('GET', '/resource_providers', { mv: 'latest' });
    assert.equal(latest.status, 200);
    assert.equal(latest.headers['openstack-api-version'], 'placement 1.39');
    assert.match(String(latest.headers['vary']), /OpenStack-API-Version/i);
    const bad = await pl('GET', '/resource_providers', { mv: '1.40' });
    assert.equal(bad.status, 406);
    assert.ok(Array.isArray(bad.body.errors));
  });

  it('requires a token on the API', async () => {
    const res = await tc.request('GET', '/placement/resource_providers');
    assert.equal(res.status, 401);
  });

  it('answers 405 with Allow for an undeclared method', async () => {
    const res = await pl('PATCH', '/resource_providers');
    assert.equal(res.status, 405);
    assert.equal(res.headers['allow'], 'GET, POST');
  });

  it('hides version-gated resources below their version (traits < 1.6)', async () => {
    assert.equal((await pl('GET', '/traits', { mv: '1.5' })).status, 404);
    assert.equal((await pl('GET', '/traits', { mv: '1.6' })).status, 200);
  });
});

describe('resource provider CRUD', () => {
  it('creates with 201 and no body before 1.20, 200 with the provider from 1.20', async () => {
    const uuid = randomUUID();
    const old = await pl('POST', '/resource_providers', { body: { uuid, name: `old-${uuid}` }, mv: '1.19' });
    assert.equal(old.status, 201);
    assert.equal(old.headers['location'], `/placement/resource_providers/${uuid}`);
    assert.equal(old.text, '');
    const uuid2 = randomUUID();
    const res = await pl('POST', '/resource_providers', { body: { uuid: uuid2, name: `new-${uuid2}` } });
    assert.equal(res.status, 200);
    assert.equal(res.body.uuid, uuid2);
    assert.equal(res.body.generation, 0);
    assert.equal(res.body.root_provider_uuid, uuid2);
    assert.equal(res.body.parent_provider_uuid, null);
    assert.deepEqual(
      res.body.links.map((l: { rel: string }) => l.rel),
      ['self', 'inventories', 'usages', 'aggregates', 'traits', 'allocations'],
    );
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.ok(res.headers['last-modified']);
  });

  it('shows fields and links by version', async () => {
    const uuid = await makeProvider(pl);
    const v10 = await pl('GET', `/resource_providers/${uuid}`, { mv: '1.0' });
    assert.deepEqual(Object.keys(v10.body).sort(), ['generation', 'links', 'name', 'uuid']);
    assert.deepEqual(
      v10.body.links.map((l: { rel: string }) => l.rel),
      ['self', 'inventories', 'usages'],
    );
    assert.equal(v10.headers['last-modified'], undefined);
  });

  it('rejects duplicates with placement.duplicate_name and bad bodies with 400', async () => {
    const uuid = await makeProvider(pl, { name: `dup-${randomUUID()}` });
    const shown = await pl('GET', `/resource_providers/${uuid}`);
    const dup = await pl('POST', '/resource_providers', { body: { name: shown.body.name } });
    assert.equal(dup.status, 409);
    assert.equal(errorCode(dup), 'placement.duplicate_name');
    assert.match(errorDetail(dup), /Conflicting resource provider name: .* already exists\./);
    const bad = await pl('POST', '/resource_providers', { body: { nom: 'x' } });
    assert.equal(bad.status, 400);
    assert.match(errorDetail(bad), /^JSON does not validate/);
    const media = await pl('POST', '/resource_providers', {
      raw: '{"name":"x"}',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(media.status, 415);
  });

  it('renames, 404s unknown providers, and deletes', async () => {
    const uuid = await makeProvider(pl);
    const name = `renamed-${uuid}`;
    const upd = await pl('PUT', `/resource_providers/${uuid}`, { body: { name } });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.name, name);
    assert.equal((await pl('GET', `/resource_providers/${randomUUID()}`)).status, 404);
    assert.equal((await pl('DELETE', `/resource_providers/${uuid}`)).status, 204);
    const gone = await pl('DELETE', `/resource_providers/${uuid}`);
    assert.equal(gone.status, 404);
    assert.equal(errorDetail(gone), `No resource provider with uuid ${uuid} found for delete`);
  });
});

describe('nested providers', () => {
  it('tracks parent and root, refuses to delete a parent, and re-parents only from 1.37', async () => {
    const root = await makeProvider(pl);
    const child = await makeProvider(pl, { parent: root });
    const grandchild = await makeProvider(pl, { parent: child });
    const g = await pl('GET', `/resource_providers/${grandchild}`);
    assert.equal(g.body.parent_provider_uuid, child);
    assert.equal(g.body.root_provider_uuid, root);

    const del = await pl('DELETE', `/resource_providers/${root}`);
    assert.equal(del.status, 409);
    assert.equal(errorCode(del), 'placement.resource_provider.cannot_delete_parent');

    const other = await makeProvider(pl);
    const name = (await pl('GET', `/resource_providers/${child}`)).body.name;
    const early = await pl('PUT', `/resource_providers/${child}`, {
      body: { name, parent_provider_uuid: other },
      mv: '1.36',
    });
    assert.equal(early.status, 400);
    assert.match(errorDetail(early), /re-parenting a provider is not currently allowed/);
    const loop = await pl('PUT', `/resource_providers/${child}`, {
      body: { name, parent_provider_uuid: grandchild },
    });
    assert.equal(loop.status, 400);
    assert.match(errorDetail(loop), /creating loop in the provider tree is not allowed/);
    const moved = await pl('PUT', `/resource_providers/${child}`, {
      body: { name, parent_provider_uuid: other },
    });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.root_provider_uuid, other);
    // The subtree follows its new root.
    const g2 = await pl('GET', `/resource_providers/${grandchild}`);
    assert.equal(g2.body.root_provider_uuid, other);
  });

  it('lets a root adopt a parent before 1.37', async () => {
    const parent = await makeProvider(pl);
    const orphan = await makeProvider(pl);
    const name = (await pl('GET', `/resource_providers/${orphan}`)).body.name;
    const res = await pl('PUT', `/resource_providers/${orphan}`, {
      body: { name, parent_provider_uuid: parent },
      mv: '1.14',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.root_provider_uuid, parent);
  });

  it('rejects an unknown parent', async () => {
    const res = await pl('POST', '/resource_providers', {
      body: { name: `x-${randomUUID()}`, parent_provider_uuid: randomUUID() },
    });
    assert.equal(res.status, 400);
    assert.match(errorDetail(res), /parent provider UUID does not exist/);
  });
});

describe('list filters', () => {
  it('filters by name, uuid, in_tree, member_of, resources and required traits', async () => {
    const agg1 = randomUUID();
    const agg2 = randomUUID();
    const a = await makeProvider(pl, { inventory: { VCPU: { total: 8 }, MEMORY_MB: { total: 4096 } } });
    const b = await makeProvider(pl, { inventory: { VCPU: { total: 2 } } });
    const c = await makeProvider(pl, { parent: a });
    const gen = async (u: string) => (await pl('GET', `/resource_providers/${u}`)).body.generation;
    await pl('PUT', `/resource_providers/${a}/aggregates`, {
      body: { aggregates: [agg1], resource_provider_generation: await gen(a) },
    });
    await pl('PUT', `/resource_providers/${b}/aggregates`, {
      body: { aggregates: [agg2], resource_provider_generation: await gen(b) },
    });
    await pl('PUT', `/resource_providers/${a}/traits`, {
      body: { traits: ['HW_CPU_X86_AVX2'], resource_provider_generation: await gen(a) },
    });
    const uuids = async (qs: string, mv?: string) => {
      const res = await pl('GET', `/resource_providers?${qs}`, mv ? { mv } : {});
      assert.equal(res.status, 200, res.text);
      return new Set(res.body.resource_providers.map((p: { uuid: string }) => p.uuid));
    };
    assert.deepEqual(await uuids(`uuid=${b}`), new Set([b]));
    const nameOfB = (await pl('GET', `/resource_providers/${b}`)).body.name;
    assert.deepEqual(await uuids(`name=${nameOfB}`), new Set([b]));
    assert.deepEqual(await uuids(`in_tree=${c}`), new Set([a, c]));
    assert.deepEqual(await uuids(`member_of=${agg1}`), new Set([a]));
    assert.deepEqual(await uuids(`member_of=in:${agg1},${agg2}`), new Set([a, b]));
    const notAgg1 = await uuids(`member_of=!${agg1}`);
    assert.ok(!notAgg1.has(a) && notAgg1.has(b));
    const big = await uuids('resources=VCPU:4');
    assert.ok(big.has(a) && !big.has(b));
    const avx = await uuids('required=HW_CPU_X86_AVX2');
    assert.deepEqual(avx, new Set([a]));
    const noAvx = await uuids('required=!HW_CPU_X86_AVX2');
    assert.ok(!noAvx.has(a) && noAvx.has(b));
    const anyOf = await uuids('required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE');
    assert.deepEqual(anyOf, new Set([a]));
  });

  it('validates filters with Placement messages', async () => {
    const forbiddenEarly = await pl('GET', `/resource_providers?member_of=!${randomUUID()}`, { mv: '1.31' });
    assert.equal(forbiddenEarly.status, 400);
    assert.match(errorDetail(forbiddenEarly), /Forbidden member_of parameters are not supported/);
    const unknownRc = await pl('GET', '/resource_providers?resources=NOPE:1');
    assert.equal(unknownRc.status, 400);
    assert.equal(
      errorDetail(unknownRc),
      'Invalid resource class in resources parameter: No such resource class NOPE.',
    );
    const unknownTrait = await pl('GET', '/resource_providers?required=CUSTOM_NOPE');
    assert.equal(unknownTrait.status, 400);
    assert.match(errorDetail(unknownTrait), /No such trait\(s\): CUSTOM_NOPE/);
    const extra = await pl('GET', '/resource_providers?resources=VCPU:1', { mv: '1.3' });
    assert.equal(extra.status, 400);
    assert.match(errorDetail(extra), /Additional properties are not allowed \('resources' was unexpected\)/);
    const anyEarly = await pl('GET', '/resource_providers?required=in:HW_CPU_X86_AVX2', { mv: '1.38' });
    assert.equal(anyEarly.status, 400);
  });
});

describe('deleting providers with allocations', () => {
  it('answers 409 placement.resource_provider.inuse', async () => {
    const rp = await makeProvider(pl, { inventory: { VCPU: { total: 2 } } });
    assert.equal((await claim(pl, randomUUID(), { [rp]: { VCPU: 1 } })).status, 204);
    const res = await pl('DELETE', `/resource_providers/${rp}`);
    assert.equal(res.status, 409);
    assert.equal(errorCode(res), 'placement.resource_provider.inuse');
  });
});

describe('placement policy', () => {
  it('forbids project members and readers, admits admin', async () => {
    const member = await tc.makeUser({ role: 'member' });
    const reader = await tc.makeUser({ role: 'reader' });
    const rp = await makeProvider(pl);
    const calls: [string, string, unknown?][] = [
      ['GET', '/resource_providers'],
      ['GET', `/resource_providers/${rp}`],
      ['POST', '/resource_providers', { name: `p-${randomUUID()}` }],
      ['DELETE', `/resource_providers/${rp}`],
      ['GET', `/resource_providers/${rp}/inventories`],
      ['GET', '/allocation_candidates?resources=VCPU:1'],
      ['GET', '/traits'],
      ['GET', '/resource_classes'],
      ['GET', `/allocations/${randomUUID()}`],
    ];
    for (const token of [member.token, reader.token]) {
      for (const [method, path, body] of calls) {
        const res = await pl(method, path, { token, body });
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.match(errorDetail(res), /^Policy does not allow placement:.* to be performed\.$/);
      }
    }
    for (const [method, path] of calls.filter(([m]) => m === 'GET')) {
      assert.equal((await pl(method, path)).status, 200, `${method} ${path}`);
    }
  });

  it('lets a project reader read its own project usages only', async () => {
    const reader = await tc.makeUser({ role: 'reader' });
    const own = await pl('GET', `/usages?project_id=${reader.projectId}`, { token: reader.token });
    assert.equal(own.status, 200);
    const other = await pl('GET', `/usages?project_id=${tc.adminProjectId}`, { token: reader.token });
    assert.equal(other.status, 403);
  });
});
