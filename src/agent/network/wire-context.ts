// What the wiring steps share during one reconcile pass: configuration, the log, and the agent's memory.
import type { DpNetwork, DpPort, HostNetworkState } from './desired-state.ts';

/** A pino-compatible logger, narrowed to what the agent uses. */
export interface NetLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLog: NetLog = { debug() {}, info() {}, warn() {}, error() {} };

export interface VxlanConfig {
  /** This host's underlay address (vxlan `local`). */
  localIp: string;
  /** The namespace holding that address when it is not the agent's own (tests' "hosts"). */
  underlayNetns?: string;
}

export interface WireContext {
  prefix: string;
  stateDir: string;
  /** physnet → 'host' | 'netns:<name>' (flat: veth) | 'link:[<netns>/]<iface>' (vlan: 802.1Q device) | 'none'. */
  physicalNetworks: Record<string, string>;
  vxlan?: VxlanConfig;
  /** The metadata proxy's unix socket, when metadata is served. */
  metadataSocket?: string;
  dhcpLeaseSeconds: number;
  log: NetLog;
  state: HostNetworkState;
  /** The namespaces that exist (kept current as the pass creates some). */
  namespaces: Set<string>;
  /** Namespaces this agent process already initialised (sysctls), so later passes skip that. */
  initialized: Set<string>;
  /** nft text last applied per namespace/table, so unchanged tables are not reloaded. */
  nftApplied: Map<string, string>;
  /** Security-group rule keys in force per port at the last pass (to cut flows a removed rule allowed). */
  ruleKeys: Map<string, Set<string>>;
  /** Members of each remote group as last applied, per namespace (`<ns> <group id>`), to cut flows of leavers. */
  groupMembers: Map<string, Set<string>>;
  /** Device names given to plug() per port (tap<port11> otherwise). */
  deviceOf(portId: string): string;
}

export function networkById(state: HostNetworkState, id: string): DpNetwork | undefined {
  return state.networks.find((n) => n.id === id);
}

/** The DHCP port this host serves on the network, if any. */
export function dhcpPortOf(state: HostNetworkState, networkId: string): DpPort | undefined {
  return state.ports.find(
    (p) => p.networkId === networkId && p.deviceOwner === 'network:dhcp' && p.boundHere,
  );
}

/** VM ports with a VIF on this host (not the agent-owned network:* ports). */
export function isLocalVmPort(p: DpPort): boolean {
  return p.boundHere && !p.deviceOwner.startsWith('network:');
}
