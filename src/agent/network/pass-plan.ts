// Decides what a reconcile pass must do: the full convergence, or only the ports that changed on wired networks.
import type { DpPort, HostNetworkState } from './desired-state.ts';
import { dhcpPortOf, isLocalVmPort } from './wire-context.ts';

/** What changed on one wired network that an incremental pass handles. */
export interface NetworkDelta {
  /** Local VM ports to (re)wire: moved onto the bridge, MTU and admin state set. */
  wire: DpPort[];
  /** Local VM ports that left (deleted, unbound, or moved to another host): their devices are removed. */
  unwire: string[];
  /** The security-group/anti-spoofing tables must be rendered again (unchanged text is not reloaded). */
  tables: boolean;
  /** The DHCP hosts file must be rendered again (a port's MAC, addresses or name changed). */
  dhcpHosts: boolean;
}

export type PassPlan =
  | { kind: 'full'; reason: string }
  | { kind: 'incremental'; networks: Map<string, NetworkDelta> };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function byId<T extends { id: string }>(xs: T[]): Map<string, T> {
  return new Map(xs.map((x) => [x.id, x]));
}

/**
 * Compares the desired state with the one the last complete pass applied. Anything structural (networks, subnets,
 * routers, DHCP ports, router ports) needs the full pass; changes of VM ports (any host's: they feed DHCP hosts and
 * remote-group sets) and of security groups are incremental. `pending` are local VM ports that must be wired again
 * even if unchanged (not wired yet, or plugged again). `wired` are the networks whose namespace the last pass wired.
 */
export function planPass(
  prev: HostNetworkState | undefined,
  next: HostNetworkState,
  pending: ReadonlySet<string>,
  wired: ReadonlySet<string>,
): PassPlan {
  if (!prev) return { kind: 'full', reason: 'first pass' };
  if (!same(prev.networks, next.networks)) return { kind: 'full', reason: 'networks changed' };
  if (!same(prev.routers, next.routers)) return { kind: 'full', reason: 'routers changed' };
  for (const n of next.networks)
    if (!same(dhcpPortOf(prev, n.id), dhcpPortOf(next, n.id)))
      return { kind: 'full', reason: 'DHCP port changed' };

  const deltas = new Map<string, NetworkDelta>();
  const delta = (networkId: string) => {
    let d = deltas.get(networkId);
    if (!d) {
      d = { wire: [], unwire: [], tables: false, dhcpHosts: false };
      deltas.set(networkId, d);
    }
    return d;
  };
  const before = byId(prev.ports);
  const after = byId(next.ports);
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(id);
    const b = after.get(id);
    if (a && b && same(a, b)) {
      if (pending.has(id) && isLocalVmPort(b)) delta(b.networkId).wire.push(b);
      continue;
    }
    if ((a && isAgentOwned(a)) || (b && isAgentOwned(b)))
      return { kind: 'full', reason: 'agent port changed' };
    if (a && b && a.networkId !== b.networkId) return { kind: 'full', reason: 'port changed network' };
    const networkId = (b ?? a)?.networkId as string;
    if (!wired.has(networkId)) return { kind: 'full', reason: 'network not wired' };
    const d = delta(networkId);
    d.dhcpHosts = true;
    const wasLocal = !!a && isLocalVmPort(a);
    const isLocal = !!b && isLocalVmPort(b);
    if (wasLocal || isLocal) d.tables = true;
    if (b && isLocal) d.wire.push(b);
    else if (a && wasLocal) d.unwire.push(a.id);
  }
  if (!same(prev.securityGroups, next.securityGroups))
    for (const p of next.ports)
      if (isLocalVmPort(p) && p.securityGroupIds.length) delta(p.networkId).tables = true;
  for (const networkId of deltas.keys())
    if (!wired.has(networkId)) return { kind: 'full', reason: 'network not wired' };
  return { kind: 'incremental', networks: deltas };
}

/** DHCP, router and other network:* ports: their wiring belongs to the full pass. */
function isAgentOwned(p: DpPort): boolean {
  return p.deviceOwner.startsWith('network:');
}
