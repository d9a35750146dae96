// The facts about one server that its metadata shows, loaded from the compute tables (Nova's instance with its
// metadata, keypairs, flavor, block device mappings, EC2 ids and system metadata).
import type { ComputeContext } from '../context.ts';
import { hostZone } from '../domain/zones.ts';
import type { Server } from '../store/servers.ts';
import type { FlavorSnapshot } from '../store/tables.ts';
import { ec2Id } from './ec2-ids.ts';
import type { GuestNetworkInfo } from './network-data.ts';
import { extractPassword } from './password.ts';

/** Nova's block-device-mapping when the instance has no root device name yet. */
const DEFAULT_MAPPINGS: Record<string, string> = {
  ami: 'sda1',
  ephemeral0: 'sda2',
  root: '/dev/sda1',
  swap: 'sda3',
};

/** The root disk of a guest on Monostack's drivers (virtio-blk), as the server view reports it. */
export const ROOT_DEVICE_NAME = '/dev/vda';

export interface InstanceKeypair {
  name: string;
  /** ssh | x509 */
  type: string;
  publicKey: string;
}

export interface InstanceFacts {
  uuid: string;
  projectId: string;
  /** The display name. */
  name: string;
  /** The hostname without a domain. */
  hostname: string;
  launchIndex: number;
  reservationId: string;
  /** The host's zone once scheduled, else the zone asked for (null = any). */
  availabilityZone: string | null;
  /** Decoded user data; null when the server has none. */
  userData: Uint8Array | null;
  keyName: string | null;
  keyData: string | null;
  keypair: InstanceKeypair | null;
  /** The server's metadata items. */
  metadata: Record<string, string>;
  securityGroups: string[];
  flavorName: string;
  /** The password a guest posted; null when none. */
  password: string | null;
  ec2: { instanceId: string; amiId: string | null; kernelId: string | null; ramdiskId: string | null };
  /** EC2 block-device-mapping: ami, root, ebsN, ephemeralN, swap. */
  blockDeviceMapping: Record<string, string>;
  network: GuestNetworkInfo | undefined;
}

function parse<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function stripDev(name: string): string {
  return name.replace(/^\/dev\//, '');
}

interface BdmFacts {
  destination_type: string;
  source_type: string;
  device_name: string | null;
  guest_format: string | null;
}

/** Nova's block_device.instance_block_mapping. */
export function blockDeviceMapping(rootDeviceName: string | null, bdms: BdmFacts[]): Record<string, string> {
  if (!rootDeviceName) return { ...DEFAULT_MAPPINGS };
  const m: Record<string, string> = { ami: stripDev(rootDeviceName), root: rootDeviceName };
  const ebs: (string | null)[] = [];
  const blanks: BdmFacts[] = [];
  for (const b of bdms) {
    if (b.destination_type === 'volume') ebs.push(b.device_name);
    else if (b.source_type === 'blank') blanks.push(b);
  }
  ebs.sort((a, b) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1));
  ebs.forEach((d, i) => {
    m[`ebs${i}`] = d as string;
  });
  const swap = blanks.filter((b) => b.guest_format === 'swap');
  if (swap.length > 0) m['swap'] = swap[swap.length - 1]!.device_name as string;
  blanks
    .filter((b) => b.guest_format !== 'swap')
    .forEach((b, i) => {
      m[`ephemeral${i}`] = b.device_name as string;
    });
  return m;
}

/** Decodes the base64 user data the API stored (lenient, as oslo's decode_as_bytes). */
export function decodeUserData(userData: string | null): Uint8Array | null {
  if (userData === null) return null;
  return new Uint8Array(Buffer.from(userData, 'base64'));
}

/** Loads what a server's metadata shows; `network` comes from networking (absent until it exists). */
export async function loadInstanceFacts(
  cx: ComputeContext,
  s: Server,
  network?: GuestNetworkInfo,
): Promise<InstanceFacts> {
  const [meta, keypair, bdms, zone] = await Promise.all([
    cx.db
      .selectFrom('compute_server_metadata')
      .select(['key', 'value'])
      .where('server_id', '=', s.id)
      .execute(),
    s.key_name
      ? cx.db
          .selectFrom('compute_keypairs')
          .select(['type'])
          .where('user_id', '=', s.user_id)
          .where('name', '=', s.key_name)
          .executeTakeFirst()
      : Promise.resolve(undefined),
    cx.db
      .selectFrom('compute_block_device_mappings')
      .select(['destination_type', 'source_type', 'device_name', 'guest_format'])
      .where('server_id', '=', s.id)
      .orderBy('id')
      .execute(),
    s.host ? hostZone(cx, s.host) : Promise.resolve(s.availability_zone),
  ]);
  const metadata: Record<string, string> = {};
  for (const m of meta) metadata[m.key] = m.value;
  const sys = parse<Record<string, unknown>>(s.system_metadata, {});
  const flavor = parse<Partial<FlavorSnapshot>>(s.flavor, {});
  const imageProp = (k: string) => {
    const v = sys[`image_${k}`];
    return typeof v === 'string' && v !== '' ? v : null;
  };
  const kernel = imageProp('kernel_id');
  const ramdisk = imageProp('ramdisk_id');
  return {
    uuid: s.id,
    projectId: s.project_id,
    name: s.name,
    hostname: s.hostname,
    launchIndex: s.launch_index,
    reservationId: s.reservation_id,
    availabilityZone: zone,
    userData: decodeUserData(s.user_data),
    keyName: s.key_name,
    keyData: s.key_data,
    keypair:
      s.key_name && s.key_data !== null
        ? { name: s.key_name, type: keypair?.type ?? 'ssh', publicKey: s.key_data }
        : null,
    metadata,
    securityGroups: network?.securityGroups ?? parse<string[]>(s.security_groups, []),
    flavorName: flavor.name ?? '',
    password: extractPassword(sys),
    ec2: {
      instanceId: ec2Id('i', s.id),
      amiId: s.image_id ? ec2Id('ami', s.image_id) : null,
      kernelId: kernel ? ec2Id('aki', kernel) : null,
      ramdiskId: ramdisk ? ec2Id('ari', ramdisk) : null,
    },
    blockDeviceMapping: blockDeviceMapping(s.host ? ROOT_DEVICE_NAME : null, bdms),
    network,
  };
}
