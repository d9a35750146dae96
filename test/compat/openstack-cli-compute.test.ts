// Acceptance: Debian's python3-openstackclient against a real `monostack up` (fake compute driver), for compute.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type ProcessCloud, startProcessCloud } from '../support/process-cloud.ts';

const run = promisify(execFile);
const OPENSTACK = '/usr/bin/openstack';
const skip = existsSync(OPENSTACK) ? false : `not installed: ${OPENSTACK} (scripts/install.sh installs it)`;

describe('openstack CLI acceptance (compute)', { skip: process.env['CI'] === 'true' ? false : skip }, () => {
  let cloud: ProcessCloud;
  let dir: string;
  before(async () => {
    cloud = await startProcessCloud();
    dir = await mkdtemp(join(tmpdir(), 'monostack-cli-compute-'));
  });
  after(async () => {
    await cloud?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const os = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await run(OPENSTACK, ['--os-cloud', 'monostack', ...args], {
        env: { ...process.env, OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml, PATH: '/usr/bin:/bin' },
        timeout: 120_000,
      });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      throw new Error(`openstack ${args.join(' ')} failed:\n${e.stderr ?? ''}${e.stdout ?? ''}`);
    }
  };
  const json = async (...args: string[]) => {
    const out = await os(...args, '-f', 'json');
    try {
      return JSON.parse(out);
    } catch {
      throw new Error(`openstack ${args.join(' ')} printed no JSON:\n${out}`);
    }
  };
  const status = async (name: string) =>
    ((await json('server', 'show', name)) as Record<string, string>)['status'];
  const until = async (name: string, want: string) => {
    for (let i = 0; i < 100 && (await status(name)) !== want; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(await status(name), want);
  };

  it('flavors, keypair, server lifecycle, server group, aggregate, hypervisors, usage and quotas', async () => {
    const flavors = (await json('flavor', 'list')) as { Name: string }[];
    assert.ok(flavors.some((f) => f.Name === 'm1.tiny'));
    const disk = join(dir, 'disk.raw');
    await writeFile(disk, Buffer.alloc(1024 * 1024));
    await os(
      'image',
      'create',
      '--file',
      disk,
      '--disk-format',
      'raw',
      '--container-format',
      'bare',
      'cli-cirros',
    );
    // A generated key: the CLI prints its private half once.
    assert.match(await os('keypair', 'create', 'cli-key'), /-----BEGIN (RSA )?PRIVATE KEY-----/);
    const kp = await json('keypair', 'show', 'cli-key');
    assert.match(String(kp['fingerprint'] ?? ''), /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);

    // `--nic none` needs 2.37 on the client side (novaclient refuses it below), as against any Nova.
    const created = await json(
      '--os-compute-api-version',
      '2.37',
      'server',
      'create',
      '--flavor',
      'm1.tiny',
      '--image',
      'cli-cirros',
      '--key-name',
      'cli-key',
      '--nic',
      'none',
      '--wait',
      'cli-vm',
    );
    assert.equal(created['status'], 'ACTIVE');
    const list = (await json('server', 'list')) as { Name: string; Status: string }[];
    assert.deepEqual(
      list.map((s) => [s.Name, s.Status]),
      [['cli-vm', 'ACTIVE']],
    );

    await os('server', 'stop', 'cli-vm');
    await until('cli-vm', 'SHUTOFF');
    await os('server', 'start', 'cli-vm');
    await until('cli-vm', 'ACTIVE');
    await os('server', 'reboot', '--wait', 'cli-vm');
    await os('server', 'resize', '--flavor', 'm1.small', '--wait', 'cli-vm');
    const resized = await json('server', 'show', 'cli-vm');
    assert.equal(resized['status'], 'VERIFY_RESIZE', JSON.stringify(resized));
    await os('server', 'resize', 'confirm', 'cli-vm');
    await until('cli-vm', 'ACTIVE');
    assert.match(String((await json('server', 'show', 'cli-vm'))['flavor']), /m1\.small/);

    const group = await json('server', 'group', 'create', '--policy', 'anti-affinity', 'cli-group');
    assert.equal(group['policy'], 'anti-affinity');
    await os('aggregate', 'create', '--zone', 'cli-az', 'cli-agg');
    const hv = (await json('hypervisor', 'list')) as { 'Hypervisor Hostname': string; State: string }[];
    assert.equal(hv.length, 1);
    assert.equal(hv[0]!.State, 'up');
    const agg = await json('aggregate', 'add', 'host', 'cli-agg', hv[0]!['Hypervisor Hostname']);
    assert.deepEqual(agg['hosts'], [hv[0]!['Hypervisor Hostname']]);
    // In JSON the Servers column holds the per-server usages.
    const usage = (await json('usage', 'list')) as { Servers: { name: string; vcpus: number }[] }[];
    assert.deepEqual(
      usage.flatMap((u) => u.Servers.map((s) => [s.name, s.vcpus])),
      [['cli-vm', 1]],
    );
    await os('quota', 'set', '--instances', '17', 'admin');
    // `quota show` also asks the block-storage endpoint, which the catalog names before it is served: read the
    // compute quotas with `quota list --compute` until then.
    const quotas = (await json('quota', 'list', '--compute', '--project', 'admin', '--detail')) as {
      Resource: string;
      Limit: number;
      'In Use': number;
    }[];
    const instances = quotas.find((q) => q.Resource === 'instances');
    assert.equal(instances?.Limit, 17);
    assert.equal(instances?.['In Use'], 1);
    await os('server', 'delete', '--wait', 'cli-vm');
    assert.deepEqual(await json('server', 'list'), []);
  });
});
