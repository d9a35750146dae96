// /v2.0/ports: create (bulk), list (fixed_ips and other filters), show, update (addresses, groups, pairs,
// binding, port security), delete (portDeleteChecks hooks) and tags.
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext } from '../context.ts';
import { hooks } from '../domain/hooks.ts';
import {
  createPort,
  deletePort,
  macInUse,
  type NewPort,
  type PortCreated,
  portSecurityRequiredForGroups,
  portSecurityRequiredForPairs,
} from '../domain/port-create.ts';
import { updatePortIps } from '../domain/port-ips.ts';
import { portSecurityGroups } from '../domain/port-security-groups.ts';
import { setPortStatus } from '../domain/port-status.ts';
import { writeRetrying } from '../domain/port-write.ts';
import { countQuotaIn, enforceQuota } from '../domain/quota-check.ts';
import { conflict } from '../errors.ts';
import type { NetworksTable, PortsTable } from '../store/tables-core.ts';
import { bool, callerOf, json, targetOf } from './common.ts';
import { listBody, parseListQuery } from './listing.ts';
import { findVisibleNetwork } from './networks.ts';
import {
  findVisiblePort,
  fixedIpsFilter,
  portNotFound,
  portSpec,
  portVisibility,
  renderPorts,
} from './ports-view.ts';
import {
  enforceAttrPolicies,
  type ParsedItem,
  parseCreate,
  parseUpdate,
  showBody,
  view,
} from './resource.ts';
import { checkRevision } from './standard-attrs.ts';
import type { TaggableResource } from './tags.ts';

countQuotaIn('port', 'network_ports');

function portTarget(item: Record<string, unknown>, network: NetworksTable): Record<string, unknown> {
  return targetOf(item, { 'network:tenant_id': network.project_id, 'network:shared': bool(network.shared) });
}

/** fixed_ips needs create_port:fixed_ips:ip_address / :subnet_id per entry. */
function authorizeFixedIps(
  ctx: RouteContext,
  action: 'create' | 'update',
  item: ParsedItem,
  target: Record<string, unknown>,
) {
  if (!item.explicit.has('fixed_ips')) return;
  for (const f of (item.values['fixed_ips'] ?? []) as Record<string, unknown>[]) {
    if (f['ip_address'] !== undefined) ctx.authorize(`${action}_port:fixed_ips:ip_address`, target);
    if (f['subnet_id'] !== undefined) ctx.authorize(`${action}_port:fixed_ips:subnet_id`, target);
  }
}

const fixedIpsOf = (v: unknown) =>
  v === undefined
    ? undefined
    : (v as Record<string, string>[]).map((f) => ({
        ...(f['subnet_id'] !== undefined ? { subnetId: f['subnet_id'] } : {}),
        ...(f['ip_address'] !== undefined ? { ipAddress: f['ip_address'] } : {}),
      }));

// biome-ignore lint/suspicious/noExplicitAny: parsed request values (converted and validated by the spec).
function newPort(v: Record<string, any>): NewPort {
  const np: NewPort = {
    projectId: v['project_id'],
    networkId: v['network_id'],
    name: v['name'],
    description: v['description'],
    adminStateUp: v['admin_state_up'],
    deviceId: v['device_id'],
    deviceOwner: v['device_owner'],
    hostId: v['binding:host_id'],
    vnicType: v['binding:vnic_type'],
    profile: v['binding:profile'],
  };
  if (v['mac_address'] !== undefined) np.macAddress = v['mac_address'];
  const fixed = fixedIpsOf(v['fixed_ips']);
  if (fixed) np.fixedIps = fixed;
  if (v['security_groups'] !== undefined) np.securityGroups = v['security_groups'];
  if (v['port_security_enabled'] !== undefined) np.portSecurityEnabled = v['port_security_enabled'];
  if (v['allowed_address_pairs'] !== undefined) np.allowedAddressPairs = v['allowed_address_pairs'];
  if (v['extra_dhcp_opts'] !== undefined) np.extraDhcpOpts = v['extra_dhcp_opts'];
  return np;
}

async function createPorts(cx: NetworkContext, ctx: RouteContext) {
  const { items, bulk } = parseCreate(portSpec, callerOf(ctx), ctx.body);
  for (const item of items) {
    const network = await findVisibleNetwork(cx, ctx, item.values['network_id']);
    const target = portTarget(item.values, network);
    ctx.authorize('create_port', target);
    enforceAttrPolicies(ctx, portSpec, 'create', item, target);
    authorizeFixedIps(ctx, 'create', item, target);
  }
  const created = await writeRetrying(cx, async (trx, record, attempt) => {
    const out: PortCreated[] = [];
    for (const item of items) {
      await enforceQuota(cx, trx, item.values['project_id'], 'port');
      out.push(await createPort(cx, trx, newPort(item.values), record, attempt));
    }
    return out;
  });
  const known = new Map(created.map((c) => [c.row.id, c]));
  const views = (
    await renderPorts(
      cx,
      cx.db,
      created.map((c) => c.row),
      known,
    )
  ).map((p) => view(ctx, portSpec, p));
  return bulk ? { status: 201, body: { ports: views } } : { status: 201, body: { port: views[0] } };
}

async function updatePort(cx: NetworkContext, ctx: RouteContext) {
  const item = parseUpdate(portSpec, callerOf(ctx), ctx.body);
  const { port: before, network } = await findVisiblePort(cx, ctx, ctx.params['id']!);
  const shown = (await renderPorts(cx, cx.db, [before]))[0]!;
  const target = portTarget({ ...shown, ...item.values }, network);
  ctx.authorize('update_port', portTarget(shown, network));
  enforceAttrPolicies(ctx, portSpec, 'update', item, target);
  authorizeFixedIps(ctx, 'update', item, target);
  checkRevision(ctx, before.revision_number);
  const v = item.values;
  const row = await writeRetrying(cx, async (trx, record, attempt) => {
    const cur = await trx
      .selectFrom('network_ports')
      .selectAll()
      .where('id', '=', before.id)
      .executeTakeFirst();
    if (!cur) throw portNotFound(before.id);
    const set: Partial<PortsTable> = {};
    for (const [attr, col] of [
      ['name', 'name'],
      ['description', 'description'],
      ['device_id', 'device_id'],
      ['device_owner', 'device_owner'],
      ['binding:host_id', 'host_id'],
      ['binding:vnic_type', 'vnic_type'],
    ] as const)
      if (v[attr] !== undefined) set[col] = v[attr];
    if (v['admin_state_up'] !== undefined) set.admin_state_up = v['admin_state_up'] ? 1 : 0;
    if (v['binding:profile'] !== undefined) set.binding_profile = JSON.stringify(v['binding:profile']);
    if (v['extra_dhcp_opts'] !== undefined) set.extra_dhcp_opts = JSON.stringify(v['extra_dhcp_opts']);
    if (v['mac_address'] !== undefined && v['mac_address'] !== cur.mac_address) {
      const taken = await trx
        .selectFrom('network_ports')
        .select('id')
        .where('network_id', '=', cur.network_id)
        .where('mac_address', '=', v['mac_address'])
        .executeTakeFirst();
      if (taken) throw macInUse(cur.network_id, v['mac_address']);
      set.mac_address = v['mac_address'];
    }
    const pse = v['port_security_enabled'] ?? cur.port_security_enabled === 1;
    set.port_security_enabled = pse ? 1 : 0;
    const mac = set.mac_address ?? cur.mac_address;
    const pairs = v['allowed_address_pairs'] as { ip_address: string; mac_address?: string }[] | undefined;
    if (pairs !== undefined)
      set.allowed_address_pairs = JSON.stringify(
        pairs.map((p) => ({ ip_address: p.ip_address, mac_address: p.mac_address ?? mac })),
      );
    const groups = v['security_groups'] as string[] | undefined;
    const sg = portSecurityGroups();
    if (!pse) {
      if (pairs !== undefined ? pairs.length > 0 : json<unknown[]>(cur.allowed_address_pairs, []).length > 0)
        throw portSecurityRequiredForPairs();
      if (groups !== undefined && groups.length > 0) throw portSecurityRequiredForGroups();
      if (groups === undefined && ((await sg.groupsOf(cx, trx, [cur.id])).get(cur.id) ?? []).length > 0)
        throw conflict(
          'PortSecurityPortHasSecurityGroup',
          'Port has security group associated. Cannot disable port security or IP address until security group is removed.',
        );
    }
    if (groups !== undefined) {
      if (groups.length === 0) await sg.unbind(cx, trx, cur.id);
      else await sg.bind(cx, trx, { id: cur.id, projectId: cur.project_id }, groups);
    }
    const fixed = fixedIpsOf(v['fixed_ips']);
    if (fixed) await updatePortIps(trx, { ...cur, ...set } as PortsTable, fixed, attempt);
    const next = { ...cur, ...set, updated_at: cx.nowIso(), revision_number: cur.revision_number + 1 };
    await trx
      .updateTable('network_ports')
      .set({ ...set, updated_at: next.updated_at, revision_number: next.revision_number })
      .where('id', '=', cur.id)
      .execute();
    record({ kind: 'port', id: cur.id, action: 'update', projectId: cur.project_id });
    return next;
  });
  // Unbound from its host, a port is no longer wired anywhere: DOWN, as Neutron sets it (and Nova hears
  // network-vif-unplugged when it was ACTIVE).
  if (v['binding:host_id'] === '' && before.host_id !== '' && row.status !== 'DOWN')
    if (await setPortStatus(cx, row.id, 'DOWN')) {
      const fresh = await cx.db
        .selectFrom('network_ports')
        .selectAll()
        .where('id', '=', row.id)
        .executeTakeFirst();
      if (fresh) Object.assign(row, fresh);
    }
  return { body: { port: view(ctx, portSpec, (await renderPorts(cx, cx.db, [row]))[0]!) } };
}

export function portRoutes(cx: NetworkContext): Route[] {
  return [
    { method: 'POST', path: '/network/v2.0/ports', handler: (ctx) => createPorts(cx, ctx) },
    {
      method: 'GET',
      path: '/network/v2.0/ports',
      async handler(ctx) {
        const opts = { custom: { fixed_ips: fixedIpsFilter } };
        const q = parseListQuery(ctx, portSpec, opts);
        const visible = portVisibility(ctx);
        let query = cx.db.selectFrom('network_ports').selectAll();
        const eq = (k: string, col: 'network_id' | 'device_id' | 'device_owner' | 'id') => {
          const vals = q.filters.get(k);
          if (vals && vals.length > 0) query = query.where(col, 'in', vals.map(String));
        };
        eq('network_id', 'network_id');
        eq('device_id', 'device_id');
        eq('device_owner', 'device_owner');
        eq('id', 'id');
        const [rows, nets] = await Promise.all([
          query.orderBy('created_at').orderBy('id').execute(),
          cx.db.selectFrom('network_networks').selectAll().execute(),
        ]);
        const byId = new Map(nets.map((n) => [n.id, n]));
        const seen = rows.filter((r) => visible(r, byId.get(r.network_id)));
        return listBody(ctx, portSpec, await renderPorts(cx, cx.db, seen), q, opts);
      },
    },
    {
      method: 'GET',
      path: '/network/v2.0/ports/:id',
      async handler(ctx) {
        const { port } = await findVisiblePort(cx, ctx, ctx.params['id']!);
        return showBody(ctx, portSpec, (await renderPorts(cx, cx.db, [port]))[0]!);
      },
    },
    { method: 'PUT', path: '/network/v2.0/ports/:id', handler: (ctx) => updatePort(cx, ctx) },
    {
      method: 'DELETE',
      path: '/network/v2.0/ports/:id',
      async handler(ctx) {
        const { port, network } = await findVisiblePort(cx, ctx, ctx.params['id']!);
        ctx.authorize('delete_port', portTarget({ ...port }, network));
        checkRevision(ctx, port.revision_number);
        const gone = await cx.write(async (trx, record) => {
          const cur = await trx
            .selectFrom('network_ports')
            .selectAll()
            .where('id', '=', port.id)
            .executeTakeFirst();
          if (!cur) throw portNotFound(port.id);
          for (const h of hooks.portDeleteChecks) await h(cx, trx, cur);
          return deletePort(cx, trx, cur.id, record);
        });
        if (gone?.device_owner.startsWith('compute:') && gone.device_id)
          cx.notifier?.portEvent({
            name: 'network-vif-deleted',
            serverId: gone.device_id,
            portId: gone.id,
            status: 'completed',
          });
        return { status: 204 };
      },
    },
  ];
}

export const portTaggable: TaggableResource = {
  collection: 'ports',
  async find(cx, ctx, id) {
    const found = await findVisiblePort(cx, ctx, id).catch(() => undefined);
    return found ? { projectId: found.port.project_id } : undefined;
  },
  notFound: portNotFound,
  table: 'network_ports',
};
