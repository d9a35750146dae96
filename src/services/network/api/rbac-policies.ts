// /v2.0/rbac-policies: network RBAC entries (access_as_shared, access_as_external) with Neutron's checks — only
// a network's owner (or an admin) shares it, '*' needs admin, access still in use cannot be withdrawn.
import { isUniqueViolation } from '../../../platform/db/errors.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { networkAccess } from '../domain/network-access.ts';
import { countQuotaIn, enforceQuota } from '../domain/quota-check.ts';
import {
  ACCESS_EXTERNAL,
  ACCESS_SHARED,
  callbackFailure,
  ensureNoPortsDependOn,
  ensureNoRoutersDependOn,
  NETWORK_RBAC_ACTIONS,
  policiesOf,
  rbacPolicyInUse,
  syncNetworkFlags,
} from '../domain/rbac-policies.ts';
import { allows } from '../domain/rbac-rules.ts';
import { conflict, invalidInput, notFound } from '../errors.ts';
import type { NetworksTable } from '../store/tables-core.ts';
import type { RbacPoliciesTable } from '../store/tables-misc.ts';
import { callerOf, targetOf } from './common.ts';
import { listBody, parseListQuery } from './listing.ts';
import {
  type Caller,
  ConvertError,
  isUuid,
  maxLen,
  parseCreate,
  parseUpdate,
  type ResourceSpec,
  showBody,
  view,
} from './resource.ts';

countQuotaIn('rbac_policy', 'network_rbac_policies');

/** The RBAC object types this service implements. */
const OBJECT_TYPES = ['network'];

function toObjectType(v: unknown): string {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : undefined;
  if (s !== undefined && OBJECT_TYPES.includes(s)) return s;
  throw new ConvertError(`'${v === null ? 'None' : String(v)}' is not a valid RBAC object type`);
}

export const rbacPolicySpec: ResourceSpec = {
  member: 'rbac_policy',
  collection: 'rbac_policies',
  bulk: true,
  attrs: {
    id: { post: false, put: false },
    object_type: { post: true, put: false, default: null, convert: toObjectType },
    object_id: { post: true, put: false, validate: isUuid },
    target_tenant: { post: true, put: true, validate: maxLen(255) },
    tenant_id: { post: true, put: false, validate: maxLen(255) },
    project_id: { post: true, put: false, validate: maxLen(255) },
    action: { post: true, put: false, validate: maxLen(255) },
  },
};

export function renderRbacPolicy(p: RbacPoliciesTable): Record<string, unknown> {
  return {
    id: p.id,
    project_id: p.project_id,
    tenant_id: p.project_id,
    object_type: p.object_type,
    object_id: p.object_id,
    action: p.action,
    target_tenant: p.target_project,
  };
}

function rbacPolicyNotFound(id: string): ApiError {
  return notFound('RbacPolicyNotFound', `RBAC policy of type unknown with ID ${id} not found`);
}

function duplicate(): ApiError {
  return conflict('DuplicateRbacPolicy', 'An RBAC policy already exists with those values.');
}

function invalidActionForType(action: string): ApiError {
  return new ApiError(
    400,
    'InvalidActionForType',
    `Invalid action '${action}' for object type 'network'. Valid actions: ('${NETWORK_RBAC_ACTIONS.join("', '")}')`,
  );
}

const CHECK_SHARED = 'validate_network_rbac_policy_change';
const CHECK_EXTERNAL = '_process_ext_policy_create';
const NOT_OWNER =
  'Invalid input for operation: Only admins can manipulate policies on networks they do not own.';

/** A policy the caller may see (its own project's, or any for an admin), else RbacPolicyNotFound. */
async function findVisible(cx: NetworkContext, ctx: RouteContext, id: string): Promise<RbacPoliciesTable> {
  const row = await cx.db
    .selectFrom('network_rbac_policies')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  const caller = callerOf(ctx);
  if (!row || (!caller.isAdmin && row.project_id !== caller.projectId)) throw rbacPolicyNotFound(id);
  if (!allows(ctx, 'get_rbac_policy', targetOf(renderRbacPolicy(row)), 'admin_or_owner'))
    throw rbacPolicyNotFound(id);
  return row;
}

async function loadNetwork(trx: NetworkTrx, id: string): Promise<NetworksTable | undefined> {
  return trx.selectFrom('network_networks').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The BEFORE_CREATE checks (outside the write: visibility reads the database): the network exists for the caller
 * and the caller owns it (or is admin). Invalid actions skip them, as Neutron's callbacks do.
 */
async function checkCreate(cx: NetworkContext, caller: Caller, v: Record<string, unknown>): Promise<void> {
  const action = String(v['action']);
  if (!(NETWORK_RBAC_ACTIONS as readonly string[]).includes(action)) return;
  const check = action === ACCESS_SHARED ? CHECK_SHARED : CHECK_EXTERNAL;
  const id = String(v['object_id']);
  const net = await cx.db.selectFrom('network_networks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!net || !(await networkAccess(cx, caller)).visible(net))
    throw invalidInput(callbackFailure(check, `Network ${id} could not be found.`));
  if (!caller.isAdmin && net.project_id !== caller.projectId)
    throw invalidInput(callbackFailure(check, NOT_OWNER));
}

async function createPolicies(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const { items, bulk } = parseCreate(rbacPolicySpec, caller, ctx.body);
  for (const { values: v } of items) {
    const target = targetOf(v);
    ctx.authorize('create_rbac_policy', target);
    if (v['target_tenant'] === '*') ctx.authorize('create_rbac_policy:target_tenant', target);
    if (v['object_type'] === null) throw invalidInput(`'None' is not a valid RBAC object type`);
  }
  for (const { values: v } of items) await checkCreate(cx, caller, v);
  let rows: RbacPoliciesTable[] = [];
  try {
    rows = await cx.write(async (trx, record) => {
      const out: RbacPoliciesTable[] = [];
      for (const { values: v } of items) {
        await enforceQuota(cx, trx, v['project_id'], 'rbac_policy');
        const action = String(v['action']);
        if (!(NETWORK_RBAC_ACTIONS as readonly string[]).includes(action)) throw invalidActionForType(action);
        const net = await loadNetwork(trx, v['object_id']);
        if (!net)
          throw invalidInput(callbackFailure(CHECK_SHARED, `Network ${v['object_id']} could not be found.`));
        const row: RbacPoliciesTable = {
          id: cx.ids.uuid(),
          project_id: v['project_id'],
          object_type: 'network',
          object_id: net.id,
          action,
          target_project: v['target_tenant'],
        };
        const same = await policiesOf(trx, net.id, action);
        if (same.some((p) => p.target_project === row.target_project)) throw duplicate();
        await trx.insertInto('network_rbac_policies').values(row).execute();
        const flags: { shared?: boolean; external?: boolean } = {};
        if (action === ACCESS_SHARED && row.target_project === '*') flags.shared = true;
        // Sharing a network as external makes it external (for the named projects only).
        if (action === ACCESS_EXTERNAL && net.router_external !== 1) flags.external = true;
        await syncNetworkFlags(cx, trx, net.id, flags);
        record({ kind: 'rbac_policy', id: row.id, action: 'create', projectId: row.project_id });
        record({ kind: 'network', id: net.id, action: 'update', projectId: net.project_id });
        out.push(row);
      }
      return out;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate();
    throw e;
  }
  const views = rows.map((r) => view(ctx, rbacPolicySpec, renderRbacPolicy(r)));
  return bulk
    ? { status: 201, body: { rbac_policies: views } }
    : { status: 201, body: { rbac_policy: views[0] } };
}

/**
 * The BEFORE_UPDATE / BEFORE_DELETE checks: the project losing access (the old target) must not depend on it.
 * `newTarget` is the update's target; undefined for a delete.
 */
async function checkWithdraw(
  trx: NetworkTrx,
  caller: Caller,
  policy: RbacPoliciesTable,
  net: NetworksTable,
  newTarget: string | undefined,
): Promise<void> {
  if (newTarget !== undefined && newTarget === policy.target_project) return;
  if (policy.action === ACCESS_SHARED) {
    if (newTarget !== undefined && !caller.isAdmin && net.project_id !== caller.projectId)
      throw rbacPolicyInUse(net.id, callbackFailure(CHECK_SHARED, NOT_OWNER));
    if (policy.target_project === net.project_id) return;
    try {
      await ensureNoPortsDependOn(trx, net, policy.target_project, policy.id);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'InvalidSharedSetting')
        throw rbacPolicyInUse(net.id, callbackFailure(CHECK_SHARED, e.message));
      throw e;
    }
    return;
  }
  await ensureNoRoutersDependOn(trx, net, policy.target_project, policy.id, newTarget);
}

async function updatePolicy(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const item = parseUpdate(rbacPolicySpec, caller, ctx.body);
  const before = await findVisible(cx, ctx, ctx.params['id']!);
  const target = targetOf({ ...renderRbacPolicy(before), ...item.values });
  ctx.authorize('update_rbac_policy', target);
  const newTarget = item.values['target_tenant'] as string | undefined;
  if (newTarget === '*') ctx.authorize('update_rbac_policy:target_tenant', target);
  let row: RbacPoliciesTable;
  try {
    row = await cx.write(async (trx, record) => {
      const cur = await trx
        .selectFrom('network_rbac_policies')
        .selectAll()
        .where('id', '=', before.id)
        .executeTakeFirst();
      if (!cur) throw rbacPolicyNotFound(before.id);
      if (newTarget === undefined || newTarget === cur.target_project) return cur;
      const net = await loadNetwork(trx, cur.object_id);
      if (!net) throw rbacPolicyNotFound(cur.id);
      await checkWithdraw(trx, caller, cur, net, newTarget);
      const same = await policiesOf(trx, net.id, cur.action);
      if (same.some((p) => p.target_project === newTarget)) throw duplicate();
      await trx
        .updateTable('network_rbac_policies')
        .set({ target_project: newTarget })
        .where('id', '=', cur.id)
        .execute();
      if (cur.action === ACCESS_SHARED && (cur.target_project === '*' || newTarget === '*'))
        await syncNetworkFlags(cx, trx, net.id, { shared: newTarget === '*' });
      else await syncNetworkFlags(cx, trx, net.id, {});
      record({ kind: 'rbac_policy', id: cur.id, action: 'update', projectId: cur.project_id });
      record({ kind: 'network', id: net.id, action: 'update', projectId: net.project_id });
      return { ...cur, target_project: newTarget };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate();
    throw e;
  }
  return { body: { rbac_policy: view(ctx, rbacPolicySpec, renderRbacPolicy(row)) } };
}

async function deletePolicy(cx: NetworkContext, ctx: RouteContext) {
  const caller = callerOf(ctx);
  const before = await findVisible(cx, ctx, ctx.params['id']!);
  ctx.authorize('delete_rbac_policy', targetOf(renderRbacPolicy(before)));
  await cx.write(async (trx, record) => {
    const cur = await trx
      .selectFrom('network_rbac_policies')
      .selectAll()
      .where('id', '=', before.id)
      .executeTakeFirst();
    if (!cur) throw rbacPolicyNotFound(before.id);
    const net = await loadNetwork(trx, cur.object_id);
    if (net) await checkWithdraw(trx, caller, cur, net, undefined);
    await trx.deleteFrom('network_rbac_policies').where('id', '=', cur.id).execute();
    if (net) {
      const flags: { shared?: boolean; external?: boolean } = {};
      if (cur.action === ACCESS_SHARED && cur.target_project === '*') flags.shared = false;
      // The last access_as_external entry gone: the network is no longer external.
      if (cur.action === ACCESS_EXTERNAL && (await policiesOf(trx, net.id, ACCESS_EXTERNAL)).length === 0) {
        const gw = await trx
          .selectFrom('network_ports')
          .select('id')
          .where('network_id', '=', net.id)
          .where('device_owner', '=', 'network:router_gateway')
          .executeTakeFirst();
        if (gw)
          throw conflict(
            'ExternalNetworkInUse',
            `External network ${net.id} cannot be updated to be made non-external, since it has existing gateway ports.`,
          );
        flags.external = false;
      }
      await syncNetworkFlags(cx, trx, net.id, flags);
      record({ kind: 'network', id: net.id, action: 'update', projectId: net.project_id });
    }
    record({ kind: 'rbac_policy', id: cur.id, action: 'delete', projectId: cur.project_id });
  });
  return { status: 204 };
}

export function rbacPolicyRoutes(cx: NetworkContext): Route[] {
  const base = '/network/v2.0/rbac-policies';
  return [
    { method: 'POST', path: base, handler: (ctx) => createPolicies(cx, ctx) },
    {
      method: 'GET',
      path: base,
      async handler(ctx) {
        const q = parseListQuery(ctx, rbacPolicySpec);
        const caller = callerOf(ctx);
        let query = cx.db.selectFrom('network_rbac_policies').selectAll();
        if (!caller.isAdmin) query = query.where('project_id', '=', caller.projectId ?? '');
        const rows = (await query.orderBy('id').execute())
          .map(renderRbacPolicy)
          .filter((r) => allows(ctx, 'get_rbac_policy', targetOf(r), 'admin_or_owner'));
        return listBody(ctx, rbacPolicySpec, rows, q);
      },
    },
    {
      method: 'GET',
      path: `${base}/:id`,
      async handler(ctx) {
        const row = await findVisible(cx, ctx, ctx.params['id']!);
        return showBody(ctx, rbacPolicySpec, renderRbacPolicy(row));
      },
    },
    { method: 'PUT', path: `${base}/:id`, handler: (ctx) => updatePolicy(cx, ctx) },
    { method: 'DELETE', path: `${base}/:id`, handler: (ctx) => deletePolicy(cx, ctx) },
  ];
}
