// The BlobStore contract, run over every implementation: put/get/range/head/delete/list, atomic commits (a
// failed verify, a size limit or an erroring source leaves nothing behind), and recovery of crash leftovers.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { BlobNotFound, type BlobStore, BlobTooLarge } from '../../src/services/image/blobs/blob-store.ts';
import { FileBlobStore } from '../../src/services/image/blobs/file-store.ts';
import { MemoryBlobStore } from '../../src/services/image/blobs/memory-store.ts';

interface Harness {
  store: BlobStore;
  temporaries(): Promise<string[]>;
  /** Leaves a temporary as a crash mid-put would. */
  plantTemporary(key: string): Promise<void>;
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const implementations: { name: string; make(): Promise<Harness> }[] = [
  {
    name: 'FileBlobStore',
    async make() {
      const dir = await mkdtemp(join(tmpdir(), 'monostack-blobs-'));
      dirs.push(dir);
      const store = new FileBlobStore(join(dir, 'data'));
      await store.recover();
      return {
        store,
        temporaries: () => store.temporaries(),
        plantTemporary: (key) => writeFile(join(dir, 'data', '.tmp', `${key}.deadbeef`), 'partial'),
      };
    },
  },
  {
    name: 'MemoryBlobStore',
    async make() {
      const store = new MemoryBlobStore();
      return {
        store,
        temporaries: () => store.temporaries(),
        plantTemporary: async (key) => store.plantTemporary(key),
      };
    },
  },
];

/** `n` deterministic bytes, served in uneven chunks. */
function bytes(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >>> 16;
  }
  return b;
}

function source(buf: Buffer, chunk = 1000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts, { objectMode: false });
}

/** A source that yields some bytes, then fails. */
function failing(afterBytes: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= afterBytes) {
        this.destroy(new Error('source broke'));
        return;
      }
      sent += 512;
      this.push(Buffer.alloc(512, 1));
    },
  });
}

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

for (const impl of implementations) {
  describe(`BlobStore contract: ${impl.name}`, () => {
    it('puts with size and hashes, gets whole and by range, heads, lists and deletes', async () => {
      const { store, temporaries } = await impl.make();
      const data = bytes(100_000);
      const r = await store.put('img-1', source(data, 777));
      assert.deepEqual(r, { size: data.length, md5: md5(data), sha512: sha512(data) });
      assert.deepEqual(await readAll(await store.get('img-1')), data);
      assert.deepEqual(
        await readAll(await store.get('img-1', { start: 10, end: 19 })),
        data.subarray(10, 20),
      );
      assert.deepEqual(await readAll(await store.get('img-1', { start: 99_990 })), data.subarray(99_990));
      assert.deepEqual(await store.head('img-1'), { size: 100_000 });
      assert.equal(await store.head('nope'), undefined);
      await store.put('img-2', source(Buffer.alloc(0)));
      assert.deepEqual(await store.head('img-2'), { size: 0 });
      assert.deepEqual(await readAll(await store.get('img-2')), Buffer.alloc(0));
      await store.put('other', source(Buffer.from('x')));
      assert.deepEqual(await store.list('img-'), ['img-1', 'img-2']);
      assert.deepEqual(await store.list(), ['img-1', 'img-2', 'other']);
      await store.delete('img-1');
      await store.delete('img-1'); // absent is fine
      assert.equal(await store.head('img-1'), undefined);
      await assert.rejects(store.get('img-1'), BlobNotFound);
      assert.deepEqual(await temporaries(), []);
    });

    it('replaces an object atomically on a second put', async () => {
      const { store } = await impl.make();
      await store.put('k', source(Buffer.from('first')));
      await store.put('k', source(Buffer.from('second')));
      assert.equal((await readAll(await store.get('k'))).toString(), 'second');
    });

    it('a failed verify leaves nothing, not even a temporary', async () => {
      const { store, temporaries } = await impl.make();
      let seen: unknown;
      await assert.rejects(
        store.put('v', source(bytes(5000)), {
          verify: (r) => {
            seen = r;
            throw new Error('checksum mismatch');
          },
        }),
        /checksum mismatch/,
      );
      assert.equal((seen as { size: number }).size, 5000);
      assert.equal(await store.head('v'), undefined);
      assert.deepEqual(await temporaries(), []);
      // An async verify that accepts commits.
      await store.put('v', source(bytes(10)), { verify: async () => {} });
      assert.deepEqual(await store.head('v'), { size: 10 });
    });

    it('a verify failure does not disturb the object already stored under the key', async () => {
      const { store } = await impl.make();
      await store.put('keep', source(Buffer.from('good')));
      await assert.rejects(
        store.put('keep', source(Buffer.from('bad!')), {
          verify: () => {
            throw new Error('no');
          },
        }),
      );
      assert.equal((await readAll(await store.get('keep'))).toString(), 'good');
    });

    it('aborts past maxSize and leaves nothing; exactly maxSize is accepted', async () => {
      const { store, temporaries } = await impl.make();
      await assert.rejects(store.put('big', source(bytes(10_001)), { maxSize: 10_000 }), BlobTooLarge);
      assert.equal(await store.head('big'), undefined);
      assert.deepEqual(await temporaries(), []);
      const r = await store.put('big', source(bytes(10_000)), { maxSize: 10_000 });
      assert.equal(r.size, 10_000);
      await assert.rejects(store.put('zero', source(Buffer.from('x')), { maxSize: 0 }), BlobTooLarge);
    });

    it('an erroring source leaves nothing', async () => {
      const { store, temporaries } = await impl.make();
      await assert.rejects(store.put('broken', failing(20_000)), /source broke/);
      assert.equal(await store.head('broken'), undefined);
      assert.deepEqual(await temporaries(), []);
      assert.deepEqual(await store.list(), []);
    });

    it('an aborted signal stops the put and leaves nothing', async () => {
      const { store, temporaries } = await impl.make();
      const ac = new AbortController();
      const slow = new Readable({
        read() {
          setTimeout(() => this.push(Buffer.alloc(100)), 5);
        },
      });
      setTimeout(() => ac.abort(), 30);
      await assert.rejects(store.put('slow', slow, { signal: ac.signal }), { name: 'AbortError' });
      assert.equal(await store.head('slow'), undefined);
      assert.deepEqual(await temporaries(), []);
    });

    it('recover() removes temporaries left by a crash and keeps committed objects', async () => {
      const { store, temporaries, plantTemporary } = await impl.make();
      await store.put('committed', source(Buffer.from('ok')));
      await plantTemporary('half-written');
      assert.equal((await temporaries()).length, 1);
      await store.recover();
      assert.deepEqual(await temporaries(), []);
      assert.deepEqual(await store.list(), ['committed']);
      // Still usable after recovery.
      await store.put('after', source(Buffer.from('x')));
      assert.deepEqual(await store.list(), ['after', 'committed']);
    });

    it('take: chunks owning their memory are moved, views into a larger buffer copied', async () => {
      const { store } = await impl.make();
      const data = bytes(3_000_000);
      // Fresh buffers of their own, as Node's HTTP parser hands out a request body.
      const owned: Buffer[] = [];
      for (let i = 0; i < data.length; i += 65_536) owned.push(Buffer.from(data.subarray(i, i + 65_536)));
      const small = bytes(70_000, 3);
      const [a, b] = await Promise.all([
        store.put('owned', Readable.from(owned, { objectMode: false }), { take: true }),
        // Views into one buffer: nothing to take, so they are copied and the caller's bytes survive.
        store.put('views', source(small, 1000), { take: true }),
      ]);
      assert.deepEqual(a, { size: data.length, md5: md5(data), sha512: sha512(data) });
      assert.deepEqual(b, { size: small.length, md5: md5(small), sha512: sha512(small) });
      assert.deepEqual(await readAll(await store.get('owned')), data);
      assert.deepEqual(await readAll(await store.get('views')), small);
      assert.equal(small.length, 70_000);
    });

    it('rejects keys that could escape the store', async () => {
      const { store } = await impl.make();
      for (const bad of ['../x', 'a/b', '.tmp', '', '.hidden']) {
        await assert.rejects(store.put(bad, source(Buffer.from('x'))), /invalid blob key/);
      }
    });
  });
}
