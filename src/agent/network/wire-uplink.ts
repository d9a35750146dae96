// A network's uplink to its physical network: a veth to the host or a namespace (flat), an 802.1Q device (vlan).
import type { DpNetwork } from './desired-state.ts';
import { withPrefix } from './ip-math.ts';
import { syncAddresses } from './linux/addresses.ts';
import {
  createVlan,
  deleteLink,
  ensureVeth,
  type LinkInfo,
  linkMap,
  moveLink,
  renameLink,
  setLink,
} from './linux/links.ts';
import { BRIDGE, UPLINK, uplinkPeerName, vlanTempName } from './naming.ts';
import type { WireContext } from './wire-context.ts';

/** Where a physical network leaves the host (a `network.physical_networks` value). */
export type PhysnetMapping =
  | { kind: 'none' }
  /** Flat: a veth whose far end is in the agent's own namespace. */
  | { kind: 'host' }
  /** Flat: a veth whose far end is in a namespace someone else made. */
  | { kind: 'netns'; ns: string }
  /** VLAN: 802.1Q devices on an interface of the agent's namespace (`link:eth1`) or of a namespace (`link:ns/eth1`). */
  | { kind: 'link'; ns: string | undefined; iface: string };

const IFNAME = /^[^\s/:]{1,15}$/;

/** Parses a mapping value; throws on one the agent does not know. */
export function parsePhysnetMapping(value: string): PhysnetMapping {
  if (value === 'none') return { kind: 'none' };
  if (value === 'host') return { kind: 'host' };
  if (value.startsWith('netns:') && value.length > 'netns:'.length)
    return { kind: 'netns', ns: value.slice('netns:'.length) };
  if (value.startsWith('link:')) {
    const rest = value.slice('link:'.length);
    const slash = rest.lastIndexOf('/');
    const ns = slash >= 0 ? rest.slice(0, slash) : undefined;
    const iface = rest.slice(slash + 1);
    if (IFNAME.test(iface) && ns !== '') return { kind: 'link', ns, iface };
  }
  throw new Error(
    `unknown physical network mapping '${value}' (host, netns:<name>, link:[<netns>/]<iface>, none)`,
  );
}

/** The namespace where a mapping's far ends live (undefined = the agent's), for a teardown's sweep. */
export function uplinkNamespaceOf(value: string): string | undefined {
  const m = parsePhysnetMapping(value);
  return m.kind === 'netns' || m.kind === 'link' ? m.ns : undefined;
}

/** Converges the network's uplink0 (or its absence) on the bridge of namespace `ns`. */
export async function wireUplink(
  ctx: WireContext,
  network: DpNetwork,
  ns: string,
  links: Map<string, LinkInfo>,
): Promise<void> {
  const raw = network.physicalNetwork ? ctx.physicalNetworks[network.physicalNetwork] : undefined;
  const mapping = raw === undefined ? undefined : parsePhysnetMapping(raw);
  if (network.type === 'flat' && (mapping?.kind === 'host' || mapping?.kind === 'netns'))
    return wireVethUplink(ctx, network, ns, links, mapping.kind === 'netns' ? mapping.ns : undefined);
  if (network.type === 'vlan' && mapping?.kind === 'link' && network.segmentationId !== undefined)
    return wireVlanUplink(ctx, network, ns, links, mapping, raw as string);
  if (links.has(UPLINK)) await deleteLink(ns, UPLINK);
  if (!mapping || mapping.kind === 'none') return;
  const why =
    network.type === 'flat'
      ? "flat physical networks need a 'host' or 'netns:' mapping (an interface is never moved off a link: mapping)"
      : network.type === 'vlan'
        ? "vlan physical networks need a 'link:' mapping (and a segmentation id)"
        : 'only flat and vlan physical networks get an uplink';
  ctx.log.warn(
    { network_id: network.id, type: network.type, physical_network: network.physicalNetwork, mapping: raw },
    why,
  );
}

/** Flat: a veth from the bridge to the host or a namespace; on an external network the far end holds the gateways. */
async function wireVethUplink(
  ctx: WireContext,
  network: DpNetwork,
  ns: string,
  links: Map<string, LinkInfo>,
  peerNs: string | undefined,
): Promise<void> {
  const peer = uplinkPeerName(ctx.prefix, network.id);
  const peerLinks = await linkMap(peerNs);
  if (await ensureVeth({ ns, name: UPLINK }, { ns: peerNs, name: peer }, links, peerLinks)) {
    links.set(UPLINK, { ifname: UPLINK, mtu: 0, flags: [] });
    peerLinks.delete(peer);
  }
  await setLink(ns, UPLINK, { master: BRIDGE, mtu: network.mtu, up: true }, links.get(UPLINK));
  await setLink(peerNs, peer, { mtu: network.mtu, up: true }, peerLinks.get(peer));
  // The far end of an external network plays the upstream router: it holds the subnets' gateway addresses.
  const gateways = network.external
    ? network.subnets.filter((s) => s.gatewayIp).map((s) => withPrefix(s.gatewayIp as string, s.cidr))
    : [];
  await syncAddresses(peerNs, peer, gateways);
}

/**
 * VLAN (Neutron's Linux bridge agent makes eth1.<vid> on physical_interface_mappings' eth1): an 802.1Q device on the
 * mapped interface, moved into the network namespace as uplink0 on br0. Its alias records the mapping it was made
 * from, so a device of another mapping or tag is replaced and one of this mapping and tag is adopted. It dies with
 * the namespace; the parent interface itself is never changed (bringing it up is the host's business).
 */
async function wireVlanUplink(
  ctx: WireContext,
  network: DpNetwork,
  ns: string,
  links: Map<string, LinkInfo>,
  mapping: Extract<PhysnetMapping, { kind: 'link' }>,
  alias: string,
): Promise<void> {
  const vid = network.segmentationId as number;
  const cur = links.get(UPLINK);
  const data = cur?.linkinfo?.info_data;
  const adopt =
    cur?.linkinfo?.info_kind === 'vlan' &&
    Number(data?.['id']) === vid &&
    (data?.['protocol'] ?? '802.1Q') === '802.1Q' &&
    cur.ifalias === alias;
  if (!adopt) {
    if (cur) await deleteLink(ns, UPLINK);
    const tmp = vlanTempName(ctx.prefix, network.id);
    // A leftover of an interrupted creation, in the parent's namespace or already moved.
    if (links.has(tmp)) await deleteLink(ns, tmp);
    const parentLinks = await linkMap(mapping.ns);
    if (!parentLinks.has(mapping.iface))
      throw new Error(
        `physical network ${network.physicalNetwork}: no interface ${mapping.iface}` +
          (mapping.ns ? ` in namespace ${mapping.ns}` : ''),
      );
    if (parentLinks.has(tmp)) await deleteLink(mapping.ns, tmp);
    await createVlan({ parentNs: mapping.ns, parent: mapping.iface, name: tmp, vid });
    try {
      await moveLink(mapping.ns, tmp, ns);
    } catch (err) {
      await deleteLink(mapping.ns, tmp);
      throw err;
    }
    await renameLink(ns, tmp, UPLINK);
    ctx.log.info({ network_id: network.id, vlan: vid, parent: alias }, 'vlan uplink created');
  }
  await setLink(ns, UPLINK, { master: BRIDGE, mtu: network.mtu, alias, up: true }, adopt ? cur : undefined);
}
