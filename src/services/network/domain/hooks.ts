// Cross-area hooks: what one area must check or do when another area's resource changes (a port delete
// disassociates its floating IPs, a subnet with a router interface cannot go, …). Areas push into these at load.
import type { NetworkContext, NetworkTrx } from '../context.ts';

/** A port row as hooks see it (the columns every area needs). */
export interface PortRef {
  id: string;
  project_id: string;
  network_id: string;
  device_id: string;
  device_owner: string;
}

export type PortHook = (cx: NetworkContext, trx: NetworkTrx, port: PortRef) => Promise<void>;
export type SubnetHook = (
  cx: NetworkContext,
  trx: NetworkTrx,
  subnet: { id: string; network_id: string },
) => Promise<void>;
export type NetworkHook = (
  cx: NetworkContext,
  trx: NetworkTrx,
  network: { id: string; project_id: string },
) => Promise<void>;

export const hooks = {
  /** Before a port is deleted through the API (may throw 409), e.g. router interface ports. */
  portDeleteChecks: [] as PortHook[],
  /** While a port is deleted (any path): release what hangs off it (floating IPs, SG bindings, …). */
  portDeleted: [] as PortHook[],
  /** Before a subnet is deleted (may throw SubnetInUse), e.g. router interfaces on it. */
  subnetDeleteChecks: [] as SubnetHook[],
  /** Before a network is deleted (may throw NetworkInUse). */
  networkDeleteChecks: [] as NetworkHook[],
  /** While a network is deleted: drop RBAC policies and anything else keyed on it. */
  networkDeleted: [] as NetworkHook[],
};
