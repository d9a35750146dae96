// The security groups a port carries (the security area implements it; ports call it on create, update, delete).
import type { NetworkContext, NetworkTrx } from '../context.ts';

export interface PortSecurityGroupOps {
  /**
   * Sets a port's groups: `requested` ids (each must exist and be usable by the project → 404
   * SecurityGroupNotFound), or undefined for the project's default group (created on first use).
   * Returns the ids bound. Optional: `deviceOwner` (network:* and neutron:* ports carry no groups, as Neutron's
   * trusted ports), `isAdmin` (an admin request may name any project's groups) and `created` (a port made in this
   * transaction, with no bindings to replace).
   */
  bind(
    cx: NetworkContext,
    trx: NetworkTrx,
    port: { id: string; projectId: string; deviceOwner?: string; isAdmin?: boolean; created?: boolean },
    requested: string[] | undefined,
  ): Promise<string[]>;
  /** The groups of many ports. */
  groupsOf(
    cx: NetworkContext,
    db: NetworkContext['db'] | NetworkTrx,
    portIds: string[],
  ): Promise<Map<string, string[]>>;
  /** Drops a port's bindings. */
  unbind(cx: NetworkContext, trx: NetworkTrx, portId: string): Promise<void>;
}

let ops: PortSecurityGroupOps = {
  async bind() {
    return [];
  },
  async groupsOf() {
    return new Map();
  },
  async unbind() {},
};

export function implementPortSecurityGroups(impl: PortSecurityGroupOps): void {
  ops = impl;
}

export function portSecurityGroups(): PortSecurityGroupOps {
  return ops;
}
