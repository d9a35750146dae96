// Network RBAC policies as Neutron's database layer keeps them: the '*' entries behind a network's shared and
// router:external flags, the checks that keep a project from losing access it still depends on, and cleanup.
import type { ApiError } from '../../../platform/errors.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { conflict } from '../errors.ts';
import type { NetworksTable } from '../store/tables-core.ts';
import type { RbacPoliciesTable } from '../store/tables-misc.ts';
import { hooks } from './hooks.ts';

export const ACCESS_SHARED = 'access_as_shared';
export const ACCESS_EXTERNAL = 'access_as_external';
export const NETWORK_RBAC_ACTIONS = [ACCESS_SHARED, ACCESS_EXTERNAL] as const;
const ROUTER_GATEWAY = 'network:router_gateway';

export type NetworkRef = Pick<NetworksTable, 'id' | 'project_id' | 'name'>;

export function invalidSharedSetting(network: string): ApiError {
  return conflict(
    'InvalidSharedSetting',
    `Unable to reconfigure sharing settings for network ${network}. Multiple tenants are using it.`,
  );
}

function externalNetworkInUse(netId: string): ApiError {
  return conflict(
    'ExternalNetworkInUse',
    `External network ${netId} cannot be updated to be made non-external, since it has existing gateway ports.`,
  );
}

/** RbacPolicyInUse, with the refusing check's message as Neutron's callback failure renders it. */
export function rbacPolicyInUse(objectId: string, details: string): ApiError {
  return conflict(
    'RbacPolicyInUse',
    `RBAC policy on object ${objectId} cannot be removed because other objects depend on it.\nDetails: ${details}`,
  );
}

/** How Neutron's callback registry words a check that failed inside an RBAC operation. */
export function callbackFailure(check: string, message: string): string {
  return `Callback neutron.plugins.ml2.plugin.Ml2Plugin.${check} failed with "${message}"`;
}

export async function policiesOf(
  trx: NetworkTrx,
  networkId: string,
  action?: string,
): Promise<RbacPoliciesTable[]> {
  let q = trx
    .selectFrom('network_rbac_policies')
    .selectAll()
    .where('object_type', '=', 'network')
    .where('object_id', '=', networkId);
  if (action) q = q.where('action', '=', action);
  return q.execute();
}

/** Adds a policy unless that (network, action, target) entry exists; returns whether it was added. */
export async function addNetworkPolicy(
  cx: NetworkContext,
  trx: NetworkTrx,
  network: Pick<NetworksTable, 'id' | 'project_id'>,
  action: string,
  target: string,
): Promise<boolean> {
  const existing = await trx
    .selectFrom('network_rbac_policies')
    .select('id')
    .where('object_type', '=', 'network')
    .where('object_id', '=', network.id)
    .where('action', '=', action)
    .where('target_project', '=', target)
    .executeTakeFirst();
  if (existing) return false;
  await trx
    .insertInto('network_rbac_policies')
    .values({
      id: cx.ids.uuid(),
      project_id: network.project_id,
      object_type: 'network',
      object_id: network.id,
      action,
      target_project: target,
    })
    .execute();
  return true;
}

/** Projects holding ports on the network (all ports, or without network:* device owners). */
async function portProjects(
  trx: NetworkTrx,
  networkId: string,
  skipNetworkOwners: boolean,
): Promise<Set<string>> {
  let q = trx.selectFrom('network_ports').select('project_id').distinct().where('network_id', '=', networkId);
  if (skipNetworkOwners) q = q.where('device_owner', 'not like', 'network:%');
  return new Set((await q.execute()).map((r) => r.project_id));
}

/**
 * Neutron's ensure_no_tenant_ports_on_network: `target` ('*' or a project) is about to lose access; refuse when a
 * project that would be left without access still has ports on the network.
 */
export async function ensureNoPortsDependOn(
  trx: NetworkTrx,
  network: NetworkRef,
  target: string,
  ignorePolicyId?: string,
): Promise<void> {
  const shared = (await policiesOf(trx, network.id, ACCESS_SHARED)).filter((p) => p.id !== ignorePolicyId);
  const projects = await portProjects(trx, network.id, false);
  if (target === '*') {
    const allowed = new Set(shared.filter((p) => p.target_project !== '*').map((p) => p.target_project));
    allowed.add(network.project_id);
    if ([...projects].some((p) => !allowed.has(p))) throw invalidSharedSetting(network.id);
    return;
  }
  if (shared.some((p) => p.target_project === '*')) return;
  if (projects.has(target)) throw invalidSharedSetting(network.id);
}

/**
 * Neutron's _validate_ext_not_in_use_by_tenant: an access_as_external entry for `target` is going (or retargeted
 * to `newTarget`); refuse while routers of projects left without access use the network as their gateway.
 */
export async function ensureNoRoutersDependOn(
  trx: NetworkTrx,
  network: NetworkRef & { is_default?: number },
  target: string,
  ignorePolicyId: string,
  newTarget?: string,
): Promise<void> {
  const routers = await trx
    .selectFrom('network_routers')
    .innerJoin('network_ports', 'network_ports.id', 'network_routers.gw_port_id')
    .select('network_routers.project_id')
    .where('network_ports.network_id', '=', network.id)
    .execute();
  const external = (await policiesOf(trx, network.id, ACCESS_EXTERNAL)).filter(
    (p) => p.id !== ignorePolicyId,
  );
  const inUse = (): never => {
    throw rbacPolicyInUse(
      network.id,
      callbackFailure(
        '_validate_ext_not_in_use_by_tenant',
        'There are routers attached to this network that depend on this policy for access.',
      ),
    );
  };
  if (target !== '*') {
    if (external.some((p) => p.target_project === '*')) return;
    if (routers.some((r) => r.project_id === target)) inUse();
    return;
  }
  if (network.is_default === 1)
    throw rbacPolicyInUse(
      network.id,
      callbackFailure(
        '_validate_ext_not_in_use_by_tenant',
        'Default external networks must be shared to everyone.',
      ),
    );
  const allowed = new Set(external.map((p) => p.target_project));
  if (newTarget) allowed.add(newTarget);
  allowed.add(network.project_id);
  if (routers.some((r) => !allowed.has(r.project_id))) inUse();
}

/** The '*' policies of a network just created shared and/or external (call after inserting its row). */
export async function networkCreatedSharing(
  cx: NetworkContext,
  trx: NetworkTrx,
  network: Pick<NetworksTable, 'id' | 'project_id' | 'shared' | 'router_external'>,
): Promise<void> {
  if (network.shared === 1) await addNetworkPolicy(cx, trx, network, ACCESS_SHARED, '*');
  if (network.router_external === 1) await addNetworkPolicy(cx, trx, network, ACCESS_EXTERNAL, '*');
}

/**
 * A network update that sets `shared` and/or `router:external` (call before updating its row, which keeps its
 * own columns): adds or removes the '*' policies, refusing (InvalidSharedSetting, ExternalNetworkInUse) what
 * would cut off projects that use the network.
 */
export async function networkSharingUpdate(
  cx: NetworkContext,
  trx: NetworkTrx,
  before: NetworksTable,
  change: { shared?: boolean; external?: boolean },
): Promise<void> {
  if (change.shared !== undefined) {
    const wildcard = (await policiesOf(trx, before.id, ACCESS_SHARED)).find((p) => p.target_project === '*');
    if (change.shared && !wildcard) await addNetworkPolicy(cx, trx, before, ACCESS_SHARED, '*');
    if (!change.shared && (wildcard || before.shared === 1)) {
      // Projects with ports (other than the network's own service ports) or subnets here need their own entry.
      const projects = await portProjects(trx, before.id, true);
      const subnets = await trx
        .selectFrom('network_subnets')
        .select('project_id')
        .where('network_id', '=', before.id)
        .execute();
      for (const s of subnets) projects.add(s.project_id);
      const named = (await policiesOf(trx, before.id, ACCESS_SHARED))
        .filter((p) => p.target_project !== '*')
        .map((p) => p.target_project);
      const allowed = new Set([...named, before.project_id]);
      if ([...projects].some((p) => !allowed.has(p))) throw invalidSharedSetting(before.name);
      if (wildcard) await trx.deleteFrom('network_rbac_policies').where('id', '=', wildcard.id).execute();
    }
  }
  if (change.external !== undefined && change.external !== (before.router_external === 1)) {
    if (change.external) {
      await addNetworkPolicy(cx, trx, before, ACCESS_EXTERNAL, '*');
    } else {
      const gw = await trx
        .selectFrom('network_ports')
        .select('id')
        .where('network_id', '=', before.id)
        .where('device_owner', '=', ROUTER_GATEWAY)
        .executeTakeFirst();
      if (gw) throw externalNetworkInUse(before.id);
      await trx
        .deleteFrom('network_rbac_policies')
        .where('object_type', '=', 'network')
        .where('object_id', '=', before.id)
        .where('action', '=', ACCESS_EXTERNAL)
        .execute();
    }
  }
}

/** A network's row after one of its policies changed: flags follow the '*' entries, revision goes up. */
export async function syncNetworkFlags(
  cx: NetworkContext,
  trx: NetworkTrx,
  networkId: string,
  flags: { shared?: boolean; external?: boolean },
): Promise<void> {
  const cur = await trx
    .selectFrom('network_networks')
    .select(['revision_number', 'project_id'])
    .where('id', '=', networkId)
    .executeTakeFirst();
  if (!cur) return;
  const set: { shared?: number; router_external?: number } = {};
  if (flags.shared !== undefined) set.shared = flags.shared ? 1 : 0;
  if (flags.external !== undefined) set.router_external = flags.external ? 1 : 0;
  await trx
    .updateTable('network_networks')
    .set({ ...set, revision_number: cur.revision_number + 1, updated_at: cx.nowIso() })
    .where('id', '=', networkId)
    .execute();
}

// A deleted network takes its policies with it (Neutron's ON DELETE CASCADE).
hooks.networkDeleted.push(async (_cx, trx, network) => {
  await trx
    .deleteFrom('network_rbac_policies')
    .where('object_type', '=', 'network')
    .where('object_id', '=', network.id)
    .execute();
});
