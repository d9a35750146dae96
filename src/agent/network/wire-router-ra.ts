// Router advertisements in a router namespace: the RA dnsmasq started, adopted (same argv) or stopped, its files.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runningDaemon, stopDaemon } from './linux/daemons.ts';
import { runIn } from './linux/exec.ts';
import { type RaContext, raDnsmasqArgv } from './render/router-ra.ts';
import type { WireContext } from './wire-context.ts';

/** Where a router's RA daemon files live. */
export function raDir(stateDir: string, routerId: string): string {
  return join(stateDir, 'ra', routerId);
}

function filesOf(stateDir: string, routerId: string) {
  const dir = raDir(stateDir, routerId);
  return { dir, pid: join(dir, 'dnsmasq.pid'), log: join(dir, 'dnsmasq.log') };
}

/**
 * Converges the router's advertisement daemon to `contexts` (call once its qr- devices hold their addresses and the
 * RA filter table is loaded).
 */
export async function wireRouterRa(
  ctx: WireContext,
  routerId: string,
  ns: string,
  contexts: RaContext[],
): Promise<void> {
  const f = filesOf(ctx.stateDir, routerId);
  const argv = raDnsmasqArgv(contexts, f);
  if (!argv) {
    await unwireRouterRa(ctx.stateDir, routerId);
    return;
  }
  if ((await runningDaemon(f.pid, argv)) !== undefined) return;
  await stopDaemon(f.pid, 'dnsmasq');
  await mkdir(f.dir, { recursive: true });
  await runIn(ns, argv[0] as string, argv.slice(1));
  ctx.log.info({ router_id: routerId, prefixes: contexts.length }, 'router advertisements started');
}

/** Stops the router's RA daemon and removes its files. */
export async function unwireRouterRa(stateDir: string, routerId: string): Promise<void> {
  const f = filesOf(stateDir, routerId);
  await stopDaemon(f.pid, 'dnsmasq');
  await rm(f.dir, { recursive: true, force: true });
}
