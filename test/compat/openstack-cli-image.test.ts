// Acceptance: Debian's python3-openstackclient against a real `monostack up`, for images.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type ProcessCloud, startProcessCloud } from '../support/process-cloud.ts';

const run = promisify(execFile);
const OPENSTACK = '/usr/bin/openstack';
const QEMU_IMG = '/usr/bin/qemu-img';
const missing = [OPENSTACK, QEMU_IMG].filter((p) => !existsSync(p));
const skip = missing.length
  ? `not installed: ${missing.join(', ')} (scripts/install.sh installs them)`
  : false;

describe('openstack CLI acceptance (image)', { skip: process.env['CI'] === 'true' ? false : skip }, () => {
  let cloud: ProcessCloud;
  let dir: string;
  before(async () => {
    cloud = await startProcessCloud();
    dir = await mkdtemp(join(tmpdir(), 'monostack-cli-image-'));
  });
  after(async () => {
    await cloud?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const os = async (cloudName: string, ...args: string[]): Promise<string> => {
    try {
      const { stdout } = await run(OPENSTACK, ['--os-cloud', cloudName, ...args], {
        env: { ...process.env, OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml, PATH: '/usr/bin:/bin' },
        timeout: 120_000,
      });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      throw new Error(`openstack ${args.join(' ')} failed:\n${e.stderr ?? ''}${e.stdout ?? ''}`);
    }
  };
  const admin = (...args: string[]) => os('monostack', ...args);
  const json = async (...args: string[]) =>
    JSON.parse(await admin(...args, '-f', 'json')) as Record<string, unknown>;

  it('creates from a file, lists, shows, sets, unsets, saves, shares and deletes an image', async () => {
    const file = join(dir, 'disk.qcow2');
    await run(QEMU_IMG, ['create', '-q', '-f', 'qcow2', file, '64M']);
    const bytes = await readFile(file);
    const md5 = createHash('md5').update(bytes).digest('hex');

    const created = await json(
      'image',
      'create',
      '--file',
      file,
      '--disk-format',
      'qcow2',
      '--container-format',
      'bare',
      'cli-image',
    );
    const id = created['id'] as string;
    // openstacksdk 0.101 prints the image as created, before its upload; show it afresh.
    const img = await json('image', 'show', id);
    assert.equal(img['status'], 'active');
    assert.equal(img['checksum'], md5);
    assert.equal(Number(img['size']), bytes.length);

    const list = JSON.parse(await admin('image', 'list', '-f', 'json')) as Record<string, unknown>[];
    assert.ok(list.some((i) => i['ID'] === id && i['Name'] === 'cli-image'));
    const shown = await json('image', 'show', id);
    assert.equal(shown['disk_format'], 'qcow2');
    assert.equal(Number(shown['virtual_size']), 64 * 1024 * 1024);

    await admin('image', 'set', '--property', 'os_distro=cirros', '--tag', 'cli-tag', '--min-ram', '64', id);
    const set = await json('image', 'show', id);
    assert.match(JSON.stringify(set['properties']), /"os_distro": ?"cirros"/);
    assert.deepEqual(set['tags'], ['cli-tag']);
    assert.equal(set['min_ram'], 64);
    await admin('image', 'unset', '--property', 'os_distro', '--tag', 'cli-tag', id);
    const unset = await json('image', 'show', id);
    assert.doesNotMatch(JSON.stringify(unset['properties'] ?? {}), /os_distro/);
    assert.deepEqual(unset['tags'], []);

    const out = join(dir, 'saved.qcow2');
    await admin('image', 'save', '--file', out, id);
    assert.ok((await readFile(out)).equals(bytes), 'downloaded bytes equal the uploaded ones');

    const demoProject = JSON.parse(await os('monostack-demo', 'token', 'issue', '-f', 'json')) as Record<
      string,
      unknown
    >;
    await admin('image', 'set', '--shared', id);
    await admin('image', 'add', 'project', id, demoProject['project_id'] as string);
    const members = JSON.parse(await admin('image', 'member', 'list', id, '-f', 'json')) as Record<
      string,
      unknown
    >[];
    assert.equal(members[0]?.['Member ID'], demoProject['project_id']);

    await admin('image', 'delete', id);
    const after = JSON.parse(await admin('image', 'list', '-f', 'json')) as Record<string, unknown>[];
    assert.ok(!after.some((i) => i['ID'] === id));
  });
});
