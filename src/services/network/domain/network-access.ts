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

/**
 * The RBAC facts one project's view needs: networks shared with it (by name or by '*'), networks it may use as
 * external (by name or '*'), and the external networks whose use is restricted to the projects their policies name.
 */
export interface RbacView {
  shared: Set<string>;
  external: Set<string>;
  /** External networks with access_as_external policies but none for '*': only named projects see them. */
  restrictedExternal?: Set<string>;
}

/** The stored policies (network_rbac_policies) as one project sees them. */
export async function storedRbacView(cx: NetworkContext, projectId: string): Promise<RbacView> {
  const rows = await cx.db
    .selectFrom('network_rbac_policies')
    .select(['object_id', 'action', 'target_project'])
    .where('object_type', '=', 'network')
    .where((eb) =>
      eb.or([eb('target_project', 'in', [projectId, '*']), eb('action', '=', 'access_as_external')]),
    )
    .execute();
  const shared = new Set<string>();
  const external = new Set<string>();
  const withExternalPolicy = new Set<string>();
  const wildcardExternal = new Set<string>();
  for (const r of rows) {
    if (r.action === 'access_as_external') {
      withExternalPolicy.add(r.object_id);
      if (r.target_project === '*') wildcardExternal.add(r.object_id);
    }
    if (r.target_project !== projectId && r.target_project !== '*') continue;
    if (r.action === 'access_as_shared') shared.add(r.object_id);
    else if (r.action === 'access_as_external') external.add(r.object_id);
  }
  const restrictedExternal = new Set([...withExternalPolicy].filter((id) => !wildcardExternal.has(id)));
  return { shared, external, restrictedExternal };
}

let rbac: RbacLookup | undefined;

/** Replaces the stored-policy lookup (tests, or another policy store). */
export function setRbacLookup(fn: RbacLookup): void {
  rbac = fn;
}

export interface NetworkAccess {
  /** Whether the caller may see this network. */
  visible(n: NetworksTable): boolean;
  /** Whether it is shared with the caller's project (shared flag or RBAC). */
  sharedWithCaller(n: NetworksTable): boolean;
  /** Whether the caller may use it as an external network (router gateways, floating IPs). */
  externalForCaller(n: NetworksTable): boolean;
}

export async function networkAccess(cx: NetworkContext, caller: Caller): Promise<NetworkAccess> {
  let view: RbacView | undefined;
  if (!caller.isAdmin && caller.projectId)
    view = rbac ? await rbac(cx, caller.projectId) : await storedRbacView(cx, caller.projectId);
  const shared = (n: NetworksTable) => n.shared === 1 || (view?.shared.has(n.id) ?? false);
  // An external network without any access_as_external policy predates them: everyone may use it.
  const external = (n: NetworksTable) =>
    n.router_external === 1 &&
    (caller.isAdmin ||
      n.project_id === caller.projectId ||
      (view?.external.has(n.id) ?? false) ||
      !(view?.restrictedExternal?.has(n.id) ?? false));
  return {
    visible: (n) => caller.isAdmin || n.project_id === caller.projectId || shared(n) || external(n),
    sharedWithCaller: shared,
    externalForCaller: external,
  };
}
