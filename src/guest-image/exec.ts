// Runs host commands for the image build with execFile (argv arrays, never a shell string).
import { execFile } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Bytes written to the command's stdin. */
  input?: string | Buffer;
  /** Kill the command after this many milliseconds (default 10 minutes). */
  timeoutMs?: number;
}

/** A host command failed: carries the argv and the tail of its stderr. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | string | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')} failed (${code ?? 'signal'}): ${stderr.trim().slice(-600)}`);
    this.name = 'CommandError';
  }
}

/** Runs `cmd args…` and resolves with its stdout (utf8); rejects with CommandError on a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 600_000,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
          reject(new CommandError([cmd, ...args], code, stderr || err.message));
          return;
        }
        resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}
