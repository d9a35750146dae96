// Helpers of the real-QEMU networking test: an in-process cloud's compute and Neutron calls, an SSH key pair,
// ssh from a namespace, and the reaping of a cloud's QEMU processes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { TestCloud } from '../support/cloud.ts';
import { type Json, processesWith } from './qemu-support.ts';

const run = promisify(execFile);

/** One call through the in-process cloud; asserts the status and returns the body ({} when empty). */
export async function call(
  tc: TestCloud,
  token: string,
  method: string,
  path: string,
  status: number | number[],
  body?: unknown,
): Promise<Json> {
  const res = await tc.request(method, path, {
    token,
    ...(body === undefined ? {} : { body }),
    headers: { 'openstack-api-version': 'compute 2.47' },
  });
  const want = Array.isArray(status) ? status : [status];
  assert.ok(want.includes(res.status), `${method} ${path}: ${res.status} ${res.text.slice(0, 800)}`);
  return (res.body ?? {}) as Json;
}

/** An ed25519 key pair made with ssh-keygen in `dir`: the private key's path and the public key line. */
export async function sshKeyPair(dir: string, name = 'id'): Promise<{ path: string; publicKey: string }> {
  const path = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'qemu-network-test', '-f', path]);
  return { path, publicKey: (await readFile(`${path}.pub`, 'utf8')).trim() };
}

/** Runs `command` on root@ip over ssh from namespace `ns` with the key; retries while the guest's sshd comes up. */
export async function sshFrom(
  ns: string,
  key: string,
  ip: string,
  command: string,
  tries = 10,
): Promise<string> {
  const args = [
    'netns',
    'exec',
    ns,
    'ssh',
    '-i',
    key,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=15',
    '-o',
    'LogLevel=ERROR',
    `root@${ip}`,
    command,
  ];
  for (let i = 1; ; i++) {
    try {
      return (await run('ip', args, { timeout: 60_000 })).stdout;
    } catch (err) {
      if (i >= tries) throw err;
      await sleep(1000);
    }
  }
}

/** SIGKILLs every QEMU whose command line names `dataDir` (the guests a cloud left behind). */
export async function killQemusOf(dataDir: string): Promise<number> {
  const procs = (await processesWith(dataDir)).filter((p) => p.argv[0]?.includes('qemu'));
  for (const p of procs) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {}
  }
  return procs.length;
}
