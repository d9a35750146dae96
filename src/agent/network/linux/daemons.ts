// Helper daemons (dnsmasq, haproxy) tracked by pidfile: adoption checks the exact argv, stop is TERM then KILL.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export async function readPidFile(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return pid > 0 ? pid : undefined;
}

/** The process's argv, or undefined when it is gone (or a zombie). */
export async function processArgv(pid: number): Promise<string[] | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat || /\) [ZX] /.test(stat)) return undefined;
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return raw ? raw.replace(/\0$/, '').split('\0') : undefined;
}

/** The pid in the pidfile when that process still runs exactly `argv`. */
export async function runningDaemon(pidFile: string, argv: string[]): Promise<number | undefined> {
  const pid = await readPidFile(pidFile);
  if (!pid) return undefined;
  const have = await processArgv(pid);
  return have && have.length === argv.length && have.every((a, i) => a === argv[i]) ? pid : undefined;
}

/** Ends the daemon named by the pidfile if the process still runs `program` (pid reuse guard). */
export async function stopDaemon(pidFile: string, program: string): Promise<void> {
  const pid = await readPidFile(pidFile);
  if (!pid) return;
  const argv = await processArgv(pid);
  if (!argv?.[0]?.endsWith(program)) return;
  signal(pid, 'SIGTERM');
  for (let i = 0; i < 40; i++) {
    if (!(await processArgv(pid))) return;
    await sleep(25);
  }
  signal(pid, 'SIGKILL');
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
