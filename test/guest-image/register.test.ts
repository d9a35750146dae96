// registerTestImage against the in-process cloud: the AMI-style trio (aki kernel, ari ramdisk, qcow2 disk
// pointing at both), reuse by name and version, and a new trio for a new version.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageClient } from '../../src/clients/image.ts';
import type { BuiltGuestImage, GuestImageManifest } from '../../src/guest-image/build.ts';
import { IMAGE_VERSION_PROPERTY, registerTestImage } from '../../src/guest-image/register.ts';
import { inProcessTransport } from '../../src/platform/transport.ts';
import { startTestCloud, type TestCloud } from '../support/cloud.ts';

function fakeBuild(dir: string, version: string): BuiltGuestImage {
  const manifest = { version, osCommandLine: 'console=ttyS0 root=/dev/vda rw quiet' } as GuestImageManifest;
  return {
    dir,
    version,
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.gz'),
    disk: join(dir, 'disk.qcow2'),
    manifest,
    rebuilt: true,
  };
}

describe('registerTestImage', () => {
  let tc: TestCloud;
  let dir: string;
  let client: ImageClient;

  before(async () => {
    tc = await startTestCloud();
    dir = await mkdtemp(join(tmpdir(), 'monostack-register-'));
    await writeFile(join(dir, 'vmlinuz'), Buffer.from('kernel bytes'));
    await writeFile(join(dir, 'initrd.gz'), Buffer.from('ramdisk bytes'));
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'disk.qcow2'), '1M']);
    client = new ImageClient(inProcessTransport(() => tc.cloud.app));
  });

  after(async () => {
    await tc.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads kernel, ramdisk and a disk that points at them', async () => {
    const ids = await registerTestImage(client, tc.adminToken, fakeBuild(dir, 'v1'), {
      name: 'cirros-test',
      visibility: 'public',
    });
    const disk = (await tc.request('GET', `/image/v2/images/${ids.imageId}`, { token: tc.adminToken })).body;
    assert.equal(disk.name, 'cirros-test');
    assert.equal(disk.status, 'active');
    assert.equal(disk.visibility, 'public');
    assert.equal(disk.disk_format, 'qcow2');
    assert.equal(disk.container_format, 'bare');
    assert.equal(disk.min_disk, 1);
    assert.equal(disk.kernel_id, ids.kernelId);
    assert.equal(disk.ramdisk_id, ids.ramdiskId);
    assert.equal(disk.os_command_line, 'console=ttyS0 root=/dev/vda rw quiet');
    assert.equal(disk[IMAGE_VERSION_PROPERTY], 'v1');
    const kernel = (await tc.request('GET', `/image/v2/images/${ids.kernelId}`, { token: tc.adminToken }))
      .body;
    assert.deepEqual(
      [kernel.name, kernel.status, kernel.disk_format, kernel.container_format, kernel.size],
      ['cirros-test-kernel', 'active', 'aki', 'aki', 12],
    );
    const ramdisk = (await tc.request('GET', `/image/v2/images/${ids.ramdiskId}`, { token: tc.adminToken }))
      .body;
    assert.deepEqual(
      [ramdisk.name, ramdisk.status, ramdisk.disk_format, ramdisk.container_format],
      ['cirros-test-ramdisk', 'active', 'ari', 'ari'],
    );
    const data = await tc.request('GET', `/image/v2/images/${ids.ramdiskId}/file`, { token: tc.adminToken });
    assert.equal(data.text, 'ramdisk bytes');
  });

  it('reuses the images of the same version and makes new ones for a new version', async () => {
    const first = await registerTestImage(client, tc.adminToken, fakeBuild(dir, 'v1'), {
      name: 'cirros-test',
    });
    const again = await registerTestImage(client, tc.adminToken, fakeBuild(dir, 'v1'), {
      name: 'cirros-test',
    });
    assert.deepEqual(again, first);
    const named = (await tc.request('GET', '/image/v2/images?name=cirros-test', { token: tc.adminToken }))
      .body;
    assert.equal(named.images.length, 1);

    const next = await registerTestImage(client, tc.adminToken, fakeBuild(dir, 'v2'), {
      name: 'cirros-test',
    });
    assert.notEqual(next.imageId, first.imageId);
    assert.notEqual(next.kernelId, first.kernelId);
    const disk = (await tc.request('GET', `/image/v2/images/${next.imageId}`, { token: tc.adminToken })).body;
    assert.equal(disk[IMAGE_VERSION_PROPERTY], 'v2');
    assert.equal(disk.kernel_id, next.kernelId);
  });

  it('replaces a disk image whose kernel is gone', async () => {
    const first = await registerTestImage(client, tc.adminToken, fakeBuild(dir, 'v3'), {
      name: 'cirros-gone',
    });
    const del = await tc.request('DELETE', `/image/v2/images/${first.kernelId}`, { token: tc.adminToken });
    assert.equal(del.status, 204);
    const again = await registerTestImage(client, tc.adminToken, fakeBuild(dir, 'v3'), {
      name: 'cirros-gone',
    });
    assert.notEqual(again.kernelId, first.kernelId);
    assert.notEqual(again.imageId, first.imageId);
    assert.equal(again.ramdiskId, first.ramdiskId);
    const old = await tc.request('GET', `/image/v2/images/${first.imageId}`, { token: tc.adminToken });
    assert.equal(old.status, 404);
  });
});
