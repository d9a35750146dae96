// Servers through the whole build flow on the fake driver: create → scheduled → ACTIVE, list/show/update, delete,
// faults and bad input (quota races: quota-race.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';
import {
  expectFault,
  insertServer,
  uploadTestImage as uploadImage,
  waitForStatus as waitFor,
} from './compute-support.ts';

let tc: TestCloud;
let imageId: string;
const MV = { 'openstack-api-version': 'compute 2.93' };

before(async () => {
  tc = await startTestCloud();
  imageId = await uploadImage(tc);
});
after(async () => {
  await tc.close();
});

describe('servers on the fake driver', () => {
  test('version documents list v2.0 first and v2.1 with its range', async () => {
    const r = await tc.request('GET', '/compute/');
    assert.equal(r.status, 200);
    assert.equal(r.body.versions[0].id, 'v2.0');
    assert.equal(r.body.versions[1].version, '2.93');
    const v = await tc.request('GET', '/compute/v2.1/');
    assert.equal(v.body.version.min_version, '2.1');
  });

  test('create goes to ACTIVE on a fake host, then delete removes it', async () => {
    const r = await tc.request('POST', '/compute/v2.1/servers', {
      token: tc.adminToken,
      headers: MV,
      body: {
        server: { name: 'vm one', flavorRef: '1', imageRef: imageId, networks: 'none', metadata: { a: 'b' } },
      },
    });
    assert.equal(r.status, 202, r.text);
    assert.ok(r.body.server.adminPass);
    const id = r.body.server.id;
    const s = await waitFor(tc, id, tc.adminToken, 'ACTIVE');
    assert.equal(s['OS-EXT-STS:power_state'], 1);
    assert.ok(String(s['OS-EXT-SRV-ATTR:host']).startsWith('fake-host-'));
    assert.equal(s['OS-EXT-SRV-ATTR:hostname'], 'vm-one');
    assert.deepEqual(s['metadata'], { a: 'b' });
    assert.equal((s['flavor'] as Record<string, unknown>)['vcpus'], 1);
    const alloc = await tc.request('GET', `/placement/allocations/${id}`, { token: tc.adminToken });
    assert.equal(alloc.status, 200);
    assert.equal(Object.keys(alloc.body.allocations).length, 1);
    const del = await tc.request('DELETE', `/compute/v2.1/servers/${id}`, { token: tc.adminToken });
    assert.equal(del.status, 204);
    await waitFor(tc, id, tc.adminToken, 'DELETED');
    const gone = await tc.request('GET', `/placement/allocations/${id}`, { token: tc.adminToken });
    assert.deepEqual(gone.body.allocations, {});
  });

  test('list, detail, filters and pagination', async () => {
    const ids: string[] = [];
    for (const name of ['alpha-1', 'alpha-2', 'beta-1']) {
      const r = await tc.request('POST', '/compute/v2.1/servers', {
        token: tc.adminToken,
        body: { server: { name, flavorRef: '1', imageRef: imageId } },
      });
      assert.equal(r.status, 202, r.text);
      ids.push(r.body.server.id);
    }
    for (const id of ids) await waitFor(tc, id, tc.adminToken, 'ACTIVE');
    const byName = await tc.request('GET', '/compute/v2.1/servers?name=alpha', { token: tc.adminToken });
    assert.deepEqual(byName.body.servers.map((s: { name: string }) => s.name).sort(), ['alpha-1', 'alpha-2']);
    const page = await tc.request('GET', '/compute/v2.1/servers/detail?limit=2', { token: tc.adminToken });
    assert.equal(page.body.servers.length, 2);
    assert.match(page.body.servers_links[0].href, /marker=/);
    const rest = await tc.request(
      'GET',
      `/compute/v2.1/servers/detail?limit=2&marker=${page.body.servers[1].id}`,
      { token: tc.adminToken },
    );
    assert.equal(rest.body.servers.length, 1);
    const neg = await tc.request('GET', '/compute/v2.1/servers?limit=-1', { token: tc.adminToken });
    assert.equal(neg.status, 400);
    const future = await tc.request('GET', '/compute/v2.1/servers?changes-since=2099-01-01T00:00:00Z', {
      token: tc.adminToken,
    });
    assert.deepEqual(future.body.servers, []);
    const bad = await tc.request('GET', '/compute/v2.1/servers?changes-since=nope', { token: tc.adminToken });
    assert.equal(bad.status, 400);
    const status = await tc.request('GET', '/compute/v2.1/servers?status=ACTIVE&flavor=1', {
      token: tc.adminToken,
    });
    assert.ok(status.body.servers.length >= 3);
    for (const id of ids) await tc.request('DELETE', `/compute/v2.1/servers/${id}`, { token: tc.adminToken });
    for (const id of ids) await waitFor(tc, id, tc.adminToken, 'DELETED');
  });

  test('status filter: case-insensitive, repeatable; an invalid one is an empty list before 2.38, a 400 from it', async () => {
    const user = await tc.makeUser();
    const row = (vmState: string) =>
      insertServer(tc, { projectId: user.projectId, userId: user.id, vmState });
    const [active, error, stopped] = [await row('active'), await row('error'), await row('stopped')];
    const list = async (query: string, token: string, mv?: string) => {
      const r = await tc.request('GET', `/compute/v2.1/servers/detail?${query}`, {
        token,
        headers: mv ? { 'openstack-api-version': `compute ${mv}` } : {},
      });
      return r;
    };
    const ids = async (query: string) => {
      const r = await list(query, user.token);
      assert.equal(r.status, 200, r.text);
      return r.body.servers.map((x: { id: string }) => x.id).sort();
    };
    assert.deepEqual(await ids('status=ERROR'), [error]);
    assert.deepEqual(await ids('status=shutoff'), [stopped]);
    assert.deepEqual(await ids('status=ACTIVE&status=SHUTOFF'), [active, stopped].sort());
    for (const token of [tc.adminToken, user.token]) {
      const old = await list('status=invalid_status', token);
      assert.equal(old.status, 200, old.text);
      assert.deepEqual(old.body.servers, []);
      assert.deepEqual((await list('status=invalid_status', token, '2.37')).body.servers, []);
      expectFault(await list('status=invalid_status', token, '2.38'), 400, 'Invalid status value');
    }
  });

  test('bad input: unknown flavor and image are 400, unknown server 404, other project 404', async () => {
    const f = await tc.request('POST', '/compute/v2.1/servers', {
      token: tc.adminToken,
      body: { server: { name: 'x', flavorRef: '999', imageRef: imageId } },
    });
    assert.equal(f.status, 400);
    assert.match(f.body.badRequest.message, /Flavor 999 could not be found/);
    const i = await tc.request('POST', '/compute/v2.1/servers', {
      token: tc.adminToken,
      body: { server: { name: 'x', flavorRef: '1', imageRef: '6b0d3e2a-7c43-4a5d-9a0e-1c5e1e0d2f11' } },
    });
    assert.equal(i.status, 400);
    const n = await tc.request('GET', '/compute/v2.1/servers/6b0d3e2a-7c43-4a5d-9a0e-1c5e1e0d2f11', {
      token: tc.adminToken,
    });
    assert.equal(n.status, 404);
    assert.ok(n.body.itemNotFound);
    const mv = await tc.request('GET', '/compute/v2.1/servers', {
      token: tc.adminToken,
      headers: { 'openstack-api-version': 'compute 3.0' },
    });
    assert.equal(mv.status, 406);
    const small = await uploadImage(tc, { min_ram: 4096 });
    const s = await tc.request('POST', '/compute/v2.1/servers', {
      token: tc.adminToken,
      body: { server: { name: 'x', flavorRef: '1', imageRef: small } },
    });
    assert.equal(s.status, 400);
    assert.match(s.body.badRequest.message, /memory is too small/);
    const user = await tc.makeUser();
    const mine = await tc.request('POST', '/compute/v2.1/servers', {
      token: user.token,
      body: { server: { name: 'theirs', flavorRef: '1', imageRef: imageId } },
    });
    assert.equal(mine.status, 202, mine.text);
    const other = await tc.makeUser();
    const peek = await tc.request('GET', `/compute/v2.1/servers/${mine.body.server.id}`, {
      token: other.token,
    });
    assert.equal(peek.status, 404);
    const all = await tc.request('GET', '/compute/v2.1/servers?all_tenants=1', { token: other.token });
    assert.equal(all.status, 403);
    assert.equal(
      all.body.forbidden.message,
      "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.",
    );
    await waitFor(tc, mine.body.server.id, user.token, 'ACTIVE');
    await tc.request('DELETE', `/compute/v2.1/servers/${mine.body.server.id}`, { token: user.token });
  });

  test("a locked server refuses its owner's delete (409) and stays; an admin deletes it", async () => {
    const user = await tc.makeUser();
    const r = await tc.request('POST', '/compute/v2.1/servers', {
      token: user.token,
      body: { server: { name: 'locked', flavorRef: '42', imageRef: imageId } },
    });
    assert.equal(r.status, 202, r.text);
    const id = r.body.server.id;
    await waitFor(tc, id, user.token, 'ACTIVE');
    const lock = await tc.request('POST', `/compute/v2.1/servers/${id}/action`, {
      token: user.token,
      body: { lock: null },
    });
    assert.equal(lock.status, 202, lock.text);
    const del = await tc.request('DELETE', `/compute/v2.1/servers/${id}`, { token: user.token });
    assert.equal(del.status, 409);
    assert.equal(del.body.conflictingRequest.message, `Instance ${id} is locked`);
    const still = await tc.request('GET', `/compute/v2.1/servers/${id}`, { token: user.token });
    assert.equal(still.body.server.status, 'ACTIVE');
    assert.equal(still.body.server['OS-EXT-STS:task_state'], null);
    const admin = await tc.request('DELETE', `/compute/v2.1/servers/${id}`, { token: tc.adminToken });
    assert.equal(admin.status, 204);
    await waitFor(tc, id, user.token, 'DELETED');
  });
});
