// Paging GET /servers with limit and marker: every server exactly once, in the same order as one big page, for
// the default order (keyset pages) and for other sort keys; ties on created_at are broken by id.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';
import { insertServer } from './compute-support.ts';

let tc: TestCloud;
let projectId: string;

before(async () => {
  tc = await startTestCloud();
  const me = await tc.request('GET', '/v3/auth/tokens', {
    token: tc.adminToken,
    headers: { 'x-subject-token': tc.adminToken },
  });
  projectId = me.body.token.project.id;
  // 25 servers inserted back to back: many share a created_at millisecond.
  for (let i = 0; i < 25; i++) await insertServer(tc, { projectId, host: null });
});
after(async () => {
  await tc.close();
});

async function pages(query: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let marker = '';
  for (let n = 0; n < 100; n++) {
    const r = await tc.request(
      'GET',
      `/compute/v2.1/servers/detail?limit=${limit}${query}${marker ? `&marker=${marker}` : ''}`,
      { token: tc.adminToken },
    );
    assert.equal(r.status, 200, r.text);
    ids.push(...r.body.servers.map((s: { id: string }) => s.id));
    if (r.body.servers.length < limit) return ids;
    marker = r.body.servers.at(-1).id;
  }
  throw new Error('paging did not end');
}

describe('server list paging', () => {
  for (const [label, query] of [
    ['default order (created_at desc, id desc)', ''],
    ['created_at asc', '&sort_key=created_at&sort_dir=asc'],
    ['display_name asc', '&sort_key=display_name&sort_dir=asc'],
  ] as const) {
    test(`${label}: pages of 7 give every server once, in the one-page order`, async () => {
      const all = await pages(query, 1000);
      assert.equal(all.length, 25);
      const paged = await pages(query, 7);
      assert.deepEqual(paged, all);
      assert.equal(new Set(paged).size, 25);
    });
  }

  test('an unknown marker is 400 with Nova’s message', async () => {
    const r = await tc.request('GET', '/compute/v2.1/servers?marker=00000000-0000-0000-0000-000000000000', {
      token: tc.adminToken,
    });
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /marker \[00000000-0000-0000-0000-000000000000\] not found/);
  });
});
