// Network namespaces: list, create (loopback up), delete (after ending the processes that run in them).
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ip, ipJson, isMissing, run } from './exec.ts';

export async function listNamespaces(): Promise<string[]> {
  return (await ipJson<{ name: string }>(undefined, ['netns', 'list'])).map((n) => n.name);
}

/** Creates the namespace (loopback up) unless it exists; true when it did. */
export async function ensureNamespace(name: string, existing?: Set<string>): Promise<boolean> {
  if ((existing ?? new Set(await listNamespaces())).has(name)) return false;
  await ip(undefined, ['netns', 'add', name]).catch((err: unknown) => {
    if (!/File exists/.test(String(err))) throw err;
  });
  existing?.add(name);
  await ip(name, ['link', 'set', 'lo', 'up']);
  return true;
}

/** The pids of processes living in the namespace. */
export async function namespacePids(name: string): Promise<number[]> {
  const out = await run('ip', ['netns', 'pids', name]).catch(() => '');
  return out
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((p) => p > 0);
}

/** Ends the processes in the namespace (TERM, then KILL) and deletes it; its veths and taps go with it. */
export async function deleteNamespace(name: string): Promise<void> {
  let pids = await namespacePids(name);
  for (const p of pids) signal(p, 'SIGTERM');
  for (let i = 0; i < 40 && pids.length; i++) {
    await sleep(25);
    pids = (await Promise.all(pids.map(async (p) => ((await alive(p)) ? p : 0)))).filter(Boolean);
  }
  for (const p of pids) signal(p, 'SIGKILL');
  await ip(undefined, ['netns', 'del', name]).catch((err: unknown) => {
    if (!isMissing(err)) throw err;
  });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/\) [ZX] /.test(stat);
}
