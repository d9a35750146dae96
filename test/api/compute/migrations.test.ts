// GET /os-migrations and /servers/{id}/migrations: filters, the view per microversion (2.23 type and links,
// 2.59 uuid and paging, 2.80 owners), changes-since/before, and in-progress live migrations of a server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, expectKeys, insertServer, nova } from './compute-support.ts';

let tc: TestCloud;
let member: TestUser;
let server: string;
let ids: { id: number; uuid: string }[] = [];

async function addMigration(o: {
  type: string;
  status: string;
  source: string;
  dest: string;
  updated: string;
}) {
  const uuid = crypto.randomUUID();
  await tc.cloud.compute.context.write(async (trx) => {
    await trx
      .insertInto('compute_migrations')
      .values({
        uuid,
        server_id: server,
        project_id: member.projectId,
        user_id: member.id,
        source_compute: o.source,
        source_node: o.source,
        dest_compute: o.dest,
        dest_node: o.dest,
        dest_host: null,
        old_flavor_id: '1',
        new_flavor_id: o.type === 'resize' ? '2' : '1',
        migration_type: o.type,
        status: o.status,
        created_at: o.updated,
        updated_at: o.updated,
      })
      .execute();
  });
  const row = await tc.cloud.compute.context.db
    .selectFrom('compute_migrations')
    .select('id')
    .where('uuid', '=', uuid)
    .executeTakeFirstOrThrow();
  ids.push({ id: Number(row.id), uuid });
}

before(async () => {
  tc = await startTestCloud();
  member = await tc.makeUser();
  server = await insertServer(tc, { projectId: member.projectId, host: 'h1' });
  ids = [];
  await addMigration({
    type: 'resize',
    status: 'confirmed',
    source: 'h1',
    dest: 'h2',
    updated: '2024-01-01T00:00:00Z',
  });
  await addMigration({
    type: 'live-migration',
    status: 'running',
    source: 'h2',
    dest: 'h3',
    updated: '2024-01-02T00:00:00Z',
  });
  await addMigration({
    type: 'evacuation',
    status: 'done',
    source: 'h3',
    dest: 'h1',
    updated: '2024-01-03T00:00:00Z',
  });
});
after(async () => {
  await tc.close();
});

const BASE_KEYS = [
  'created_at',
  'dest_compute',
  'dest_host',
  'dest_node',
  'id',
  'instance_uuid',
  'new_instance_type_id',
  'old_instance_type_id',
  'source_compute',
  'source_node',
  'status',
  'updated_at',
];

describe('os-migrations', () => {
  test('view per microversion', async () => {
    let res = await nova(tc, 'GET', '/os-migrations', { token: tc.adminToken });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.migrations.length, 3);
    expectKeys(res.body.migrations[0], BASE_KEYS);
    assert.equal(res.body.migrations[0].new_instance_type_id, 2);
    res = await nova(tc, 'GET', '/os-migrations', { token: tc.adminToken, mv: '2.23' });
    const live = res.body.migrations.find(
      (m: { migration_type: string }) => m.migration_type === 'live-migration',
    );
    expectKeys(live, [...BASE_KEYS, 'migration_type', 'links']);
    assert.match(live.links[0].href, new RegExp(`/servers/${server}/migrations/${live.id}$`));
    const resize = res.body.migrations.find((m: { migration_type: string }) => m.migration_type === 'resize');
    expectKeys(resize, [...BASE_KEYS, 'migration_type']);
    res = await nova(tc, 'GET', '/os-migrations', { token: tc.adminToken, mv: '2.80' });
    expectKeys(res.body.migrations[0], [...BASE_KEYS, 'migration_type', 'uuid', 'user_id', 'project_id']);
    // 2.59 sorts newest first.
    assert.equal(res.body.migrations[0].uuid, ids[2]!.uuid);
    expectFault(await nova(tc, 'GET', '/os-migrations', { token: member.token }), 403);
  });

  test('filters', async () => {
    const q = async (query: string, mv?: string) =>
      (await nova(tc, 'GET', `/os-migrations?${query}`, { token: tc.adminToken, mv })).body.migrations.map(
        (m: { id: number }) => m.id,
      );
    assert.deepEqual(await q('host=h1'), [ids[0]!.id, ids[2]!.id]);
    assert.deepEqual(await q('status=running'), [ids[1]!.id]);
    assert.deepEqual(await q('migration_type=evacuation'), [ids[2]!.id]);
    assert.deepEqual(
      await q(`instance_uuid=${server}`),
      ids.map((i) => i.id),
    );
    assert.deepEqual(await q('changes-since=2024-01-02T00:00:00Z', '2.59'), [ids[2]!.id, ids[1]!.id]);
    assert.deepEqual(await q('changes-before=2024-01-02T00:00:00Z', '2.66'), [ids[1]!.id, ids[0]!.id]);
    assert.deepEqual(await q(`user_id=${member.id}`, '2.80'), [ids[2]!.id, ids[1]!.id, ids[0]!.id]);
    assert.deepEqual(await q('project_id=nobody', '2.80'), []);
    expectFault(
      await nova(
        tc,
        'GET',
        '/os-migrations?changes-since=2024-01-03T00:00:00Z&changes-before=2024-01-01T00:00:00Z',
        {
          token: tc.adminToken,
          mv: '2.66',
        },
      ),
      400,
      'The value of changes-since must be less than or equal to changes-before.',
    );
    expectFault(
      await nova(tc, 'GET', '/os-migrations?changes-since=never', { token: tc.adminToken, mv: '2.59' }),
      400,
    );
  });

  test('2.59 paging by uuid', async () => {
    const p1 = await nova(tc, 'GET', '/os-migrations?limit=2', { token: tc.adminToken, mv: '2.59' });
    assert.equal(p1.body.migrations.length, 2);
    assert.match(p1.body.migrations_links[0].href, new RegExp(`marker=${ids[1]!.uuid}`));
    const p2 = await nova(tc, 'GET', `/os-migrations?limit=2&marker=${ids[1]!.uuid}`, {
      token: tc.adminToken,
      mv: '2.59',
    });
    assert.deepEqual(
      p2.body.migrations.map((m: { uuid: string }) => m.uuid),
      [ids[0]!.uuid],
    );
    expectFault(
      await nova(tc, 'GET', '/os-migrations?marker=nope', { token: tc.adminToken, mv: '2.59' }),
      400,
      'Marker nope could not be found.',
    );
  });
});

describe('server migrations', () => {
  test('in-progress live migrations of a server (2.23)', async () => {
    const list = await nova(tc, 'GET', `/servers/${server}/migrations`, { token: tc.adminToken, mv: '2.23' });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.migrations.length, 1);
    expectKeys(list.body.migrations[0], [
      'created_at',
      'dest_compute',
      'dest_host',
      'dest_node',
      'disk_processed_bytes',
      'disk_remaining_bytes',
      'disk_total_bytes',
      'id',
      'memory_processed_bytes',
      'memory_remaining_bytes',
      'memory_total_bytes',
      'server_uuid',
      'source_compute',
      'source_node',
      'status',
      'updated_at',
    ]);
    const one = await nova(tc, 'GET', `/servers/${server}/migrations/${ids[1]!.id}`, {
      token: tc.adminToken,
      mv: '2.80',
    });
    assert.equal(one.status, 200);
    assert.equal(one.body.migration.uuid, ids[1]!.uuid);
    assert.equal(one.body.migration.project_id, member.projectId);
    expectFault(
      await nova(tc, 'GET', `/servers/${server}/migrations/${ids[0]!.id}`, {
        token: tc.adminToken,
        mv: '2.23',
      }),
      404,
      `Migration ${ids[0]!.id} for server ${server} is not live-migration.`,
    );
    expectFault(
      await nova(tc, 'GET', `/servers/${server}/migrations/99999`, { token: tc.adminToken, mv: '2.23' }),
      404,
    );
    expectFault(
      await nova(tc, 'GET', `/servers/${server}/migrations`, { token: member.token, mv: '2.23' }),
      403,
    );
    expectFault(await nova(tc, 'GET', '/servers/nope/migrations', { token: tc.adminToken, mv: '2.23' }), 404);
    expectFault(await nova(tc, 'GET', `/servers/${server}/migrations`, { token: tc.adminToken }), 404);
  });
});
