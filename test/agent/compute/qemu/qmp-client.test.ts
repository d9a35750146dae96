// The QMP client against a real (daemonized, paused, diskless) QEMU: commands, errors, events, close.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { qemuArgv } from '../../../../src/agent/compute/drivers/qemu/qemu-command.ts';
import {
  readPidFile,
  spawnDaemonized,
  waitForExit,
} from '../../../../src/agent/compute/drivers/qemu/qemu-process.ts';
import {
  QmpClient,
  QmpDisconnected,
  QmpError,
} from '../../../../src/agent/compute/drivers/qemu/qmp-client.ts';
import { reapStateDir, tempDir } from './support.ts';

describe('QmpClient', () => {
  let dir: string;
  let pid: number | undefined;
  const guestId = 'qmp-test';
  const paths = (d: string) => ({
    pidFile: join(d, 'pid'),
    qmpSocket: join(d, 'qmp.sock'),
    serialSocket: join(d, 'serial.sock'),
    serialLog: join(d, 'serial.log'),
    vncSocket: join(d, 'vnc.sock'),
  });

  before(async () => {
    dir = await tempDir();
    const argv = qemuArgv({
      guestId,
      accel: 'tcg',
      vcpus: 1,
      memoryMb: 64,
      paths: paths(dir),
      disks: [],
      nics: [],
    });
    await spawnDaemonized(argv, { what: 'the QMP test guest' });
    pid = await readPidFile(join(dir, 'pid'));
    assert.ok(pid, 'QEMU wrote its pidfile');
  });

  after(async () => {
    await reapStateDir(dir);
  });

  it('greets, negotiates and runs commands concurrently, matched by id', async () => {
    const qmp = await QmpClient.connect(paths(dir).qmpSocket);
    try {
      assert.ok(qmp.greeting.version.qemu.major >= 7);
      const [status, name, version] = await Promise.all([
        qmp.execute<{ status: string }>('query-status'),
        qmp.execute<{ name?: string }>('query-name'),
        qmp.execute<{ qemu: { major: number } }>('query-version'),
      ]);
      assert.equal(status.status, 'prelaunch', '-S keeps the guest from running');
      assert.equal(name.name, guestId);
      assert.equal(version.qemu.major, qmp.greeting.version.qemu.major);
    } finally {
      await qmp.close();
    }
  });

  it("reports QEMU's error class and description", async () => {
    const qmp = await QmpClient.connect(paths(dir).qmpSocket);
    try {
      const err = await qmp.execute('no-such-command').then(
        () => assert.fail('an unknown command succeeded'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof QmpError);
      assert.equal(err.errorClass, 'CommandNotFound');
      assert.match(err.desc, /no-such-command/);
      const bad = await qmp.execute('device_del', { id: 'nothing-here' }).catch((e: unknown) => e);
      assert.ok(bad instanceof QmpError);
      assert.equal(bad.errorClass, 'DeviceNotFound');
      // The session still works after errors.
      assert.equal((await qmp.execute<{ status: string }>('query-status')).status, 'prelaunch');
    } finally {
      await qmp.close();
    }
  });

  it('delivers events to subscribers and waiters', async () => {
    const qmp = await QmpClient.connect(paths(dir).qmpSocket);
    try {
      const seen: string[] = [];
      const off = qmp.on('*', (e) => seen.push(e.event));
      const resumed = qmp.waitForEvent('RESUME', () => true, 5000);
      await qmp.execute('cont');
      const ev = await resumed;
      assert.equal(ev.event, 'RESUME');
      assert.ok(ev.timestamp && ev.timestamp.seconds > 0);
      const stopped = qmp.waitForEvent('STOP', () => true, 5000);
      await qmp.execute('stop');
      await stopped;
      off();
      assert.deepEqual(seen.slice(0, 2), ['RESUME', 'STOP']);
      await assert.rejects(
        qmp.waitForEvent('NEVER', () => true, 50),
        QmpDisconnected,
      );
    } finally {
      await qmp.close();
    }
  });

  it('a closed session rejects commands, and the monitor takes a new one', async () => {
    const qmp = await QmpClient.connect(paths(dir).qmpSocket);
    await qmp.close();
    assert.equal(qmp.closed, true);
    await assert.rejects(qmp.execute('query-status'), QmpDisconnected);
    const again = await QmpClient.connect(paths(dir).qmpSocket);
    assert.equal((await again.execute<{ status: string }>('query-status')).status, 'paused');
    await again.close();
  });

  it('times out a command that gets no answer, and fails to connect where nothing listens', async () => {
    // A monitor that negotiates and then never answers (as a wedged QEMU would).
    const mute = createServer((conn) => {
      conn.write(
        '{"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": ""}, "capabilities": []}}\n',
      );
      conn.on('data', (d) => {
        const id = /"id": ?"([^"]+)"/.exec(d.toString())?.[1];
        if (d.toString().includes('qmp_capabilities')) conn.write(`{"return": {}, "id": "${id}"}\n`);
      });
    });
    const sock = join(dir, 'mute.sock');
    await new Promise<void>((resolve) => mute.listen(sock, resolve));
    try {
      const qmp = await QmpClient.connect(sock);
      await assert.rejects(qmp.execute('query-status', undefined, { timeoutMs: 100 }), QmpDisconnected);
      await qmp.close();
    } finally {
      mute.close();
    }
    await assert.rejects(QmpClient.connect(join(dir, 'absent.sock'), { timeoutMs: 500 }), QmpDisconnected);
  });

  it('quit answers, then the session closes as QEMU exits', async () => {
    const qmp = await QmpClient.connect(paths(dir).qmpSocket);
    const waiter = qmp.waitForEvent('NEVER', () => true, 10_000);
    await qmp.execute('quit');
    await qmp.whenClosed();
    await assert.rejects(waiter, QmpDisconnected, 'waiters end with the session');
    assert.ok(pid !== undefined && (await waitForExit(pid, guestId, 5000)), 'QEMU exited');
  });
});
