// os-floating-ips, os-floating-ip-pools (≤2.35) and the addFloatingIp / removeFloatingIp actions (≤2.43) as
// Nova serves them from Neutron's floating IPs and external networks.
import {
  isNeutronError,
  type NeutronFloatingIp,
  type NeutronNetwork,
  type NeutronSession,
} from '../../../clients/network.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { refreshInfoCache } from '../network/allocation.ts';
import { ipVersion, parseVifs } from '../network/info-cache.ts';
import { findServer } from '../store/servers.ts';
import { userNeutron } from './network-proxy-common.ts';
import { isUuidLike } from './resource-common.ts';
import { type ActionHandler, accepted, loadForAction } from './server-actions-common.ts';

const bad = (m: string) => new ApiError(400, 'BadRequest', m);
const fipNotFound = (id: string) =>
  new ApiError(404, 'FloatingIpNotFound', `Floating IP not found for ID ${id}`);

/** Nova's floating IP view: pool is the external network's name (or id), instance the port's device. */
async function view(neutron: NeutronSession, fips: NeutronFloatingIp[]): Promise<Record<string, unknown>[]> {
  const netIds = [...new Set(fips.map((f) => f.floating_network_id))];
  const portIds = [...new Set(fips.flatMap((f) => (f.port_id ? [f.port_id] : [])))];
  const nets = netIds.length ? await neutron.listNetworks({ id: netIds }) : [];
  const ports = portIds.length ? await neutron.listPorts({ id: portIds }) : [];
  return fips.map((f) => {
    const net = nets.find((n) => n.id === f.floating_network_id);
    const port = ports.find((p) => p.id === f.port_id);
    return {
      id: f.id,
      ip: f.floating_ip_address,
      pool: net?.name || f.floating_network_id,
      fixed_ip: f.fixed_ip_address,
      instance_id: port ? port.device_id : null,
    };
  });
}

async function showFip(neutron: NeutronSession, id: string): Promise<NeutronFloatingIp> {
  try {
    return await neutron.showFloatingIp(id);
  } catch (err) {
    if (isNeutronError(err, 404, 400)) throw fipNotFound(id);
    throw err;
  }
}

async function fipByAddress(neutron: NeutronSession, address: string): Promise<NeutronFloatingIp> {
  const found = await neutron.listFloatingIps({ floating_ip_address: address });
  if (found.length === 0)
    throw new ApiError(404, 'FloatingIpNotFoundForAddress', `Floating IP not found for address ${address}.`);
  if (found.length > 1)
    throw new ApiError(
      409,
      'FloatingIpMultipleFoundForAddress',
      `Multiple floating IPs are found for address ${address}.`,
    );
  return found[0]!;
}

/** Nova's _get_floating_ip_pool_id_by_name_or_id; no pool: the one external network (Nova's default pool). */
async function poolId(neutron: NeutronSession, pool: string | undefined): Promise<string> {
  let nets: NeutronNetwork[];
  if (pool === undefined) {
    nets = await neutron.listNetworks({ 'router:external': true });
    if (nets.length !== 1) nets = nets.filter((n) => n.name === 'nova');
  } else
    nets = await neutron.listNetworks({
      'router:external': true,
      ...(isUuidLike(pool) ? { id: pool } : { name: pool }),
    });
  if (nets.length === 1) return nets[0]!.id;
  if (nets.length === 0) throw new ApiError(404, 'FloatingIpPoolNotFound', 'Floating IP pool not found.');
  throw bad(`Multiple floating IP pools matches found for name '${pool}'`);
}

export function floatingIpProxyRoutes(cx: ComputeContext): Route[] {
  const target = (ctx: RouteContext) => ({ project_id: ctx.auth?.projectId ?? null });
  const F = '/compute/v2.1/os-floating-ips';
  return [
    {
      method: 'GET',
      path: '/compute/v2.1/os-floating-ip-pools',
      async handler(ctx) {
        const neutron = userNeutron(cx, ctx);
        ctx.authorize('os_compute_api:os-floating-ip-pools', {});
        const pools = await neutron.listNetworks({ 'router:external': true });
        return { body: { floating_ip_pools: pools.map((p) => ({ name: p.name || p.id })) } };
      },
    },
    {
      method: 'GET',
      path: F,
      async handler(ctx) {
        const neutron = userNeutron(cx, ctx);
        ctx.authorize('os_compute_api:os-floating-ips:list', target(ctx));
        const fips = await neutron.listFloatingIps({ tenant_id: ctx.auth?.projectId ?? '' });
        return { body: { floating_ips: await view(neutron, fips) } };
      },
    },
    {
      method: 'GET',
      path: `${F}/:id`,
      async handler(ctx) {
        const neutron = userNeutron(cx, ctx);
        ctx.authorize('os_compute_api:os-floating-ips:show', target(ctx));
        const fip = await showFip(neutron, ctx.params['id']!);
        return { body: { floating_ip: (await view(neutron, [fip]))[0] } };
      },
    },
    {
      method: 'POST',
      path: F,
      async handler(ctx) {
        const neutron = userNeutron(cx, ctx);
        ctx.authorize('os_compute_api:os-floating-ips:create', target(ctx));
        const body = ctx.body as Record<string, unknown> | undefined;
        const pool =
          body && body['pool'] !== undefined && body['pool'] !== null ? String(body['pool']) : undefined;
        const id = await poolId(neutron, pool);
        let fip: NeutronFloatingIp;
        try {
          fip = await neutron.createFloatingIp({ floating_network_id: id });
        } catch (err) {
          if (isNeutronError(err, 'IpAddressGenerationFailure', 'ExternalIpAddressExhausted'))
            throw new ApiError(
              404,
              'NoMoreFloatingIps',
              pool ? `No more floating IPs in pool ${pool}.` : 'No more floating IPs available.',
            );
          if (isNeutronError(err, 'OverQuota'))
            throw new ApiError(
              403,
              'FloatingIpLimitExceeded',
              pool ? `IP allocation over quota in pool ${pool}.` : 'IP allocation over quota.',
            );
          if (isNeutronError(err, 400)) throw bad(err.message);
          throw err;
        }
        return { body: { floating_ip: (await view(neutron, [fip]))[0] } };
      },
    },
    {
      method: 'DELETE',
      path: `${F}/:id`,
      async handler(ctx): Promise<RouteResult> {
        const neutron = userNeutron(cx, ctx);
        ctx.authorize('os_compute_api:os-floating-ips:delete', target(ctx));
        const fip = await showFip(neutron, ctx.params['id']!);
        const server = fip.port_id
          ? (await neutron.showPort(fip.port_id).catch(() => undefined))?.device_id
          : undefined;
        try {
          await neutron.deleteFloatingIp(fip.id);
        } catch (err) {
          if (isNeutronError(err, 404))
            throw new ApiError(
              404,
              'FloatingIpNotFoundForAddress',
              `Floating IP not found for address ${fip.floating_ip_address}.`,
            );
          throw err;
        }
        if (server) await refreshInfoCache(cx, server).catch(() => {});
        return { status: 202 };
      },
    },
  ];
}

/** addFloatingIp / removeFloatingIp with Neutron (Nova's FloatingIPActionController). */
export const floatingIpActions: Record<string, ActionHandler> = {
  addFloatingIp: async (a) => {
    const s = await loadForAction(a, 'os_compute_api:os-floating-ips:add', { lock: false });
    const neutron = userNeutron(a.cx, a.ctx, null);
    const address = String(a.args.address);
    const vifs = parseVifs(s.network_info);
    if (!vifs.length) throw bad('Instance network is not ready yet');
    const fixed = vifs.flatMap((v) => v.ips.map((ip) => ({ address: ip.address, port: v.id })));
    if (!fixed.length) throw bad('No fixed IPs associated to instance');
    let chosen: { address: string; port: string } | undefined;
    if (a.args.fixed_address !== undefined) {
      chosen = fixed.find((f) => f.address === a.args.fixed_address);
      if (!chosen) throw bad('Specified fixed address not assigned to instance');
    } else {
      chosen = fixed.find((f) => ipVersion(f.address) === 4);
      if (!chosen)
        throw bad(
          `Unable to associate floating IP ${address} to any fixed IPs for instance ${s.id}. Instance has no fixed IPv4 addresses to associate.`,
        );
    }
    let fip: NeutronFloatingIp;
    try {
      fip = await fipByAddress(neutron, address);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404)
        throw new ApiError(404, 'NotFound', 'floating IP not found');
      throw err;
    }
    try {
      await neutron.updateFloatingIp(fip.id, { port_id: chosen.port, fixed_ip_address: chosen.address });
    } catch (err) {
      if (isNeutronError(err, 409)) throw bad(`Floating IP ${address} association has failed.`);
      if (isNeutronError(err))
        throw bad(
          `Unable to associate floating IP ${address} to fixed IP ${chosen.address} for instance ${s.id}. Error: ${err.message}`,
        );
      throw err;
    }
    await refreshInfoCache(a.cx, s.id);
    // The address may have moved from another server: its cache is refreshed too (best effort).
    if (fip.port_id && fip.port_id !== chosen.port) {
      const old = await neutron.showPort(fip.port_id).catch(() => undefined);
      if (old?.device_id && old.device_id !== s.id)
        await refreshInfoCache(a.cx, old.device_id).catch(() => {});
    }
    return accepted();
  },
  removeFloatingIp: async (a) => {
    const neutron = userNeutron(a.cx, a.ctx, null);
    const address = String(a.args.address);
    const fip = await fipByAddress(neutron, address);
    const port = fip.port_id ? await neutron.showPort(fip.port_id).catch(() => undefined) : undefined;
    const owner = port?.device_id ? await findServer(a.cx.db, port.device_id) : undefined;
    const s = await loadForAction(a, 'os_compute_api:os-floating-ips:remove', { lock: false });
    if (!owner || !fip.port_id || owner.id !== s.id)
      throw new ApiError(
        409,
        'Conflict',
        `Floating IP ${address} is not associated with instance ${a.serverId}.`,
      );
    await neutron.updateFloatingIp(fip.id, { port_id: null });
    await refreshInfoCache(a.cx, s.id);
    return accepted();
  },
};
