// Starts a throwaway Monostack cloud for a conformance run and stops it by its own PID.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A free TCP port on 127.0.0.1 (the kernel picks it; tiny race until the cloud binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export interface StartedCloud {
  pid: number;
  port: number;
  dataDir: string;
  logFile: string;
  cloudsYaml: string;
  stop(): Promise<void>;
}

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Security compliance on, as Tempest's identity tests expect to find it (lockout, password history); the
 * runner reads the values back from GET /v3/monostack/settings for tempest.conf.
 */
export const CONFORMANCE_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  MONOSTACK__identity__security_compliance__lockout_failure_attempts: '2',
  MONOSTACK__identity__security_compliance__lockout_duration: '5',
  MONOSTACK__identity__security_compliance__unique_last_password_count: '2',
  MONOSTACK__identity__security_compliance__minimum_password_age: '0',
  // The fake hypervisor unless the caller's environment names another (MONOSTACK__compute__driver=qemu).
  MONOSTACK__compute__driver: process.env['MONOSTACK__compute__driver'] ?? 'fake',
  MONOSTACK__compute__test_image: process.env['MONOSTACK__compute__test_image'] ?? 'false',
  // The fake data plane unless the caller's environment names the Linux one (which needs root).
  MONOSTACK__network__dataplane: process.env['MONOSTACK__network__dataplane'] ?? 'fake',
});

/**
 * `node bin/monostack up --data-dir DIR --port PORT`, output to DIR/../cloud.log; resolves once
 * `GET /v3` answers 200 and `DIR/clouds.yaml` exists. Throws (after stopping it) otherwise.
 */
export async function startCloud(opts: {
  repoRoot: string;
  dataDir: string;
  logFile: string;
  timeoutMs: number;
}): Promise<StartedCloud> {
  const port = await freePort();
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      path.join(opts.repoRoot, 'bin', 'monostack'),
      'up',
      '--data-dir',
      opts.dataDir,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    // MONOSTACK_USER_CLOUDS=0: a throwaway cloud must not land in ~/.config/openstack/clouds.yaml.
    {
      cwd: opts.repoRoot,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, MONOSTACK_USER_CLOUDS: '0', ...CONFORMANCE_SETTINGS },
    },
  );
  closeSync(fd);
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  // If the runner dies, do not leave the cloud behind.
  const onExit = () => child.kill('SIGTERM');
  process.on('exit', onExit);

  const stop = async () => {
    process.off('exit', onExit);
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    process.kill(child.pid, 'SIGTERM');
    if (!(await waitForExit(child, 15_000))) {
      process.kill(child.pid, 'SIGKILL');
      await waitForExit(child, 5_000);
    }
  };

  const cloudsYaml = path.join(opts.dataDir, 'clouds.yaml');
  const url = `http://127.0.0.1:${port}/v3`;
  const deadline = Date.now() + opts.timeoutMs;
  let ready = false;
  while (Date.now() < deadline) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) break;
    if (await answers200(url)) {
      ready = true;
      break;
    }
    await sleep(250);
  }
  while (ready && !existsSync(cloudsYaml) && Date.now() < deadline + 5_000) await sleep(100);

  if (!ready || !existsSync(cloudsYaml)) {
    const why = spawnError
      ? `could not start: ${spawnError.message}`
      : child.exitCode !== null || child.signalCode !== null
        ? `exited early (${child.exitCode ?? child.signalCode})`
        : !ready
          ? `GET ${url} did not answer 200 within ${Math.round(opts.timeoutMs / 1000)} s`
          : `wrote no ${cloudsYaml}`;
    await stop();
    const tailText = logTail(opts.logFile);
    throw new Error(`cloud ${why} (log: ${opts.logFile})${tailText ? `\n${tailText}` : ''}`);
  }
  return { pid: child.pid!, port, dataDir: opts.dataDir, logFile: opts.logFile, cloudsYaml, stop };
}
