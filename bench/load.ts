// A small closed-loop HTTP load generator (keep-alive, fixed concurrency, bounded count and time) and
// figures: throughput, p50/p99 latency; plus RSS sampling of a process by PID.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

export interface LoadResult {
  count: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  expect?: number;
}

export function once(base: string, r: Req, agent?: Agent): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(r.path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: r.method,
        agent,
        headers: { ...(r.body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(r.body) } : {}), ...r.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (r.body) req.write(r.body);
    req.end();
  });
}

/** Runs `count` requests (made by `make(i)`) at `concurrency`, stopping early after `maxSeconds`. */
export async function load(base: string, make: (i: number) => Req, opts: { count: number; concurrency: number; maxSeconds?: number }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const lat: number[] = [];
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
      lat.push(performance.now() - t0);
      if (res.status !== (r.expect ?? 200)) errors++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0;
  return { count: lat.length, errors, seconds, perSecond: lat.length / seconds, p50: pct(0.5), p99: pct(0.99) };
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Samples RSS every 50 ms while fn runs; returns fn's result and the peak. */
export async function withPeakRss<T>(pid: number, fn: () => Promise<T>): Promise<{ result: T; peak: number }> {
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
