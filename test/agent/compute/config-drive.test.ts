// The config drive ISO: genisoimage with Nova's flags gives volume config-2 whose files (read back with isoinfo,
// through Joliet and Rock Ridge) are byte for byte the ones given; failures leave nothing behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildConfigDriveIso } from '../../../src/agent/compute/config-drive.ts';
import type { ConfigDriveFile } from '../../../src/agent/compute/guest-resources.ts';

const run = promisify(execFile);

async function isoinfo(args: string[]): Promise<Buffer> {
  const r = await run('isoinfo', args, { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 });
  return r.stdout;
}

describe('buildConfigDriveIso', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'monostack-cd-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const userData = new Uint8Array([0, 1, 2, 255, 0x23, 0x21, 10]);
  const files: ConfigDriveFile[] = [
    { path: 'openstack/latest/meta_data.json', contents: '{"uuid": "abc", "hostname": "vm.novalocal"}' },
    { path: 'openstack/latest/user_data', contents: userData },
    { path: 'openstack/2013-10-17/vendor_data.json', contents: '{}' },
    { path: 'ec2/2009-04-04/meta-data.json', contents: '{"ami-id": null}' },
    { path: 'ec2/latest/user-data', contents: userData },
    { path: 'openstack/content/0000', contents: 'injected\n' },
  ];

  it('labels the volume config-2 and names the publisher', async () => {
    const iso = join(dir, 'a', 'disk.config');
    await buildConfigDriveIso(files, iso);
    const info = (await isoinfo(['-d', '-i', iso])).toString();
    assert.match(info, /^Volume id: config-2$/m);
    assert.match(info, /Publisher id: Monostack/);
    assert.match(info, /Joliet/);
    assert.match(info, /Rock Ridge/);
  });

  it('round-trips every file through Joliet and Rock Ridge names', async () => {
    const iso = join(dir, 'b.iso');
    await buildConfigDriveIso(files, iso);
    for (const f of files) {
      const want = typeof f.contents === 'string' ? Buffer.from(f.contents) : Buffer.from(f.contents);
      assert.deepEqual(await isoinfo(['-J', '-x', `/${f.path}`, '-i', iso]), want, `joliet ${f.path}`);
      assert.deepEqual(await isoinfo(['-R', '-x', `/${f.path}`, '-i', iso]), want, `rock ridge ${f.path}`);
    }
    const listing = (await isoinfo(['-R', '-f', '-i', iso])).toString().split('\n').filter(Boolean).sort();
    assert.ok(listing.includes('/openstack/2013-10-17/vendor_data.json'), listing.join(' '));
    assert.ok(listing.includes('/ec2/2009-04-04/meta-data.json'));
  });

  it('replaces an existing image and leaves no temporary files', async () => {
    const iso = join(dir, 'c', 'disk.config');
    await buildConfigDriveIso([{ path: 'openstack/latest/meta_data.json', contents: '{"v": 1}' }], iso);
    await buildConfigDriveIso([{ path: 'openstack/latest/meta_data.json', contents: '{"v": 2}' }], iso);
    const got = await isoinfo(['-J', '-x', '/openstack/latest/meta_data.json', '-i', iso]);
    assert.equal(got.toString(), '{"v": 2}');
    assert.deepEqual(await readdir(join(dir, 'c')), ['disk.config']);
  });

  it('refuses paths outside the drive and keeps the previous image', async () => {
    const iso = join(dir, 'd.iso');
    await writeFile(iso, 'previous');
    for (const path of ['../escape', '/etc/passwd', 'openstack/../../x', 'a//b', '']) {
      await assert.rejects(buildConfigDriveIso([{ path, contents: 'x' }], iso), /not a relative path/);
    }
    assert.equal((await stat(iso)).size, 'previous'.length);
  });

  it('reports a failing ISO tool and leaves no partial image', async () => {
    const iso = join(dir, 'e', 'disk.config');
    await assert.rejects(
      buildConfigDriveIso(files, iso, { mkisofs: 'false' }),
      /building the config drive failed/,
    );
    assert.deepEqual(await readdir(join(dir, 'e')), []);
  });
});
