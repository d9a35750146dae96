// The incremental pass on a wired network: only the VM ports that changed, the filter tables, the DHCP hosts file.
import { existsSync } from 'node:fs';
import type { DpNetwork } from './desired-state.ts';
import { ip, isMissing } from './linux/exec.ts';
import { deleteLink, moveLink } from './linux/links.ts';
import { BRIDGE, namespaceName } from './naming.ts';
import type { NetworkDelta } from './pass-plan.ts';
import { isLocalVmPort, type WireContext } from './wire-context.ts';
import { refreshDhcpHosts } from './wire-dhcp.ts';
import { applySecurity } from './wire-security.ts';

/** True when a device of that name is in the agent's own namespace (its sysfs; no process spawned). */
export function inRootNamespace(device: string): boolean {
  return /^[\w.:-]{1,15}$/.test(device) && existsSync(`/sys/class/net/${device}`);
}

/**
 * Applies a network's delta; returns the ports now on the bridge and up, and the ones without a device. Throws
 * (the agent then runs a full pass) when something it expects to be there is not, e.g. a dead dnsmasq.
 */
export async function wirePortsDelta(
  ctx: WireContext,
  network: DpNetwork,
  delta: NetworkDelta,
  servesDhcp: boolean,
): Promise<{ wired: string[]; unwired: string[] }> {
  const ns = namespaceName(ctx.prefix, 'network', network.id);
  for (const id of delta.unwire) await deleteLink(ns, ctx.deviceOf(id));
  const vmPorts = ctx.state.ports.filter((p) => p.networkId === network.id && isLocalVmPort(p));
  // Devices move into the namespace while the filters load; they join the bridge only once both are done, so a
  // port is never on the bridge before its rules are.
  await Promise.all([
    delta.tables || delta.wire.length ? applySecurity(ctx, ns, vmPorts) : undefined,
    ...delta.wire.map(async (port) => {
      const dev = ctx.deviceOf(port.id);
      if (inRootNamespace(dev))
        await moveLink(undefined, dev, ns).catch((err: unknown) => {
          if (!isMissing(err)) throw err;
        });
    }),
  ]);
  const results = await Promise.all(
    delta.wire.map(async (port) => {
      const dev = ctx.deviceOf(port.id);
      const state = port.adminStateUp ? 'up' : 'down';
      const args = ['link', 'set', 'dev', dev, 'master', BRIDGE, 'mtu', String(network.mtu), state];
      const ok = await ip(ns, args).then(
        () => true,
        (err: unknown) => {
          if (isMissing(err)) return false;
          throw err;
        },
      );
      return { port, ok };
    }),
  );
  if (delta.dhcpHosts && servesDhcp) await refreshDhcpHosts(ctx, network);
  return {
    wired: results.filter((r) => r.ok && r.port.adminStateUp).map((r) => r.port.id),
    unwired: [...delta.unwire, ...results.filter((r) => !r.ok || !r.port.adminStateUp).map((r) => r.port.id)],
  };
}
