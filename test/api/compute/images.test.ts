// Nova's image proxy (up to 2.35) and the images servers make: createImage read back through the proxy,
// delete through it, Nova's list filters, the proxy gone at 2.36, and createBackup's rotation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, nova, uploadTestImage, waitForStatus } from './compute-support.ts';

let tc: TestCloud;
let user: TestUser;
let imageId: string;
let serverId: string;

before(async () => {
  tc = await startTestCloud();
  imageId = await uploadTestImage(tc, { min_ram: 64 });
  user = await tc.makeUser();
  const r = await nova(tc, 'POST', '/servers', {
    token: user.token,
    body: { server: { name: 'imaged', flavorRef: '1', imageRef: imageId } },
  });
  assert.equal(r.status, 202, r.text);
  serverId = r.body.server.id;
  await waitForStatus(tc, serverId, user.token, 'ACTIVE');
});
after(async () => {
  await tc.close();
});

async function backups(): Promise<string[]> {
  const r = await tc.request('GET', `/image/v2/images?instance_uuid=${serverId}&image_type=backup`, {
    token: user.token,
  });
  assert.equal(r.status, 200, r.text);
  return r.body.images.map((i: { name: string }) => i.name).sort();
}

describe('compute image proxy', () => {
  test('a server snapshot shows through /images as ACTIVE with its metadata and server, then deletes', async () => {
    const c = await nova(tc, 'POST', `/servers/${serverId}/action`, {
      token: user.token,
      body: { createImage: { name: 'snap', metadata: { image_type: 'test' } } },
    });
    assert.equal(c.status, 202, c.text);
    const id = String(c.headers['location']).split('/').pop()!;
    await waitForStatus(tc, serverId, user.token, 'ACTIVE');
    const show = await nova(tc, 'GET', `/images/${id}`, { token: user.token });
    assert.equal(show.status, 200, show.text);
    const img = show.body.image;
    assert.equal(img.status, 'ACTIVE');
    assert.equal(img.name, 'snap');
    assert.equal(img.metadata.image_type, 'test');
    assert.equal(img.minRam, 64);
    assert.equal(img.server.id, serverId);
    assert.equal(img.progress, 100);
    const base = await nova(tc, 'GET', `/images/${imageId}`, { token: user.token });
    assert.equal(base.body.image.minRam, img.minRam);
    const detail = await nova(tc, 'GET', '/images/detail', { token: user.token });
    assert.ok(detail.body.images.some((i: { id: string }) => i.id === id));
    const meta = await nova(tc, 'GET', `/images/${id}/metadata`, { token: user.token });
    assert.equal(meta.body.metadata.image_type, 'test');
    assert.equal((await nova(tc, 'DELETE', `/images/${id}`, { token: user.token })).status, 204);
    expectFault(await nova(tc, 'GET', `/images/${id}`, { token: user.token }), 404, 'Image not found.');
    expectFault(await nova(tc, 'DELETE', `/images/${id}`, { token: user.token }), 404);
  });

  test('list filters: server by id or link, type, property-*, minRam, status and name', async () => {
    const c = await nova(tc, 'POST', `/servers/${serverId}/action`, {
      token: user.token,
      body: { createImage: { name: 'filter-snap' } },
    });
    assert.equal(c.status, 202, c.text);
    const snap = String(c.headers['location']).split('/').pop()!;
    await waitForStatus(tc, serverId, user.token, 'ACTIVE');
    const ids = async (query: string, detail = false): Promise<string[]> => {
      const r = await nova(tc, 'GET', `/images${detail ? '/detail' : ''}?${query}`, { token: user.token });
      assert.equal(r.status, 200, r.text);
      return r.body.images.map((i: { id: string }) => i.id);
    };
    for (const detail of [false, true]) {
      const byServer = await ids(`server=${serverId}`, detail);
      assert.ok(byServer.includes(snap) && !byServer.includes(imageId), String(byServer));
      const link = encodeURIComponent(`http://example.test/compute/v2.1/servers/${serverId}`);
      assert.deepEqual(await ids(`server=${link}`, detail), byServer);
      const snapshots = await ids('type=snapshot', detail);
      assert.ok(snapshots.includes(snap) && !snapshots.includes(imageId), String(snapshots));
      assert.ok(!(await ids('type=backup', detail)).includes(snap));
      assert.deepEqual(await ids('property-image_type=snapshot', detail), snapshots);
      assert.deepEqual(await ids(`server=${crypto.randomUUID()}`, detail), []);
    }
    assert.deepEqual(await ids('name=filter-snap'), [snap]);
    assert.ok((await ids('status=ACTIVE')).includes(imageId));
    assert.ok((await ids('minRam=64')).includes(imageId));
    assert.ok(!(await ids('minRam=65')).includes(imageId));
  });

  test('the proxy is gone from 2.36 on', async () => {
    expectFault(await nova(tc, 'GET', `/images/${imageId}`, { token: user.token, mv: '2.36' }), 404);
    const still = await nova(tc, 'GET', `/images/${imageId}`, { token: user.token, mv: '2.35' });
    assert.equal(still.status, 200);
  });

  test('createBackup keeps only the newest `rotation` backups of a type', async () => {
    for (const name of ['b1', 'b2', 'b3']) {
      const r = await nova(tc, 'POST', `/servers/${serverId}/action`, {
        token: user.token,
        body: { createBackup: { name, backup_type: 'daily', rotation: 2 } },
      });
      assert.equal(r.status, 202, r.text);
      await waitForStatus(tc, serverId, user.token, 'ACTIVE');
      // Rotation orders backups by created_at, which Glance keeps to the second (as OpenStack does):
      // backups taken within one second have no order, so space them as real backups are.
      if (name !== 'b3') await new Promise((r) => setTimeout(r, 1100));
    }
    assert.deepEqual(await backups(), ['b2', 'b3']);
  });
});
