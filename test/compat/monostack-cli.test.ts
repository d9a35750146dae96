// The monostack command itself: up writes clouds.yaml (merging the user's without touching other clouds),
// status, identity rotate-keys (a running cloud follows), db migrate, clean SIGTERM, restart keeps data.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { MIGRATIONS } from '../../src/compose/cloud.ts';
import { REPO_ROOT, startProcessCloud } from '../support/process-cloud.ts';

const run = promisify(execFile);
const monostack = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [join(REPO_ROOT, 'bin', 'monostack'), ...args], {
    env: { ...process.env, ...env },
    timeout: 60_000,
  });

interface Clouds {
  clouds: Record<
    string,
    { auth: { auth_url: string; password: string; username: string; project_name: string } }
  >;
}

describe('monostack command', () => {
  let dataDir: string;
  let home: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'monostack-cmd-'));
    home = await mkdtemp(join(tmpdir(), 'monostack-home-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  });

  it('prints help for every subcommand', async () => {
    const top = await monostack(['--help']);
    for (const cmd of ['up', 'status', 'db', 'identity'])
      assert.match(top.stdout, new RegExp(`\\b${cmd}\\b`));
    for (const sub of [['up'], ['status'], ['db', 'migrate'], ['identity', 'rotate-keys']]) {
      const { stdout } = await monostack([...sub, '--help']);
      assert.match(stdout, /--data-dir/);
    }
  });

  it('starts, merges clouds.yaml, reports status, follows key rotation, stops, and restarts with its data', async () => {
    // The user's clouds.yaml already has another cloud, which must survive the merge.
    await mkdir(join(home, '.config', 'openstack'), { recursive: true });
    const userClouds = join(home, '.config', 'openstack', 'clouds.yaml');
    await writeFile(
      userClouds,
      stringify({ clouds: { other: { auth: { auth_url: 'http://192.0.2.1/v3' } } } }),
    );
    const env = { HOME: home, MONOSTACK_USER_CLOUDS: '1' };

    let cloud = await startProcessCloud({ dataDir, env, userClouds: true });
    try {
      assert.match(cloud.output(), /Admin:\s+user admin, password \S+/);
      assert.match(cloud.output(), /openstack --os-cloud monostack token issue/);
      const mine = parse(await readFile(cloud.cloudsYaml, 'utf8')) as Clouds;
      assert.deepEqual(Object.keys(mine.clouds).sort(), ['monostack', 'monostack-demo']);
      assert.equal(mine.clouds['monostack']!.auth.auth_url, `${cloud.url}/v3`);
      const merged = parse(await readFile(userClouds, 'utf8')) as Clouds;
      assert.deepEqual(Object.keys(merged.clouds).sort(), ['monostack', 'monostack-demo', 'other']);
      assert.equal(merged.clouds['other']!.auth.auth_url, 'http://192.0.2.1/v3');

      const status = JSON.parse(
        (await monostack(['status', '--data-dir', dataDir, '--json'])).stdout,
      ) as Record<string, unknown>;
      assert.equal(status['running'], true);
      assert.equal(status['url'], cloud.url);
      const latest = Object.fromEntries(
        MIGRATIONS.map((m) => [m.service, Math.max(...m.migrations.map((x) => x.version))]),
      );
      assert.deepEqual(status['schema'], latest);

      const password = mine.clouds['monostack']!.auth.password;
      const login = async () => {
        const res = await fetch(`${cloud.url}/v3/auth/tokens`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            auth: {
              identity: {
                methods: ['password'],
                password: { user: { name: 'admin', domain: { id: 'default' }, password } },
              },
              scope: { project: { name: 'admin', domain: { id: 'default' } } },
            },
          }),
        });
        assert.equal(res.status, 201);
        return res.headers.get('x-subject-token')!;
      };
      const validate = async (token: string, subject: string) =>
        (
          await fetch(`${cloud.url}/v3/auth/tokens`, {
            headers: { 'x-auth-token': token, 'x-subject-token': subject },
          })
        ).status;
      const before = await login();
      const rotated = await monostack(['identity', 'rotate-keys', '--data-dir', dataDir]);
      assert.match(rotated.stdout, /rotated Fernet keys/);
      await new Promise((r) => setTimeout(r, 500));
      const afterRotation = await login();
      assert.notEqual(afterRotation, before);
      assert.equal(
        await validate(afterRotation, before),
        200,
        'a token from the old primary key still validates',
      );
      assert.equal(await validate(before, afterRotation), 200, 'a token from the new primary key validates');

      const project = await fetch(`${cloud.url}/v3/projects`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': afterRotation },
        body: JSON.stringify({ project: { name: 'survives-restart' } }),
      });
      assert.equal(project.status, 201);
      await cloud.stop();
      assert.equal(cloud.child.exitCode, 0, cloud.output());
      assert.match(cloud.output(), /Monostack stopped\./);
      const down = JSON.parse(
        (await monostack(['status', '--data-dir', dataDir, '--json']).catch((e: { stdout: string }) => e))
          .stdout,
      ) as Record<string, unknown>;
      assert.equal(down['running'], false);

      const migrate = await monostack(['db', 'migrate', '--data-dir', dataDir]);
      assert.match(migrate.stdout, /up to date/);

      cloud = await startProcessCloud({ dataDir, env, userClouds: true });
      assert.doesNotMatch(cloud.output(), /first start/);
      const again = parse(await readFile(cloud.cloudsYaml, 'utf8')) as Clouds;
      assert.equal(again.clouds['monostack']!.auth.password, password, 'the admin password is kept');
      const token = await login();
      const list = await fetch(`${cloud.url}/v3/projects?name=survives-restart`, {
        headers: { 'x-auth-token': token },
      });
      const body = (await list.json()) as { projects: unknown[] };
      assert.equal(body.projects.length, 1);
      const users = await fetch(`${cloud.url}/v3/users?name=admin`, { headers: { 'x-auth-token': token } });
      assert.equal(((await users.json()) as { users: unknown[] }).users.length, 1, 'no second bootstrap');
    } finally {
      await cloud.stop();
    }
  });
});
