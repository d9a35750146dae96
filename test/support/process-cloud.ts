// A real `monostack up` child process in a temporary data directory on a free loopback port, for tests that
// drive it with real clients (openstack CLI, Tempest). Stopped by its own PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../src/cmd/conformance/cloud.ts';

export interface ProcessCloud {
  url: string;
  dataDir: string;
  cloudsYaml: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export async function startProcessCloud(
  opts: {
    env?: Record<string, string>;
    dataDir?: string /** merge into $HOME's clouds.yaml (off by default) */;
    userClouds?: boolean;
  } = {},
): Promise<ProcessCloud> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'monostack-proc-')));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      // Extra node flags for the cloud process only (e.g. --cpu-prof when profiling a benchmark).
      ...(process.env['MONOSTACK_CLOUD_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
      join(REPO_ROOT, 'bin', 'monostack'),
      'up',
      '--data-dir',
      dataDir,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      ...(opts.userClouds ? [] : ['--no-user-clouds']),
    ],
    {
      // The fake hypervisor, the fake data plane and no test image unless a test asks for them.
      env: {
        ...process.env,
        MONOSTACK__COMPUTE__DRIVER: 'fake',
        MONOSTACK__COMPUTE__TEST_IMAGE: 'false',
        MONOSTACK__NETWORK__DATAPLANE: 'fake',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  // MONOSTACK_CLOUD_OUTPUT=file: the cloud's output is also copied there (e.g. with --trace-gc when profiling).
  const copy = process.env['MONOSTACK_CLOUD_OUTPUT'];
  const keep = (b: Buffer) => {
    out += b.toString();
    if (copy) appendFileSync(copy, b);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`monostack up exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${url}/v3`);
      if (res.status === 200 && out.includes('is up')) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`monostack up did not answer within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dataDir,
    cloudsYaml: join(dataDir, 'clouds.yaml'),
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
