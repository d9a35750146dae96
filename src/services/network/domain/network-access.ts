// Who may see a network: its project, admins, everyone when shared or external, and projects an RBAC policy
// names. Neutron decides this in its database layer; every resource that hangs off a network asks here.

import type { Caller } from '../api/resource.ts';
import type { NetworkContext } from '../context.ts';
import type { NetworksTable } from '../store/tables-core.ts';

/** Extra projects a network is shared with (RBAC access_as_shared / access_as_external); set by the RBAC area. */
export type RbacLookup = (
  cx: NetworkContext,
  projectId: string,
) => Promise<{ shared: Set<string>; external: Set<string> }>;

let rbac: RbacLookup | undefined;

export function setRbacLookup(fn: RbacLookup): void {
  rbac = fn;
}

export interface NetworkAccess {
  /** Whether the caller may see this network. */
  visible(n: NetworksTable): boolean;
  /** Whether it is shared with the caller's project (shared flag or RBAC). */
  sharedWithCaller(n: NetworksTable): boolean;
}

export async function networkAccess(cx: NetworkContext, caller: Caller): Promise<NetworkAccess> {
  const extra = rbac && caller.projectId ? await rbac(cx, caller.projectId) : undefined;
  const shared = (n: NetworksTable) => n.shared === 1 || (extra?.shared.has(n.id) ?? false);
  return {
    visible: (n) =>
      caller.isAdmin ||
      n.project_id === caller.projectId ||
      shared(n) ||
      n.router_external === 1 ||
      (extra?.external.has(n.id) ?? false),
    sharedWithCaller: shared,
  };
}
