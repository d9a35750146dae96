// Compute benchmark against a real `monostack up` on loopback with 100 fake hosts: 1,000 servers created at
// concurrency 50 until all ACTIVE (throughput, create→ACTIVE p50/p99 from each request's send time to the
// server's launched_at), the scheduler's decision rate in that run, then 10,000 servers listed in detail pages of
// 1,000, and the process's RSS. Everything lives in a temporary data directory, removed at the end.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startProcessCloud } from '../test/support/process-cloud.ts';
import { once, rssMiB } from './load.ts';

const HOSTS = Number(process.env['MONOSTACK_BENCH_HOSTS'] ?? 100);
const FIRST = Number(process.env['MONOSTACK_BENCH_SERVERS'] ?? 1000);
const TOTAL = Number(process.env['MONOSTACK_BENCH_LIST_SERVERS'] ?? 10_000);
const CONCURRENCY = Number(process.env['MONOSTACK_BENCH_CONCURRENCY'] ?? 50);
const PAGE = 1000;

interface Clouds {
  clouds: Record<string, { auth: { password: string } }>;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const line = (label: string, text: string) => process.stdout.write(`${label.padEnd(48)} ${text}\n`);

export async function computeBench(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'monostack-bench-compute-'));
  const cloud = await startProcessCloud({
    dataDir,
    env: {
      MONOSTACK_LOG_LEVEL: 'warn',
      MONOSTACK__COMPUTE__FAKE__HOSTS: String(HOSTS),
      MONOSTACK__COMPUTE__FAKE__VCPUS: '64',
      MONOSTACK__COMPUTE__FAKE__MEMORY_MB: String(1024 * 1024),
      MONOSTACK__COMPUTE__FAKE__DISK_GB: '20000',
    },
  }).catch(async (err: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  const pid = cloud.child.pid!;
  const base = cloud.url;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY + 4 });
  try {
    const clouds = parse(await readFile(join(cloud.dataDir, 'clouds.yaml'), 'utf8')) as Clouds;
    const password = clouds.clouds['monostack']!.auth.password;
    const auth = await once(base, {
      method: 'POST',
      path: '/v3/auth/tokens',
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
    const token = String(auth.headers['x-subject-token']);
    const projectId = (JSON.parse(auth.body) as { token: { project: { id: string } } }).token.project.id;
    const h = { 'x-auth-token': token, 'openstack-api-version': 'compute 2.37' };
    const api = async (method: string, path: string, body?: unknown, expect = 200) => {
      const r = await once(
        base,
        { method, path, headers: h, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
        agent,
      );
      if (r.status !== expect) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
      return r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {};
    };
    await api('PUT', `/compute/v2.1/os-quota-sets/${projectId}`, {
      quota_set: { instances: -1, cores: -1, ram: -1 },
    });
    /** The V8 heap and external memory as the process's own metrics report them. */
    const heapFigures = async () => {
      const m = await once(
        base,
        { method: 'GET', path: '/metrics', headers: { 'x-auth-token': token } },
        agent,
      );
      const value = (name: string, label = '') => {
        const re = new RegExp(`^${name}${label ? `\\{[^}]*${label}[^}]*\\}` : ''} ([0-9.e+]+)$`, 'm');
        const hit = re.exec(m.body);
        return hit ? Number(hit[1]) / 2 ** 20 : Number.NaN;
      };
      return `V8 heap ${value('monostack_nodejs_heap_size_used_bytes').toFixed(0)} MiB used of ${value('monostack_nodejs_heap_size_total_bytes').toFixed(0)}, external ${value('monostack_nodejs_external_memory_bytes').toFixed(0)} MiB`;
    };
    const images = (await api('GET', '/image/v2/images?limit=1')) as { images: { id: string }[] };
    let imageRef = images.images[0]?.id;
    if (!imageRef) {
      const img = (await once(base, {
        method: 'POST',
        path: '/image/v2/images',
        headers: { 'x-auth-token': token },
        body: JSON.stringify({ name: 'bench', disk_format: 'raw', container_format: 'bare' }),
      })) as { body: string };
      imageRef = (JSON.parse(img.body) as { id: string }).id;
      await once(base, {
        method: 'PUT',
        path: `/image/v2/images/${imageRef}/file`,
        headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
        body: 'bench-image-bytes',
      });
    }

    /** Creates `count` servers from `concurrency` workers; returns each server's id and send time (epoch ms). */
    const createMany = async (prefix: string, count: number) => {
      const sent = new Map<string, number>();
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const i = next++;
          const t = Date.now();
          const body = (await api(
            'POST',
            '/compute/v2.1/servers',
            { server: { name: `${prefix}-${i}`, flavorRef: '1', imageRef, networks: 'none' } },
            202,
          )) as { server: { id: string } };
          sent.set(body.server.id, t);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      return sent;
    };

    /** Every server of the project in detail, page by page. */
    const listAll = async () => {
      const out: { id: string; status: string; 'OS-SRV-USG:launched_at': string | null }[] = [];
      let marker: string | undefined;
      for (;;) {
        const page = (await api(
          'GET',
          `/compute/v2.1/servers/detail?limit=${PAGE}${marker ? `&marker=${marker}` : ''}`,
        )) as { servers: (typeof out)[number][] };
        out.push(...page.servers);
        if (page.servers.length < PAGE) return out;
        marker = page.servers.at(-1)!.id;
      }
    };

    /**
     * Waits until no server is building (polling only the building ones, so the wait itself costs little), then
     * reads every server once; returns id → launched_at epoch ms of the given servers.
     */
    const waitActive = async (ids: Map<string, number>, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (Date.now() > deadline) throw new Error('servers still building after the timeout');
        await new Promise((r) => setTimeout(r, 100));
        const building = (await api('GET', '/compute/v2.1/servers?status=BUILD&limit=1')) as {
          servers: unknown[];
        };
        if (building.servers.length === 0) break;
      }
      const launched = new Map<string, number>();
      for (const s of await listAll()) {
        if (!ids.has(s.id)) continue;
        if (s.status !== 'ACTIVE' || !s['OS-SRV-USG:launched_at'])
          throw new Error(`server ${s.id} is ${s.status}, not ACTIVE`);
        launched.set(s.id, Date.parse(`${s['OS-SRV-USG:launched_at']}Z`));
      }
      if (launched.size !== ids.size) throw new Error(`only ${launched.size}/${ids.size} servers listed`);
      return launched;
    };

    // The run starts once every fake host has registered (placement provider and inventory), as it would
    // against a cloud that has been up a while.
    for (const deadline = Date.now() + 120_000; ; ) {
      const hv = (await api('GET', '/compute/v2.1/os-hypervisors')) as { hypervisors: unknown[] };
      if (hv.hypervisors.length >= HOSTS) break;
      if (Date.now() > deadline)
        throw new Error(`only ${hv.hypervisors.length} of ${HOSTS} hosts registered`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // The client's connections are opened (and the API path warmed) before the clock starts: the run measures
    // server creation, not 50 TCP handshakes landing on a busy event loop.
    await Promise.all(Array.from({ length: CONCURRENCY }, () => api('GET', '/compute/v2.1/flavors')));
    line('hosts (fake driver)', String(HOSTS));
    line('RSS at start', `${rssMiB(pid).toFixed(0)} MiB`);
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const sent = await createMany('bench', FIRST);
    const tCreated = Date.now();
    const launched = await waitActive(sent, 300_000);
    const lastActive = Math.max(...launched.values());
    const latencies = [...sent].map(([id, t]) => launched.get(id)! - t).sort((a, b) => a - b);
    const seconds = (lastActive - t0) / 1000;
    line(
      `${FIRST} servers create → all ACTIVE (c=${CONCURRENCY})`,
      `${seconds.toFixed(2)} s, ${(FIRST / seconds).toFixed(0)} servers/s (POSTs answered in ${((tCreated - t0) / 1000).toFixed(2)} s)`,
    );
    line(
      'create → ACTIVE latency',
      `p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms, max ${latencies.at(-1)} ms`,
    );
    // Where the tail comes from: each tenth of the run (in send order) with its own p50 and max.
    const bySend = [...sent].sort((a, b) => a[1] - b[1]).map(([id, t]) => launched.get(id)! - t);
    const tenth = Math.ceil(bySend.length / 10);
    const tenths = Array.from({ length: 10 }, (_, i) =>
      bySend.slice(i * tenth, (i + 1) * tenth).sort((a, b) => a - b),
    );
    line(
      'latency by tenth of the run (p50/max ms)',
      tenths.map((t) => `${quantile(t, 0.5).toFixed(0)}/${t.at(-1)}`).join(' '),
    );
    line(
      'scheduler decisions/s (same run)',
      `${(FIRST / seconds).toFixed(0)} (every server is one decision)`,
    );
    void cpu0;
    line('RSS after first batch', `${rssMiB(pid).toFixed(0)} MiB (${await heapFigures()})`);

    if (TOTAL > FIRST) {
      const t1 = Date.now();
      const more = await createMany('fill', TOTAL - FIRST);
      await waitActive(more, 900_000);
      const s1 = (Date.now() - t1) / 1000;
      line(
        `${TOTAL - FIRST} more servers to ACTIVE`,
        `${s1.toFixed(1)} s, ${((TOTAL - FIRST) / s1).toFixed(0)} servers/s`,
      );
    }
    const pageTimes: number[] = [];
    for (let round = 0; round < 3; round++) {
      let marker: string | undefined;
      for (;;) {
        const t = performance.now();
        const page = (await api(
          'GET',
          `/compute/v2.1/servers/detail?limit=${PAGE}${marker ? `&marker=${marker}` : ''}`,
        )) as { servers: { id: string }[] };
        pageTimes.push(performance.now() - t);
        if (page.servers.length < PAGE) break;
        marker = page.servers.at(-1)!.id;
      }
    }
    pageTimes.sort((a, b) => a - b);
    line(
      `GET /servers/detail?limit=${PAGE} (${TOTAL} servers)`,
      `p50 ${quantile(pageTimes, 0.5).toFixed(0)} ms, p99 ${quantile(pageTimes, 0.99).toFixed(0)} ms over ${pageTimes.length} pages`,
    );
    line(`RSS with ${TOTAL} servers`, `${rssMiB(pid).toFixed(0)} MiB (${await heapFigures()})`);
    line(
      'reference: Nova (fake driver) on this machine',
      '50 servers → ACTIVE ~21 s (~2.4/s); /servers/detail of 50: 69 ms (../shared/FACTS.md)',
    );
  } finally {
    agent.destroy();
    await cloud.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
