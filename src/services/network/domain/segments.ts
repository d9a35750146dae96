// Network segments: validating provider attributes and handing out tenant VXLAN ids (the unique index on
// (network_type, physical_network, segmentation_id) makes two racing creates pick different ids).
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { badRequest, conflict, invalidInput } from '../errors.ts';

export const NETWORK_TYPES = ['flat', 'vlan', 'vxlan', 'local'] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];

export interface Segment {
  networkType: NetworkType;
  physicalNetwork: string;
  segmentationId: number | null;
}

const VXLAN_OVERHEAD = 50;

/** The largest MTU a network of this type can have (Neutron's ML2 MTU calculation). */
export function maxMtu(cx: NetworkContext, type: NetworkType): number {
  return type === 'vxlan' ? cx.config.global_physnet_mtu - VXLAN_OVERHEAD : cx.config.global_physnet_mtu;
}

/** Checks admin-given provider attributes as ML2's type drivers do. */
export function providerSegment(
  cx: NetworkContext,
  type: unknown,
  physnet: unknown,
  segId: unknown,
): Segment {
  if (typeof type !== 'string' || !(NETWORK_TYPES as readonly string[]).includes(type))
    throw invalidInput(`network_type value '${String(type)}' not supported`);
  const t = type as NetworkType;
  const phys = typeof physnet === 'string' ? physnet : '';
  const known = Object.keys(cx.config.physical_networks);
  switch (t) {
    case 'flat':
      if (!phys) throw invalidInput('physical_network required for flat provider network');
      if (segId !== undefined && segId !== null)
        throw invalidInput('segmentation_id specified for flat provider network');
      if (!known.includes(phys))
        throw invalidInput(`physical_network '${phys}' unknown for flat provider network`);
      return { networkType: t, physicalNetwork: phys, segmentationId: null };
    case 'vlan': {
      if (!phys) throw invalidInput('physical_network required for VLAN provider network');
      if (!known.includes(phys))
        throw invalidInput(`physical_network '${phys}' unknown for VLAN provider network`);
      const id = Number(segId);
      if (!Number.isInteger(id) || id < 1 || id > 4094)
        throw invalidInput('segmentation_id out of range (1 through 4094)');
      return { networkType: t, physicalNetwork: phys, segmentationId: id };
    }
    case 'vxlan': {
      if (phys) throw invalidInput('provider:physical_network specified for vxlan network');
      if (segId === undefined || segId === null)
        return { networkType: t, physicalNetwork: '', segmentationId: null };
      const id = Number(segId);
      if (!Number.isInteger(id) || id < 1 || id > 16777215)
        throw invalidInput(`segmentation_id out of range (1 through 16777215)`);
      return { networkType: t, physicalNetwork: '', segmentationId: id };
    }
    default:
      if (phys) throw invalidInput('provider:physical_network specified for local network');
      return { networkType: 'local', physicalNetwork: '', segmentationId: null };
  }
}

/** The lowest free VNI of the configured range, or a 503-like error when none is left. */
export async function allocateVni(cx: NetworkContext, trx: NetworkTrx): Promise<number> {
  const used = new Set(
    (
      await trx
        .selectFrom('network_networks')
        .select('segmentation_id')
        .where('network_type', '=', 'vxlan')
        .execute()
    ).map((r) => r.segmentation_id),
  );
  for (let v = cx.config.vni_min; v <= cx.config.vni_max; v++) if (!used.has(v)) return v;
  throw conflict(
    'NoNetworkAvailable',
    'Unable to create the network. No tenant network is available for allocation.',
  );
}

/** A flat physical network carries one network only. */
export async function checkFlatFree(trx: NetworkTrx, physnet: string): Promise<void> {
  const taken = await trx
    .selectFrom('network_networks')
    .select('id')
    .where('network_type', '=', 'flat')
    .where('physical_network', '=', physnet)
    .executeTakeFirst();
  if (taken)
    throw conflict(
      'FlatNetworkInUse',
      `Unable to create the flat network. Physical network ${physnet} is in use.`,
    );
}

export function checkMtu(cx: NetworkContext, type: NetworkType, mtu: number): void {
  const max = maxMtu(cx, type);
  if (mtu > max) throw badRequest(`Requested MTU is too big, maximum is ${max}`);
}
