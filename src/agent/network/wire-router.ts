// Converges a router namespace: qr-/qg- veths onto the networks' bridges, addresses, routes, NAT, flow cleanup.
import type { DpRouter, DpRouterPort } from './desired-state.ts';
import { ipVersionOf, withPrefix } from './ip-math.ts';
import { deviceAddresses, syncAddresses } from './linux/addresses.ts';
import { deleteFlows } from './linux/conntrack.ts';
import { deleteLink, ensureVeth, type LinkInfo, linkMap, setLink } from './linux/links.ts';
import { ensureNamespace } from './linux/netns.ts';
import { type RouteSpec, syncRoutes } from './linux/routes.ts';
import { setSysctls } from './linux/sysctl.ts';
import { BRIDGE, NAT_TABLE, namespaceName, RA_TABLE, routerGwName, routerIfName, tapName } from './naming.ts';
import { floatingAddresses, renderRouterNat } from './render/router-nat.ts';
import { raContexts, renderRaFilter } from './render/router-ra.ts';
import { networkById, type WireContext } from './wire-context.ts';
import { wireRouterRa } from './wire-router-ra.ts';
import { syncTables } from './wire-security.ts';

/** Plugs one router port: veth between the router namespace and its network's bridge, with the port's MAC. */
async function wirePort(
  ctx: WireContext,
  ns: string,
  links: Map<string, LinkInfo>,
  port: DpRouterPort,
  dev: string,
  extraAddrs: string[],
): Promise<boolean> {
  const network = networkById(ctx.state, port.networkId);
  const netNs = namespaceName(ctx.prefix, 'network', port.networkId);
  if (!network || !ctx.namespaces.has(netNs)) {
    ctx.log.warn(
      { port_id: port.portId, network_id: port.networkId },
      'router port on a network not wired here',
    );
    return false;
  }
  const tap = tapName(port.portId);
  const netLinks = await linkMap(netNs);
  if (await ensureVeth({ ns, name: dev, mac: port.macAddress }, { ns: netNs, name: tap }, links, netLinks)) {
    links.delete(dev);
    netLinks.delete(tap);
  }
  await setLink(netNs, tap, { master: BRIDGE, mtu: network.mtu, up: true }, netLinks.get(tap));
  await setLink(ns, dev, { mtu: network.mtu, address: port.macAddress, up: true }, links.get(dev));
  await syncAddresses(ns, dev, [...port.ips.map((i) => withPrefix(i.ipAddress, i.cidr)), ...extraAddrs]);
  return true;
}

/** Wires the router; returns the ids of its ports that are plugged. */
export async function wireRouter(ctx: WireContext, router: DpRouter): Promise<string[]> {
  const ns = namespaceName(ctx.prefix, 'router', router.id);
  await ensureNamespace(ns, ctx.namespaces);
  if (!ctx.initialized.has(ns)) {
    await setSysctls(ns, {
      'net.ipv4.ip_forward': 1,
      'net.ipv6.conf.all.forwarding': 1,
      'net.ipv4.conf.all.rp_filter': 0,
      'net.ipv4.conf.default.rp_filter': 0,
      // Router ports' addresses are the subnets' gateways (no duplicates to detect): usable at once.
      'net.ipv6.conf.all.accept_dad': 0,
      'net.ipv6.conf.default.accept_dad': 0,
    });
    ctx.initialized.add(ns);
  }
  const links = await linkMap(ns);
  const wired: string[] = [];
  const keep = new Set<string>(['lo']);
  for (const i of router.interfaces) {
    const dev = routerIfName(i.portId);
    keep.add(dev);
    if (await wirePort(ctx, ns, links, i, dev, [])) wired.push(i.portId);
  }
  const gw = router.gateway;
  const gwDev = gw ? routerGwName(gw.portId) : undefined;
  if (gw && gwDev) {
    keep.add(gwDev);
    const fips = floatingAddresses(router);
    // Floating IPs that went away: their NATed flows end with them.
    if (links.has(gwDev)) {
      const have = await deviceAddresses(ns, gwDev);
      for (const a of have)
        if (
          a.endsWith('/32') &&
          !fips.includes(a.slice(0, -3)) &&
          !gw.ips.some((i) => i.ipAddress === a.slice(0, -3))
        )
          await deleteFlows(ns, { family: 'ipv4', dst: a.slice(0, -3) }).then(() =>
            deleteFlows(ns, { family: 'ipv4', src: a.slice(0, -3) }),
          );
    }
    if (
      await wirePort(
        ctx,
        ns,
        links,
        gw,
        gwDev,
        fips.map((a) => `${a}/32`),
      )
    )
      wired.push(gw.portId);
  }
  for (const [name, l] of links)
    if (!keep.has(name) && l.linkinfo?.info_kind === 'veth') await deleteLink(ns, name);

  const routes: RouteSpec[] = [];
  if (gw?.gatewayIp) routes.push({ destination: 'default', nexthop: gw.gatewayIp });
  for (const r of router.routes) routes.push({ destination: r.destination, nexthop: r.nexthop });
  await syncRoutes(
    ns,
    routes.filter(
      (r) => r.destination === 'default' || ipVersionOf(r.destination) === ipVersionOf(r.nexthop),
    ),
  );
  const ra = raContexts(router, ctx.state.networks);
  await syncTables(ctx, ns, [
    { family: 'ip', name: NAT_TABLE, body: gwDev ? renderRouterNat(router, gwDev) : undefined },
    { family: 'inet', name: RA_TABLE, body: renderRaFilter(ra) },
  ]);
  await wireRouterRa(ctx, router.id, ns, ra);
  return wired;
}
