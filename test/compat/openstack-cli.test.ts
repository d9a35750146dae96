// Acceptance: Debian's python3-openstackclient against a real `monostack up`, for every identity noun.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type ProcessCloud, startProcessCloud } from '../support/process-cloud.ts';

const run = promisify(execFile);
const OPENSTACK = '/usr/bin/openstack';
const skip = existsSync(OPENSTACK)
  ? false
  : 'python3-openstackclient is not installed (scripts/install.sh installs it)';

describe('openstack CLI acceptance (identity)', { skip: process.env['CI'] === 'true' ? false : skip }, () => {
  let cloud: ProcessCloud;
  before(async () => {
    cloud = await startProcessCloud();
  });
  after(async () => {
    await cloud?.stop();
  });

  const os = async (cloudName: string, ...args: string[]): Promise<string> => {
    try {
      const { stdout } = await run(OPENSTACK, ['--os-cloud', cloudName, ...args], {
        env: { ...process.env, OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml, PATH: '/usr/bin:/bin' },
        timeout: 60_000,
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
  const list = async (...args: string[]) =>
    JSON.parse(await admin(...args, '-f', 'json')) as Record<string, unknown>[];

  it('issues tokens for admin and demo', async () => {
    const t = await json('token', 'issue');
    assert.match(String(t['id']), /^gAAAAA/);
    assert.ok(t['project_id']);
    const demo = JSON.parse(await os('monostack-demo', 'token', 'issue', '-f', 'json')) as Record<
      string,
      unknown
    >;
    assert.notEqual(demo['project_id'], t['project_id']);
  });

  it('lists the catalog with every service', async () => {
    const cat = await list('catalog', 'list');
    const types = cat.map((s) => s['Type']);
    for (const t of [
      'identity',
      'compute',
      'image',
      'network',
      'volumev3',
      'object-store',
      'placement',
      'orchestration',
    ]) {
      assert.ok(types.includes(t), `catalog lacks ${t}`);
    }
    const services = await list('service', 'list');
    assert.ok(services.some((s) => s['Name'] === 'keystone'));
    const endpoints = await list('endpoint', 'list', '--service', 'identity');
    assert.equal(endpoints.length, 3);
    const regions = await list('region', 'list');
    assert.ok(regions.some((r) => r['Region'] === 'RegionOne'));
  });

  it('creates, lists, assigns and deletes domains, projects, users, groups and roles', async () => {
    const dom = await json('domain', 'create', 'cli-domain', '--description', 'from the CLI');
    assert.equal(dom['name'], 'cli-domain');
    assert.ok((await list('domain', 'list')).some((d) => d['Name'] === 'cli-domain'));
    const proj = await json(
      'project',
      'create',
      'cli-project',
      '--domain',
      'cli-domain',
      '--description',
      'p',
    );
    assert.equal(proj['domain_id'], dom['id']);
    const user = await json(
      'user',
      'create',
      'cli-user',
      '--domain',
      'cli-domain',
      '--password',
      'cli-pass-1',
      '--email',
      'u@example.org',
    );
    assert.equal(user['name'], 'cli-user');
    const group = await json('group', 'create', 'cli-group', '--domain', 'cli-domain');
    await admin(
      'group',
      'add',
      'user',
      '--group-domain',
      'cli-domain',
      '--user-domain',
      'cli-domain',
      'cli-group',
      'cli-user',
    );
    const contains = await admin(
      'group',
      'contains',
      'user',
      '--group-domain',
      'cli-domain',
      '--user-domain',
      'cli-domain',
      'cli-group',
      'cli-user',
    );
    assert.match(contains, /^cli-user in group cli-group/);
    const role = await json('role', 'create', 'cli-role');
    await admin('role', 'add', '--project', proj['id'] as string, '--user', user['id'] as string, 'cli-role');
    await admin('role', 'add', '--project', proj['id'] as string, '--user', user['id'] as string, 'member');
    const assignments = await list('role', 'assignment', 'list', '--user', user['id'] as string, '--names');
    assert.ok(
      assignments.some((a) => a['Role'] === 'cli-role' && String(a['Project']).startsWith('cli-project')),
    );
    // The new user can log in to the project (plain OS_* settings, no clouds.yaml entry).
    const { stdout: tokOut } = await run(
      OPENSTACK,
      [
        '--os-auth-url',
        `${cloud.url}/v3`,
        '--os-identity-api-version',
        '3',
        '--os-username',
        'cli-user',
        '--os-password',
        'cli-pass-1',
        '--os-user-domain-name',
        'cli-domain',
        '--os-project-id',
        proj['id'] as string,
        'token',
        'issue',
        '-f',
        'json',
      ],
      { env: { PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '' }, timeout: 60_000 },
    );
    const tok = JSON.parse(tokOut) as Record<string, unknown>;
    assert.equal(tok['project_id'], proj['id']);
    await admin(
      'role',
      'remove',
      '--project',
      proj['id'] as string,
      '--user',
      user['id'] as string,
      'cli-role',
    );
    assert.ok(
      !(await list('role', 'assignment', 'list', '--user', user['id'] as string, '--names')).some(
        (a) => a['Role'] === 'cli-role',
      ),
    );
    await admin('role', 'delete', role['id'] as string);
    await admin('group', 'delete', group['id'] as string);
    await admin('user', 'delete', user['id'] as string);
    await admin('project', 'delete', proj['id'] as string);
    await admin('domain', 'set', '--disable', dom['id'] as string);
    await admin('domain', 'delete', dom['id'] as string);
    assert.ok(!(await list('domain', 'list')).some((d) => d['Name'] === 'cli-domain'));
  });

  it('creates an application credential and authenticates with it', async () => {
    const ac = await json('application', 'credential', 'create', 'cli-appcred', '--description', 'cli');
    assert.ok(ac['secret']);
    const { stdout } = await run(
      OPENSTACK,
      [
        '--os-auth-type',
        'v3applicationcredential',
        '--os-auth-url',
        `${cloud.url}/v3`,
        '--os-application-credential-id',
        ac['id'] as string,
        '--os-application-credential-secret',
        ac['secret'] as string,
        '--os-identity-api-version',
        '3',
        'token',
        'issue',
        '-f',
        'json',
      ],
      { env: { PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '' }, timeout: 60_000 },
    );
    const t = JSON.parse(stdout) as Record<string, unknown>;
    assert.match(String(t['id']), /^gAAAAA/);
    assert.ok((await list('application', 'credential', 'list')).some((c) => c['Name'] === 'cli-appcred'));
    await admin('application', 'credential', 'delete', 'cli-appcred');
  });
});
