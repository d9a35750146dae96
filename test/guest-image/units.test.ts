// The pure parts of the image build: apt output parsing, kernel config and module ordering, ELF reading, the
// newc cpio writer, the image version and the console lines.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { imageVersion } from '../../src/guest-image/build.ts';
import { parseGuestDisks, parseGuestReady } from '../../src/guest-image/console-protocol.ts';
import { cpioNewc } from '../../src/guest-image/cpio.ts';
import {
  type DebPackage,
  debFileName,
  parseDependsTree,
  parseDirectDepends,
  parseShow,
} from '../../src/guest-image/debs.ts';
import { readDynamic } from '../../src/guest-image/elf.ts';
import { loadOrder, moduleName, parseKernelConfig } from '../../src/guest-image/modules.ts';

describe('apt output', () => {
  it('names .deb files as apt-get download does', () => {
    assert.equal(
      debFileName('busybox-static', '1:1.35.0-4', 'amd64'),
      'busybox-static_1%3a1.35.0-4_amd64.deb',
    );
    assert.equal(debFileName('zlib1g', '1.2.13', 'amd64'), 'zlib1g_1.2.13_amd64.deb');
  });

  it('reads depends trees, direct depends and candidate versions', () => {
    const tree =
      'dropbear-bin\n  Depends: libc6\n  Depends: <virt>\n    provider\nlibc6\n  Depends: libgcc-s1\n<virt>\nlibgcc-s1\n';
    assert.deepEqual(parseDependsTree(tree), ['dropbear-bin', 'libc6', 'libgcc-s1']);
    const direct =
      'linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64\n |Depends: other\nnext\n  Depends: x\n';
    assert.deepEqual(parseDirectDepends(direct), ['linux-image-6.1.0-56-cloud-amd64', 'other']);
    const show =
      'Package: a\nVersion: 1:2.0\nArchitecture: amd64\nDescription: x\n\nPackage: b\nVersion: 3\nArchitecture: all\n';
    assert.deepEqual(
      [...parseShow(show)],
      [
        ['a', { version: '1:2.0', arch: 'amd64' }],
        ['b', { version: '3', arch: 'all' }],
      ],
    );
  });
});

describe('kernel modules', () => {
  it('parses a kernel config', () => {
    const c = parseKernelConfig('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_S="x y"\n');
    assert.deepEqual(
      [...c],
      [
        ['CONFIG_A', 'y'],
        ['CONFIG_C', 'm'],
        ['CONFIG_S', '"x y"'],
      ],
    );
    assert.equal(moduleName('virtio-rng.ko'), 'virtio_rng');
  });

  it('orders modules after their dependencies, once each, and rejects cycles', () => {
    const deps: Record<string, string[]> = {
      virtio_net: ['virtio', 'net_failover', 'virtio_ring'],
      net_failover: ['failover'],
      failover: [],
      virtio: ['virtio_ring'],
      virtio_ring: [],
      virtio_blk: ['virtio', 'virtio_ring'],
    };
    const order = loadOrder(['virtio_blk', 'virtio_net'], (n) => deps[n] ?? []);
    assert.deepEqual(order, [
      'virtio_ring',
      'virtio',
      'virtio_blk',
      'failover',
      'net_failover',
      'virtio_net',
    ]);
    assert.throws(() => loadOrder(['a'], (n) => (n === 'a' ? ['b'] : ['a'])), /cycle: a -> b -> a/);
  });
});

describe('ELF', () => {
  it("reads node's interpreter and needed libraries", async () => {
    const dyn = readDynamic(await readFile(process.execPath));
    assert.match(dyn.interpreter ?? '', /ld-linux-x86-64\.so\.2$/);
    assert.ok(dyn.needed.includes('libc.so.6'), dyn.needed.join(' '));
  });

  it('rejects what is not ELF', () => {
    assert.throws(() => readDynamic(Buffer.from('#!/bin/sh\n')), /not an ELF file/);
  });
});

describe('cpio', () => {
  it('writes a newc archive that cpio reads back, with extra device nodes after the tree', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'monostack-cpio-'));
    try {
      const root = join(dir, 'root');
      await mkdir(join(root, 'dev'), { recursive: true });
      await mkdir(join(root, 'bin'));
      await writeFile(join(root, 'bin', 'busybox'), 'odd length!');
      await symlink('busybox', join(root, 'bin', 'sh'));
      const archive = await cpioNewc(root, [
        { path: 'dev/console', kind: 'char', mode: 0o600, major: 5, minor: 1 },
      ]);
      assert.equal(archive.length % 4, 0);
      const listing = execFileSync('cpio', ['-tv', '--quiet'], { input: archive, encoding: 'utf8' });
      const lines = listing.trim().split('\n');
      assert.equal(lines.length, 5);
      assert.match(lines[0]!, /^d.* root +root .* bin$/);
      assert.match(lines[1]!, /^-.* root +root +11 .* bin\/busybox$/);
      assert.match(lines[2]!, /^l.* bin\/sh -> busybox$/);
      assert.match(lines[3]!, /^d.* dev$/);
      assert.match(lines[4]!, /^crw-------.* 5, +1 .* dev\/console$/);
      const out = join(dir, 'out');
      await mkdir(out);
      execFileSync('cpio', ['-id', '--quiet', '--no-absolute-filenames'], {
        input: archive,
        cwd: out,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      assert.equal(await readFile(join(out, 'bin', 'busybox'), 'utf8'), 'odd length!');
      assert.deepEqual(await cpioNewc(root), await cpioNewc(root), 'the same tree gives the same bytes');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('image version', () => {
  const pkgs: DebPackage[] = [
    {
      name: 'linux-image-6.1.0-56-cloud-amd64',
      version: '6.1.192-2',
      arch: 'amd64',
      role: 'kernel',
      file: 'k',
    },
    { name: 'busybox-static', version: '1:1.35.0-4', arch: 'amd64', role: 'busybox', file: 'b' },
    { name: 'dropbear-bin', version: '2022.83-1', arch: 'amd64', role: 'ssh', file: 'd' },
    { name: 'libc6', version: '2.36-9', arch: 'amd64', role: 'ssh', file: 'l' },
  ];

  it('names the main packages and changes with any package or guest file', () => {
    const v = imageVersion(pkgs, 'h1');
    assert.match(v, /^k6\.1\.192-2-bb1\.35\.0-4-db2022\.83-1-[0-9a-f]{12}$/);
    assert.equal(imageVersion([...pkgs].reverse(), 'h1'), v, 'order does not matter');
    assert.notEqual(imageVersion(pkgs, 'h2'), v);
    const newerLibc = pkgs.map((p) => (p.name === 'libc6' ? { ...p, version: '2.36-10' } : p));
    assert.notEqual(imageVersion(newerLibc, 'h1'), v);
  });
});

describe('console protocol', () => {
  it('parses GUEST-READY and GUEST-DISKS lines', () => {
    assert.deepEqual(parseGuestReady('GUEST-READY 10.0.2.15 hostname=vm-1.novalocal uptime=4.38\r'), {
      ip: '10.0.2.15',
      hostname: 'vm-1.novalocal',
      uptimeSeconds: 4.38,
    });
    assert.deepEqual(parseGuestReady('GUEST-READY none hostname=guest uptime=2'), {
      hostname: 'guest',
      uptimeSeconds: 2,
    });
    assert.equal(parseGuestReady('x GUEST-READY none hostname=guest uptime=2'), undefined);
    assert.deepEqual(
      [...parseGuestDisks('GUEST-DISKS vda:65536 sr0:374')!],
      [
        ['vda', 65536],
        ['sr0', 374],
      ],
    );
    assert.equal(parseGuestDisks('GUEST-DISKS none')?.size, 0);
    assert.equal(parseGuestDisks('GUEST-DISKS'), undefined);
  });
});
