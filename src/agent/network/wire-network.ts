// Converges one network namespace: bridge, uplink or VXLAN, the VM taps on it, security groups and anti-spoofing.
import type { DpNetwork } from './desired-state.ts';
import { ipVersionOf } from './ip-math.ts';
import { ip } from './linux/exec.ts';
import { syncFloodEntries } from './linux/fdb.ts';
import {
  createVxlan,
  deleteLink,
  ensureBridge,
  type LinkInfo,
  linkMap,
  moveLink,
  setLink,
} from './linux/links.ts';
import { ensureNamespace } from './linux/netns.ts';
import { setSysctls } from './linux/sysctl.ts';
import { BRIDGE, namespaceName, tapName, UPLINK, VXLAN_DEV } from './naming.ts';
import { dhcpPortOf, isLocalVmPort, type WireContext } from './wire-context.ts';
import { applySecurity } from './wire-security.ts';
import { wireUplink } from './wire-uplink.ts';

/** Creates (or adopts) the namespace with its bridge; br_netfilter on so the inet table sees bridged traffic. */
export async function ensureNetworkNamespace(ctx: WireContext, network: DpNetwork): Promise<string> {
  const ns = namespaceName(ctx.prefix, 'network', network.id);
  await ensureNamespace(ns, ctx.namespaces);
  if (!ctx.initialized.has(ns)) {
    await setSysctls(ns, {
      'net.bridge.bridge-nf-call-iptables': 1,
      'net.bridge.bridge-nf-call-ip6tables': 1,
      'net.ipv6.conf.default.disable_ipv6': 1,
    });
    ctx.initialized.add(ns);
  }
  await ensureBridge(ns, BRIDGE, await linkMap(ns));
  return ns;
}

/** The bridge-side device names that belong on this network (VM taps, DHCP and router veth ends). */
function expectedBridgePorts(ctx: WireContext, network: DpNetwork): Set<string> {
  const names = new Set<string>([BRIDGE, UPLINK, VXLAN_DEV, 'lo']);
  for (const p of ctx.state.ports)
    if (p.networkId === network.id && isLocalVmPort(p)) names.add(ctx.deviceOf(p.id));
  const dhcp = dhcpPortOf(ctx.state, network.id);
  if (dhcp) names.add(tapName(dhcp.id));
  for (const r of ctx.state.routers) {
    if (!r.adminStateUp) continue;
    for (const i of [...r.interfaces, ...(r.gateway ? [r.gateway] : [])])
      if (i.networkId === network.id) names.add(tapName(i.portId));
  }
  return names;
}

/** Wires the network; returns the ids of its local VM ports that are on the bridge. */
export async function wireNetwork(
  ctx: WireContext,
  network: DpNetwork,
  rootLinks: Map<string, LinkInfo>,
): Promise<string[]> {
  const ns = await ensureNetworkNamespace(ctx, network);
  let links = await linkMap(ns);
  await wireUplink(ctx, network, ns, links);
  await wireVxlan(ctx, network, ns, links);

  const wired: string[] = [];
  const vmPorts = ctx.state.ports.filter((p) => p.networkId === network.id && isLocalVmPort(p));
  for (const port of vmPorts) {
    const dev = ctx.deviceOf(port.id);
    if (!links.has(dev)) {
      if (!rootLinks.has(dev)) continue;
      await moveLink(undefined, dev, ns);
      rootLinks.delete(dev);
      links = await linkMap(ns);
    }
    const cur = links.get(dev);
    await setLink(ns, dev, { master: BRIDGE, mtu: network.mtu, up: port.adminStateUp }, cur);
    if (!port.adminStateUp && cur?.flags.includes('UP')) await ip(ns, ['link', 'set', 'dev', dev, 'down']);
    if (port.adminStateUp) wired.push(port.id);
  }
  const expected = expectedBridgePorts(ctx, network);
  for (const [name, l] of links)
    if (
      !expected.has(name) &&
      (l.linkinfo?.info_kind === 'veth' || l.linkinfo?.info_kind === 'tun' || name.startsWith('tap'))
    )
      await deleteLink(ns, name);

  await applySecurity(ctx, ns, vmPorts);
  return wired;
}

async function wireVxlan(ctx: WireContext, network: DpNetwork, ns: string, links: Map<string, LinkInfo>) {
  if (network.type !== 'vxlan' || !ctx.vxlan || network.segmentationId === undefined) {
    if (links.has(VXLAN_DEV)) await deleteLink(ns, VXLAN_DEV);
    return;
  }
  const cur = links.get(VXLAN_DEV);
  const vni = Number(cur?.linkinfo?.info_data?.['id']);
  if (cur && vni !== network.segmentationId) await deleteLink(ns, VXLAN_DEV);
  if (!cur || vni !== network.segmentationId)
    await createVxlan({
      underlayNs: ctx.vxlan.underlayNetns,
      ns,
      name: VXLAN_DEV,
      vni: network.segmentationId,
      localIp: ctx.vxlan.localIp,
      mtu: network.mtu,
    });
  await setLink(
    ns,
    VXLAN_DEV,
    { master: BRIDGE, up: true, mtu: network.mtu },
    cur && vni === network.segmentationId ? cur : undefined,
  );
  const peers = (network.vxlanPeers ?? []).filter(
    (p) => p !== ctx.vxlan?.localIp && ipVersionOf(p) === ipVersionOf(ctx.vxlan?.localIp ?? ''),
  );
  await syncFloodEntries(ns, VXLAN_DEV, peers);
}
