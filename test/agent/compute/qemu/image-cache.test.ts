// The host image cache: verification (size, sha512, md5), format checks, shared downloads, prune.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageCache } from '../../../../src/agent/compute/drivers/qemu/image-cache.ts';
import { DriverError } from '../../../../src/agent/compute/hypervisor-driver.ts';
import { blankQcow2, FakeResources, md5Of, tempDir } from './support.ts';

describe('ImageCache', () => {
  let src: string;
  let disk: string;
  let raw: string;
  let layered: string;
  const roots: string[] = [];

  before(async () => {
    src = await tempDir('qic-');
    disk = blankQcow2(join(src, 'disk.qcow2'), 8);
    raw = join(src, 'disk.raw');
    writeFileSync(raw, Buffer.alloc(1024 * 1024));
    layered = join(src, 'layered.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', disk, '-F', 'qcow2', layered]);
  });

  after(async () => {
    for (const d of [src, ...roots]) await rm(d, { recursive: true, force: true });
  });

  async function cacheWith(resources: FakeResources, inUse: string[] = []) {
    const dir = await tempDir('qic-');
    roots.push(dir);
    return new ImageCache({ dir, resources, inUse: async () => new Set(inUse) });
  }

  async function refusal(p: Promise<unknown>): Promise<DriverError> {
    const err = await p.then(
      () => assert.fail('the image was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DriverError, String(err));
    return err;
  }

  it('downloads once, verifies and probes, then serves from the cache', async () => {
    const res = new FakeResources().add('img-a', { file: disk, properties: { kernel_id: 'k1' } });
    const cache = await cacheWith(res);
    const img = await cache.fetch('img-a', 'disk');
    assert.equal(img.format, 'qcow2');
    assert.equal(img.virtualSize, 8 * 1024 * 1024);
    assert.equal(img.properties.kernel_id, 'k1');
    assert.equal(md5Of(img.path), md5Of(disk));
    await cache.fetch('img-a', 'disk');
    assert.equal(res.opens.get('img-a'), 1);
    assert.deepEqual(readdirSync(cache.dir).sort(), ['img-a', 'img-a.json']);
  });

  it('refuses a checksum or size mismatch and keeps nothing', async () => {
    const res = new FakeResources()
      .add('bad-sha', { file: disk, osHashValue: 'ab'.repeat(64) })
      .add('bad-size', { file: disk, size: 12345 });
    const cache = await cacheWith(res);
    const sha = await refusal(cache.fetch('bad-sha', 'disk'));
    assert.equal(sha.code, 400);
    assert.match(sha.message, /^Image bad-sha is unacceptable: sha512 checksum mismatch/);
    const size = await refusal(cache.fetch('bad-size', 'disk'));
    assert.match(
      size.message,
      /^Image bad-size is unacceptable: received \d+ bytes where the image has 12345/,
    );
    assert.deepEqual(readdirSync(cache.dir), [], 'no partial or unverified file is left');
  });

  it('checks md5 when the image has no multihash', async () => {
    const res = new FakeResources().add('md5-only', { file: disk, checksum: '0'.repeat(32) });
    const orig = res.openImage.bind(res);
    res.openImage = async (id) => ({ ...(await orig(id)), osHashAlgo: undefined, osHashValue: undefined });
    const cache = await cacheWith(res);
    const err = await refusal(cache.fetch('md5-only', 'disk'));
    assert.match(err.message, /md5 checksum mismatch/);
  });

  it('concurrent requests for one image share one download', async () => {
    const res = new FakeResources().add('shared', { file: disk, delayMs: 100 });
    const cache = await cacheWith(res);
    const got = await Promise.all([1, 2, 3, 4].map(() => cache.fetch('shared', 'disk')));
    assert.equal(res.opens.get('shared'), 1);
    assert.ok(got.every((g) => g.path === got[0]?.path));
  });

  it('refuses formats it cannot boot without downloading them', async () => {
    const res = new FakeResources()
      .add('an-iso', { file: raw, diskFormat: 'iso' })
      .add('docker', { file: raw, diskFormat: 'raw', containerFormat: 'docker' });
    const cache = await cacheWith(res);
    const iso = await refusal(cache.fetch('an-iso', 'disk'));
    assert.equal(iso.code, 400);
    assert.match(iso.message, /^Image an-iso is unacceptable: disk_format iso is not supported/);
    assert.equal(res.bytesRead.get('an-iso') ?? 0, 0);
    assert.match((await refusal(cache.fetch('docker', 'disk'))).message, /container_format docker/);
  });

  it('refuses an image whose content does not match its disk_format, or that has a backing file', async () => {
    const res = new FakeResources()
      .add('raw-says-qcow2', { file: raw, diskFormat: 'qcow2' })
      .add('qcow2-says-raw', { file: disk, diskFormat: 'raw' })
      .add('layered', { file: layered });
    const cache = await cacheWith(res);
    assert.match(
      (await refusal(cache.fetch('raw-says-qcow2', 'disk'))).message,
      /does not match its content \(raw\)/,
    );
    assert.match(
      (await refusal(cache.fetch('qcow2-says-raw', 'disk'))).message,
      /does not match its content \(qcow2\)/,
    );
    assert.match((await refusal(cache.fetch('layered', 'disk'))).message, /backing file/);
  });

  it('keeps raw images raw and serves kernels and ramdisks as they are', async () => {
    const res = new FakeResources()
      .add('raw-disk', { file: raw, diskFormat: 'raw' })
      .add('kernel', { file: raw, diskFormat: 'aki', containerFormat: 'aki' });
    const cache = await cacheWith(res);
    assert.equal((await cache.fetch('raw-disk', 'disk')).format, 'raw');
    assert.equal((await cache.fetch('kernel', 'kernel')).diskFormat, 'aki');
    await refusal(cache.fetch('kernel', 'disk'));
  });

  it('reports a missing image as unacceptable and a broken transport as transient', async () => {
    const res = new FakeResources();
    const cache = await cacheWith(res);
    const missing = await refusal(cache.fetch('nope', 'disk'));
    assert.equal(missing.code, 400);
    assert.equal(missing.transient, false);
    res.openImage = async () => {
      throw new Error('connection reset');
    };
    const broken = await refusal(cache.fetch('nope', 'disk'));
    assert.equal(broken.transient, true);
    await refusal(cache.fetch('../etc', 'disk'));
  });

  it('prune removes images no guest uses and keeps used and held ones', async () => {
    const res = new FakeResources()
      .add('used', { file: disk })
      .add('unused', { file: disk })
      .add('held', { file: disk });
    const cache = await cacheWith(res, ['used']);
    await cache.fetch('used', 'disk');
    await cache.fetch('unused', 'disk');
    const { release } = await cache.acquire('held', 'disk');
    writeFileSync(join(cache.dir, '.part-gone-0123456789ab'), 'leftover');
    assert.deepEqual(await cache.prune(), ['unused']);
    assert.deepEqual(readdirSync(cache.dir).sort(), ['held', 'held.json', 'used', 'used.json']);
    release();
    assert.deepEqual(await cache.prune(), ['held']);
    await cache.fetch('unused', 'disk');
    assert.equal(res.opens.get('unused'), 2, 'a pruned image is downloaded again when needed');
  });
});
