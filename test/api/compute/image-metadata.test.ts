// /images/{id}/metadata (until 2.38): an image's properties read, merged, replaced, set and deleted through the
// image service, counted against metadata_items; Nova's messages for a mismatched key and an unknown one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { propertyPatch } from '../../../src/services/compute/api/image-metadata.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, nova, uploadTestImage } from './compute-support.ts';

let tc: TestCloud;
let user: TestUser;
let imageId: string;

before(async () => {
  tc = await startTestCloud();
  user = await tc.makeUser();
  const img = await tc.request('POST', '/image/v2/images', {
    token: user.token,
    body: {
      name: 'own',
      disk_format: 'qcow2',
      container_format: 'bare',
      os_distro: 'cirros',
      os_version: '0.6',
    },
  });
  assert.equal(img.status, 201, img.text);
  imageId = img.body.id;
});
after(async () => {
  await tc.close();
});

const meta = (path = '', o: { method?: string; body?: unknown; mv?: string; id?: string } = {}) =>
  nova(tc, o.method ?? 'GET', `/images/${o.id ?? imageId}/metadata${path}`, {
    token: user.token,
    body: o.body,
    ...(o.mv ? { mv: o.mv } : {}),
  });

async function glanceProps(): Promise<Record<string, unknown>> {
  const r = await tc.request('GET', `/image/v2/images/${imageId}`, { token: user.token });
  return r.body;
}

describe('image metadata', () => {
  test('the patch between two property sets', () => {
    assert.deepEqual(propertyPatch({ a: '1', b: '2', 'x/y': '3' }, { a: '1', b: '9', c: '4' }), [
      { op: 'replace', path: '/b', value: '9' },
      { op: 'add', path: '/c', value: '4' },
      { op: 'remove', path: '/x~1y' },
    ]);
  });

  test('lists and shows items; unknown key, unknown image, and the API gone at 2.39', async () => {
    const all = await meta();
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.body.metadata, { os_distro: 'cirros', os_version: '0.6' });
    const one = await meta('/os_distro');
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.body, { meta: { os_distro: 'cirros' } });
    expectFault(await meta('/nope'), 404);
    expectFault(await meta('', { id: crypto.randomUUID() }), 404, 'Image not found.');
    assert.equal((await meta('', { mv: '2.38' })).status, 200);
    expectFault(await meta('', { mv: '2.39' }), 404);
    expectFault(await meta('/os_distro', { mv: '2.39' }), 404);
  });

  test('POST merges, PUT replaces, PUT key sets one, DELETE key removes', async () => {
    const merged = await meta('', {
      method: 'POST',
      body: { metadata: { os_distro: 'ubuntu', extra: 'x' } },
    });
    assert.equal(merged.status, 200, merged.text);
    assert.deepEqual(merged.body.metadata, { os_distro: 'ubuntu', os_version: '0.6', extra: 'x' });
    assert.equal((await glanceProps())['extra'], 'x');

    const one = await meta('/os_version', { method: 'PUT', body: { meta: { os_version: '24.04' } } });
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.body, { meta: { os_version: '24.04' } });
    assert.deepEqual((await meta()).body.metadata, { os_distro: 'ubuntu', os_version: '24.04', extra: 'x' });

    const replaced = await meta('', { method: 'PUT', body: { metadata: { only: 'this' } } });
    assert.equal(replaced.status, 200, replaced.text);
    assert.deepEqual(replaced.body.metadata, { only: 'this' });
    assert.deepEqual((await meta()).body.metadata, { only: 'this' });
    const g = await glanceProps();
    assert.equal(g['os_distro'], undefined);
    assert.equal(g['name'], 'own');

    assert.equal((await meta('/only', { method: 'DELETE' })).status, 204);
    assert.deepEqual((await meta()).body.metadata, {});
    expectFault(await meta('/only', { method: 'DELETE' }), 404, 'Invalid metadata key');
  });

  test('validation: body/URI mismatch, bad bodies, unknown images', async () => {
    expectFault(
      await meta('/a', { method: 'PUT', body: { meta: { b: '1' } } }),
      400,
      'Request body and URI mismatch',
    );
    expectFault(await meta('/a', { method: 'PUT', body: { meta: { a: '1', b: '2' } } }), 400);
    expectFault(await meta('', { method: 'POST', body: { metadata: { a: 1 } } }), 400);
    expectFault(await meta('', { method: 'PUT', body: {} }), 400);
    const gone = crypto.randomUUID();
    expectFault(await meta('', { method: 'POST', body: { metadata: { a: '1' } }, id: gone }), 404);
    expectFault(await meta('/a', { method: 'DELETE', id: gone }), 404, 'Image not found.');
    expectFault(await meta('', { method: 'POST', body: { metadata: { a: '1' } }, mv: '2.39' }), 404);
  });

  test('the resulting properties count against metadata_items', async () => {
    const q = await nova(tc, 'PUT', `/os-quota-sets/${user.projectId}`, {
      token: tc.adminToken,
      body: { quota_set: { metadata_items: 2 } },
    });
    assert.equal(q.status, 200, q.text);
    try {
      assert.equal((await meta('', { method: 'PUT', body: { metadata: { a: '1', b: '2' } } })).status, 200);
      expectFault(
        await meta('', { method: 'POST', body: { metadata: { c: '3' } } }),
        403,
        'Image metadata limit exceeded',
      );
      expectFault(
        await meta('/c', { method: 'PUT', body: { meta: { c: '3' } } }),
        403,
        'Image metadata limit exceeded',
      );
      expectFault(
        await meta('', { method: 'PUT', body: { metadata: { a: '1', b: '2', c: '3' } } }),
        403,
        'Image metadata limit exceeded',
      );
      // Changing an existing item stays within the limit.
      assert.equal((await meta('/a', { method: 'PUT', body: { meta: { a: 'x' } } })).status, 200);
    } finally {
      await nova(tc, 'PUT', `/os-quota-sets/${user.projectId}`, {
        token: tc.adminToken,
        body: { quota_set: { metadata_items: 128 } },
      });
    }
  });

  test("another project's private image is not found", async () => {
    const other = await tc.makeUser();
    const r = await nova(tc, 'GET', `/images/${imageId}/metadata`, { token: other.token });
    expectFault(r, 404, 'Image not found.');
    const pub = await uploadTestImage(tc, { hw_disk_bus: 'virtio' });
    const shown = await nova(tc, 'GET', `/images/${pub}/metadata`, { token: other.token });
    assert.equal(shown.body.metadata.hw_disk_bus, 'virtio');
  });
});
