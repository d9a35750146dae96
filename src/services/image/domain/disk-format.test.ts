// Disk format inspection: hand-built headers, odd chunkings, and real images made by qemu-img (when installed),
// checked against the virtual sizes Glance's own format_inspector reports for the same files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import {
  type FormatInspector,
  InspectingStream,
  inspectBuffer,
  inspectorFor,
  uploadInspector,
} from './disk-format.ts';

function qcow2Header(size: bigint, total = 1024): Buffer {
  const b = Buffer.alloc(total);
  Buffer.from([0x51, 0x46, 0x49, 0xfb]).copy(b, 0);
  b.writeUInt32BE(3, 4); // version
  b.writeUInt32BE(16, 20); // cluster_bits
  b.writeBigUInt64BE(size, 24);
  return b;
}

/** Feeds `buf` to a fresh inspector in chunks of `chunk` bytes. */
function feed(format: string, buf: Buffer, chunk: number): FormatInspector {
  const i = inspectorFor(format)!;
  for (let o = 0; o < buf.length; o += chunk) i.eat(buf.subarray(o, o + chunk));
  return i;
}

async function throughStream(
  format: string,
  parts: Buffer[],
): Promise<{ out: Buffer; virtualSize: number | null }> {
  const tap = new InspectingStream(inspectorFor(format)!);
  const got: Buffer[] = [];
  await pipeline(
    Readable.from(parts, { objectMode: false }),
    tap,
    new Writable({
      write(c: Buffer, _e, cb) {
        got.push(c);
        cb();
      },
    }),
  );
  return { out: Buffer.concat(got), virtualSize: tap.virtualSize() };
}

describe('qcow2', () => {
  it('reads the big-endian virtual size at offset 24 whatever the chunking', () => {
    const h = qcow2Header(10n * 1024n ** 3n);
    for (const chunk of [1, 7, 24, 31, 100, 511, 512, 4096]) {
      const i = feed('qcow2', h, chunk);
      assert.equal(i.formatMatch, true, `chunk ${chunk}`);
      assert.equal(i.virtualSize, 10 * 1024 ** 3, `chunk ${chunk}`);
    }
  });

  it('does not match without the magic or before 512 bytes', () => {
    const h = qcow2Header(1n << 30n);
    h[3] = 0;
    assert.equal(feed('qcow2', h, 64).formatMatch, false);
    assert.equal(feed('qcow2', h, 64).virtualSize, 0);
    const short = qcow2Header(1n << 30n, 100);
    assert.equal(feed('qcow2', short, 100).formatMatch, false);
  });

  it('passes every byte through the inspecting stream and reports the size', async () => {
    const h = qcow2Header(123_456_789_0n, 300_000);
    const parts = [h.subarray(0, 10), h.subarray(10, 600), h.subarray(600)];
    const r = await throughStream('qcow2', parts);
    assert.deepEqual(r.out, h);
    assert.equal(r.virtualSize, 1_234_567_890);
  });

  it('reports no size for data that is not qcow2', async () => {
    const r = await throughStream('qcow2', [Buffer.alloc(4096, 7)]);
    assert.equal(r.virtualSize, null);
  });
});

describe('other formats', () => {
  it('raw: the byte count, none for an empty stream', async () => {
    assert.equal((await throughStream('raw', [Buffer.alloc(1000), Buffer.alloc(24)])).virtualSize, 1024);
    assert.equal((await throughStream('raw', [])).virtualSize, null);
  });

  it('vhd: original size at offset 40 of the conectix footer', () => {
    const b = Buffer.alloc(512);
    b.write('conectix', 0, 'latin1');
    b.writeBigUInt64BE(5n << 30n, 40);
    assert.deepEqual(inspectBuffer('vhd', b), { formatMatch: true, virtualSize: 5 * 2 ** 30 });
  });

  it('vdi: size at 0x170 after the 0xbeda107f signature', () => {
    const b = Buffer.alloc(512);
    b.writeUInt32LE(0xbeda107f, 0x40);
    b.writeBigUInt64LE(2n << 30n, 0x170);
    assert.deepEqual(inspectBuffer('vdi', b), { formatMatch: true, virtualSize: 2 * 2 ** 30 });
  });

  it('vmdk: capacity from the header once the descriptor names a supported type', () => {
    const b = Buffer.alloc(2048);
    b.write('KDMV', 0, 'latin1');
    b.writeUInt32LE(1, 4);
    b.writeBigUInt64LE(2097152n, 12); // capacity in sectors = 1 GiB
    b.writeBigUInt64LE(1n, 28); // descriptor at sector 1
    b.writeBigUInt64LE(2n, 36); // two sectors long
    b.write('# Disk DescriptorFile\nversion=1\ncreateType="monolithicSparse"\n', 512, 'latin1');
    for (const chunk of [512, 100, 2048]) assert.equal(feed('vmdk', b, chunk).virtualSize, 2 ** 30);
    b.write('createType="vmfs"            \n', 512 + 33, 'latin1');
    assert.equal(feed('vmdk', b, 2048).virtualSize, 0);
  });

  it('a malformed header drops the inspector, never the stream', async () => {
    const b = Buffer.alloc(1024);
    b.write('XXXX', 0, 'latin1'); // vmdk inspector throws on a bad signature
    const r = await throughStream('vmdk', [b]);
    assert.equal(r.out.length, 1024);
    assert.equal(r.virtualSize, null);
  });

  it('has no inspector for iso, ami, aki, ari or a missing format', () => {
    for (const f of ['iso', 'ami', 'aki', 'ari', 'ploop', null]) assert.equal(inspectorFor(f), undefined);
  });

  it('inspects uploads only for bare containers without a virtual size, as Glance', () => {
    assert.ok(uploadInspector({ disk_format: 'qcow2', container_format: 'bare', virtual_size: null }));
    assert.equal(
      uploadInspector({ disk_format: 'qcow2', container_format: 'ovf', virtual_size: null }),
      undefined,
    );
    assert.equal(
      uploadInspector({ disk_format: 'qcow2', container_format: 'bare', virtual_size: 5 }),
      undefined,
    );
  });
});

let qemuImg = false;
try {
  execFileSync('qemu-img', ['--version'], { stdio: 'ignore' });
  qemuImg = true;
} catch {
  qemuImg = false;
}

describe('images made by qemu-img', { skip: qemuImg ? false : 'qemu-img is not installed' }, () => {
  // Expected sizes are what Glance 25's format_inspector reports for these files (qed: Glance reports the
  // byte count, as its inspector has no virtual-size parser for it).
  const cases: {
    fmt: string;
    qemu: string;
    opts?: string[];
    size: string;
    expect: (bytes: number) => number;
  }[] = [
    { fmt: 'qcow2', qemu: 'qcow2', size: '1G', expect: () => 1073741824 },
    { fmt: 'vhd', qemu: 'vpc', size: '1G', expect: () => 1073995776 },
    { fmt: 'vhdx', qemu: 'vhdx', size: '1G', expect: () => 1073741824 },
    { fmt: 'vmdk', qemu: 'vmdk', size: '1G', expect: () => 1073741824 },
    {
      fmt: 'vmdk',
      qemu: 'vmdk',
      opts: ['-o', 'subformat=streamOptimized'],
      size: '3G',
      expect: () => 3221225472,
    },
    { fmt: 'vdi', qemu: 'vdi', size: '1G', expect: () => 1073741824 },
    { fmt: 'qed', qemu: 'qed', size: '1G', expect: (bytes) => bytes },
  ];
  for (const c of cases) {
    it(`${c.fmt}${c.opts ? ` (${c.opts[1]})` : ''}: virtual size of a ${c.size} image`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'monostack-qemu-'));
      try {
        const file = join(dir, `x.${c.qemu}`);
        execFileSync('qemu-img', ['create', '-q', '-f', c.qemu, ...(c.opts ?? []), file, c.size]);
        const fh = await open(file, 'r');
        let bytes = 0;
        const tap = new InspectingStream(inspectorFor(c.fmt)!);
        try {
          await pipeline(
            fh.createReadStream({ highWaterMark: 65536 }),
            tap,
            new Writable({
              write(ch: Buffer, _e, cb) {
                bytes += ch.length;
                cb();
              },
            }),
          );
        } finally {
          await fh.close().catch(() => {});
        }
        assert.equal(tap.virtualSize(), c.expect(bytes));
        if (c.fmt !== 'qed') {
          const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', file]).toString()) as {
            'virtual-size': number;
          };
          assert.equal(tap.virtualSize(), info['virtual-size']);
        }
        // The qcow2 image is not mistaken for another format.
        if (c.fmt === 'qcow2') {
          const other = inspectorFor('vmdk')!;
          const head = Buffer.alloc(512);
          const f2 = await open(file, 'r');
          await f2.read(head, 0, 512, 0);
          await f2.close();
          assert.throws(() => other.eat(head));
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
