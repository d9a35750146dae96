// A small closed-loop HTTP load generator (keep-alive, fixed concurrency, bounded count and time) and
// figures: throughput, p50/p99 latency; plus RSS sampling of a process by PID.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface LoadResult {
  count: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Each request's [start offset from the run's start, latency], in ms, in completion order. */
  trace: Array<[number, number]>;
}

export interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  expect?: number;
}

export function once(
  base: string,
  r: Req,
  agent?: Agent,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(r.path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: r.method,
        agent,
        headers: {
          ...(r.body
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(r.body) }
            : {}),
          ...r.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (r.body) req.write(r.body);
    req.end();
  });
}

/** Runs `count` requests (made by `make(i)`) at `concurrency`, stopping early after `maxSeconds`. */
export async function load(
  base: string,
  make: (i: number) => Req,
  opts: { count: number; concurrency: number; maxSeconds?: number; warmup?: Req },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  // The connections are opened before the clock starts (the run measures the requests, not `concurrency` TCP
  // handshakes landing together on the server's event loop).
  if (opts.warmup)
    await Promise.all(Array.from({ length: opts.concurrency }, () => once(base, opts.warmup!, agent)));
  const trace: Array<[number, number]> = [];
  let next = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + (opts.maxSeconds ?? 60) * 1000;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= opts.count || performance.now() > deadline) return;
      const r = make(i);
      const t0 = performance.now();
      const res = await once(base, r, agent);
      trace.push([t0 - start, performance.now() - t0]);
      if (res.status !== (r.expect ?? 200)) errors++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  const lat = trace.map(([, ms]) => ms).sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0;
  return {
    count: lat.length,
    errors,
    seconds,
    perSecond: lat.length / seconds,
    p50: pct(0.5),
    p99: pct(0.99),
    trace,
  };
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Samples RSS every 50 ms while fn runs; returns fn's result and the peak. */
export async function withPeakRss<T>(
  pid: number,
  fn: () => Promise<T>,
): Promise<{ result: T; peak: number }> {
  let peak = rssMiB(pid);
  const t = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
  }, 50);
  try {
    const result = await fn();
    return { result, peak: Math.max(peak, rssMiB(pid)) };
  } finally {
    clearInterval(t);
  }
}

export function fmt(r: LoadResult): string {
  return `${r.perSecond.toFixed(1).padStart(9)}/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms  (${r.count} req${r.errors ? `, ${r.errors} ERRORS` : ''})`;
}

/** True when Debian's wrk (a C load generator, far lighter than a Node client) is installed. */
export function haveWrk(): boolean {
  return existsSync('/usr/bin/wrk');
}

function luaString(s: string): string {
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

/** Drives `reqs` (cycled) with wrk for `seconds` at `concurrency` connections; non-2xx/3xx count as errors. */
export async function wrkLoad(
  base: string,
  reqs: Req[],
  opts: { concurrency: number; seconds: number },
): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'monostack-wrk-'));
  try {
    const entries = reqs.map((r) => {
      const headers = { ...(r.body ? { 'content-type': 'application/json' } : {}), ...r.headers };
      const h = Object.entries(headers)
        .map(([k, v]) => `[${luaString(k)}]=${luaString(v)}`)
        .join(',');
      return `{${luaString(r.method)},${luaString(r.path)},{${h}},${r.body ? luaString(r.body) : 'nil'}}`;
    });
    const script = `local reqs = {${entries.join(',\n')}}
local i = 0
request = function()
  i = i + 1
  local r = reqs[(i % #reqs) + 1]
  return wrk.format(r[1], r[2], r[3], r[4])
end
`;
    const file = join(dir, 'load.lua');
    await writeFile(file, script);
    // One wrk thread: the server is one event loop, and the second core is better left to it.
    const threads = 1;
    const { stdout } = await execFileAsync(
      '/usr/bin/wrk',
      [
        '-t',
        String(threads),
        '-c',
        String(opts.concurrency),
        '-d',
        `${opts.seconds}s`,
        '--latency',
        '-s',
        file,
        base,
      ],
      { timeout: (opts.seconds + 30) * 1000 },
    );
    const pct = (p: string) => {
      const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(stdout);
      return m ? toMs(m[1]!, m[2]!) : 0;
    };
    const count = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
    const seconds = Number(/requests in ([\d.]+)s/.exec(stdout)?.[1] ?? opts.seconds);
    const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
    return {
      count,
      errors,
      seconds,
      perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0),
      p50: pct('50'),
      p99: pct('99'),
      trace: [],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
