// Boots the test guest image directly with QEMU for the guest-image tests: daemonized, QMP and a serial
// socket + logfile as the driver will, and cleans up by PID.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface GuestBoot {
  /** Directory for the sockets, pidfile and serial log (one per boot). */
  dir: string;
  kernel: string;
  initrd: string;
  append: string;
  /** QEMU CPU model (default max, as the driver uses under TCG). */
  cpu?: string;
  /** qcow2 file attached as virtio-blk (vda). */
  disk?: string;
  /** ISO attached as an IDE CD-ROM (the config drive). */
  cdrom?: string;
  /**
   * A virtio NIC on a user-mode (slirp) network: sshPort forwards 127.0.0.1:sshPort to the guest's port 22;
   * netdev replaces the whole -netdev value (its id must be n0).
   */
  nic?: { mac?: string; sshPort?: number; netdev?: string };
}

function execQemu(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('qemu-system-x86_64', args, { timeout: 30_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`qemu failed: ${stderr || err.message}`)) : resolve(),
    );
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1 (bound and released; good enough for a test). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export class Guest {
  readonly serialLog: string;
  #qmp?: Socket;
  #qmpBuf = '';
  #pending = new Map<number, (msg: Record<string, unknown>) => void>();
  #nextId = 1;

  private constructor(
    readonly dir: string,
    readonly pid: number,
    readonly startedAt: number,
  ) {
    this.serialLog = join(dir, 'serial.log');
  }

  static async start(b: GuestBoot): Promise<Guest> {
    const p = (f: string) => join(b.dir, f);
    const args = [
      '-name',
      'guest-image-test',
      '-machine',
      'pc',
      '-accel',
      'tcg',
      '-cpu',
      b.cpu ?? 'max',
      '-m',
      '128',
      '-nodefaults',
      '-no-user-config',
      '-daemonize',
      '-pidfile',
      p('qemu.pid'),
      '-qmp',
      `unix:${p('qmp.sock')},server=on,wait=off`,
      '-chardev',
      `socket,id=ser0,path=${p('serial.sock')},server=on,wait=off,logfile=${p('serial.log')}`,
      '-serial',
      'chardev:ser0',
      '-display',
      'none',
      '-kernel',
      b.kernel,
      '-initrd',
      b.initrd,
      '-append',
      b.append,
    ];
    if (b.disk)
      args.push(
        '-drive',
        `if=none,id=root,file=${b.disk},format=qcow2`,
        '-device',
        'virtio-blk-pci,drive=root',
      );
    if (b.cdrom) {
      args.push('-drive', `if=none,id=cd0,file=${b.cdrom},format=raw,media=cdrom,readonly=on`);
      args.push('-device', 'ide-cd,drive=cd0');
    }
    if (b.nic) {
      const fwd = b.nic.sshPort ? `,hostfwd=tcp:127.0.0.1:${b.nic.sshPort}-:22` : '';
      args.push('-netdev', b.nic.netdev ?? `user,id=n0${fwd}`);
      args.push('-device', `virtio-net-pci,netdev=n0,romfile=${b.nic.mac ? `,mac=${b.nic.mac}` : ''}`);
    } else {
      args.push('-nic', 'none');
    }
    const startedAt = performance.now();
    await execQemu(args);
    const pid = Number((await readFile(p('qemu.pid'), 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error('qemu wrote no pid');
    return new Guest(b.dir, pid, startedAt);
  }

  async log(): Promise<string> {
    return existsSync(this.serialLog) ? (await readFile(this.serialLog, 'utf8')).replace(/\r/g, '') : '';
  }

  /** Waits until a serial line matches `re`; returns the match. Throws with the log tail on timeout. */
  async waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = (await this.log()).match(re);
      if (m) return m;
      if (performance.now() > deadline || !alive(this.pid)) {
        throw new Error(
          `no ${re} on the serial console (qemu ${alive(this.pid) ? 'running' : 'gone'}):\n${(await this.log()).slice(-3000)}`,
        );
      }
      await sleep(100);
    }
  }

  /** Types `line` on the serial console (connects, writes, keeps reading briefly, disconnects). */
  async type(line: string): Promise<void> {
    const sock = connect(join(this.dir, 'serial.sock'));
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    sock.on('data', () => {});
    sock.write(`${line}\n`);
    await sleep(300);
    sock.destroy();
  }

  async qmp(execute: string, args?: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.#qmp) {
      const sock = connect(join(this.dir, 'qmp.sock'));
      this.#qmp = sock;
      sock.setEncoding('utf8');
      sock.on('error', () => {});
      sock.on('data', (chunk: string) => {
        this.#qmpBuf += chunk;
        for (let nl = this.#qmpBuf.indexOf('\n'); nl >= 0; nl = this.#qmpBuf.indexOf('\n')) {
          const msg = JSON.parse(this.#qmpBuf.slice(0, nl)) as Record<string, unknown>;
          this.#qmpBuf = this.#qmpBuf.slice(nl + 1);
          const id = msg.id as number | undefined;
          if (id !== undefined) {
            this.#pending.get(id)?.(msg);
            this.#pending.delete(id);
          }
        }
      });
      await this.#send('qmp_capabilities');
    }
    return this.#send(execute, args);
  }

  #send(execute: string, args?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#qmp!.write(`${JSON.stringify({ execute, id, ...(args ? { arguments: args } : {}) })}\n`);
    });
  }

  /** True when QEMU exited within timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (alive(this.pid)) {
      if (performance.now() > deadline) return false;
      await sleep(100);
    }
    this.#qmp?.destroy();
    return true;
  }

  /** Kills QEMU (by its PID) if it still runs and waits for it to go. */
  async kill(): Promise<void> {
    this.#qmp?.destroy();
    if (alive(this.pid)) process.kill(this.pid, 'SIGKILL');
    await this.waitForExit(5000);
  }
}
