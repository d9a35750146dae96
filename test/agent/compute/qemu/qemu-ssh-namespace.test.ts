// SSH into a real guest with the key its metadata gave it, over a NIC plumbed into a network namespace this test
// makes (no host networking): the tap QEMU creates is moved into the namespace before the guest runs, the guest
// takes its address from the config drive's network_data.json, and ssh runs inside the namespace.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildTestImage } from '../../../../src/guest-image/build.ts';
import { type DriverHarness, driverHarness, serveTestImage, spec } from './driver-harness.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const cacheDir = process.env['MONOSTACK_GUEST_IMAGE_CACHE'] ?? join(repoRoot, '.cache', 'guest-image');
const imageDir = join(dirname(cacheDir), 'qemu-driver-test-image');

const NS = `msq-ssh-${process.pid}`;
const TAP = `msqs${process.pid % 100000}`;
const MAC = 'fa:16:3e:5a:00:01';
const HOST_SIDE = '192.0.2.1';
const GUEST_IP = '192.0.2.10';

describe('SSH into a QEMU guest through a namespaced NIC', () => {
  let h: DriverHarness | undefined;
  let keyDir: string;
  const s = spec({ configDrive: true, imageId: 'test-disk', flavor: { ...spec().flavor, rootGb: 0 } });

  before(async () => {
    keyDir = await mkdtemp(join(tmpdir(), 'msq-ssh-key-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ns-test', '-f', join(keyDir, 'id')]);
    const pub = (await readFile(join(keyDir, 'id.pub'), 'utf8')).trim();
    await run('ip', ['netns', 'add', NS]);
    await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    const image = await buildTestImage({ outDir: imageDir, cacheDir });
    h = await driverHarness({
      stopTimeoutMs: 60_000,
      // QEMU made the tap in the root namespace, paused: move it into ours and give it the host-side address.
      beforeContinue: async (_id, { nics }) => {
        for (const n of nics) {
          if (!n.device) continue;
          await run('ip', ['link', 'set', n.device, 'netns', NS]);
          await run('ip', ['-n', NS, 'addr', 'add', `${HOST_SIDE}/24`, 'dev', n.device]);
          await run('ip', ['-n', NS, 'link', 'set', n.device, 'up']);
        }
      },
    });
    serveTestImage(h!.resources, image);
    h.resources.configFiles = [
      {
        path: 'openstack/latest/meta_data.json',
        contents: JSON.stringify({
          uuid: s.id,
          name: s.name,
          hostname: 'ns-guest',
          launch_index: 0,
          public_keys: { mykey: pub },
          meta: {},
        }),
      },
      {
        path: 'openstack/latest/network_data.json',
        contents: JSON.stringify({
          links: [{ id: 'tap0', type: 'phy', ethernet_mac_address: MAC, mtu: 1500 }],
          networks: [
            {
              id: 'net0',
              type: 'ipv4',
              link: 'tap0',
              ip_address: GUEST_IP,
              netmask: '255.255.255.0',
              routes: [],
            },
          ],
          services: [],
        }),
      },
    ];
  });

  after(async () => {
    if (h) {
      await h.driver.destroy(s.id).catch(() => {});
      await h.cleanup();
    }
    await run('ip', ['netns', 'del', NS]).catch(() => {});
    await rm(keyDir, { recursive: true, force: true });
  });

  it('boots with the NIC in the namespace, takes its address from metadata, and accepts the key', async (t) => {
    const d = h!.driver;
    await d.create(s);
    await d.attachNic(s.id, { id: 'port-1', macAddress: MAC, device: TAP });
    await d.start(s.id);
    const started = performance.now();
    while (!(await d.findGuest(s.id))?.consoleReady) {
      if (performance.now() - started > 120_000) assert.fail('the guest never printed GUEST-READY');
      await sleep(200);
    }
    assert.match(await d.consoleOutput(s.id), new RegExp(`GUEST-READY ${GUEST_IP.replaceAll('.', '\\.')} `));
    // The tap lives in the namespace only: the host's own namespace does not have it.
    await assert.rejects(run('ip', ['link', 'show', TAP]));
    const { stdout: link } = await run('ip', ['-n', NS, '-o', 'link', 'show', TAP]);
    assert.match(link, /state UP|LOWER_UP/);

    const sshArgs = [
      'netns',
      'exec',
      NS,
      'ssh',
      '-i',
      join(keyDir, 'id'),
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=20',
      '-o',
      'LogLevel=ERROR',
      `root@${GUEST_IP}`,
      'hostname; id -u',
    ];
    let out = '';
    // dropbear starts right after GUEST-READY; give it a few tries.
    for (let i = 0; i < 10 && !out; i++) {
      try {
        out = (await run('ip', sshArgs, { timeout: 60_000 })).stdout;
      } catch (err) {
        if (i === 9) throw err;
        await sleep(1000);
      }
    }
    t.diagnostic(`ssh answered ${Math.round(performance.now() - started)} ms after start`);
    assert.deepEqual(out.trim().split('\n'), ['ns-guest', '0']);

    // A key the metadata did not give is refused.
    const other = join(keyDir, 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const refused = sshArgs.map((a) => (a === join(keyDir, 'id') ? other : a));
    await assert.rejects(run('ip', refused, { timeout: 60_000 }));
  });
});
