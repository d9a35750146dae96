// /os-aggregates and /os-availability-zone: CRUD, hosts and metadata, zone conflicts as Nova checks them,
// the placement mirror of memberships, and the zones users and admins see.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';
import { expectFault, expectKeys, insertServer, nova } from './compute-support.ts';

let tc: TestCloud;
let admin: string;
let member: TestUser;
let hosts: { host: string; node: string }[];

before(async () => {
  tc = await startTestCloud({ compute: { fake: { hosts: 3 } } } as never);
  admin = tc.adminToken;
  member = await tc.makeUser();
  const res = await nova(tc, 'GET', '/os-hypervisors/detail', { token: admin, mv: '2.53' });
  hosts = res.body.hypervisors.map((h: { id: string; service: { host: string } }) => ({
    host: h.service.host,
    node: h.id,
  }));
  assert.equal(hosts.length, 3);
});
after(async () => {
  await tc.close();
});

async function create(
  zone?: string | null,
  mv?: string,
): Promise<{ id: number; name: string; uuid?: string }> {
  const aggregate: Record<string, unknown> = { name: uniqueName('agg') };
  if (zone !== undefined) aggregate['availability_zone'] = zone;
  const res = await nova(tc, 'POST', '/os-aggregates', { token: admin, mv, body: { aggregate } });
  assert.equal(res.status, 200, res.text);
  return res.body.aggregate;
}

const act = (id: number, body: unknown, token = admin) =>
  nova(tc, 'POST', `/os-aggregates/${id}/action`, { token, body });

async function placementAggregates(node: string): Promise<string[]> {
  const res = await tc.request('GET', `/placement/resource_providers/${node}/aggregates`, {
    token: admin,
    headers: { 'openstack-api-version': 'placement 1.19' },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.aggregates;
}

describe('aggregates', () => {
  test('create (no hosts/metadata in the body), show, list, 2.41 uuid', async () => {
    const a = await create('zone-a');
    expectKeys(a, ['availability_zone', 'created_at', 'deleted', 'deleted_at', 'id', 'name', 'updated_at']);
    assert.equal(a['availability_zone' as keyof typeof a], 'zone-a');
    const shown = await nova(tc, 'GET', `/os-aggregates/${a.id}`, { token: admin, mv: '2.41' });
    expectKeys(shown.body.aggregate, [
      'availability_zone',
      'created_at',
      'deleted',
      'deleted_at',
      'hosts',
      'id',
      'metadata',
      'name',
      'updated_at',
      'uuid',
    ]);
    assert.deepEqual(shown.body.aggregate.metadata, { availability_zone: 'zone-a' });
    const list = await nova(tc, 'GET', '/os-aggregates', { token: admin });
    assert.ok(list.body.aggregates.some((x: { id: number }) => x.id === a.id));
    assert.equal(list.body.aggregates[0].uuid, undefined);
    const b = await create(undefined, '2.41');
    assert.match(String(b.uuid), /^[0-9a-f-]{36}$/);
    assert.equal((b as Record<string, unknown>)['hosts'], undefined);
  });

  test('errors: duplicate name 409, bad id 400, missing 404, non-admin 403, bad body 400', async () => {
    const a = await create();
    expectFault(
      await nova(tc, 'POST', '/os-aggregates', { token: admin, body: { aggregate: { name: a.name } } }),
      409,
      `Aggregate ${a.name} already exists.`,
    );
    expectFault(await nova(tc, 'GET', '/os-aggregates/abc', { token: admin }), 400);
    expectFault(
      await nova(tc, 'GET', '/os-aggregates/99999', { token: admin }),
      404,
      'Aggregate 99999 could not be found.',
    );
    expectFault(await nova(tc, 'GET', '/os-aggregates', { token: member.token }), 403);
    expectFault(
      await nova(tc, 'POST', '/os-aggregates', { token: member.token, body: { aggregate: { name: 'x' } } }),
      403,
    );
    expectFault(
      await nova(tc, 'POST', '/os-aggregates', { token: admin, body: { aggregate: { name: '' } } }),
      400,
    );
    expectFault(
      await nova(tc, 'POST', '/os-aggregates', {
        token: admin,
        body: { aggregate: { name: 'x', availability_zone: 'a:b' } },
      }),
      400,
    );
    expectFault(
      await nova(tc, 'PUT', `/os-aggregates/${a.id}`, { token: admin, body: { aggregate: {} } }),
      400,
    );
  });

  test('update name and zone; empty zone refused', async () => {
    const a = await create('z1');
    const res = await nova(tc, 'PUT', `/os-aggregates/${a.id}`, {
      token: admin,
      body: { aggregate: { name: `${a.name}-new`, availability_zone: 'z2' } },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.aggregate.name, `${a.name}-new`);
    assert.equal(res.body.aggregate.availability_zone, 'z2');
    assert.ok(res.body.aggregate.updated_at);
    expectFault(
      await nova(tc, 'PUT', `/os-aggregates/${a.id}`, {
        token: admin,
        body: { aggregate: { availability_zone: null } },
      }),
      400,
      `Cannot update aggregate ${a.id}. Reason: Aggregate ${a.name}-new does not support empty named availability zone.`,
    );
  });

  test('hosts: add, duplicate, unknown, zone conflicts, remove, mirrored into placement', async () => {
    const a = await create('zone-x', '2.41');
    const [h0, h1] = hosts as [{ host: string; node: string }, { host: string; node: string }];
    const added = await act(a.id, { add_host: { host: h0.host } });
    assert.equal(added.status, 200, added.text);
    assert.deepEqual(added.body.aggregate.hosts, [h0.host]);
    const shown = await nova(tc, 'GET', `/os-aggregates/${a.id}`, { token: admin, mv: '2.41' });
    assert.ok((await placementAggregates(h0.node)).includes(shown.body.aggregate.uuid));
    expectFault(
      await act(a.id, { add_host: { host: h0.host } }),
      409,
      `Aggregate ${a.id} already has host ${h0.host}.`,
    );
    expectFault(
      await act(a.id, { add_host: { host: 'no-such-host' } }),
      404,
      'Compute host no-such-host could not be found.',
    );
    expectFault(await act(a.id, { add_host: { host: h1.host } }, member.token), 403);

    // The same host in an aggregate of another zone: 409 on add, 400 when a zone is set to conflict.
    const b = await create('zone-y');
    expectFault(
      await act(b.id, { add_host: { host: h0.host } }),
      409,
      `Cannot add host to aggregate ${b.id}. Reason: One or more hosts already in availability zone(s) ['zone-x'].`,
    );
    const c = await create();
    assert.equal((await act(c.id, { add_host: { host: h0.host } })).status, 200);
    expectFault(
      await act(c.id, { set_metadata: { metadata: { availability_zone: 'zone-z' } } }),
      400,
      `Cannot update metadata of aggregate ${c.id}. Reason: One or more hosts already in availability zone(s) ['zone-x'].`,
    );
    // Deleting a non-empty aggregate is refused.
    expectFault(
      await nova(tc, 'DELETE', `/os-aggregates/${c.id}`, { token: admin }),
      400,
      `Cannot remove host from aggregate ${c.id}. Reason: Host aggregate is not empty.`,
    );
    assert.equal((await act(c.id, { remove_host: { host: h0.host } })).status, 200);
    assert.equal((await nova(tc, 'DELETE', `/os-aggregates/${c.id}`, { token: admin })).status, 200);

    const removed = await act(a.id, { remove_host: { host: h0.host } });
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.body.aggregate.hosts, []);
    assert.ok(!(await placementAggregates(h0.node)).includes(shown.body.aggregate.uuid));
    expectFault(
      await act(a.id, { remove_host: { host: h0.host } }),
      404,
      `Cannot remove host ${h0.host} in aggregate ${a.id}`,
    );
    expectFault(await act(a.id, { bogus: {} }), 400);
  });

  test('changing the zone of hosts with servers is refused', async () => {
    const h2 = hosts[2]!;
    const a = await create('busy-zone');
    assert.equal((await act(a.id, { add_host: { host: h2.host } })).status, 200);
    await insertServer(tc, {
      projectId: member.projectId,
      host: h2.host,
      flavor: { vcpus: 1, memory_mb: 64, root_gb: 1 },
    });
    expectFault(
      await act(a.id, { set_metadata: { metadata: { availability_zone: 'other-zone' } } }),
      400,
      `Cannot update metadata of aggregate ${a.id}. Reason: One or more hosts contain instances in this zone.`,
    );
    const meta = await act(a.id, {
      set_metadata: { metadata: { ssd: 'true', availability_zone: 'busy-zone' } },
    });
    assert.equal(meta.status, 200, meta.text);
    assert.deepEqual(meta.body.aggregate.metadata, { ssd: 'true', availability_zone: 'busy-zone' });
    const cleared = await act(a.id, { set_metadata: { metadata: { ssd: null } } });
    assert.deepEqual(cleared.body.aggregate.metadata, { availability_zone: 'busy-zone' });
  });
});

describe('availability zones', () => {
  test('users see zones of enabled hosts without hosts; admins see hosts and services', async () => {
    const list = await nova(tc, 'GET', '/os-availability-zone', { token: member.token });
    assert.equal(list.status, 200);
    const zones = list.body.availabilityZoneInfo as {
      zoneName: string;
      zoneState: { available: boolean };
      hosts: null;
    }[];
    for (const z of zones) {
      expectKeys(z, ['zoneName', 'zoneState', 'hosts']);
      assert.equal(z.hosts, null);
    }
    const names = zones.map((z) => z.zoneName);
    assert.ok(names.includes('busy-zone'));
    assert.ok(names.includes('nova'), 'hosts in no zoned aggregate are in the default zone');
    assert.ok(!names.includes('internal'));

    expectFault(await nova(tc, 'GET', '/os-availability-zone/detail', { token: member.token }), 403);
    const detail = await nova(tc, 'GET', '/os-availability-zone/detail', { token: admin });
    const info = detail.body.availabilityZoneInfo as {
      zoneName: string;
      hosts: Record<string, Record<string, unknown>>;
    }[];
    const busy = info.find((z) => z.zoneName === 'busy-zone')!;
    const svc = busy.hosts[hosts[2]!.host]!['nova-compute'] as Record<string, unknown>;
    expectKeys(svc, ['available', 'active', 'updated_at']);
    assert.equal(svc['available'], true);
    const internal = info.find((z) => z.zoneName === 'internal')!;
    const services = Object.values(internal.hosts).flatMap((h) => Object.keys(h));
    assert.ok(services.includes('nova-scheduler') && services.includes('nova-conductor'));
  });
});
