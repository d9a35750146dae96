// Names of everything the agent creates: namespaces carry the configured prefix, devices the port id's first 11 chars.

export const BRIDGE = 'br0';
/** A network's uplink on its bridge: a veth (flat physnets) or an 802.1Q device (vlan physnets). */
export const UPLINK = 'uplink0';
export const VXLAN_DEV = 'vxlan0';
/** The table names inside the agent's namespaces. */
export const SG_TABLE = 'monostack';
export const PORTSEC_TABLE = 'monostack-portsec';
export const NAT_TABLE = 'monostack-nat';
/** The router namespace's filter while it sends router advertisements. */
export const RA_TABLE = 'monostack-ra';

export type NamespaceKind = 'network' | 'dhcp' | 'router';

const KIND_TAG: Record<NamespaceKind, string> = { network: 'n-', dhcp: 'dhcp-', router: 'r-' };

export function namespaceName(prefix: string, kind: NamespaceKind, id: string): string {
  return `${prefix}${KIND_TAG[kind]}${id}`;
}

/** What an agent namespace is for, or undefined when the name is not one of ours. */
export function parseNamespace(
  prefix: string,
  name: string,
): { kind: NamespaceKind; id: string } | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  for (const kind of ['network', 'dhcp', 'router'] as const) {
    const tag = KIND_TAG[kind];
    if (rest.startsWith(tag) && rest.length > tag.length) return { kind, id: rest.slice(tag.length) };
  }
  return undefined;
}

const short = (portId: string) => portId.slice(0, 11);

/** A port's device on its network's bridge (VM taps, and the bridge side of DHCP/router veths). */
export const tapName = (portId: string) => `tap${short(portId)}`;
/** The DHCP namespace's end of the DHCP port's veth. */
export const dhcpDevName = (portId: string) => `ns-${short(portId)}`;
/** A router's interface and gateway devices. */
export const routerIfName = (portId: string) => `qr-${short(portId)}`;
export const routerGwName = (portId: string) => `qg-${short(portId)}`;

/** The far end of a network's uplink (in the host or the configured namespace): prefix + network id, 15 chars. */
export function uplinkPeerName(prefix: string, networkId: string): string {
  return `${prefix}${networkId.replace(/-/g, '')}`.slice(0, 15);
}

/** A VLAN uplink's name in its parent interface's namespace, for the moment between creation and the move. */
export function vlanTempName(prefix: string, networkId: string): string {
  return `${prefix}v${networkId.replace(/-/g, '')}`.slice(0, 15);
}
