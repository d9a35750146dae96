// What a build leaves behind, on every database dialect: the create action and its finished event, the servers
// (with metadata) a host's agent is handed, a failed schedule's error event, delete's event, the quota limits a
// create reads (class < project < user) with its 403s, and private flavor access.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { skipFor, TEST_DIALECTS } from '../../support/databases.ts';
import { expectFault, nova, uploadTestImage, waitForStatus } from './compute-support.ts';

for (const d of TEST_DIALECTS) {
  describe(`build records: ${d.name}`, { skip: skipFor(d) }, () => {
    let tc: TestCloud;
    let user: TestUser;
    let imageId: string;
    before(async () => {
      tc = await startTestCloud({ database: { url: await d.freshUrl() } });
      imageId = await uploadTestImage(tc);
      user = await tc.makeUser();
    });
    after(async () => {
      await tc?.close();
    });

    const create = (server: Record<string, unknown>, token = user.token) =>
      nova(tc, 'POST', '/servers', {
        token,
        body: { server: { name: 'rec', flavorRef: '42', imageRef: imageId, ...server } },
        mv: '2.37',
      });
    const actions = async (id: string) =>
      (await nova(tc, 'GET', `/servers/${id}/os-instance-actions`, { token: tc.adminToken, mv: '2.93' })).body
        .instanceActions as { action: string; request_id: string; message: string | null }[];
    const eventsOf = async (id: string, requestId: string) => {
      const r = await nova(tc, 'GET', `/servers/${id}/os-instance-actions/${requestId}`, {
        token: tc.adminToken,
        mv: '2.93',
      });
      assert.equal(r.status, 200, r.text);
      return r.body.instanceAction as {
        updated_at: string;
        message: string | null;
        events: { event: string; result: string; host: string; start_time: string; finish_time: string }[];
      };
    };

    test('a build ends with its create action closed by one successful build event', async () => {
      const res = await create({
        name: 'with-meta',
        metadata: { role: 'web', note: 'a b' },
        networks: 'none',
      });
      assert.equal(res.status, 202, res.text);
      const id = res.body.server.id as string;
      const s = await waitForStatus(tc, id, tc.adminToken, 'ACTIVE');
      const list = await actions(id);
      assert.deepEqual(
        list.map((a) => a.action),
        ['create'],
      );
      const action = await eventsOf(id, list[0]!.request_id);
      assert.equal(action.message, null);
      assert.deepEqual(
        action.events.map((e) => [e.event, e.result, e.host]),
        [['compute__do_build_and_run_instance', 'Success', s['OS-EXT-SRV-ATTR:host']]],
      );
      assert.ok(action.events[0]!.finish_time >= action.events[0]!.start_time);
      // Closing the action stamps it with the event's finish.
      assert.equal(action.updated_at, action.events[0]!.finish_time);
    });

    test("a host's agent is handed its servers with their metadata; a task pass only those with a task", async () => {
      const a = await create({ name: 'meta', metadata: { role: 'db', 'k.2': 'v 2' }, networks: 'none' });
      const b = await create({ name: 'bare', networks: 'none' });
      const ids = [a.body.server.id as string, b.body.server.id as string];
      const hosts = [];
      for (const id of ids)
        hosts.push((await waitForStatus(tc, id, tc.adminToken, 'ACTIVE'))['OS-EXT-SRV-ATTR:host']);
      const cp = tc.cloud.compute.controlPlane;
      const listed = await cp.listAssigned(String(hosts[0]));
      const mine = listed.find((s) => s.id === ids[0]);
      assert.ok(mine, 'the server is assigned to its host');
      assert.deepEqual(mine.guest.metadata, { role: 'db', 'k.2': 'v 2' });
      assert.equal(mine.taskState, null);
      const bare = (await cp.listAssigned(String(hosts[1]))).find((s) => s.id === ids[1]);
      assert.deepEqual(bare?.guest.metadata, {});
      const tasked = await cp.listAssigned(String(hosts[0]), { tasksOnly: true });
      assert.ok(!tasked.some((s) => s.id === ids[0]), 'an ACTIVE server has no task under way');
    });

    test('a build no host can take is ERROR, its create action closed with an Error event', async () => {
      const f = await nova(tc, 'POST', '/flavors', {
        token: tc.adminToken,
        body: { flavor: { name: 'too-big', ram: 64, vcpus: 1, disk: 1_000_000 } },
      });
      assert.equal(f.status, 200, f.text);
      const res = await create({ flavorRef: f.body.flavor.id, networks: 'none' }, tc.adminToken);
      assert.equal(res.status, 202, res.text);
      const id = res.body.server.id as string;
      await waitForStatus(tc, id, tc.adminToken, 'ERROR');
      const [create0] = await actions(id);
      const action = await eventsOf(id, create0!.request_id);
      assert.equal(action.message, 'Error');
      assert.equal(action.updated_at, action.events[0]?.finish_time);
      assert.deepEqual(
        action.events.map((e) => [e.event, e.result]),
        [['conductor_schedule_and_build_instances', 'Error']],
      );
    });

    test('delete closes its action with the terminate event', async () => {
      const res = await create({ networks: 'none' });
      const id = res.body.server.id as string;
      await waitForStatus(tc, id, user.token, 'ACTIVE');
      const del = await nova(tc, 'DELETE', `/servers/${id}`, { token: user.token });
      assert.equal(del.status, 204, del.text);
      await waitForStatus(tc, id, user.token, 'DELETED');
      const list = await actions(id);
      assert.deepEqual(
        list.map((a) => a.action),
        ['delete', 'create'],
      );
      const action = await eventsOf(id, list[0]!.request_id);
      assert.equal(action.updated_at, action.events[0]?.finish_time);
      assert.deepEqual(
        action.events.map((e) => [e.event, e.result]),
        [['compute_terminate_instance', 'Success']],
      );
    });

    test('a create reads the limits as class < project < user, and refuses past them with Nova 403s', async () => {
      const member = await tc.makeUser();
      const p = member.projectId;
      const put = async (path: string, body: Record<string, unknown>) => {
        const r = await nova(tc, 'PUT', path, { token: tc.adminToken, body });
        assert.equal(r.status, 200, r.text);
      };
      await put('/os-quota-class-sets/default', { quota_class_set: { metadata_items: 100 } });
      await put(`/os-quota-sets/${p}`, { quota_set: { instances: 1, metadata_items: 2 } });
      await put(`/os-quota-sets/${p}?user_id=${member.id}`, { quota_set: { key_pairs: 3 } });
      const show = async (query: string) =>
        (await nova(tc, 'GET', `/os-quota-sets/${p}${query}`, { token: tc.adminToken })).body.quota_set;
      const projectSet = await show('');
      assert.equal(projectSet.instances, 1);
      assert.equal(projectSet.metadata_items, 2);
      assert.equal(projectSet.key_pairs, 100);
      const userSet = await show(`?user_id=${member.id}`);
      assert.equal(userSet.instances, 1);
      assert.equal(userSet.key_pairs, 3);
      const classSet = (await nova(tc, 'GET', '/os-quota-class-sets/default', { token: tc.adminToken })).body
        .quota_class_set;
      assert.equal(classSet.metadata_items, 100);

      expectFault(
        await create({ metadata: { a: '1', b: '2', c: '3' }, networks: 'none' }, member.token),
        403,
        'Quota exceeded for metadata_items: Requested 3, but already used 0 of 2 metadata_items',
      );
      const first = await create({ metadata: { a: '1' }, networks: 'none' }, member.token);
      assert.equal(first.status, 202, first.text);
      expectFault(
        await create({ networks: 'none' }, member.token),
        403,
        'Quota exceeded for instances: Requested 1, but already used 1 of 1 instances',
      );
      await put('/os-quota-class-sets/default', { quota_class_set: { metadata_items: 128 } });
    });

    test('a private flavor builds only for projects given access', async () => {
      const f = await nova(tc, 'POST', '/flavors', {
        token: tc.adminToken,
        body: {
          flavor: { name: 'private-tiny', ram: 64, vcpus: 1, disk: 1, 'os-flavor-access:is_public': false },
        },
      });
      assert.equal(f.status, 200, f.text);
      const flavorId = f.body.flavor.id as string;
      expectFault(
        await create({ flavorRef: flavorId, networks: 'none' }),
        400,
        `Flavor ${flavorId} could not be found.`,
      );
      const grant = await nova(tc, 'POST', `/flavors/${flavorId}/action`, {
        token: tc.adminToken,
        body: { addTenantAccess: { tenant: user.projectId } },
      });
      assert.equal(grant.status, 200, grant.text);
      const ok = await create({ flavorRef: flavorId, networks: 'none' });
      assert.equal(ok.status, 202, ok.text);
      await waitForStatus(tc, ok.body.server.id, user.token, 'ACTIVE');
    });
  });
}
