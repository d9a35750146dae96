// Acceptance: real QEMU guests (TCG) behind a real `monostack up`, through the public APIs only: boot with a
// config drive, key and user data; the power and move actions; snapshots; serial and noVNC consoles; guests
// that outlive a killed control plane; a guest killed behind the agent's back; deletion that leaves nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../../src/cmd/conformance/cloud.ts';
import { type ProcessCloud, startProcessCloud } from '../support/process-cloud.ts';
import {
  Api,
  argAfter,
  ConsoleClient,
  guestDir,
  isQemuOf,
  type Json,
  pidFileOf,
  processesWith,
  qemuOf,
  qemuSkip,
  runOnSerial,
  seedTestImage,
  typeUntil,
  waitFor,
} from './qemu-support.ts';

const run = promisify(execFile);
const MV = '2.47';
const NANO = '42'; // m1.nano: 1 vCPU, 128 MiB
const MICRO = '84'; // m1.micro: 1 vCPU, 192 MiB
const RUN = randomBytes(4).toString('hex');
const MARKER = `marker-${RUN}`;
const USER_DATA = `#!/bin/sh\necho "USERDATA-RAN ${RUN}"\necho ${MARKER} > /root/marker\nsync\n`;

/** An OpenSSH ed25519 public key line. */
function sshPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const field = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} qemu-servers-test`;
}

describe('real QEMU guests through the public API', { skip: qemuSkip(), timeout: 600_000 }, () => {
  let dataDir: string;
  const clouds: ProcessCloud[] = [];
  let cloud: ProcessCloud;
  let api: Api;
  let imageId: string;
  let kernelId: string;
  let ramdiskId: string;
  const publicKey = sshPublicKey();
  /** vm1: booted from the test image, then every action; vm2: booted from vm1's snapshot. */
  let vm1: string;
  let vm2: string;

  const start = async () => {
    const c = await startProcessCloud({
      dataDir,
      env: {
        MONOSTACK_FROM_SOURCE: '1',
        MONOSTACK__COMPUTE__DRIVER: 'qemu',
        MONOSTACK__COMPUTE__TEST_IMAGE: 'true',
        MONOSTACK__COMPUTE__QEMU__ACCEL: 'tcg',
        // Its own metadata listener port: other clouds on this machine may hold the default one.
        MONOSTACK__COMPUTE__METADATA__PORT: String(await freePort()),
        MONOSTACK_LOG_LEVEL: 'warn',
      },
    });
    clouds.push(c);
    return c;
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'monostack-qemu-'));
    await seedTestImage(dataDir);
    cloud = await start();
    api = await Api.login(cloud.url, dataDir, MV);
    // monostack up registers the test image in the background.
    const image = await waitFor(
      'the test image to be registered',
      async () => {
        const list = await api.call('GET', '/image/v2/images?name=monostack-test', undefined, 200);
        const img = (list['images'] as Json[])[0];
        return img?.['status'] === 'active' ? img : undefined;
      },
      120_000,
      500,
    );
    imageId = image['id'];
    kernelId = image['kernel_id'];
    ramdiskId = image['ramdisk_id'];
    assert.ok(kernelId && ramdiskId, JSON.stringify(image));
  });

  after(async () => {
    // The cloud killed on purpose is skipped: ProcessCloud.stop() would wait 10 s for its exit event again.
    for (const c of clouds) if (c.child.exitCode === null && c.child.signalCode === null) await c.stop();
    // Whatever QEMU this cloud started and still runs (its command lines name the data directory).
    if (dataDir) {
      for (const p of await processesWith(dataDir)) {
        if (p.argv[0]?.includes('qemu')) process.kill(p.pid, 'SIGKILL');
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  const boot = async (name: string, image: string, extra: Json = {}): Promise<string> => {
    const body = await api.call(
      'POST',
      '/compute/v2.1/servers',
      { server: { name, imageRef: image, flavorRef: NANO, networks: 'none', config_drive: true, ...extra } },
      202,
    );
    return body['server']['id'];
  };

  it('boots with a config drive, key pair and user data; the console shows the guest ready', async () => {
    await api.call(
      'POST',
      '/compute/v2.1/os-keypairs',
      { keypair: { name: 'qemu-key', public_key: publicKey } },
      [200, 201],
    );
    vm1 = await boot('qemu-vm1', imageId, {
      key_name: 'qemu-key',
      user_data: Buffer.from(USER_DATA).toString('base64'),
    });
    const s = await api.waitStatus(vm1, 'ACTIVE');
    assert.equal(s['flavor']['original_name'], 'm1.nano');
    await api.waitReady(vm1, 0);
    const out = await api.consoleOutput(vm1);
    // The hostname comes from the config drive's metadata, the marker from the user-data script.
    assert.match(out, /^GUEST-READY none hostname=qemu-vm1(\.novalocal)? /m);
    assert.match(out, new RegExp(`^USERDATA-RAN ${RUN}$`, 'm'));
    // `length` keeps the last lines: a block of the (only growing) log, shorter than all of it.
    const tail = await api.consoleOutput(vm1, 2);
    assert.equal(tail.split('\n').length, 2, tail);
    const all = await api.consoleOutput(vm1);
    assert.ok(all.includes(tail), `${JSON.stringify(tail)} is not in ${JSON.stringify(all)}`);
    assert.ok(all.split('\n').length >= 3 && all.length > tail.length, all);
    assert.equal(await api.consoleOutput(vm1, 0), '');
    // The key from metadata is root's authorized key; the user data wrote its marker.
    const shown = await runOnSerial(
      api,
      vm1,
      'cat /root/.ssh/authorized_keys /root/marker',
      new RegExp(MARKER),
    );
    assert.ok(shown.includes(publicKey.split(' ')[1]!), shown);
    assert.equal((await qemuOf(vm1)).length, 1);
  });

  it('snapshots the server; a second server boots from the snapshot with the first one’s disk', async () => {
    const created = await api.action(vm1, { createImage: { name: 'qemu-vm1-snap' } });
    const snapId = String(created['image_id']);
    const snap = await waitFor(
      'the snapshot to be active',
      async () => {
        const img = await api.call('GET', `/image/v2/images/${snapId}`, undefined, 200);
        assert.notEqual(img['status'], 'killed');
        return img['status'] === 'active' ? img : undefined;
      },
      120_000,
      500,
    );
    assert.equal(snap['kernel_id'], kernelId);
    assert.equal(snap['ramdisk_id'], ramdiskId);
    assert.equal(snap['image_type'], 'snapshot');
    assert.equal(snap['instance_uuid'], vm1);
    assert.equal((await api.waitStatus(vm1, 'ACTIVE'))['status'], 'ACTIVE');

    vm2 = await boot('qemu-vm2', snapId);
    await api.waitStatus(vm2, 'ACTIVE');
    await api.waitReady(vm2, 0);
    const out = await api.consoleOutput(vm2);
    assert.match(out, /^GUEST-READY none hostname=qemu-vm2(\.novalocal)? /m);
    assert.doesNotMatch(out, /USERDATA-RAN/);
    // The file vm1's user data wrote lives on the snapshot's disk.
    await runOnSerial(api, vm2, 'cat /root/marker', new RegExp(`^${MARKER}\\r?$`, 'm'));
  });

  it('stop, start, soft and hard reboot: the QEMU process goes and comes, the guest boots again', async () => {
    const pid = await pidFileOf(dataDir, vm1);
    assert.ok(pid && (await isQemuOf(pid, vm1)), `no live QEMU for ${vm1} (pid ${pid})`);
    let ready = await api.readyCount(vm1);

    await api.action(vm1, { 'os-stop': null });
    await api.waitStatus(vm1, 'SHUTOFF');
    assert.equal(await isQemuOf(pid!, vm1), false, 'QEMU still runs after stop');
    assert.deepEqual(await qemuOf(vm1), []);
    assert.match(await api.consoleOutput(vm1), /GUEST-POWEROFF/);

    await api.action(vm1, { 'os-start': null });
    await api.waitStatus(vm1, 'ACTIVE');
    ready = await api.waitReady(vm1, ready);
    const pid2 = await pidFileOf(dataDir, vm1);
    assert.ok(pid2 && pid2 !== pid && (await isQemuOf(pid2, vm1)));

    for (const type of ['SOFT', 'HARD']) {
      await api.action(vm1, { reboot: { type } });
      await api.waitStatus(vm1, 'ACTIVE');
      ready = await api.waitReady(vm1, ready);
    }
    assert.equal((await qemuOf(vm1)).length, 1);
  });

  it('pause/unpause and suspend/resume', async () => {
    // A paused guest runs nothing: its shell answers only once unpaused.
    const c = await ConsoleClient.open(await api.consoleUrl(vm1, 'serial', 'serial'));
    try {
      await typeUntil(c, 'echo alive-$((1+1))', /alive-2/);
      await api.action(vm1, { pause: null });
      await api.waitStatus(vm1, 'PAUSED');
      assert.equal((await qemuOf(vm1)).length, 1);
      c.send('echo woke-$((2+2))\n');
      await sleep(1500);
      assert.doesNotMatch(c.text(), /woke-4/, 'the paused guest ran the command');
      await api.action(vm1, { unpause: null });
      await api.waitStatus(vm1, 'ACTIVE');
      await c.expect(/woke-4/);
    } finally {
      await c.close();
    }

    const ready = await api.readyCount(vm1);
    const pid = await pidFileOf(dataDir, vm1);
    await api.action(vm1, { suspend: null });
    await api.waitStatus(vm1, 'SUSPENDED');
    assert.equal(await isQemuOf(pid!, vm1), false, 'QEMU still runs while suspended');
    assert.ok(existsSync(join(guestDir(dataDir, vm1), 'suspend.state')));
    await api.action(vm1, { resume: null });
    await api.waitStatus(vm1, 'ACTIVE');
    // Resumed from its saved memory, not booted: the shell answers and no new GUEST-READY appears.
    await runOnSerial(api, vm1, 'echo resumed-$((40+2))', /resumed-42/);
    assert.equal(await api.readyCount(vm1), ready);
    assert.equal((await qemuOf(vm1)).length, 1);
  });

  it('resize to a bigger flavor and confirm; rebuild', async () => {
    let ready = await api.readyCount(vm1);
    await api.action(vm1, { resize: { flavorRef: MICRO } });
    await api.waitStatus(vm1, 'VERIFY_RESIZE');
    await api.action(vm1, { confirmResize: null }, 204);
    const s = await api.waitStatus(vm1, 'ACTIVE');
    assert.equal(s['flavor']['original_name'], 'm1.micro');
    assert.equal(s['flavor']['ram'], 192);
    ready = await api.waitReady(vm1, ready);
    const procs = await qemuOf(vm1);
    assert.equal(procs.length, 1);
    assert.equal(argAfter(procs[0]!.argv, '-m'), '192');

    // The user data ran once through every boot so far (its once-per-instance mark is on the root disk); a
    // rebuild gives a fresh root disk, so it runs again.
    const ran = async () =>
      (await api.consoleOutput(vm1)).split('\n').filter((l) => l.startsWith('USERDATA-RAN')).length;
    assert.equal(await ran(), 1);
    await api.action(vm1, { rebuild: { imageRef: imageId } });
    await api.waitStatus(vm1, 'ACTIVE');
    await api.waitReady(vm1, ready);
    assert.equal(await ran(), 2);
    assert.equal((await qemuOf(vm1)).length, 1);
  });

  it('noVNC: the page answers and the websocket speaks RFB with the guest’s VNC server', async () => {
    const url = new URL(await api.consoleUrl(vm2, 'vnc', 'novnc'));
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<html/i);
    const path = url.searchParams.get('path');
    assert.ok(path);
    const c = await ConsoleClient.open(`ws://${url.host}/${path}`, ['binary']);
    try {
      assert.equal(c.ws.protocol, 'binary');
      assert.equal((await c.read(12)).toString(), 'RFB 003.008\n');
      c.send(Buffer.from('RFB 003.008\n'));
      // Nova's proxy does the security step with QEMU itself and offers the client only "None" (1).
      const count = (await c.read(1))[0]!;
      assert.deepEqual([...(await c.read(count))], [1]);
      c.send(Buffer.from([1]));
      assert.equal((await c.read(4)).readUInt32BE(0), 0, 'security result');
      c.send(Buffer.from([1])); // ClientInit, shared
      const init = await c.read(24);
      const [width, height] = [init.readUInt16BE(0), init.readUInt16BE(2)];
      assert.ok(width > 0 && height > 0, `${width}x${height}`);
      const name = (await c.read(init.readUInt32BE(20))).toString();
      // QEMU names the desktop after the guest's -name: this is vm2's display.
      assert.ok(name.includes(vm2), name);
    } finally {
      await c.close();
    }
  });

  it('the openstack CLI: console log show (--lines) and console url show --novnc / --serial', async () => {
    const os = async (...args: string[]): Promise<string> => {
      try {
        const { stdout } = await run('openstack', ['--os-cloud', 'monostack', ...args], {
          env: { ...process.env, OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml, PATH: '/usr/bin:/bin' },
          timeout: 120_000,
        });
        return stdout;
      } catch (err) {
        const e = err as { stderr?: string; stdout?: string };
        throw new Error(`openstack ${args.join(' ')} failed:\n${e.stderr ?? ''}${e.stdout ?? ''}`);
      }
    };
    const log = await os('console', 'log', 'show', vm2);
    assert.match(log, /^GUEST-READY \S+ hostname=qemu-vm2/m);
    const tail = await os('console', 'log', 'show', '--lines', '3', vm2);
    assert.ok(tail.trimEnd().split('\n').length <= 3, tail);
    const novnc = (await os('console', 'url', 'show', '--novnc', '-f', 'value', '-c', 'url', vm2)).trim();
    assert.match(novnc, /\/compute\/console\/vnc_lite\.html\?path=/);
    assert.equal((await fetch(novnc)).status, 200);
    const serial = (await os('console', 'url', 'show', '--serial', '-f', 'value', '-c', 'url', vm2)).trim();
    assert.match(serial, /^ws:\/\/.*\/compute\/console\/serial\?token=/);
    const c = await ConsoleClient.open(serial, []);
    await c.close();
  });

  it('guests outlive a killed control plane, which adopts them on restart', async () => {
    const pids = new Map<string, number>();
    for (const id of [vm1, vm2]) {
      const procs = await qemuOf(id);
      assert.equal(procs.length, 1, `${id}: ${procs.length} QEMU processes`);
      pids.set(id, procs[0]!.pid);
    }
    const old = cloud.child;
    const exited = new Promise((r) => old.once('exit', r));
    process.kill(old.pid!, 'SIGKILL');
    await exited;
    for (const [id, pid] of pids) assert.ok(await isQemuOf(pid, id), `QEMU of ${id} died with monostack`);

    cloud = await start();
    api = await Api.login(cloud.url, dataDir, MV);
    for (const [id, pid] of pids) {
      assert.equal((await api.waitStatus(id, 'ACTIVE'))['status'], 'ACTIVE');
      // The new agent answers for the guest (console output comes from it) and started no second QEMU.
      assert.match(await api.consoleOutput(id), /GUEST-READY/);
      assert.deepEqual(
        (await qemuOf(id)).map((p) => p.pid),
        [pid],
      );
    }
  });

  it('a QEMU killed behind the agent’s back turns its server SHUTOFF; the other guest is untouched', async () => {
    const [p1] = await qemuOf(vm1);
    const [p2] = await qemuOf(vm2);
    assert.ok(p1 && p2);
    process.kill(p2.pid, 'SIGKILL');
    await api.waitStatus(vm2, 'SHUTOFF', 40_000);
    assert.deepEqual(await qemuOf(vm2), []);
    // That took a full resync of the restarted agent, which kept vm1's QEMU as it was.
    assert.equal((await api.server(vm1))['status'], 'ACTIVE');
    assert.deepEqual(
      (await qemuOf(vm1)).map((p) => p.pid),
      [p1.pid],
    );
  });

  it('an image the hypervisor cannot boot ends in ERROR with Nova-style fault, leaving no files', async () => {
    const headers = { 'x-auth-token': api.token, 'content-type': 'application/json' };
    const created = await fetch(`${api.url}/image/v2/images`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'not-bootable', disk_format: 'vmdk', container_format: 'bare' }),
    });
    assert.equal(created.status, 201);
    const img = (await created.json()) as { id: string };
    const put = await fetch(`${api.url}/image/v2/images/${img.id}/file`, {
      method: 'PUT',
      headers: { 'x-auth-token': api.token, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(4096).fill(7),
    });
    assert.equal(put.status, 204);
    const bad = await boot('qemu-bad', img.id, { config_drive: false });
    const s = await waitFor(
      'the server to fail',
      async () => {
        const got = await api.server(bad);
        return got['status'] === 'ERROR' ? got : undefined;
      },
      60_000,
    );
    assert.equal(s['fault']['code'], 400);
    assert.match(s['fault']['message'], /is unacceptable: disk_format vmdk/);
    assert.doesNotMatch(String(s['fault']['details'] ?? ''), /\n\s+at /, 'no stack trace in a 4xx fault');
    assert.equal(existsSync(guestDir(dataDir, bad)), false, 'no guest directory left');
    assert.deepEqual(await qemuOf(bad), []);
    await api.call('DELETE', `/compute/v2.1/servers/${bad}`, undefined, 204);
    await waitFor(
      'the failed server to be gone',
      async () => (await api.call('GET', `/compute/v2.1/servers/${bad}`))['__status'] === 404,
      60_000,
    );
  });

  it('deleting the servers removes their guests and QEMU processes', async () => {
    for (const id of [vm1, vm2]) await api.call('DELETE', `/compute/v2.1/servers/${id}`, undefined, 204);
    for (const id of [vm1, vm2]) {
      await waitFor(
        `${id} to be gone`,
        async () => (await api.call('GET', `/compute/v2.1/servers/${id}`))['__status'] === 404,
        60_000,
      );
      await waitFor(`${id}'s guest directory to go`, async () => !existsSync(guestDir(dataDir, id)), 30_000);
      assert.deepEqual(await qemuOf(id), []);
    }
  });
});
