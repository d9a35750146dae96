// Ports as other areas create and delete them inside their own transactions (router interfaces and gateways,
// floating IP ports, DHCP ports, compute's ports): IPAM, MAC, security groups and hooks, without the HTTP layer.
// Implemented by the core area (ports); the signatures are the contract the L3 and compute areas build on.
import type { Change } from '../../../platform/db/writer.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';

/** The write's `record`: when given, the port's own feed event ('port' create/delete) is recorded too. */
export type RecordChange = (c: Change) => void;

export interface PortInput {
  projectId: string;
  networkId: string;
  name?: string;
  deviceId?: string;
  deviceOwner?: string;
  /**
   * Requested addresses: a subnet, an address, or both; absent: as Neutron, one address from the IPv4 subnets,
   * one from the stateful IPv6 subnets, and an EUI-64 address on each SLAAC/DHCPv6-stateless subnet.
   */
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

export type CreatePortFn = (
  cx: NetworkContext,
  trx: NetworkTrx,
  input: PortInput,
  record?: RecordChange,
) => Promise<CreatedPort>;
export type DeletePortFn = (
  cx: NetworkContext,
  trx: NetworkTrx,
  portId: string,
  record?: RecordChange,
) => Promise<void>;

let create: CreatePortFn | undefined;
let remove: DeletePortFn | undefined;

export function implementPortOps(c: CreatePortFn, d: DeletePortFn): void {
  create = c;
  remove = d;
}

/**
 * Creates a port inside the caller's write. Address races surface as unique violations: the caller's write
 * retries (see writeRetrying in domain/port-write.ts).
 */
export function createPortIn(
  cx: NetworkContext,
  trx: NetworkTrx,
  input: PortInput,
  record?: RecordChange,
): Promise<CreatedPort> {
  if (!create) throw new Error('port operations are not implemented yet');
  return create(cx, trx, input, record);
}

/** Deletes a port and its IP allocations, running the portDeleted hooks; an absent port is success. */
export function deletePortIn(
  cx: NetworkContext,
  trx: NetworkTrx,
  portId: string,
  record?: RecordChange,
): Promise<void> {
  if (!remove) throw new Error('port operations are not implemented yet');
  return remove(cx, trx, portId, record);
}
