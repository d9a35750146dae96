// Network devices: list (ip -j), bridges, veth pairs across namespaces, VLAN and VXLAN devices, moves, enslaving, deletes.
import { ip, ipJson, isMissing } from './exec.ts';

export interface LinkInfo {
  ifname: string;
  address?: string;
  mtu: number;
  master?: string;
  flags: string[];
  operstate?: string;
  /** The device's alias (`ip link set … alias`); the agent records there what a device was made from. */
  ifalias?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
}

/** The devices of a namespace (undefined = the agent's own namespace). */
export async function listLinks(ns: string | undefined): Promise<LinkInfo[]> {
  return ipJson<LinkInfo>(ns, ['-d', 'link', 'show']);
}

export async function linkMap(ns: string | undefined): Promise<Map<string, LinkInfo>> {
  return new Map((await listLinks(ns)).map((l) => [l.ifname, l]));
}

/** A bridge without STP nor forwarding delay, multicast snooping off (so ND always floods), up. */
export async function ensureBridge(ns: string, name: string, links: Map<string, LinkInfo>): Promise<void> {
  if (!links.has(name))
    await ip(ns, [
      'link',
      'add',
      name,
      'type',
      'bridge',
      'stp_state',
      '0',
      'forward_delay',
      '0',
      'mcast_snooping',
      '0',
    ]);
  if (!links.get(name)?.flags.includes('UP')) await ip(ns, ['link', 'set', name, 'up']);
}

export interface VethEnd {
  ns: string | undefined;
  name: string;
  mac?: string;
}

/** Creates a veth pair with each end straight in its namespace. */
export async function createVeth(a: VethEnd, b: VethEnd): Promise<void> {
  const end = (e: VethEnd) => [
    e.name,
    ...(e.ns ? ['netns', e.ns] : []),
    ...(e.mac ? ['address', e.mac] : []),
  ];
  await ip(undefined, ['link', 'add', ...end(a), 'type', 'veth', 'peer', 'name', ...end(b)]);
}

/** Makes sure a veth pair exists end to end; a half (a leftover) is deleted and the pair made again. */
export async function ensureVeth(
  a: VethEnd,
  b: VethEnd,
  linksA: Map<string, LinkInfo>,
  linksB: Map<string, LinkInfo>,
): Promise<boolean> {
  const hasA = linksA.get(a.name)?.linkinfo?.info_kind === 'veth';
  const hasB = linksB.get(b.name)?.linkinfo?.info_kind === 'veth';
  if (hasA && hasB) return false;
  if (linksA.has(a.name)) await deleteLink(a.ns, a.name);
  if (linksB.has(b.name)) await deleteLink(b.ns, b.name);
  await createVeth(a, b);
  return true;
}

export interface LinkSettings {
  master?: string;
  mtu?: number;
  address?: string;
  alias?: string;
  up?: boolean;
}

/** Applies only the settings that differ from `current`. */
export async function setLink(
  ns: string | undefined,
  name: string,
  want: LinkSettings,
  current?: LinkInfo,
): Promise<void> {
  const args: string[] = [];
  if (want.mtu !== undefined && current?.mtu !== want.mtu) args.push('mtu', String(want.mtu));
  if (want.address && current?.address?.toLowerCase() !== want.address.toLowerCase())
    args.push('address', want.address);
  if (want.alias !== undefined && (current?.ifalias ?? '') !== want.alias) args.push('alias', want.alias);
  if (want.master && current?.master !== want.master) args.push('master', want.master);
  if (want.up && !current?.flags.includes('UP')) args.push('up');
  if (args.length) await ip(ns, ['link', 'set', 'dev', name, ...args]);
}

/** Moves a device into another namespace. */
export async function moveLink(from: string | undefined, name: string, to: string): Promise<void> {
  await ip(from, ['link', 'set', 'dev', name, 'netns', to]);
}

/** Renames a device (it must be down, as a new one is). */
export async function renameLink(ns: string | undefined, from: string, to: string): Promise<void> {
  await ip(ns, ['link', 'set', 'dev', from, 'name', to]);
}

/** Deletes a device (a veth's peer goes with it); missing is fine. */
export async function deleteLink(ns: string | undefined, name: string): Promise<void> {
  await ip(ns, ['link', 'del', 'dev', name]).catch((err: unknown) => {
    if (!isMissing(err)) throw err;
  });
}

export interface VxlanSpec {
  /** The namespace holding the underlay address (undefined = the agent's). */
  underlayNs: string | undefined;
  ns: string;
  name: string;
  vni: number;
  localIp: string;
  mtu: number;
}

/** A VXLAN device whose UDP socket lives in the underlay namespace, created straight into the network's. */
export async function createVxlan(s: VxlanSpec): Promise<void> {
  await ip(s.underlayNs, [
    'link',
    'add',
    s.name,
    'netns',
    s.ns,
    'mtu',
    String(s.mtu),
    'type',
    'vxlan',
    'id',
    String(s.vni),
    'local',
    s.localIp,
    'dstport',
    '4789',
    'nolearning',
  ]);
}

export interface VlanSpec {
  /** The namespace of the parent interface (undefined = the agent's). */
  parentNs: string | undefined;
  parent: string;
  /** The new device's name in the parent's namespace. */
  name: string;
  vid: number;
}

/** An 802.1Q device (tag `vid`) on a parent interface, created down in the parent's namespace. */
export async function createVlan(s: VlanSpec): Promise<void> {
  try {
    await ip(s.parentNs, [
      'link',
      'add',
      'link',
      s.parent,
      'name',
      s.name,
      'type',
      'vlan',
      'id',
      String(s.vid),
    ]);
  } catch (err) {
    // A kernel built without CONFIG_VLAN_8021Q: say so, rather than ip's "Unknown device type".
    if (/Unknown device type|not supported/i.test(String((err as { stderr?: string }).stderr ?? err)))
      throw new Error(
        `this kernel cannot make 802.1Q VLAN devices (CONFIG_VLAN_8021Q): ${s.name} not created`,
      );
    throw err;
  }
}
