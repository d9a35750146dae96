// Runs the data plane's commands without a shell (optionally inside a namespace), failing with their stderr.
import { spawn } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')} failed (${code ?? 'signal'}): ${stderr.trim() || 'no output'}`);
    this.name = 'CommandError';
  }
}

export interface RunOptions {
  /** Bytes written to the command's stdin. */
  input?: string;
  /** Exit codes that count as success (default [0]). */
  okCodes?: number[];
  timeoutMs?: number;
}

/** Runs `cmd args…` and resolves with its stdout. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 30_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new CommandError([cmd, ...args], null, e.message)));
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString();
      if (code !== null && (opts.okCodes ?? [0]).includes(code)) resolve(Buffer.concat(out).toString());
      else reject(new CommandError([cmd, ...args], code, stderr));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs a command inside a named network namespace (`ip netns exec`). */
export function runIn(ns: string, cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** `ip [-n ns] args…`. */
export function ip(ns: string | undefined, args: string[], opts: RunOptions = {}): Promise<string> {
  return run('ip', ns ? ['-n', ns, ...args] : args, opts);
}

/** `ip -j …` parsed; an empty answer is an empty list. */
export async function ipJson<T>(ns: string | undefined, args: string[]): Promise<T[]> {
  const out = (await ip(ns, ['-j', ...args])).trim();
  return out ? (JSON.parse(out) as T[]) : [];
}

/** True when the error says the object is already gone (deletes are idempotent). */
export function isMissing(err: unknown): boolean {
  return (
    err instanceof CommandError &&
    /Cannot find device|does not exist|No such file|No such process|Cannot remove namespace|not found/i.test(
      err.stderr,
    )
  );
}
