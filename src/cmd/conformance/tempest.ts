// Runs Debian's Tempest (init, list, run) with the interpreter its own script names.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SubunitPacket } from './subunit.ts';
import { SubunitDecoder } from './subunit.ts';
import { parseTempestListing } from './test-list.ts';

export const TEMPEST_BIN = '/usr/bin/tempest';

/** `#! /usr/bin/python3 -u` → `['/usr/bin/python3', '-u']`; undefined for a line that is no shebang. */
export function parseShebang(firstLine: string): string[] | undefined {
  const m = /^#!\s*(\S+)(.*)$/.exec(firstLine.trim());
  if (!m) return undefined;
  const args = m[2]!.trim() ? m[2]!.trim().split(/\s+/) : [];
  // `#!/usr/bin/env python3` names a program to find on PATH, which is what we must avoid.
  if (path.basename(m[1]!) === 'env' && args[0]) return [path.join('/usr/bin', args[0]), ...args.slice(1)];
  return [m[1]!, ...args];
}

/** How to start Tempest: its shebang's interpreter (a pyenv or venv python on PATH lacks Debian's modules), then the script. */
export async function tempestCommand(bin = TEMPEST_BIN): Promise<string[]> {
  const text = await readFile(bin, 'utf8');
  const interpreter = parseShebang(text.split('\n', 1)[0] ?? '') ?? ['/usr/bin/python3'];
  return [...interpreter, bin];
}

/** The environment Tempest runs in: Debian's python first, our config dir, no proxy for loopback. */
export function tempestEnv(
  base: Readonly<Record<string, string | undefined>>,
  workspaceDir: string,
  interpreter: string,
  testTimeoutSeconds: number,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  for (const k of ['PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV', 'PYENV_VERSION', 'TESTR_PDB']) delete env[k];
  const binDir = path.dirname(interpreter);
  env['PATH'] = [
    binDir,
    ...(env['PATH'] ?? '/usr/bin:/bin').split(':').filter((p) => p && p !== binDir),
  ].join(':');
  // stestr starts its workers with ${PYTHON:-python}.
  env['PYTHON'] = interpreter;
  env['TEMPEST_CONFIG_DIR'] = path.join(workspaceDir, 'etc');
  env['TEMPEST_CONFIG'] = 'tempest.conf';
  // Tempest's per-test timeout (tempest/test.py reads it); 0 would let a hung test stall the run.
  env['OS_TEST_TIMEOUT'] = String(testTimeoutSeconds);
  const noProxy = ['127.0.0.1', 'localhost', '::1', env['NO_PROXY'] ?? env['no_proxy'] ?? '']
    .filter(Boolean)
    .join(',');
  env['NO_PROXY'] = noProxy;
  env['no_proxy'] = noProxy;
  return env;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(
  argv: readonly string[],
  opts: { cwd: string; env: Record<string, string> },
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export interface TempestContext {
  /** `[interpreter, …args, /usr/bin/tempest]`. */
  command: readonly string[];
  /** The Tempest workspace (`tempest init` target). */
  dir: string;
  env: Record<string, string>;
}

/** `tempest init`, registering the workspace in a file of our own rather than ~/.tempest. */
export async function tempestInit(ctx: TempestContext, workspaceRegistry: string): Promise<void> {
  const r = await exec([...ctx.command, 'init', '--workspace-path', workspaceRegistry, ctx.dir], {
    cwd: path.dirname(ctx.dir),
    env: ctx.env,
  });
  if (r.code !== 0) throw new Error(`tempest init failed (exit ${r.code}):\n${tail(r.stderr || r.stdout)}`);
}

/** Every test Tempest and its installed plugins know (no cloud needed), optionally filtered by a stestr regex. */
export async function tempestListTests(ctx: TempestContext, regex?: string): Promise<string[]> {
  const args = ['run', '--list-tests', ...(regex ? ['--regex', regex] : [])];
  const r = await exec([...ctx.command, ...args], { cwd: ctx.dir, env: ctx.env });
  if (r.code !== 0)
    throw new Error(`tempest run --list-tests failed (exit ${r.code}):\n${tail(r.stderr || r.stdout)}`);
  return parseTempestListing(r.stdout);
}

export interface TempestRunResult {
  code: number | null;
  stderrTail: string;
  decodeErrors: string[];
}

/**
 * `tempest run --load-list FILE --concurrency N --subunit`, saving the subunit stream to
 * `subunitFile` and handing each packet to `onPacket` as it arrives.
 */
export function tempestRun(
  ctx: TempestContext,
  opts: { loadList: string; concurrency: number; subunitFile: string; stderrFile: string },
  onPacket: (packet: SubunitPacket) => void,
): Promise<TempestRunResult> {
  return new Promise((resolve, reject) => {
    const argv = [
      ...ctx.command,
      'run',
      '--load-list',
      opts.loadList,
      '--concurrency',
      String(opts.concurrency),
      '--subunit',
    ];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: ctx.dir,
      env: ctx.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const subunit = createWriteStream(opts.subunitFile);
    const stderrLog = createWriteStream(opts.stderrFile);
    const decoder = new SubunitDecoder();
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      subunit.write(chunk);
      for (const p of decoder.push(chunk)) onPacket(p);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderrLog.write(chunk);
      stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      for (const p of decoder.end()) onPacket(p);
      const done = { code, stderrTail: tail(stderr), decodeErrors: decoder.errors };
      let open = 2;
      const finished = () => {
        if (--open === 0) resolve(done);
      };
      subunit.end(finished);
      stderrLog.end(finished);
    });
  });
}
