// The full reconcile pass: every namespace, device, table and daemon converged, and what is no longer wanted removed.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReconcileReport } from './control-plane.ts';
import { linkMap } from './linux/links.ts';
import { deleteNamespace } from './linux/netns.ts';
import { namespaceName, parseNamespace } from './naming.ts';
import { dhcpPortOf, type WireContext } from './wire-context.ts';
import { servesDhcp, unwireDhcp, wireDhcp } from './wire-dhcp.ts';
import { wireNetwork } from './wire-network.ts';
import { wireRouter } from './wire-router.ts';
import { unwireRouterRa } from './wire-router-ra.ts';

export interface FullPassResult extends ReconcileReport {
  /** Ports wired (VM ports on their bridge and up, DHCP ports served, router ports plugged). */
  wired: Set<string>;
  /** Networks whose namespace (and DHCP, where served) converged without error. */
  wiredNetworks: Set<string>;
  /** Networks whose DHCP namespace runs here. */
  servedDhcp: Set<string>;
}

type Attempt = (resource: string, fn: () => Promise<void>) => Promise<boolean>;

/** Runs the pass with `ctx.namespaces` holding the namespaces that exist; failures are reported, not thrown. */
export async function fullPass(ctx: WireContext): Promise<FullPassResult> {
  const { state } = ctx;
  const errors: ReconcileReport['errors'] = [];
  const attempt: Attempt = async (resource, fn) => {
    try {
      await fn();
      return true;
    } catch (err) {
      errors.push({ resource, message: err instanceof Error ? err.message : String(err) });
      return false;
    }
  };
  const existing = new Set(ctx.namespaces);
  const wired = new Set<string>();
  const rootLinks = await linkMap(undefined);
  const wanted = new Set<string>();
  const wiredNetworks = new Set<string>();
  const servedDhcp = new Set<string>();
  for (const network of state.networks) {
    wanted.add(namespaceName(ctx.prefix, 'network', network.id));
    const ok = await attempt(`network ${network.id}`, async () => {
      for (const id of await wireNetwork(ctx, network, rootLinks)) wired.add(id);
    });
    if (ok) wiredNetworks.add(network.id);
  }
  for (const network of state.networks) {
    const dhcp = dhcpPortOf(state, network.id);
    if (!servesDhcp(network, dhcp)) continue;
    wanted.add(namespaceName(ctx.prefix, 'dhcp', network.id));
    const ok = await attempt(`dhcp ${network.id}`, async () => {
      await wireDhcp(
        ctx,
        network,
        dhcp,
        state.ports.filter((p) => p.networkId === network.id),
      );
      wired.add(dhcp.id);
    });
    if (ok) servedDhcp.add(network.id);
    else wiredNetworks.delete(network.id);
  }
  for (const router of state.routers) {
    if (!router.adminStateUp) continue;
    wanted.add(namespaceName(ctx.prefix, 'router', router.id));
    await attempt(`router ${router.id}`, async () => {
      for (const id of await wireRouter(ctx, router)) wired.add(id);
    });
  }
  await collect(ctx, existing, wanted, attempt);
  return { errors, wired, wiredNetworks, servedDhcp };
}

/** Removes the agent's namespaces (and DHCP files) that are no longer wanted: routers, then DHCP, then networks. */
async function collect(ctx: WireContext, existing: Set<string>, wanted: Set<string>, attempt: Attempt) {
  const order = ['router', 'dhcp', 'network'];
  const stale = [...existing]
    .flatMap((n) => {
      const p = parseNamespace(ctx.prefix, n);
      return p && !wanted.has(n) ? [{ name: n, ...p }] : [];
    })
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  for (const ns of stale)
    await attempt(`namespace ${ns.name}`, async () => {
      if (ns.kind === 'dhcp') await unwireDhcp(ctx, ns.id);
      else await deleteNamespace(ns.name);
      for (const k of ctx.nftApplied.keys()) if (k.startsWith(`${ns.name}/`)) ctx.nftApplied.delete(k);
      ctx.initialized.delete(ns.name);
      ctx.initialized.delete(`${ns.name} conntrack`);
      ctx.log.info({ namespace: ns.name }, 'namespace removed');
    });
  const dirs = await readdir(join(ctx.stateDir, 'dhcp')).catch(() => [] as string[]);
  for (const id of dirs)
    if (!wanted.has(namespaceName(ctx.prefix, 'dhcp', id)))
      await attempt(`dhcp files ${id}`, () => unwireDhcp(ctx, id));
  const raDirs = await readdir(join(ctx.stateDir, 'ra')).catch(() => [] as string[]);
  for (const id of raDirs)
    if (!wanted.has(namespaceName(ctx.prefix, 'router', id)))
      await attempt(`router advertisement files ${id}`, () => unwireRouterRa(ctx.stateDir, id));
}
