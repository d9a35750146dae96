// Image data through the real HTTP stack (createHttpApp with Glance's policy and the file store): upload and
// download with checksums and ranges, the status machine, size limits and quotas, client disconnects, staging
// and glance-direct import, crash recovery, and constant memory while streaming.
//
// The harness mounts only the image-data routes over a SQLite file and an in-memory token table, so the tests
// do not depend on the rest of the image API; images are created as rows.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { randomIds, systemClock } from '../../../src/platform/clock.ts';
import type { ImageConfig } from '../../../src/platform/config.ts';
import { type Database, openDatabase } from '../../../src/platform/db/database.ts';
import { migrate } from '../../../src/platform/db/migrate.ts';
import { ApiError } from '../../../src/platform/errors.ts';
import { createHttpApp } from '../../../src/platform/http/app.ts';
import { webobDialect } from '../../../src/platform/http/error-dialects.ts';
import type { AuthContext, ServiceHttp } from '../../../src/platform/http/types.ts';
import { createLogger } from '../../../src/platform/log.ts';
import { PolicyEngine } from '../../../src/platform/policy/index.ts';
import { ChangeFeed, feedMigrations } from '../../../src/platform/watch/feed.ts';
import {
  deleteImageData,
  imageDataRoutes,
  importsSettled,
  recoverImages,
  resolveRange,
  stopImageData,
} from '../../../src/services/image/api/image-data.ts';
import { FileBlobStore } from '../../../src/services/image/blobs/file-store.ts';
import { ImageContext, type ImageDb } from '../../../src/services/image/context.ts';
import { imagePolicies } from '../../../src/services/image/policy.ts';
import { imageMigrations } from '../../../src/services/image/store/migrations/0001-initial.ts';
import type { ImageRow } from '../../../src/services/image/store/tables.ts';

const PROJECT_A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const PROJECT_B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const PROJECT_ADMIN = 'cccccccccccccccccccccccccccccccc';

function auth(userId: string, projectId: string, roles: string[]): AuthContext {
  return {
    token: `tok-${userId}`,
    userId,
    userName: userId,
    userDomainId: 'default',
    userDomainName: 'Default',
    projectId,
    projectName: projectId,
    projectDomainId: 'default',
    projectDomainName: 'Default',
    roles,
    roleIds: roles,
    methods: ['password'],
    auditIds: ['x'],
    issuedAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
    isAdminProject: false,
  };
}

const USERS = {
  admin: auth('admin', PROJECT_ADMIN, ['admin', 'member', 'reader']),
  owner: auth('owner', PROJECT_A, ['member', 'reader']),
  reader: auth('reader', PROJECT_A, ['reader']),
  other: auth('other', PROJECT_B, ['member', 'reader']),
};
type Who = keyof typeof USERS;

const DEFAULT_CONFIG: Omit<ImageConfig, 'data_dir'> = {
  image_size_cap: 1099511627776,
  quotas: { image_count_total: -1, image_size_total: -1, image_stage_total: -1, image_count_uploading: -1 },
  limit_param_default: 25,
  api_limit_max: 1000,
  policy_overrides: {},
};

interface Harness {
  dir: string;
  ix: ImageContext;
  app: FastifyInstance;
  database: Database;
  /** Base URL of a real listener (for socket-level tests). */
  url: string;
  close(): Promise<void>;
}

async function startHarness(
  dir: string,
  config: Partial<Omit<ImageConfig, 'data_dir'>> = {},
  opts: { recover?: boolean } = {},
): Promise<Harness & { recovery?: Awaited<ReturnType<typeof recoverImages>> }> {
  const log = createLogger({ level: process.env['MONOSTACK_TEST_LOG'] ?? 'silent' });
  const database = await openDatabase(`sqlite:${join(dir, 'db.sqlite')}`);
  await migrate(database, [
    { service: 'platform', migrations: feedMigrations },
    { service: 'image', migrations: imageMigrations },
  ]);
  const feed = new ChangeFeed(database, log);
  await feed.start();
  const blobs = new FileBlobStore(join(dir, 'images', 'data'));
  const staging = new FileBlobStore(join(dir, 'images', 'staging'));
  await blobs.recover();
  await staging.recover();
  const ix = new ImageContext({
    db: database.db as ImageDb,
    feed,
    config: { ...DEFAULT_CONFIG, ...config, data_dir: join(dir, 'images') },
    clock: systemClock,
    ids: randomIds,
    log,
    blobs,
    staging,
  });
  const recovery = opts.recover ? await recoverImages(ix) : undefined;
  const http: ServiceHttp = {
    name: 'image',
    prefixes: ['/image'],
    dialect: webobDialect,
    routes: imageDataRoutes(ix),
    policy: new PolicyEngine(imagePolicies, {}),
  };
  const tokens = new Map(Object.values(USERS).map((u) => [u.token, u]));
  const app = await createHttpApp({
    services: [http],
    authenticate: async (t) => {
      const a = tokens.get(t);
      if (!a) throw new ApiError(404, 'NotFound', 'no such token');
      return a;
    },
    log,
    bodyLimit: 114688,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    dir,
    ix,
    app,
    database,
    url: `http://127.0.0.1:${port}`,
    recovery,
    async close() {
      await stopImageData(ix);
      await app.close();
      await feed.stop();
      await database.close();
    },
  };
}

/** An image row as the images API would create it. */
async function makeImage(h: Harness, over: Partial<ImageRow> = {}): Promise<string> {
  const id = over.id ?? randomUUID();
  const now = h.ix.nowIso();
  await h.ix.write(async (trx) => {
    await trx
      .insertInto('image_images')
      .values({
        id,
        name: 'test',
        status: 'queued',
        visibility: 'private',
        protected: 0,
        os_hidden: 0,
        owner: PROJECT_A,
        disk_format: 'raw',
        container_format: 'bare',
        min_disk: 0,
        min_ram: 0,
        size: null,
        virtual_size: null,
        checksum: null,
        os_hash_algo: null,
        os_hash_value: null,
        properties: '{}',
        location: null,
        created_at: now,
        updated_at: now,
        deleted: 0,
        deleted_at: null,
        ...over,
      })
      .execute();
  });
  return id;
}

async function row(h: Harness, id: string): Promise<ImageRow> {
  return h.ix.db.selectFrom('image_images').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON.
  json: any;
}

async function call(
  h: Harness,
  method: string,
  path: string,
  opts: {
    as?: Who | null;
    body?: Buffer | string | Readable;
    json?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  const who = opts.as === undefined ? 'owner' : opts.as;
  if (who) headers['x-auth-token'] = USERS[who].token;
  let payload: Buffer | string | Readable | undefined = opts.body;
  if (opts.json !== undefined) {
    payload = JSON.stringify(opts.json);
    headers['content-type'] ??= 'application/json';
  } else if (payload !== undefined) {
    headers['content-type'] ??= 'application/octet-stream';
  }
  const res = await h.app.inject({ method: method as 'GET', url: path, headers, payload });
  let json: unknown;
  if (String(res.headers['content-type'] ?? '').includes('json') && res.body) json = JSON.parse(res.body);
  return { status: res.statusCode, headers: res.headers as Res['headers'], body: res.rawPayload, json };
}

const file = (id: string) => `/image/v2/images/${id}/file`;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

function randomBytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function leftovers(h: Harness): Promise<{ data: string[]; staging: string[]; temps: string[] }> {
  const blobs = h.ix.blobs as FileBlobStore;
  const staging = h.ix.staging as FileBlobStore;
  return {
    data: await blobs.list(),
    staging: await staging.list(),
    temps: [...(await blobs.temporaries()), ...(await staging.temporaries())],
  };
}

async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const roots: string[] = [];
async function freshDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'monostack-image-data-'));
  roots.push(d);
  return d;
}
after(async () => {
  for (const d of roots) await rm(d, { recursive: true, force: true });
});

describe('image data: upload and download', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(await freshDir());
  });
  after(() => h.close());

  it('round-trips bytes with size, md5, sha512 and a virtual size for raw', async () => {
    const id = await makeImage(h);
    const data = randomBytes(300_000);
    const empty = await call(h, 'GET', file(id));
    assert.equal(empty.status, 204, 'a queued image has no data');
    assert.equal(empty.body.length, 0);
    const up = await call(h, 'PUT', file(id), { body: data });
    assert.equal(up.status, 204, up.body.toString());
    const r = await row(h, id);
    assert.equal(r.status, 'active');
    assert.equal(Number(r.size), data.length);
    assert.equal(r.checksum, md5(data));
    assert.equal(r.os_hash_algo, 'sha512');
    assert.equal(r.os_hash_value, sha512(data));
    assert.equal(Number(r.virtual_size), data.length);
    assert.equal(r.location, id);
    const down = await call(h, 'GET', file(id));
    assert.equal(down.status, 200);
    assert.equal(down.headers['content-type'], 'application/octet-stream');
    assert.equal(down.headers['content-length'], String(data.length));
    assert.equal(down.headers['content-md5'], md5(data));
    assert.ok(down.body.equals(data));
    assert.deepEqual((await leftovers(h)).temps, []);
  });

  it('reads the virtual size of a qcow2 upload from its header, none for other containers', async () => {
    const header = Buffer.alloc(4096);
    Buffer.from([0x51, 0x46, 0x49, 0xfb]).copy(header);
    header.writeUInt32BE(3, 4);
    header.writeBigUInt64BE(20n << 30n, 24);
    const id = await makeImage(h, { disk_format: 'qcow2' });
    assert.equal((await call(h, 'PUT', file(id), { body: header })).status, 204);
    assert.equal(Number((await row(h, id)).virtual_size), 20 * 2 ** 30);
    const ovf = await makeImage(h, { disk_format: 'qcow2', container_format: 'ovf' });
    assert.equal((await call(h, 'PUT', file(ovf), { body: header })).status, 204);
    assert.equal((await row(h, ovf)).virtual_size, null);
  });

  it('accepts an empty upload', async () => {
    const id = await makeImage(h);
    assert.equal((await call(h, 'PUT', file(id), { body: Buffer.alloc(0) })).status, 204);
    const r = await row(h, id);
    assert.equal(r.status, 'active');
    assert.equal(Number(r.size), 0);
    assert.equal(r.checksum, md5(Buffer.alloc(0)));
    const down = await call(h, 'GET', file(id));
    assert.equal(down.status, 200);
    assert.equal(down.headers['content-length'], '0');
  });

  it('serves ranges (206) and refuses unsatisfiable ones (416)', async () => {
    const id = await makeImage(h);
    const data = randomBytes(1000, 3);
    await call(h, 'PUT', file(id), { body: data });
    const part = await call(h, 'GET', file(id), { headers: { range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], 'bytes 10-19/1000');
    assert.equal(part.headers['content-length'], '10');
    assert.ok(part.body.equals(data.subarray(10, 20)));
    const tail = await call(h, 'GET', file(id), { headers: { range: 'bytes=-5' } });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers['content-range'], 'bytes 995-999/1000');
    assert.ok(tail.body.equals(data.subarray(995)));
    const open = await call(h, 'GET', file(id), { headers: { range: 'bytes=990-' } });
    assert.ok(open.body.equals(data.subarray(990)));
    const past = await call(h, 'GET', file(id), { headers: { range: 'bytes=0-5000' } });
    assert.equal(past.status, 206);
    assert.equal(past.headers['content-range'], 'bytes 0-999/1000');
    assert.equal(past.body.length, 1000);
    const legacy = await call(h, 'GET', file(id), { headers: { 'content-range': 'bytes 1-2/*' } });
    assert.equal(legacy.status, 206);
    assert.ok(legacy.body.equals(data.subarray(1, 3)));

    const beyond = await call(h, 'GET', file(id), { headers: { range: 'bytes=1000-' } });
    assert.equal(beyond.status, 416);
    assert.equal(
      beyond.json.message,
      'Invalid start position in Range header. Start position MUST be in the inclusive range [0, 999].',
    );
    assert.equal((await call(h, 'GET', file(id), { headers: { range: 'bytes=9-3' } })).status, 416);
    assert.equal((await call(h, 'GET', file(id), { headers: { range: 'items=1-2' } })).status, 416);
    const multi = await call(h, 'GET', file(id), { headers: { range: 'bytes=1-2,4-5' } });
    assert.equal(multi.status, 400);
  });

  it('parses ranges exactly as Glance', () => {
    assert.deepEqual(resolveRange({ range: 'bytes=0-0' }, 10), { start: 0, end: 0 });
    assert.deepEqual(resolveRange({ range: 'bytes=-20' }, 10), { start: 0, end: 9 });
    assert.deepEqual(resolveRange({ range: 'bytes=3-9' }, 10), { start: 3, end: 9 });
    assert.equal(resolveRange({}, 10), undefined);
    assert.throws(() => resolveRange({ 'content-range': 'bytes 2-20/*' }, 10), /Invalid stop position/);
  });

  it('refuses data for an image that is not queued (409) and keeps its bytes', async () => {
    const id = await makeImage(h);
    const data = randomBytes(100);
    await call(h, 'PUT', file(id), { body: data });
    const again = await call(h, 'PUT', file(id), { body: randomBytes(50, 9) });
    assert.equal(again.status, 409);
    assert.equal(again.json.message, 'Image status transition from active to saving is not allowed');
    assert.ok((await call(h, 'GET', file(id))).body.equals(data));
    for (const status of ['deactivated', 'killed', 'uploading', 'importing', 'saving'] as const) {
      const other = await makeImage(h, { status });
      const res = await call(h, 'PUT', file(other), { body: data });
      assert.equal(res.status, 409, status);
      assert.equal(res.json.message, `Image status transition from ${status} to saving is not allowed`);
    }
  });

  it('wants application/octet-stream (415) and both formats set (400)', async () => {
    const id = await makeImage(h);
    const wrong = await call(h, 'PUT', file(id), { json: { not: 'data' } });
    assert.equal(wrong.status, 415);
    assert.equal(wrong.json.message, 'Invalid content type application/json');
    assert.equal((await row(h, id)).status, 'queued');
    const bare = await makeImage(h, { disk_format: null, container_format: null });
    const res = await call(h, 'PUT', file(bare), { body: 'x' });
    assert.equal(res.status, 400);
    assert.equal(
      res.json.message,
      'Properties disk_format, container_format must be set prior to saving data.',
    );
    assert.equal((await row(h, bare)).status, 'queued');
    const one = await makeImage(h, { container_format: null });
    assert.equal(
      (await call(h, 'PUT', file(one), { body: 'x' })).json.message,
      'Property container_format must be set prior to saving data.',
    );
  });

  it('enforces upload_image, ownership and visibility', async () => {
    const id = await makeImage(h);
    const reader = await call(h, 'PUT', file(id), { as: 'reader', body: 'x' });
    assert.equal(reader.status, 403);
    assert.equal(reader.json.message, 'You are not authorized to complete upload_image action.');
    assert.equal((await call(h, 'PUT', file(id), { as: 'other', body: 'x' })).status, 404);
    const pub = await makeImage(h, { visibility: 'public' });
    assert.equal((await call(h, 'PUT', file(pub), { as: 'other', body: 'x' })).status, 403);
    assert.equal((await call(h, 'PUT', file(id), { as: null, body: 'x' })).status, 401);
    assert.equal((await row(h, id)).status, 'queued');
    // An admin may upload into any project's image.
    assert.equal((await call(h, 'PUT', file(id), { as: 'admin', body: 'x' })).status, 204);
    // Download: a reader of the project is not enough (download_image needs member); others see 404.
    assert.equal((await call(h, 'GET', file(id), { as: 'reader' })).status, 403);
    assert.equal((await call(h, 'GET', file(id), { as: 'other' })).status, 404);
    assert.equal((await call(h, 'GET', file(randomUUID()))).status, 404);
  });

  it('forbids downloading a deactivated image except to admins', async () => {
    const id = await makeImage(h);
    await call(h, 'PUT', file(id), { body: 'payload' });
    await h.ix.db.updateTable('image_images').set({ status: 'deactivated' }).where('id', '=', id).execute();
    const res = await call(h, 'GET', file(id));
    assert.equal(res.status, 403);
    assert.equal(
      res.json.message,
      'The requested image has been deactivated. Image data download is forbidden.',
    );
    const admin = await call(h, 'GET', file(id), { as: 'admin' });
    assert.equal(admin.status, 200);
    assert.equal(admin.body.toString(), 'payload');
  });

  it('answers 204 for an active image whose data went missing, and 405 to other methods', async () => {
    const id = await makeImage(h);
    await call(h, 'PUT', file(id), { body: 'gone soon' });
    await h.ix.blobs.delete(id);
    assert.equal((await call(h, 'GET', file(id))).status, 204);
    const head = await call(h, 'HEAD', file(id));
    assert.equal(head.status, 405);
    assert.equal(head.headers['allow'], 'GET, PUT');
    assert.equal((await call(h, 'DELETE', file(id))).status, 405);
  });

  it('a download abandoned by the client closes its file', {
    skip: !existsSync('/proc/self/fd'),
  }, async () => {
    const id = await makeImage(h);
    await call(h, 'PUT', file(id), { body: randomBytes(8 * 1024 * 1024, 21) });
    const path = join(h.dir, 'images', 'data', id);
    const openOnIt = async () => {
      let n = 0;
      for (const fd of await readdir('/proc/self/fd')) {
        try {
          if ((await readlink(`/proc/self/fd/${fd}`)) === path) n++;
        } catch {
          // closed meanwhile
        }
      }
      return n;
    };
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(new URL(file(id), h.url), { headers: { 'x-auth-token': USERS.owner.token } });
      req.on('response', (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      setTimeout(() => reject(new Error('no data')), 5000);
      req.end();
    });
    await waitFor(async () => ((await openOnIt()) === 0 ? true : undefined), 'the data file to be closed');
  });

  it('deleteImageData removes stored and staged bytes', async () => {
    const id = await makeImage(h);
    await call(h, 'PUT', file(id), { body: 'bytes' });
    await h.ix.staging.put(id, Readable.from([Buffer.from('staged')]));
    const r = await row(h, id);
    await deleteImageData(h.ix, r);
    assert.equal(await h.ix.blobs.head(id), undefined);
    assert.equal(await h.ix.staging.head(id), undefined);
    await deleteImageData(h.ix, r); // idempotent
  });
});

describe('image data: limits, quotas and failures', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(await freshDir(), {
      image_size_cap: 64 * 1024,
      quotas: {
        image_count_total: -1,
        image_size_total: -1,
        image_stage_total: -1,
        image_count_uploading: -1,
      },
    });
  });
  after(() => h.close());

  it('413 past image_size_cap (streamed, no length), image back to queued, nothing left', async () => {
    const id = await makeImage(h);
    const chunks = Array.from({ length: 10 }, () => randomBytes(10_000));
    const res = await call(h, 'PUT', file(id), { body: Readable.from(chunks) });
    assert.equal(res.status, 413);
    assert.equal(res.json.message, 'The incoming image is too large: The provided image is too large.');
    const r = await row(h, id);
    assert.equal(r.status, 'queued');
    assert.equal(r.size, null);
    assert.deepEqual(await leftovers(h), { data: [], staging: [], temps: [] });
    // The image can take a smaller upload afterwards.
    assert.equal((await call(h, 'PUT', file(id), { body: randomBytes(1000) })).status, 204);
  });

  it('413 at once when Content-Length says too much', async () => {
    const id = await makeImage(h);
    const res = await call(h, 'PUT', file(id), { body: randomBytes(70_000) });
    assert.equal(res.status, 413);
    assert.equal((await row(h, id)).status, 'queued');
  });

  it('413 over a real socket still reaches a client that keeps sending', async () => {
    const id = await makeImage(h);
    const res = await rawPut(h, id, 200, 4096, false);
    assert.equal(res.status, 413);
    assert.equal((await row(h, id)).status, 'queued');
    assert.deepEqual((await leftovers(h)).temps, []);
  });

  it('a client that disconnects mid-upload leaves the image queued and no file', async () => {
    const id = await makeImage(h);
    await rawPut(h, id, 8, 4096, true);
    const r = await waitFor(async () => {
      const x = await row(h, id);
      return x.status === 'queued' ? x : undefined;
    }, 'the upload to be abandoned');
    assert.equal(r.size, null);
    assert.equal(r.location, null);
    await waitFor(async () => ((await leftovers(h)).temps.length === 0 ? true : undefined), 'temps to go');
    assert.equal(await h.ix.blobs.head(id), undefined);
  });

  it('enforces image_size_total (before and while streaming) and image_count_uploading', async () => {
    const dir = await freshDir();
    const q = await startHarness(dir, {
      quotas: { image_count_total: -1, image_size_total: 1, image_stage_total: 1, image_count_uploading: 0 },
    });
    try {
      const id = await makeImage(q);
      const busy = await call(q, 'PUT', file(id), { body: 'x' });
      assert.equal(busy.status, 413);
      assert.match(
        busy.json.message,
        /Resource image_count_uploading is over limit of 0 due to current usage 1 and delta 0/,
      );
      assert.equal((await row(q, id)).status, 'queued');
    } finally {
      await q.close();
    }
    const q2 = await startHarness(await freshDir(), {
      quotas: { image_count_total: -1, image_size_total: 1, image_stage_total: 1, image_count_uploading: -1 },
    });
    try {
      const a = await makeImage(q2);
      const big = Readable.from(Array.from({ length: 12 }, () => randomBytes(100_000)));
      const over = await call(q2, 'PUT', file(a), { body: big });
      assert.equal(over.status, 413);
      assert.match(over.json.message, /^Image exceeds the storage quota: .* 1048576 bytes remaining\.$/);
      assert.equal((await call(q2, 'PUT', file(a), { body: randomBytes(1024 * 1024) })).status, 204);
      const b = await makeImage(q2);
      const full = await call(q2, 'PUT', file(b), { body: 'x' });
      assert.equal(full.status, 413);
      assert.match(
        full.json.message,
        /Resource image_size_total is over limit of 1 due to current usage 1 and delta 0|remaining/,
      );
      const usage = await call(q2, 'GET', '/image/v2/info/usage');
      assert.deepEqual(usage.json.usage.image_size_total, { usage: 1, limit: 1 });
    } finally {
      await q2.close();
    }
  });
});

/**
 * PUTs `chunks` x `size` bytes over a real socket, chunked. With `abort`, destroys the request half way;
 * otherwise returns the response (read while still sending).
 */
function rawPut(
  h: Harness,
  id: string,
  chunks: number,
  size: number,
  abort: boolean,
): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(file(id), h.url);
    const req = httpRequest(url, {
      method: 'PUT',
      headers: { 'x-auth-token': USERS.owner.token, 'content-type': 'application/octet-stream' },
    });
    let sent = 0;
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (err) => (abort ? resolve({ status: 0 }) : reject(err)));
    const pump = () => {
      while (sent < chunks) {
        sent++;
        if (abort && sent === Math.ceil(chunks / 2)) {
          setTimeout(() => {
            req.destroy();
            resolve({ status: 0 });
          }, 50);
          return;
        }
        if (!req.write(randomBytes(size, sent))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('image data: stage and glance-direct import', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(await freshDir());
  });
  after(() => h.close());

  const stage = (id: string) => `/image/v2/images/${id}/stage`;
  const imp = (id: string) => `/image/v2/images/${id}/import`;

  it('publishes the import methods and the store', async () => {
    const methods = await call(h, 'GET', '/image/v2/info/import');
    assert.deepEqual(methods.json, {
      'import-methods': { description: 'Import methods available.', type: 'array', value: ['glance-direct'] },
    });
    const stores = await call(h, 'GET', '/image/v2/info/stores');
    assert.deepEqual(stores.json, {
      stores: [{ id: 'file', description: 'Local filesystem store', default: 'true' }],
    });
    assert.equal((await call(h, 'GET', '/image/v2/info/stores', { as: null })).status, 401);
    assert.equal((await call(h, 'GET', '/image/v2/info/stores/detail')).status, 403);
    const detail = await call(h, 'GET', '/image/v2/info/stores/detail', { as: 'admin' });
    assert.equal(detail.json.stores[0].type, 'file');
  });

  it('stages (queued → uploading, size recorded) then imports to active with checksums', async () => {
    const id = await makeImage(h);
    const data = randomBytes(200_000, 5);
    const staged = await call(h, 'PUT', stage(id), { body: data });
    assert.equal(staged.status, 204, staged.body.toString());
    let r = await row(h, id);
    assert.equal(r.status, 'uploading');
    assert.equal(Number(r.size), data.length);
    assert.equal(r.location, null);
    assert.equal((await call(h, 'GET', file(id))).status, 204);
    assert.equal((await call(h, 'PUT', stage(id), { body: data })).status, 409);

    const res = await call(h, 'POST', imp(id), {
      json: { method: { name: 'glance-direct' }, all_stores: true },
    });
    assert.equal(res.status, 202, res.body.toString());
    assert.equal((await row(h, id)).status, 'importing');
    await importsSettled(h.ix);
    r = await row(h, id);
    assert.equal(r.status, 'active');
    assert.equal(Number(r.size), data.length);
    assert.equal(r.checksum, md5(data));
    assert.equal(r.os_hash_value, sha512(data));
    assert.equal(Number(r.virtual_size), data.length);
    assert.deepEqual(JSON.parse(r.properties), {
      os_glance_importing_to_stores: '',
      os_glance_failed_import: '',
    });
    assert.ok((await call(h, 'GET', file(id))).body.equals(data));
    assert.deepEqual(await h.ix.staging.list(), []);

    const tasks = await call(h, 'GET', `/image/v2/images/${id}/tasks`);
    assert.equal(tasks.status, 200);
    assert.equal(tasks.json.tasks.length, 1);
    const task = tasks.json.tasks[0];
    assert.equal(task.status, 'success');
    assert.equal(task.type, 'api_image_import');
    assert.equal(task.request_id, res.headers['x-openstack-request-id']);
    assert.equal(task.input.import_req.method.name, 'glance-direct');
    assert.equal((await call(h, 'GET', `/image/v2/images/${id}/tasks`, { as: 'other' })).status, 404);
  });

  it('refuses imports as Glance does', async () => {
    const queued = await makeImage(h);
    const notStaged = await call(h, 'POST', imp(queued), { json: { method: { name: 'glance-direct' } } });
    assert.equal(notStaged.status, 409);
    assert.equal(
      notStaged.json.message,
      "Image needs to be staged before 'glance-direct' method can be used",
    );
    const web = await call(h, 'POST', imp(queued), {
      json: { method: { name: 'web-download', uri: 'http://x' } },
    });
    assert.equal(web.status, 400);
    assert.equal(web.json.message, "Unknown import method name 'web-download'.");
    const copy = await call(h, 'POST', imp(queued), { json: { method: { name: 'copy-image' } } });
    assert.equal(copy.json.message, "Unknown import method name 'copy-image'.");
    assert.equal(
      (await call(h, 'POST', imp(queued), { json: {} })).json.message,
      "Import request requires a 'method' field.",
    );
    assert.equal(
      (await call(h, 'POST', imp(queued), { json: { method: {} } })).json.message,
      "Import request requires a 'name' field.",
    );
    const active = await makeImage(h, { status: 'active' });
    assert.equal(
      (await call(h, 'POST', imp(active), { json: { method: { name: 'glance-direct' } } })).json.message,
      'Image with status active cannot be target for import',
    );
    const staged = await makeImage(h);
    await call(h, 'PUT', stage(staged), { body: 'abc' });
    const badStore = await call(h, 'POST', imp(staged), {
      json: { method: { name: 'glance-direct' }, stores: ['ceph'] },
    });
    assert.equal(badStore.status, 409);
    assert.equal(badStore.json.message, 'Store for identifier ceph not found');
    assert.equal(
      (await call(h, 'POST', imp(staged), { as: 'other', json: { method: { name: 'glance-direct' } } }))
        .status,
      404,
    );
    // Staging checks modify_image and ownership before the status, as Glance.
    const readerStage = await call(h, 'PUT', stage(staged), { as: 'reader', body: 'x' });
    assert.equal(readerStage.status, 403);
    assert.equal(readerStage.json.message, 'You are not authorized to complete modify_image action.');
    assert.equal((await call(h, 'PUT', stage(staged), { body: 'x' })).status, 409);
    await call(h, 'POST', imp(staged), { json: { method: { name: 'glance-direct' } } });
    await importsSettled(h.ix);
    assert.equal((await row(h, staged)).status, 'active');
  });

  it('a staged file that no longer matches the recorded size fails the import: queued, marked failed, clean', async () => {
    const id = await makeImage(h);
    await call(h, 'PUT', stage(id), { body: randomBytes(5000) });
    await h.ix.staging.put(id, Readable.from([randomBytes(4000)])); // tampered behind our back
    assert.equal(
      (await call(h, 'POST', imp(id), { json: { method: { name: 'glance-direct' } } })).status,
      202,
    );
    await importsSettled(h.ix);
    const r = await row(h, id);
    assert.equal(r.status, 'queued');
    assert.equal(r.size, null);
    assert.equal(JSON.parse(r.properties).os_glance_failed_import, 'file');
    assert.equal(await h.ix.blobs.head(id), undefined);
    assert.equal(await h.ix.staging.head(id), undefined);
    assert.deepEqual((await leftovers(h)).temps, []);
    const tasks = await call(h, 'GET', `/image/v2/images/${id}/tasks`);
    assert.equal(tasks.json.tasks[0].status, 'failure');
    assert.match(tasks.json.tasks[0].message, /size of uploaded data is different/);
  });
});

describe('image data: recovery after a crash', () => {
  it('resets interrupted uploads, resumes interrupted imports and removes orphans', async () => {
    const dir = await freshDir();
    const h = await startHarness(dir);
    const data = randomBytes(50_000, 11);
    // An upload that was mid-transfer: status saving, a temporary in the store.
    const saving = await makeImage(h, { status: 'saving' });
    await writeFile(join(dir, 'images', 'data', '.tmp', `${saving}.abcd`), data.subarray(0, 100));
    // An import that was mid-copy: status importing, staged data complete, a partial temp in the store.
    const importing = await makeImage(h, {
      status: 'importing',
      size: data.length,
      properties: '{"os_glance_import_task":"t-1"}',
    });
    await h.ix.staging.put(importing, Readable.from([data]));
    await writeFile(join(dir, 'images', 'data', '.tmp', `${importing}.ef01`), data.subarray(0, 10));
    // An import whose staged data is gone; a stage that never finished; data nobody owns.
    const lost = await makeImage(h, { status: 'importing', size: 10 });
    const halfStaged = await makeImage(h, { status: 'uploading' });
    await h.ix.blobs.put('orphan-blob', Readable.from([Buffer.from('x')]));
    await mkdir(join(dir, 'images', 'staging'), { recursive: true });
    await h.ix.staging.put('orphan-stage', Readable.from([Buffer.from('x')]));
    // A healthy active image must survive untouched.
    const active = await makeImage(h);
    await call(h, 'PUT', file(active), { body: data });
    await h.close(); // the "crash": nothing above was cleaned by the service

    const h2 = await startHarness(dir, {}, { recover: true });
    try {
      assert.deepEqual(h2.recovery!.resumed, [importing]);
      assert.deepEqual([...h2.recovery!.reset].sort(), [saving, lost, halfStaged].sort());
      assert.deepEqual([...h2.recovery!.orphans].sort(), ['file:orphan-blob', 'staging:orphan-stage']);
      await importsSettled(h2.ix);
      assert.equal((await row(h2, saving)).status, 'queued');
      assert.equal((await row(h2, halfStaged)).status, 'queued');
      const l = await row(h2, lost);
      assert.equal(l.status, 'queued');
      assert.equal(JSON.parse(l.properties).os_glance_failed_import, 'file');
      const i = await row(h2, importing);
      assert.equal(i.status, 'active');
      assert.equal(i.checksum, md5(data));
      assert.ok((await call(h2, 'GET', file(importing))).body.equals(data));
      assert.ok((await call(h2, 'GET', file(active))).body.equals(data));
      const left = await leftovers(h2);
      assert.deepEqual(left.temps, []);
      assert.deepEqual(left.staging, []);
      assert.deepEqual(left.data.sort(), [active, importing].sort());
      const tasks = await call(h2, 'GET', `/image/v2/images/${importing}/tasks`, { as: 'admin' });
      assert.equal(tasks.json.tasks[0].status, 'success');
      // A second recovery finds nothing to do.
      assert.deepEqual(await recoverImages(h2.ix), { reset: [], resumed: [], orphans: [] });
    } finally {
      await h2.close();
    }
  });
});

describe('image data: constant memory while streaming', () => {
  it('moves 256 MiB up and down with flat RSS', async () => {
    const h = await startHarness(await freshDir());
    try {
      const id = await makeImage(h);
      const total = 256 * 1024 * 1024;
      const chunk = randomBytes(1024 * 1024, 17);
      // Warm up allocators and JIT with a small transfer first.
      const warm = await makeImage(h);
      await call(h, 'PUT', file(warm), { body: randomBytes(4 * 1024 * 1024) });
      await call(h, 'GET', file(warm));
      const base = process.memoryUsage.rss();
      let peak = base;
      const sample = () => {
        const r = process.memoryUsage.rss();
        if (r > peak) peak = r;
      };
      // Upload over a real socket, generated on the fly (the same 1 MiB buffer, never accumulated).
      const expected = createHash('md5');
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(new URL(file(id), h.url), {
          method: 'PUT',
          headers: {
            'x-auth-token': USERS.owner.token,
            'content-type': 'application/octet-stream',
            'content-length': String(total),
          },
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            sample();
            sent += chunk.length;
            expected.update(chunk);
            if (!req.write(chunk)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
      });
      assert.equal(status, 204);
      const md5hex = expected.digest('hex');
      assert.equal((await row(h, id)).checksum, md5hex);
      // Download it over the socket, hashing as it arrives.
      const got = createHash('md5');
      let received = 0;
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(new URL(file(id), h.url), { headers: { 'x-auth-token': USERS.owner.token } });
        req.on('response', (res) => {
          assert.equal(res.headers['content-length'], String(total));
          res.on('data', (c: Buffer) => {
            received += c.length;
            got.update(c);
            sample();
          });
          res.on('end', resolve);
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(received, total);
      assert.equal(got.digest('hex'), md5hex);
      const growth = peak - base;
      assert.ok(
        growth < 64 * 1024 * 1024,
        `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB while moving 512 MiB`,
      );
    } finally {
      await h.close();
    }
  });
});
