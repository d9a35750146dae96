// Ports as other areas create and delete them inside their own transactions (router interfaces and gateways,
// floating IP ports, DHCP ports, compute's ports): IPAM, MAC, security groups and hooks, without the HTTP layer.
// Implemented by the core area (ports); the signatures are the contract the L3 and compute areas build on.
import type { NetworkContext, NetworkTrx } from '../context.ts';

export interface PortInput {
  projectId: string;
  networkId: string;
  name?: string;
  deviceId?: string;
  deviceOwner?: string;
  /** Requested addresses: a subnet, an address, or both; absent: one address from each IPv4 subnet (and SLAAC). */
  fixedIps?: { subnetId?: string; ipAddress?: string }[];
  macAddress?: string;
  adminStateUp?: boolean;
  /** Security group ids; absent: the project's default group (none for network:* owners). */
  securityGroups?: string[];
  portSecurityEnabled?: boolean;
  hostId?: string;
}

/** The created port's id, MAC and addresses. */
export interface CreatedPort {
  id: string;
  macAddress: string;
  fixedIps: { subnetId: string; ipAddress: string }[];
}

export type CreatePortFn = (cx: NetworkContext, trx: NetworkTrx, input: PortInput) => Promise<CreatedPort>;
export type DeletePortFn = (cx: NetworkContext, trx: NetworkTrx, portId: string) => Promise<void>;

let create: CreatePortFn | undefined;
let remove: DeletePortFn | undefined;

export function implementPortOps(c: CreatePortFn, d: DeletePortFn): void {
  create = c;
  remove = d;
}

export function createPortIn(cx: NetworkContext, trx: NetworkTrx, input: PortInput): Promise<CreatedPort> {
  if (!create) throw new Error('port operations are not implemented yet');
  return create(cx, trx, input);
}

/** Deletes a port and its IP allocations, running the portDeleted hooks; an absent port is success. */
export function deletePortIn(cx: NetworkContext, trx: NetworkTrx, portId: string): Promise<void> {
  if (!remove) throw new Error('port operations are not implemented yet');
  return remove(cx, trx, portId);
}
