// Image benchmark against a real `monostack up` on loopback: upload and download of a 2 GiB image streamed over
// HTTP (generated on the fly, never held in memory), compared with `dd … conv=fdatasync` to the same disk in
// the same run; the server's RSS growth during each transfer; and GET /v2/images?limit=25 latency with 10,000
// images (created through the API by a concurrent loop). Everything lives in the cloud's temporary data
// directory, removed at the end.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { startProcessCloud } from '../test/support/process-cloud.ts';
import { fmt, haveWrk, load, once, type Req, rssMiB, withPeakRss, wrkLoad } from './load.ts';

const execFileAsync = promisify(execFile);

const MiB = 1024 * 1024;
const IMAGE_MIB = Number(process.env['MONOSTACK_BENCH_IMAGE_MIB'] ?? 2048);
const LIST_IMAGES = Number(process.env['MONOSTACK_BENCH_IMAGES'] ?? 10_000);

interface Clouds {
  clouds: Record<string, { auth: { password: string } }>;
}

/** One 1 MiB block of pseudo-random bytes; the upload repeats it. */
function block(): Buffer {
  const b = Buffer.alloc(MiB);
  let x = 0x2545f491;
  for (let i = 0; i < b.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeInt32LE(x | 0, i);
  }
  return b;
}

/** PUTs `blocks` copies of `chunk` as the image data; resolves with the status when the server answered. */
function uploadStream(
  base: string,
  path: string,
  token: string,
  chunk: Buffer,
  blocks: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), {
      method: 'PUT',
      headers: {
        'x-auth-token': token,
        'content-type': 'application/octet-stream',
        'content-length': String(chunk.length * blocks),
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < blocks) {
        sent++;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** GETs the image data, counting (not keeping) the bytes. */
function downloadCount(
  base: string,
  path: string,
  token: string,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { headers: { 'x-auth-token': token } });
    req.on('response', (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const t0 = performance.now();
  const result = await fn();
  return { result, seconds: (performance.now() - t0) / 1000 };
}

export async function imageBench(): Promise<void> {
  // Our own data directory (removed at the end), with the image store named explicitly inside it.
  const dataDir = await mkdtemp(join(tmpdir(), 'monostack-bench-image-'));
  const cloud = await startProcessCloud({
    dataDir,
    env: { MONOSTACK__IMAGE__DATA_DIR: join(dataDir, 'images') },
  }).catch(async (err: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  const pid = cloud.child.pid!;
  const base = cloud.url;
  const line = (label: string, text: string) => process.stdout.write(`${label.padEnd(44)} ${text}\n`);
  try {
    const clouds = parse(await readFile(join(cloud.dataDir, 'clouds.yaml'), 'utf8')) as Clouds;
    const password = clouds.clouds['monostack']!.auth.password;
    const auth = await once(base, {
      method: 'POST',
      path: '/v3/auth/tokens?nocatalog',
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
    const h = { 'x-auth-token': token };
    const createImage = async (name: string) => {
      const r = await once(base, {
        method: 'POST',
        path: '/image/v2/images',
        headers: h,
        body: JSON.stringify({ name, disk_format: 'raw', container_format: 'bare', visibility: 'private' }),
      });
      if (r.status !== 201) throw new Error(`image create failed: ${r.status} ${r.body}`);
      return (JSON.parse(r.body) as { id: string }).id;
    };

    process.stdout.write(
      `\nMonostack image benchmark (${IMAGE_MIB} MiB image over loopback HTTP; file store in ${cloud.dataDir}; same 2 cores for client and server)\n\n`,
    );

    // The disk's own streaming write speed, with the data made durable as the upload's fsync does.
    const ddFile = join(cloud.dataDir, 'bench-dd.tmp');
    const dd = await timed(() =>
      execFileAsync('dd', ['if=/dev/zero', `of=${ddFile}`, 'bs=1M', `count=${IMAGE_MIB}`, 'conv=fdatasync'], {
        timeout: 600_000,
      }),
    );
    await rm(ddFile, { force: true });
    const ddRate = IMAGE_MIB / dd.seconds;
    line(
      `dd write ${IMAGE_MIB} MiB, conv=fdatasync`,
      `${ddRate.toFixed(0)} MiB/s   (${dd.seconds.toFixed(2)} s)`,
    );

    // Upload: the same pseudo-random MiB repeated; its md5 computed beforehand, off the clock.
    const chunk = block();
    const md5 = createHash('md5');
    for (let i = 0; i < IMAGE_MIB; i++) md5.update(chunk);
    const expectedMd5 = md5.digest('hex');
    const id = await createImage('bench-big');
    const idleRss = rssMiB(pid);
    const up = await withPeakRss(pid, () =>
      timed(() => uploadStream(base, `/image/v2/images/${id}/file`, token, chunk, IMAGE_MIB)),
    );
    if (up.result.result !== 204) throw new Error(`upload answered ${up.result.result}`);
    const shown = JSON.parse(
      (await once(base, { method: 'GET', path: `/image/v2/images/${id}`, headers: h })).body,
    ) as {
      size: number;
      checksum: string;
      status: string;
    };
    if (shown.status !== 'active' || shown.size !== IMAGE_MIB * MiB || shown.checksum !== expectedMd5) {
      throw new Error(`uploaded image is wrong: ${JSON.stringify(shown)}`);
    }
    const upRate = IMAGE_MIB / up.result.seconds;
    line(
      `upload ${IMAGE_MIB} MiB (PUT /file, md5+sha512, fsync)`,
      `${upRate.toFixed(0)} MiB/s   (${up.result.seconds.toFixed(2)} s; ${((upRate / ddRate) * 100).toFixed(0)}% of dd)`,
    );
    line(
      '  server RSS growth during upload',
      `${(up.peak - idleRss).toFixed(1)} MiB   (idle ${idleRss.toFixed(1)} MiB)`,
    );

    const beforeDown = rssMiB(pid);
    const down = await withPeakRss(pid, () =>
      timed(() => downloadCount(base, `/image/v2/images/${id}/file`, token)),
    );
    if (down.result.result.status !== 200 || down.result.result.bytes !== IMAGE_MIB * MiB) {
      throw new Error(
        `download answered ${down.result.result.status} with ${down.result.result.bytes} bytes`,
      );
    }
    const downRate = IMAGE_MIB / down.result.seconds;
    line(
      `download ${IMAGE_MIB} MiB (GET /file)`,
      `${downRate.toFixed(0)} MiB/s   (${down.result.seconds.toFixed(2)} s; ${((downRate / ddRate) * 100).toFixed(0)}% of dd write)`,
    );
    line('  server RSS growth during download', `${(down.peak - beforeDown).toFixed(1)} MiB`);

    // Deleting the image removes its data file.
    const del = await once(base, { method: 'DELETE', path: `/image/v2/images/${id}`, headers: h });
    const dataFile = join(cloud.dataDir, 'images', 'data', id);
    const left = await stat(dataFile).then(
      () => true,
      () => false,
    );
    line(
      'delete the big image',
      `${del.status}${left ? '   (DATA FILE LEFT BEHIND)' : ', data file removed'}`,
    );

    // Listing: 10,000 image records created through the API.
    const made = await load(
      base,
      (i) => ({
        method: 'POST',
        path: '/image/v2/images',
        headers: h,
        body: JSON.stringify({ name: `bench-${i}`, disk_format: 'raw', container_format: 'bare' }),
        expect: 201,
      }),
      { count: LIST_IMAGES, concurrency: 8, maxSeconds: 600 },
    );
    line(`create ${LIST_IMAGES} images via the API (c=8)`, fmt(made));
    const listReq: Req[] = [{ method: 'GET', path: '/image/v2/images?limit=25', headers: h }];
    for (const c of [1, 16]) {
      const r = haveWrk()
        ? await wrkLoad(base, listReq, { concurrency: c, seconds: 5 })
        : await load(base, () => listReq[0]!, {
            count: c === 1 ? 1000 : 5000,
            concurrency: c,
            maxSeconds: 10,
          });
      line(`GET /v2/images?limit=25 (${LIST_IMAGES}) c=${c}`, fmt(r));
    }
    line('RSS after', `${rssMiB(pid).toFixed(1)} MiB`);
  } finally {
    await cloud.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
