// /v2/metadefs/*: namespaces with their objects, properties, tags and resource type associations, the resource
// types, and the metadef schemas — Glance's statuses, texts, visibility and protection rules.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  startTestCloud,
  type TestCloud,
  type TestResponse,
  type TestUser,
  uniqueName,
} from '../../support/cloud.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON.
type Body = Record<string, any>;
const MD = '/image/v2/metadefs';
const NS = `${MD}/namespaces`;

let tc: TestCloud;
let member: TestUser;
let reader: TestUser;
let other: TestUser;

before(async () => {
  tc = await startTestCloud();
  const project = await tc.makeProject(uniqueName('metadefs'));
  member = await tc.makeUser({ projectId: project });
  reader = await tc.makeUser({ projectId: project, role: 'reader' });
  other = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

function expectError(res: TestResponse, status: number, message?: string | RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.code, `${status} ${res.body?.title}`, res.text);
  if (typeof message === 'string') assert.equal(res.body.message, message);
  else if (message) assert.match(res.body.message, message);
}

const req = (
  method: string,
  path: string,
  body?: unknown,
  token = tc.adminToken,
  headers?: Record<string, string>,
) =>
  tc.request(method, path, {
    token,
    ...(body !== undefined ? { body } : {}),
    ...(headers ? { headers } : {}),
  });

/** A public namespace of the admin's project, unless the body says otherwise. */
async function createNamespace(body: Body = {}, token = tc.adminToken): Promise<Body> {
  const res = await req('POST', NS, { namespace: uniqueName('ns'), visibility: 'public', ...body }, token);
  assert.equal(res.status, 201, res.text);
  return res.body;
}

describe('metadef schemas and resource types', () => {
  test('every schema answers with its name', async () => {
    const names: Record<string, string> = {
      namespace: 'namespace',
      namespaces: 'namespaces',
      object: 'object',
      objects: 'objects',
      property: 'property',
      properties: 'properties',
      resource_type: 'resource_type_association',
      resource_types: 'resource_type_associations',
      tag: 'tag',
      tags: 'tags',
    };
    for (const [path, name] of Object.entries(names)) {
      const res = await req('GET', `/image/v2/schemas/metadefs/${path}`, undefined, member.token);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.name, name);
    }
    const ns = (await req('GET', '/image/v2/schemas/metadefs/namespace')).body;
    assert.deepEqual(ns.required, ['namespace']);
    assert.equal(ns.additionalProperties, false);
    assert.deepEqual(ns.properties.visibility.enum, ['public', 'private']);
    assert.ok(ns.definitions.property);
    const props = (await req('GET', '/image/v2/schemas/metadefs/properties')).body;
    assert.deepEqual(props.properties.properties.additionalProperties.required, ['type', 'title']);
    assert.equal(props.definitions.stringArray.minItems, 1);
    const rts = (await req('GET', '/image/v2/schemas/metadefs/resource_types')).body;
    assert.equal(rts.properties.resource_type_associations.items.name, 'resource_type_association');
  });

  test('the seeded resource types are listed to readers', async () => {
    const res = await req('GET', `${MD}/resource_types`, undefined, reader.token);
    assert.equal(res.status, 200, res.text);
    const names = res.body.resource_types.map((r: Body) => r.name);
    assert.ok(names.includes('OS::Glance::Image'));
    assert.ok(names.includes('OS::Nova::Flavor'));
    assert.ok(res.body.resource_types[0].created_at);
  });
});

describe('metadef namespaces', () => {
  test('create with contents, show, list, protected delete, update, delete', async () => {
    const name = uniqueName('full');
    const created = await req('POST', NS, {
      namespace: name,
      display_name: 'Full',
      description: 'All of it',
      visibility: 'public',
      protected: true,
      resource_type_associations: [{ name: 'OS::Glance::Image', prefix: 'hw_' }],
      properties: { cpu: { title: 'CPU', type: 'integer', minimum: 1 } },
      objects: [{ name: 'obj', required: ['cpu'], properties: { ram: { title: 'RAM', type: 'integer' } } }],
      tags: [{ name: 't1' }, { name: 't2' }],
    });
    assert.equal(created.status, 201, created.text);
    assert.match(String(created.headers['location']), new RegExp(`^http://localhost(:80)?${NS}/${name}$`));
    const body = created.body;
    assert.equal(body.namespace, name);
    assert.equal(body.visibility, 'public');
    assert.equal(body.protected, true);
    assert.equal(body.owner, tc.adminProjectId);
    assert.equal(body.self, `/v2/metadefs/namespaces/${name}`);
    assert.equal(body.schema, '/v2/schemas/metadefs/namespace');
    assert.deepEqual(body.resource_type_associations, [{ name: 'OS::Glance::Image', prefix: 'hw_' }]);
    assert.deepEqual(body.tags, [{ name: 't1' }, { name: 't2' }]);
    assert.deepEqual(body.properties, { cpu: { title: 'CPU', type: 'integer', minimum: 1 } });

    const shown = await req('GET', `${NS}/${name}`, undefined, member.token);
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.body.display_name, 'Full');
    assert.equal(shown.body.objects[0].name, 'obj');
    assert.deepEqual(shown.body.objects[0].required, ['cpu']);
    assert.equal(shown.body.objects[0].self, `/v2/metadefs/namespaces/${name}/objects/obj`);
    assert.equal(shown.body.resource_type_associations[0].name, 'OS::Glance::Image');
    assert.deepEqual(shown.body.properties.cpu, { type: 'integer', title: 'CPU', minimum: 1 });
    assert.deepEqual(shown.body.tags.map((t: Body) => t.name).sort(), ['t1', 't2']);
    const prefixed = await req('GET', `${NS}/${name}?resource_type=OS::Glance::Image`);
    assert.deepEqual(Object.keys(prefixed.body.properties), ['hw_cpu']);
    assert.deepEqual(prefixed.body.objects[0].required, ['hw_cpu']);
    assert.deepEqual(Object.keys(prefixed.body.objects[0].properties), ['hw_ram']);

    const listed = await req('GET', NS, undefined, member.token);
    assert.equal(listed.status, 200, listed.text);
    assert.equal(listed.body.first, '/v2/metadefs/namespaces');
    assert.equal(listed.body.schema, '/v2/schemas/metadefs/namespaces');
    const mine = listed.body.namespaces.find((n: Body) => n.namespace === name);
    assert.equal(mine.resource_type_associations[0].prefix, 'hw_');

    expectError(
      await req('POST', NS, { namespace: name }),
      409,
      `The metadata definition namespace=${name} already exists.`,
    );
    expectError(
      await req('DELETE', `${NS}/${name}`),
      403,
      `Metadata definition namespace ${name} is protected and cannot be deleted.`,
    );
    expectError(
      await req('DELETE', `${NS}/${name}/objects/obj`),
      403,
      'Metadata definition object obj is protected and cannot be deleted.',
    );
    expectError(
      await req('DELETE', `${NS}/${name}/tags`),
      403,
      `Metadata definition namespace ${name} is protected and cannot be deleted.`,
    );

    const renamed = `${name}-2`;
    const updated = await req('PUT', `${NS}/${name}`, { namespace: renamed, visibility: 'private' });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.namespace, renamed);
    assert.equal(updated.body.protected, false);
    assert.equal(updated.body.visibility, 'private');
    assert.equal(updated.body.display_name, undefined, 'an update leaves out what it does not name');
    expectError(
      await req('GET', `${NS}/${name}`),
      404,
      `Metadata definition namespace=${name} was not found.`,
    );
    assert.equal(
      (await req('GET', `${NS}/${renamed}/objects/obj`)).status,
      200,
      'contents follow the rename',
    );

    assert.equal((await req('DELETE', `${NS}/${renamed}`)).status, 204);
    expectError(await req('GET', `${NS}/${renamed}`), 404);
    expectError(await req('DELETE', `${NS}/${renamed}`), 404, `Namespace ${renamed} not found`);
    const again = await req('POST', NS, { namespace: renamed, objects: [{ name: 'obj' }] });
    assert.equal(again.status, 201, 'the cascade left no orphans behind');
    assert.deepEqual(again.body.objects, [{ name: 'obj' }]);
  });

  test('bodies: schema errors, read-only attributes, missing body, renames onto a taken name', async () => {
    expectError(
      await req('POST', NS, { namespace: 'x'.repeat(81) }),
      400,
      /^Provided object does not match schema 'namespace': 'x+' is too long$/,
    );
    expectError(
      await req('POST', NS, { display_name: 'no name' }),
      400,
      "Provided object does not match schema 'namespace': 'namespace' is a required property",
    );
    expectError(
      await req('POST', NS, { namespace: 'v', visibility: 'shared' }),
      400,
      "Provided object does not match schema 'namespace': 'shared' is not one of ['public', 'private']",
    );
    expectError(
      await req('POST', NS, { namespace: 'v', extra: 1 }),
      400,
      "Provided object does not match schema 'namespace': Additional properties are not allowed ('extra' was unexpected)",
    );
    expectError(await req('POST', NS, { namespace: 'v', self: '/x' }), 403, "Attribute 'self' is read-only.");
    expectError(await req('POST', NS), 400, 'Body expected in request.');
    const a = await createNamespace();
    const b = await createNamespace();
    expectError(
      await req('PUT', `${NS}/${a.namespace}`, { namespace: b.namespace }),
      409,
      `Invalid update. It would result in a duplicate metadata definition namespace with the same name of ${b.namespace}`,
    );
  });

  test('visibility and policy: readers see public and their own, only admins write', async () => {
    const pub = await createNamespace({ visibility: 'public' });
    const priv = await createNamespace({ visibility: 'private' });
    const theirs = await createNamespace({ visibility: 'private', owner: reader.projectId });

    expectError(
      await req('POST', NS, { namespace: uniqueName('m') }, member.token),
      403,
      'You are not authorized to complete add_metadef_namespace action.',
    );
    expectError(
      await req('PUT', `${NS}/${pub.namespace}`, { namespace: pub.namespace }, member.token),
      403,
      'You are not authorized to complete modify_metadef_namespace action.',
    );
    expectError(
      await req('GET', `${NS}/${priv.namespace}`, undefined, member.token),
      404,
      'The resource could not be found.',
    );
    expectError(
      await req('PUT', `${NS}/${priv.namespace}`, { namespace: priv.namespace }, member.token),
      404,
      `Namespace ${priv.namespace} not found`,
    );
    expectError(
      await req('GET', `${NS}/${priv.namespace}/objects`, undefined, member.token),
      404,
      `Namespace ${priv.namespace} not found`,
    );
    assert.equal((await req('GET', `${NS}/${theirs.namespace}`, undefined, reader.token)).status, 200);
    expectError(await req('GET', `${NS}/${theirs.namespace}`, undefined, other.token), 404);

    const names = async (token: string, query = '') =>
      ((await req('GET', `${NS}?limit=1000${query}`, undefined, token)).body.namespaces as Body[]).map(
        (n) => n.namespace,
      );
    const seen = await names(reader.token);
    assert.ok(seen.includes(pub.namespace) && seen.includes(theirs.namespace));
    assert.ok(!seen.includes(priv.namespace));
    assert.ok(!(await names(other.token)).includes(theirs.namespace));
    const adminPrivate = await names(tc.adminToken, '&visibility=private');
    assert.ok(adminPrivate.includes(priv.namespace) && !adminPrivate.includes(pub.namespace));
    expectError(await req('GET', `${NS}?visibility=shared`), 400, 'Invalid visibility value: shared');
    expectError(await req('GET', `${NS}?sort_dir=up`), 400, 'Invalid sort direction: up');
    expectError(await req('GET', `${NS}?limit=-1`), 400, 'limit param must be positive');
    expectError(
      await req('GET', `${NS}?marker=nope`),
      404,
      'Metadata definition namespace=nope was not found.',
    );
    expectError(
      await req('GET', `${NS}?marker=${priv.namespace}`, undefined, member.token),
      403,
      `Forbidding request, metadata definition namespace=${priv.namespace} is not visible.`,
    );
  });

  test('list: resource_types filter, sort, limit and marker with next links', async () => {
    const type = uniqueName('OS::Test::Type');
    const made: string[] = [];
    for (const n of ['c', 'a', 'b']) {
      const ns = await createNamespace({
        namespace: uniqueName(`sorted-${n}`),
        resource_type_associations: [{ name: type }],
      });
      made.push(ns.namespace);
    }
    const base = `${NS}?resource_types=${encodeURIComponent(type)}&sort_key=namespace&sort_dir=asc`;
    const all = await req('GET', base);
    assert.deepEqual(
      all.body.namespaces.map((n: Body) => n.namespace),
      [...made].sort(),
    );
    const first = await req('GET', `${base}&limit=2`);
    assert.equal(first.body.namespaces.length, 2);
    assert.ok(first.body.next.includes(`marker=${encodeURIComponent(first.body.namespaces[1].namespace)}`));
    assert.ok(first.body.first.startsWith('/v2/metadefs/namespaces?resource_types='));
    const rest = await req('GET', `${base}&limit=2&marker=${first.body.namespaces[1].namespace}`);
    assert.deepEqual(
      rest.body.namespaces.map((n: Body) => n.namespace),
      [[...made].sort()[2]],
    );
    assert.equal(rest.body.next, undefined);
    const none = await req('GET', `${NS}?resource_types=OS::No::Such`);
    assert.deepEqual(none.body.namespaces, []);
  });
});

describe('metadef objects, properties, tags and resource type associations', () => {
  test('objects: create, list, show, rename, conflicts, delete', async () => {
    const ns = (await createNamespace()).namespace;
    const path = `${NS}/${ns}/objects`;
    const created = await req('POST', path, {
      name: 'o1',
      description: 'first',
      properties: { p: { title: 'P', type: 'string', enum: ['a', 'b'], default: true } },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.self, `/v2/metadefs/namespaces/${ns}/objects/o1`);
    assert.equal(created.body.required, undefined);
    assert.equal(created.body.properties.p.default, 'True', 'PropertyType keeps default as text');
    expectError(
      await req('POST', path, { name: 'o1' }),
      409,
      `A metadata definition object with name=o1 already exists in namespace=${ns}.`,
    );
    expectError(
      await req('POST', path, { name: 'o2', properties: { q: { title: 'Q' } } }),
      400,
      "Provided object does not match schema 'object': 'type' is a required property",
    );
    assert.equal((await req('POST', path, { name: 'o2' })).status, 201);
    const listed = await req('GET', path, undefined, member.token);
    assert.equal(listed.status, 200, listed.text);
    assert.equal(listed.body.schema, 'v2/schemas/metadefs/objects');
    assert.deepEqual(listed.body.objects.map((o: Body) => o.name).sort(), ['o1', 'o2']);
    const shown = await req('GET', `${path}/o2`, undefined, reader.token);
    assert.deepEqual(shown.body.required, []);
    assert.deepEqual(shown.body.properties, {});
    const renamed = await req('PUT', `${path}/o1`, { name: 'o3', required: ['p'] });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.name, 'o3');
    assert.equal(renamed.body.description, undefined);
    expectError(
      await req('PUT', `${path}/o3`, { name: 'o2' }),
      409,
      `Invalid update. It would result in a duplicate metadata definition object with the same name=o2 in namespace=${ns}.`,
    );
    expectError(await req('GET', `${path}/o1`), 404, 'Could not find metadata object o1');
    expectError(
      await req('GET', `${NS}/nope/objects`),
      404,
      'Metadata definition namespace=nope was not found.',
    );
    expectError(
      await req('DELETE', `${path}/o2`, undefined, member.token),
      403,
      'You are not authorized to complete delete_metadef_object action.',
    );
    assert.equal((await req('DELETE', `${path}/o2`)).status, 204);
    assert.equal((await req('DELETE', path)).status, 204);
    assert.deepEqual((await req('GET', path)).body.objects, []);
  });

  test('properties: create, list, show by prefixed name, update, delete', async () => {
    const ns = (
      await createNamespace({ resource_type_associations: [{ name: 'OS::Nova::Flavor', prefix: 'hw:' }] })
    ).namespace;
    const path = `${NS}/${ns}/properties`;
    const enumValues = ['xen', 'kvm'];
    const created = await req('POST', path, {
      name: 'hypervisor',
      title: 'Hypervisor',
      type: 'string',
      enum: enumValues,
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body, {
      name: 'hypervisor',
      type: 'string',
      title: 'Hypervisor',
      enum: enumValues,
    });
    expectError(
      await req('POST', path, { name: 'hypervisor', title: 'H', type: 'string' }),
      409,
      `A metadata definition property with name=hypervisor already exists in namespace=${ns}.`,
    );
    expectError(
      await req('POST', path, { title: 'H', type: 'string' }),
      400,
      "Provided object does not match schema 'property': 'name' is a required property",
    );
    const listed = await req('GET', path, undefined, reader.token);
    assert.deepEqual(Object.keys(listed.body.properties), ['hypervisor']);
    const byPrefix = await req('GET', `${path}/hw:hypervisor?resource_type=OS::Nova::Flavor`);
    assert.equal(byPrefix.status, 200, byPrefix.text);
    assert.equal(byPrefix.body.name, 'hypervisor');
    expectError(
      await req('GET', `${path}/hypervisor?resource_type=OS::Nova::Flavor`),
      404,
      "Property hypervisor does not start with the expected resource type association prefix of 'hw:'.",
    );
    const updated = await req('PUT', `${path}/hypervisor`, { name: 'hv', title: 'HV', type: 'string' });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.title, 'HV');
    expectError(await req('GET', `${path}/hypervisor`), 404, 'Could not find property hypervisor');
    assert.equal((await req('DELETE', `${path}/hv`)).status, 204);
    assert.deepEqual((await req('GET', path)).body.properties, {});
  });

  test('tags: replace and append, list order and paging, one tag, rename, delete', async () => {
    const ns = (await createNamespace()).namespace;
    const path = `${NS}/${ns}/tags`;
    const many = await req('POST', path, { tags: [{ name: 'b' }, { name: 'a' }] });
    assert.equal(many.status, 201, many.text);
    assert.deepEqual(many.body, { tags: [{ name: 'b' }, { name: 'a' }] });
    const replaced = await req('POST', path, { tags: [{ name: 'c' }, { name: 'd' }] });
    assert.equal(replaced.status, 201);
    const appended = await req('POST', path, { tags: [{ name: 'e' }] }, tc.adminToken, {
      'x-openstack-append': 'true',
    });
    assert.equal(appended.status, 201, appended.text);
    expectError(
      await req('POST', path, { tags: [{ name: 'c' }] }, tc.adminToken, { 'x-openstack-append': 'true' }),
      409,
      `A metadata tag with name=c already exists in namespace=${ns}. (Please note that metadata tag names are case insensitive).`,
    );
    const names = async (query: string) =>
      ((await req('GET', `${path}${query}`, undefined, member.token)).body.tags as Body[]).map((t) => t.name);
    assert.deepEqual(await names('?sort_key=name&sort_dir=asc'), ['c', 'd', 'e']);
    assert.deepEqual(await names('?sort_key=name&sort_dir=asc&limit=1&marker=c'), ['d']);
    const one = await req('POST', `${path}/f`);
    assert.equal(one.status, 201, one.text);
    assert.equal(one.body.name, 'f');
    assert.ok(one.body.created_at);
    expectError(await req('POST', `${path}/f`), 409);
    expectError(
      await req('POST', `${path}/${'x'.repeat(81)}`),
      400,
      /^Provided object does not match schema 'tag': 'x+' is too long$/,
    );
    const renamed = await req('PUT', `${path}/f`, { name: 'g' });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal((await req('GET', `${path}/g`, undefined, reader.token)).body.name, 'g');
    expectError(await req('GET', `${path}/f`), 404, 'Could not find metadata tag f');
    assert.equal((await req('DELETE', `${path}/g`)).status, 204);
    expectError(
      await req('DELETE', path, undefined, member.token),
      403,
      'You are not authorized to complete delete_metadef_namespace action.',
    );
    assert.equal((await req('DELETE', path)).status, 204);
    assert.deepEqual(await names(''), []);
  });

  test('resource type associations: create (new types too), list, conflicts, delete', async () => {
    const ns = (await createNamespace()).namespace;
    const path = `${NS}/${ns}/resource_types`;
    const created = await req('POST', path, {
      name: 'OS::Cinder::Volume',
      prefix: 'vol_',
      properties_target: 'image',
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.name, 'OS::Cinder::Volume');
    assert.equal(created.body.properties_target, 'image');
    expectError(
      await req('POST', path, { name: 'OS::Cinder::Volume' }),
      409,
      `The metadata definition resource-type association of resource-type=OS::Cinder::Volume to namespace=${ns} already exists.`,
    );
    const fresh = uniqueName('OS::Fresh::Type');
    assert.equal((await req('POST', path, { name: fresh })).status, 201);
    const types = (await req('GET', `${MD}/resource_types`)).body.resource_types.map((r: Body) => r.name);
    assert.ok(types.includes(fresh));
    const listed = await req('GET', path, undefined, reader.token);
    assert.deepEqual(
      listed.body.resource_type_associations.map((r: Body) => r.name).sort(),
      ['OS::Cinder::Volume', fresh].sort(),
    );
    assert.equal((await req('DELETE', `${path}/OS::Cinder::Volume`)).status, 204);
    expectError(
      await req('DELETE', `${path}/OS::Cinder::Volume`),
      404,
      'Failed to find resource type OS::Cinder::Volume to delete',
    );
    expectError(
      await req('POST', path, { name: 'x', created_at: 'now' }),
      403,
      "Attribute 'created_at' is read-only.",
    );
  });
});
