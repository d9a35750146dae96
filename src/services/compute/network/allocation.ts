// A server's ports on its host, as Nova's allocate_for_instance / deallocate_for_instance and the info cache
// refresh (_build_network_info_model) do it, with the compute service's own (admin) Neutron session.
import type { NicSpec } from '../../../agent/compute/hypervisor-driver.ts';
import { DriverError } from '../../../agent/compute/hypervisor-driver.ts';
import {
  isNeutronError,
  type NeutronPort,
  type NeutronSecurityGroup,
  type NeutronSession,
  type NeutronSubnet,
} from '../../../clients/network.ts';
import { parseJson } from '../api/common.ts';
import type { ComputeContext } from '../context.ts';
import { hostZones } from '../domain/zones.ts';
import { findServer, type Server } from '../store/servers.ts';
import { addressesOf, type CachedVif, groupNamesOf, parseVifs, vifOf } from './info-cache.ts';
import type { RequestedNetwork } from './requested-networks.ts';

/** The requested networks kept in the server's request spec (undefined: created without networking). */
export function requestedNetworksOf(s: Server): RequestedNetwork[] | undefined {
  const spec = parseJson<{ networks?: RequestedNetwork[] }>(s.request_spec, {});
  return spec.networks;
}

function requestedGroupsOf(s: Server): string[] {
  const spec = parseJson<{ securityGroupNames?: string[] }>(s.request_spec, {});
  return spec.securityGroupNames ?? parseJson<string[]>(s.security_groups, []);
}

function session(cx: ComputeContext): NeutronSession {
  if (!cx.network) throw new Error('no network service');
  return cx.network.service();
}

/** Nova's device_owner for a server's ports: compute:<its zone>. */
export async function deviceOwnerOf(cx: ComputeContext, s: Server): Promise<string> {
  const zone = s.host ? (await hostZones(cx)).get(s.host) : undefined;
  return `compute:${zone ?? s.availability_zone ?? cx.config.default_availability_zone}`;
}

/** The server's ports: every port whose device_id is the server (compute's and the user's). */
export async function serverPorts(cx: ComputeContext, serverId: string): Promise<NeutronPort[]> {
  const ports = await session(cx).listPorts({ device_id: serverId });
  return ports.filter((p) => p.device_owner.startsWith('compute:'));
}

/** Security group names → ids in the server's project ("default" stays Neutron's default). */
async function groupIds(
  neutron: NeutronSession,
  projectId: string,
  names: string[],
): Promise<string[] | undefined> {
  const wanted = names.filter((n) => n !== 'default');
  if (!wanted.length) return undefined;
  const groups = await neutron.listSecurityGroups({ tenant_id: projectId, fields: ['id', 'name'] });
  const ids: string[] = [];
  for (const n of names) {
    const g = groups.find((x) => x.name === n) ?? groups.find((x) => x.id === n);
    if (!g) throw new DriverError(`Security group ${n} not found for project ${projectId}.`, { code: 400 });
    ids.push(g.id);
  }
  return ids;
}

/**
 * Creates (or finds, when resumed) the server's ports and binds them to its host; returns the NICs the guest
 * gets. Idempotent: ports already carrying the server's device_id are reused, in request order.
 */
export async function allocateForServer(cx: ComputeContext, serverId: string): Promise<CachedVif[]> {
  const s = await findServer(cx.db, serverId);
  if (!s) throw new DriverError(`Instance ${serverId} could not be found.`, { code: 404 });
  const requested = requestedNetworksOf(s);
  if (!cx.network || requested === undefined) return [];
  // networks "none" and no interface attached since: nothing to ask Neutron.
  if (requested.length === 0 && parseVifs(s.network_info).length === 0) return [];
  const neutron = session(cx);
  const owner = await deviceOwnerOf(cx, s);
  const host = s.host ?? '';
  const existing = await serverPorts(cx, s.id);
  const claimed = new Set<string>();
  const binding = { device_id: s.id, device_owner: owner, 'binding:host_id': host };
  let sgIds: string[] | undefined | null = null;
  for (const r of requested) {
    if (r.portId) {
      let port: NeutronPort;
      try {
        port = await neutron.showPort(r.portId);
      } catch (err) {
        if (isNeutronError(err, 404))
          throw new DriverError(`Port id ${r.portId} could not be found.`, { code: 400 });
        throw err;
      }
      if (port.device_id && port.device_id !== s.id)
        throw new DriverError(`Port ${r.portId} is still in use.`, { code: 409 });
      if (port.device_id !== s.id || port['binding:host_id'] !== host || port.device_owner !== owner)
        await neutron.updatePort(port.id, binding);
      claimed.add(port.id);
      continue;
    }
    const reuse = existing.find((p) => !claimed.has(p.id) && p.network_id === r.networkId);
    if (reuse) {
      if (reuse['binding:host_id'] !== host) await neutron.updatePort(reuse.id, binding);
      claimed.add(reuse.id);
      continue;
    }
    if (sgIds === null) sgIds = await groupIds(neutron, s.project_id, requestedGroupsOf(s));
    const body: Record<string, unknown> = {
      network_id: r.networkId,
      project_id: s.project_id,
      admin_state_up: true,
      ...binding,
    };
    if (sgIds) body['security_groups'] = sgIds;
    if (r.fixedIp) body['fixed_ips'] = [{ ip_address: r.fixedIp }];
    try {
      const port = await neutron.createPort(body);
      claimed.add(port.id);
    } catch (err) {
      if (isNeutronError(err))
        throw new DriverError(`Failed to allocate the network(s), not rescheduling: ${err.message}`, {
          code: 500,
        });
      throw err;
    }
  }
  return refreshInfoCache(cx, s.id);
}

/** The NICs the hypervisor gives the guest, from the info cache. */
export function nicsOf(vifs: CachedVif[]): NicSpec[] {
  return vifs.map((v) => ({
    id: v.id,
    macAddress: v.address,
    device: v.devname,
    networkId: v.network.id,
    ...(v.network.mtu ? { mtu: v.network.mtu } : {}),
  }));
}

/**
 * Nova's deallocate_for_instance: ports compute created are deleted; ports the user brought lose their
 * device_id, device_owner and binding; the info cache empties.
 */
export async function deallocateForServer(cx: ComputeContext, s: Server): Promise<void> {
  if (!cx.network) return;
  const neutron = session(cx);
  const preserve = new Set<string>([
    ...(requestedNetworksOf(s) ?? []).flatMap((r) => (r.portId ? [r.portId] : [])),
    ...parseVifs(s.network_info)
      .filter((v) => v.preserveOnDelete)
      .map((v) => v.id),
  ]);
  const ports = await neutron.listPorts({ device_id: s.id });
  for (const p of ports) {
    if (!p.device_owner.startsWith('compute:')) continue;
    if (preserve.has(p.id))
      await neutron
        .updatePort(p.id, { device_id: '', device_owner: '', 'binding:host_id': '' })
        .catch((err: unknown) => {
          if (!isNeutronError(err, 404)) throw err;
        });
    else await neutron.deletePort(p.id);
  }
  await cx.db
    .updateTable('compute_servers')
    .set({ network_info: '[]', addresses: '{}' })
    .where('id', '=', s.id)
    .execute();
}

/** Re-reads the server's ports from Neutron into the info cache (addresses, groups); returns the VIFs. */
export async function refreshInfoCache(
  cx: ComputeContext,
  serverId: string,
  hints: { preserve?: string[]; tags?: Record<string, string> } = {},
): Promise<CachedVif[]> {
  const s = await findServer(cx.db, serverId);
  if (!s || !cx.network) return [];
  const neutron = session(cx);
  const previous = parseVifs(s.network_info);
  const requested = requestedNetworksOf(s) ?? [];
  const ports = await serverPorts(cx, s.id);
  // Order: the cache's order, then the request's, then any other port (attached since).
  const rank = (p: NeutronPort) => {
    const i = previous.findIndex((v) => v.id === p.id);
    if (i >= 0) return i;
    const j = requested.findIndex((r) => r.portId === p.id || (!r.portId && r.networkId === p.network_id));
    return j >= 0 ? 1000 + j : 2000;
  };
  ports.sort((a, b) => rank(a) - rank(b));
  const netIds = [...new Set(ports.map((p) => p.network_id))];
  const subnetIds = [...new Set(ports.flatMap((p) => p.fixed_ips.map((f) => f.subnet_id)))];
  const sgIds = [...new Set(ports.flatMap((p) => p.security_groups ?? []))];
  const [nets, subnets, fips, groups] = await Promise.all([
    netIds.length ? neutron.listNetworks({ id: netIds }) : [],
    subnetIds.length ? neutron.listSubnets({ id: subnetIds }) : ([] as NeutronSubnet[]),
    ports.length ? neutron.listFloatingIps({ port_id: ports.map((p) => p.id) }) : [],
    sgIds.length ? neutron.listSecurityGroups({ id: sgIds }) : ([] as NeutronSecurityGroup[]),
  ]);
  const subnetMap = new Map(subnets.map((x) => [x.id, x]));
  const groupMap = new Map(groups.map((g) => [g.id, g]));
  const preserved = new Set([
    ...requested.flatMap((r) => (r.portId ? [r.portId] : [])),
    ...(hints.preserve ?? []),
  ]);
  const vifs = ports.map((p) => {
    const prev = previous.find((v) => v.id === p.id);
    return vifOf(
      p,
      nets.find((n) => n.id === p.network_id),
      subnetMap,
      fips,
      groupMap,
      {
        preserveOnDelete: prev?.preserveOnDelete ?? preserved.has(p.id),
        tag: prev?.tag ?? hints.tags?.[p.id] ?? requested.find((r) => r.portId === p.id)?.tag ?? null,
      },
    );
  });
  const set: { network_info: string; addresses: string; security_groups?: string } = {
    network_info: JSON.stringify(vifs),
    addresses: JSON.stringify(addressesOf(vifs)),
  };
  if (vifs.length) set.security_groups = JSON.stringify(groupNamesOf(vifs));
  await cx.db.updateTable('compute_servers').set(set).where('id', '=', s.id).execute();
  return vifs;
}

/** After a move, the server's ports are bound to its (new) host, as Nova's migrate_instance_finish does. */
export async function rebindPorts(cx: ComputeContext, serverId: string): Promise<void> {
  const s = await findServer(cx.db, serverId);
  if (!s?.host || !cx.network) return;
  const neutron = session(cx);
  let changed = false;
  for (const p of await serverPorts(cx, s.id))
    if (p['binding:host_id'] !== s.host) {
      await neutron.updatePort(p.id, { 'binding:host_id': s.host });
      changed = true;
    }
  if (changed) await refreshInfoCache(cx, s.id);
}
