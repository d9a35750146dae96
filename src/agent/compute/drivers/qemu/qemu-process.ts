// A guest's QEMU process: spawn daemonized, find it again from its pidfile and /proc, wait for it, kill it by PID.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DriverError } from '../../hypervisor-driver.ts';
import { nameArg } from './qemu-command.ts';

export const QEMU_BINARY = 'qemu-system-x86_64';

/**
 * Runs QEMU with -daemonize and waits for the foreground process to exit: it does once the guest is set up (QMP
 * listening) or failed. A failure throws DriverError carrying QEMU's stderr. `extraFd` becomes fd 3 of QEMU.
 */
export async function spawnDaemonized(
  argv: string[],
  opts: { binary?: string; extraFd?: number; timeoutMs?: number; what: string },
): Promise<void> {
  const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'ignore', 'pipe'];
  if (opts.extraFd !== undefined) stdio.push(opts.extraFd);
  const child = spawn(opts.binary ?? QEMU_BINARY, argv, { stdio, detached: true });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 16_384) stderr += s;
  });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      resolve('timeout');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve(`error: ${err.message}`);
    });
    child.once('exit', (c, signal) => {
      clearTimeout(timer);
      resolve(c ?? `signal ${signal}`);
    });
  });
  // The daemon holds our stderr pipe until it redirects its stdio; give late lines a moment, then let go.
  await sleep(code === 0 ? 0 : 20);
  child.stderr?.destroy();
  if (code !== 0) {
    const detail = stderr.trim() || (typeof code === 'string' ? code : `exit status ${code}`);
    // QEMU locks its pidfile before anything else: another QEMU of this guest is running or starting.
    const locked = /Cannot lock pid file/.test(detail);
    throw new DriverError(`QEMU failed to start ${opts.what}: ${detail}`, { code: 500, transient: locked });
  }
}

/** The pid written in a pidfile, or undefined. */
export async function readPidFile(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live QEMU of this guest: its cmdline carries `-name guest=<id>,…` (zombies have none). */
export async function isGuestProcess(pid: number, guestId: string): Promise<boolean> {
  let raw: string;
  try {
    raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return false;
  }
  const args = raw.split('\0');
  const want = nameArg(guestId);
  for (let i = 0; i < args.length - 1; i++) if (args[i] === '-name' && args[i + 1] === want) return true;
  return false;
}

/** The guest's live QEMU pid from its pidfile, or undefined when none runs (a stale pidfile is ignored). */
export async function livePid(pidFile: string, guestId: string): Promise<number | undefined> {
  const pid = await readPidFile(pidFile);
  if (pid === undefined) return undefined;
  return (await isGuestProcess(pid, guestId)) ? pid : undefined;
}

/**
 * Waits until the process is gone; false when it still runs after timeoutMs. Gone means past the kernel's whole
 * exit: its memory goes (and with it the cmdline) before its files close, so a QEMU whose cmdline is empty may
 * still hold its pidfile lock; only a zombie, a reaped pid or another process under that pid has let go.
 */
export async function waitForExit(
  pid: number,
  guestId: string,
  timeoutMs: number,
  /** The process's start time (stat field 22) read while it surely ran; read now when not given. */
  started?: string,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  started ??= await processStart(pid);
  const exited = async () => {
    const f = await statFields(`/proc/${pid}/stat`);
    return !f || f[19] !== started || f[0] === 'Z' || f[0] === 'X';
  };
  for (let pause = 2; ; pause = Math.min(50, pause * 2)) {
    if (!(await isGuestProcess(pid, guestId)) && (await exited())) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(pause, Math.max(1, deadline - Date.now())));
  }
}

/** SIGKILLs the guest's QEMU (only after checking the pid is still that guest's) and waits for it to go. */
export async function killGuestProcess(pid: number, guestId: string): Promise<void> {
  const started = await processStart(pid);
  if (!(await isGuestProcess(pid, guestId))) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  if (!(await waitForExit(pid, guestId, 10_000, started)))
    throw new DriverError(`QEMU of guest ${guestId} (pid ${pid}) survived SIGKILL`, { transient: true });
}

/** When the process started (clock ticks since boot, as text), or undefined when there is none. */
async function processStart(pid: number): Promise<string | undefined> {
  return (await statFields(`/proc/${pid}/stat`))?.[19];
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** CPU time (user + system) of one thread or process in nanoseconds, or 0 when unreadable. */
export async function cpuTimeNs(pid: number, tid?: number): Promise<number> {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const fields = await statFields(path);
  if (!fields) return 0;
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Math.round(((utime + stime) / USER_HZ) * 1e9);
}

/** Seconds since the process started, or 0 when unreadable. */
export async function processUptime(pid: number): Promise<number> {
  const fields = await statFields(`/proc/${pid}/stat`);
  if (!fields) return 0;
  const startTicks = Number(fields[19]);
  try {
    const sinceBoot = Number.parseFloat((await readFile('/proc/uptime', 'utf8')).split(' ')[0] ?? '0');
    return Math.max(0, Math.floor(sinceBoot - startTicks / USER_HZ));
  } catch {
    return 0;
  }
}

/** The fields of a /proc stat file after the command name (fields[0] is the state). */
async function statFields(path: string): Promise<string[] | undefined> {
  try {
    const raw = await readFile(path, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
