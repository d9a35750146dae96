// /servers/{id}/tags (2.26+): replace, list, check, add (201/204), remove, clear, Nova's tag rules and limits.
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
const call = (method: string, path: string, body?: unknown, mv = '2.26') =>
  nova(tc, method, path, { token: user.token, body, mv });

before(async () => {
  tc = await startTestCloud();
  user = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

describe('server tags', () => {
  test('replace, list, add one (201 then 204), check, remove, clear', async () => {
    const id = await server();
    const t = `/servers/${id}/tags`;
    const put = await call('PUT', t, { tags: ['b', 'a', 'a'] });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body.tags, ['a', 'b']);
    const add = await call('PUT', `${t}/c`);
    assert.equal(add.status, 201, add.text);
    assert.match(String(add.headers['location']), new RegExp(`/compute/v2.1/servers/${id}/tags/c$`));
    assert.equal((await call('PUT', `${t}/c`)).status, 204);
    assert.deepEqual((await call('GET', t)).body.tags, ['a', 'b', 'c']);
    assert.equal((await call('GET', `${t}/a`)).status, 204);
    expectFault(await call('GET', `${t}/zz`), 404, `Server ${id} has no tag 'zz'`);
    assert.equal((await call('DELETE', `${t}/a`)).status, 204);
    expectFault(await call('DELETE', `${t}/a`), 404, `Instance ${id} has no tag 'a'`);
    const shown = await call('GET', `/servers/${id}`);
    assert.deepEqual(shown.body.server.tags, ['b', 'c']);
    assert.equal((await call('DELETE', t)).status, 204);
    assert.deepEqual((await call('GET', t)).body.tags, []);
  });

  test('before 2.26 the tags API does not exist', async () => {
    const id = await server();
    expectFault(await call('GET', `/servers/${id}/tags`, undefined, '2.25'), 404);
  });

  test('invalid tags and more than 50 are 400s', async () => {
    const id = await server();
    const t = `/servers/${id}/tags`;
    expectFault(await call('PUT', `${t}/a,b`), 400, /^Tag 'a,b' is invalid\. It must be a non empty string/);
    expectFault(await call('PUT', `${t}/${'x'.repeat(61)}`), 400, /is too long$/);
    expectFault(await call('PUT', t, { tags: ['ok', 'bad/tag'] }), 400);
    const fifty = Array.from({ length: 50 }, (_, i) => `t${i}`);
    expectFault(await call('PUT', t, { tags: [...fifty, 'one-more'] }), 400);
    assert.equal((await call('PUT', t, { tags: fifty })).status, 200);
    expectFault(
      await call('PUT', `${t}/one-more`),
      400,
      'The number of tags exceeded the per-server limit 50',
    );
  });

  test('tags change only in active, paused, suspended or stopped', async () => {
    const id = await server('building');
    expectFault(
      await call('PUT', `/servers/${id}/tags/x`),
      409,
      `Cannot 'update tag' instance ${id} while it is in vm_state building`,
    );
    expectFault(await call('DELETE', `/servers/${id}/tags`), 409, /Cannot 'delete tags'/);
    assert.equal((await call('GET', `/servers/${id}/tags`)).status, 200);
  });
});
