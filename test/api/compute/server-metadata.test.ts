// /servers/{id}/metadata: list, merge, replace, one item, with Nova's 400s, the metadata_items quota, the
// lock check and the state check.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, insertServer, nova } from './compute-support.ts';

let tc: TestCloud;
let user: TestUser;

const server = (vmState?: string) =>
  insertServer(tc, {
    projectId: user.projectId,
    userId: user.id,
    host: 'parked-host',
    ...(vmState ? { vmState } : {}),
  });
const call = (method: string, path: string, body?: unknown, token = user.token) =>
  nova(tc, method, path, { token, body });

before(async () => {
  tc = await startTestCloud();
  user = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

describe('server metadata', () => {
  test('POST merges, PUT replaces, GET lists and shows, DELETE removes', async () => {
    const id = await server();
    const m = `/servers/${id}/metadata`;
    assert.deepEqual((await call('GET', m)).body, { metadata: {} });
    const post = await call('POST', m, { metadata: { a: '1', b: '2' } });
    assert.equal(post.status, 200, post.text);
    assert.deepEqual(post.body.metadata, { a: '1', b: '2' });
    assert.deepEqual((await call('POST', m, { metadata: { b: '3', c: '4' } })).body.metadata, {
      a: '1',
      b: '3',
      c: '4',
    });
    assert.deepEqual((await call('PUT', m, { metadata: { z: '9' } })).body.metadata, { z: '9' });
    assert.deepEqual((await call('GET', m)).body.metadata, { z: '9' });
    const put = await call('PUT', `${m}/y`, { meta: { y: '8' } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body, { meta: { y: '8' } });
    assert.deepEqual((await call('GET', `${m}/y`)).body, { meta: { y: '8' } });
    assert.equal((await call('DELETE', `${m}/y`)).status, 204);
    expectFault(await call('GET', `${m}/y`), 404, 'Metadata item was not found');
    expectFault(await call('DELETE', `${m}/y`), 404, 'Metadata item was not found');
    const shown = await nova(tc, 'GET', `/servers/${id}`, { token: user.token });
    assert.deepEqual(shown.body.server.metadata, { z: '9' });
  });

  test('PUT one item: the key must match the URI; bodies are validated', async () => {
    const id = await server();
    expectFault(
      await call('PUT', `/servers/${id}/metadata/a`, { meta: { b: '1' } }),
      400,
      'Request body and URI mismatch',
    );
    expectFault(await call('PUT', `/servers/${id}/metadata/a`, { meta: { a: '1', b: '2' } }), 400);
    expectFault(await call('POST', `/servers/${id}/metadata`, { metadata: { a: 1 } }), 400);
    expectFault(await call('POST', `/servers/${id}/metadata`, { meta: {} }), 400);
  });

  test('more items than metadata_items is a 403', async () => {
    const other = await tc.makeUser();
    const q = await nova(tc, 'PUT', `/os-quota-sets/${other.projectId}`, {
      token: tc.adminToken,
      body: { quota_set: { metadata_items: 2 } },
    });
    assert.equal(q.status, 200, q.text);
    const id = await insertServer(tc, { projectId: other.projectId, userId: other.id, host: 'parked-host' });
    const m = `/servers/${id}/metadata`;
    assert.equal((await call('POST', m, { metadata: { a: '1', b: '2' } }, other.token)).status, 200);
    expectFault(
      await call('POST', m, { metadata: { c: '3' } }, other.token),
      403,
      'Maximum number of metadata items exceeds 2',
    );
    assert.equal((await call('PUT', m, { metadata: { c: '3' } }, other.token)).status, 200);
  });

  test('a building server and a locked server refuse changes; reads still work', async () => {
    const building = await server('building');
    expectFault(
      await call('POST', `/servers/${building}/metadata`, { metadata: { a: '1' } }),
      409,
      `Cannot 'update metadata' instance ${building} while it is in vm_state building`,
    );
    assert.equal((await call('GET', `/servers/${building}/metadata`)).status, 200);
    const id = await server();
    await call('POST', `/servers/${id}/metadata`, { metadata: { a: '1' } });
    assert.equal((await call('POST', `/servers/${id}/action`, { lock: null })).status, 202);
    expectFault(
      await call('PUT', `/servers/${id}/metadata/a`, { meta: { a: '2' } }),
      409,
      `Instance ${id} is locked`,
    );
    expectFault(await call('DELETE', `/servers/${id}/metadata/a`), 409, `Instance ${id} is locked`);
    assert.equal(
      (await call('PUT', `/servers/${id}/metadata/a`, { meta: { a: '2' } }, tc.adminToken)).status,
      200,
    );
  });

  test("another project's server is not found", async () => {
    const other = await tc.makeUser();
    const id = await server();
    expectFault(await call('GET', `/servers/${id}/metadata`, undefined, other.token), 404);
  });
});
