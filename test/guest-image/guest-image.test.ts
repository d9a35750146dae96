// The test guest image end to end: built from the cached Debian packages, then booted with QEMU under TCG from
// its disk with a config drive (user data, hostname, SSH key), powered off through the ACPI button, booted again
// from the same overlay (writes persist, user data runs once), and booted from the initramfs alone with the
// metadata service.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BuiltGuestImage, buildTestImage, readBuiltImage } from '../../src/guest-image/build.ts';
import { GUEST_READY } from '../../src/guest-image/console-protocol.ts';
import { alive, freePort, Guest, type GuestBoot } from './qemu-harness.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cacheDir = process.env.MONOSTACK_GUEST_IMAGE_CACHE ?? join(repoRoot, '.cache', 'guest-image');
const READY = new RegExp(GUEST_READY.source, 'm');
const BOOT_TIMEOUT = 120_000;

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A config drive as the driver makes it: ISO 9660, Rock Ridge + Joliet, volume label config-2. */
async function configDrive(dir: string, iso: string, files: Record<string, string>): Promise<void> {
  const root = join(dir, 'config-drive');
  await mkdir(join(root, 'openstack', 'latest'), { recursive: true });
  for (const [name, text] of Object.entries(files))
    await writeFile(join(root, 'openstack', 'latest', name), text);
  execFileSync('genisoimage', ['-quiet', '-R', '-J', '-V', 'config-2', '-o', iso, root]);
}

describe('test guest image', () => {
  const token = Math.random().toString(36).slice(2, 10);
  const guests: Guest[] = [];
  let tmp: string;
  let built: BuiltGuestImage;
  let buildLog: string[];
  let sshKey: string;
  let sshPub: string;
  let overlay: string;
  let firstBoot: Guest | undefined;

  const boot = async (name: string, b: Omit<GuestBoot, 'dir' | 'kernel' | 'initrd'>): Promise<Guest> => {
    const dir = join(tmp, name);
    await mkdir(dir, { recursive: true });
    const g = await Guest.start({ dir, kernel: built.kernel, initrd: built.initrd, ...b });
    guests.push(g);
    return g;
  };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'monostack-guest-image-test-'));
    buildLog = [];
    const t = performance.now();
    built = await buildTestImage({ outDir: join(tmp, 'out'), cacheDir, log: (l) => buildLog.push(l) });
    process.stderr.write(`# guest image built in ${Math.round(performance.now() - t)} ms\n`);
    sshKey = join(tmp, 'id_ed25519');
    if (has('ssh-keygen')) {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'guest-image-test', '-f', sshKey]);
      sshPub = (await readFile(`${sshKey}.pub`, 'utf8')).trim();
    } else {
      sshPub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHpMkTqAu1sCgDGnmzQmrM4DLd3m0xkVAVwYwUeNNBUB test';
    }
    overlay = join(tmp, 'instance', 'root.qcow2');
    await mkdir(join(tmp, 'instance'));
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', built.disk, '-F', 'qcow2', overlay]);
    await configDrive(join(tmp, 'instance'), join(tmp, 'instance', 'config.iso'), {
      'meta_data.json': JSON.stringify({
        uuid: '3f1b6a52-7c0e-4d59-9a51-6c2a9e0b7d11',
        name: 'guest one',
        hostname: `guest-${token}.novalocal`,
        public_keys: { mykey: sshPub },
        launch_index: 0,
        meta: {},
        random_seed: 'c2VlZA==',
      }),
      user_data: `#!/bin/sh\necho "USERDATA-RAN-${token} on $(hostname)"\necho "persist-${token}" > /root/marker\n`,
    });
  });

  after(async () => {
    for (const g of guests) await g.kill();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('builds vmlinuz, initrd.gz and disk.qcow2 with a manifest that describes them', async () => {
    const m = built.manifest;
    assert.equal(built.version, m.version);
    assert.match(m.version, /^k\S+-bb\S+-db\S+-[0-9a-f]{12}$/);
    assert.equal(m.osCommandLine, 'console=ttyS0 root=/dev/vda rw quiet');
    for (const f of [
      'virtio_pci',
      'virtio_blk',
      'virtio_net',
      'ata_piix',
      'sr_mod',
      'isofs',
      'button',
      'evdev',
    ]) {
      assert.ok(m.modules.includes(f), `module ${f} ships and loads at boot`);
    }
    assert.ok(m.modules.indexOf('virtio') < m.modules.indexOf('virtio_pci'), 'dependencies load first');
    assert.ok(m.modules.indexOf('libata') < m.modules.indexOf('ata_piix'));
    assert.ok(m.builtIn.includes('CONFIG_EXT4_FS'));
    assert.ok(m.libraries.includes('libc.so.6') && m.libraries.includes('libtomcrypt.so.1'));
    const kernel = await readFile(built.kernel);
    assert.equal(kernel.toString('latin1', 0x202, 0x206), 'HdrS', 'vmlinuz is a bzImage');
    const initrd = await readFile(built.initrd);
    assert.deepEqual([initrd[0], initrd[1]], [0x1f, 0x8b], 'initrd is gzip');
    const info = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', built.disk], { encoding: 'utf8' }),
    );
    assert.equal(info.format, 'qcow2');
    assert.equal(info['virtual-size'], m.diskVirtualSize);
    for (const [name, f] of Object.entries(m.files)) {
      const sum = execFileSync('sha256sum', [join(built.dir, name)], { encoding: 'utf8' }).split(' ')[0];
      assert.equal(sum, f.sha256, `${name} checksum`);
    }
    assert.ok(m.files['disk.qcow2'].size < 32 * 1024 * 1024, 'the disk image is small');
  });

  it('builds again from the cache without downloading, and not at all when the version is there', async () => {
    const log: string[] = [];
    const second = await buildTestImage({ outDir: join(tmp, 'out2'), cacheDir, log: (l) => log.push(l) });
    assert.equal(second.rebuilt, true);
    assert.equal(second.version, built.version);
    assert.equal(log.filter((l) => /\bdownloading\b/.test(l)).length, 0, log.join('\n'));
    const third = await buildTestImage({ outDir: join(tmp, 'out2'), cacheDir });
    assert.equal(third.rebuilt, false);
    assert.equal((await readBuiltImage(join(tmp, 'out2')))?.version, built.version);
    await rm(join(tmp, 'out2'), { recursive: true, force: true });
  });

  it('ships an initramfs with /init, /dev/console, busybox init, dropbear and its loader', () => {
    const list = execFileSync('sh', ['-c', 'gzip -dc "$1" | cpio -t --quiet', 'sh', built.initrd], {
      encoding: 'utf8',
    }).split('\n');
    for (const f of [
      'init',
      'dev/console',
      'bin/busybox',
      'sbin/init',
      'etc/inittab',
      'usr/sbin/dropbear',
      'lib64/ld-linux-x86-64.so.2',
      'etc/guest/modules',
      'etc/acpi/PWRF/00000080',
    ]) {
      assert.ok(list.includes(f), `${f} is in the initramfs`);
    }
  });

  it("reads OpenStack JSON with the guest's own awk", async () => {
    const dir = join(tmp, 'awk');
    await mkdir(dir);
    execFileSync(
      'sh',
      ['-c', 'gzip -dc "$1" | cpio -id --quiet bin/busybox "usr/lib/guest/*"', 'sh', built.initrd],
      {
        cwd: dir,
      },
    );
    const awk = (args: string[], input: string) =>
      execFileSync(join(dir, 'bin/busybox'), ['awk', ...args], { input, encoding: 'utf8' });
    const flat = awk(
      ['-f', join(dir, 'usr/lib/guest/json-flat.awk')],
      '{"uuid": "u-1", "public_keys": {"a": "ssh-ed25519 AAA x\\"y"}, "n": [1, {"b": null}], "h": "\\u0041b"}',
    );
    assert.equal(flat, 'uuid\tu-1\npublic_keys.a\tssh-ed25519 AAA x"y\nn.0\t1\nn.1.b\tnull\nh\tAb\n');
    const nd = {
      links: [{ id: 'tap1', type: 'ovs', mtu: 1450, ethernet_mac_address: 'FA:16:3E:00:00:01' }],
      networks: [
        {
          id: 'network0',
          type: 'ipv4',
          link: 'tap1',
          ip_address: '192.0.2.5',
          netmask: '255.255.255.0',
          routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '192.0.2.1' }],
        },
      ],
      services: [{ type: 'dns', address: '192.0.2.53' }],
    };
    const ndFlat = awk(['-f', join(dir, 'usr/lib/guest/json-flat.awk')], JSON.stringify(nd));
    const plan = (mac: string) =>
      awk(['-v', `mac=${mac}`, '-f', join(dir, 'usr/lib/guest/net-plan.awk')], ndFlat);
    assert.equal(
      plan('fa:16:3e:00:00:01'),
      'mtu 1450\naddr 192.0.2.5/24\nroute 0.0.0.0/0 192.0.2.1\ndns 192.0.2.53\n',
    );
    assert.equal(plan('fa:16:3e:00:00:02'), 'dhcp\n');
  });

  it('boots from its disk with a config drive: hostname, user data, SSH key, GUEST-READY', async () => {
    const sshPort = await freePort();
    const g = await boot('boot1', {
      append: built.manifest.osCommandLine,
      disk: overlay,
      cdrom: join(tmp, 'instance', 'config.iso'),
      nic: { sshPort },
    });
    firstBoot = g;
    const ready = await g.waitFor(READY, BOOT_TIMEOUT);
    process.stderr.write(
      `# disk boot: spawn to GUEST-READY ${Math.round(performance.now() - g.startedAt)} ms (guest uptime ${ready[3]} s)\n`,
    );
    assert.equal(ready[1], '10.0.2.15', 'DHCP lease from the user-mode network');
    assert.equal(ready[2], `guest-${token}.novalocal`);
    const log = await g.log();
    assert.match(log, /^GUEST-ROOT \/dev\/vda$/m);
    assert.match(log, new RegExp(`^USERDATA-RAN-${token} on guest-${token}\\.novalocal$`, 'm'));
    assert.ok(log.indexOf('USERDATA-RAN') < log.indexOf('GUEST-READY'), 'user data ran before GUEST-READY');
    assert.equal(log.match(/^GUEST-READY /gm)?.length, 1);
    const disks = await g.waitFor(/^GUEST-DISKS (.*)$/m, 20_000);
    assert.match(disks[1]!, /\bvda:65536\b/);
    assert.match(disks[1]!, /\bsr0:\d+\b/);
    if (has('ssh')) {
      const out = execFileSync(
        'ssh',
        [
          '-i',
          sshKey,
          '-p',
          String(sshPort),
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-o',
          'BatchMode=yes',
          '-o',
          'ConnectTimeout=60',
          '-o',
          'LogLevel=ERROR',
          'root@127.0.0.1',
          'hostname; id -u; cat /root/marker',
        ],
        { encoding: 'utf8', timeout: 90_000 },
      );
      assert.equal(out, `guest-${token}.novalocal\n0\npersist-${token}\n`);
    }
  });

  it('powers off cleanly on QMP system_powerdown', async () => {
    assert.ok(firstBoot, 'the first boot ran');
    const reply = await firstBoot.qmp('system_powerdown');
    assert.deepEqual(reply.return, {});
    const t = performance.now();
    assert.equal(await firstBoot.waitForExit(10_000), true, 'QEMU exits within 10 s');
    process.stderr.write(`# system_powerdown to QEMU exit ${Math.round(performance.now() - t)} ms\n`);
    assert.match(await firstBoot.log(), /^GUEST-POWEROFF$/m);
  });

  it('keeps what the first boot wrote and runs user data only once', async () => {
    assert.ok(firstBoot && !alive(firstBoot.pid), 'the first boot is over');
    const g = await boot('boot2', {
      append: built.manifest.osCommandLine,
      disk: overlay,
      cdrom: join(tmp, 'instance', 'config.iso'),
    });
    const ready = await g.waitFor(READY, BOOT_TIMEOUT);
    assert.equal(ready[1], 'none', 'no NIC, no address');
    assert.equal(ready[2], `guest-${token}.novalocal`);
    await g.waitFor(/^GUEST-DISKS /m, 20_000);
    let found = false;
    for (let i = 0; i < 10 && !found; i++) {
      await g.type('echo PERSIST-$(cat /root/marker)');
      found = await g.waitFor(new RegExp(`PERSIST-persist-${token}`), 3000).then(
        () => true,
        () => false,
      );
    }
    assert.ok(found, `the marker written on the first boot is on the disk:\n${await g.log()}`);
    assert.doesNotMatch(await g.log(), /USERDATA-RAN/);
    await g.kill();
  });

  it('stays in the initramfs when root= cannot be mounted and reads the metadata service', async (t) => {
    if (!has('socat')) {
      t.skip('socat is needed to forward the metadata address to a local server');
      return;
    }
    const requests: string[] = [];
    const server: Server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/openstack/latest/meta_data.json') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ uuid: 'a0b1', hostname: `meta-${token}`, public_keys: { k: sshPub } }));
      } else if (req.url === '/openstack/latest/user_data') {
        res.end(`#!/bin/sh\necho "METADATA-USERDATA-${token}"\n`);
      } else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const g = await boot('boot3', {
        append: 'console=ttyS0 root=/dev/vda rw quiet',
        nic: {
          netdev: `user,id=n0,net=169.254.169.0/24,host=169.254.169.1,dhcpstart=169.254.169.15,guestfwd=tcp:169.254.169.254:80-cmd:socat - TCP:127.0.0.1:${port}`,
        },
      });
      const ready = await g.waitFor(READY, BOOT_TIMEOUT);
      process.stderr.write(
        `# initramfs boot: spawn to GUEST-READY ${Math.round(performance.now() - g.startedAt)} ms (guest uptime ${ready[3]} s)\n`,
      );
      const log = await g.log();
      assert.match(log, /^GUEST-ROOT initramfs \(could not mount \/dev\/vda\)$/m);
      assert.equal(ready[1], '169.254.169.15');
      assert.equal(ready[2], `meta-${token}`);
      assert.match(log, new RegExp(`^METADATA-USERDATA-${token}$`, 'm'));
      assert.deepEqual(requests, ['/openstack/latest/meta_data.json', '/openstack/latest/user_data']);
      await g.kill();
    } finally {
      server.close();
    }
  });
});
