// Server row → Nova's wire body, microversion-aware (nova/api/openstack/compute/views/servers.py semantics).
import { createHash } from 'node:crypto';
import type { RouteContext } from '../../../platform/http/types.ts';
import { diskConfigOf } from '../domain/disk-config.ts';
import { statusOf } from '../domain/server-states.ts';
import type { FlavorSnapshot, ServerRow } from '../store/tables.ts';
import { computeRoot, parseJson, resourceLinks } from './common.ts';
import { naive } from './resource-common.ts';

/** The columns a server view reads (lists select just these, and the zone their extras need). */
export const VIEW_COLUMNS = [
  'id',
  'name',
  'project_id',
  'user_id',
  'hostname',
  'description',
  'reservation_id',
  'launch_index',
  'flavor',
  'image_id',
  'key_name',
  'user_data',
  'config_drive',
  'access_ip_v4',
  'access_ip_v6',
  'host',
  'node',
  'vm_state',
  'task_state',
  'power_state',
  'locked',
  'locked_reason',
  'progress',
  'launched_at',
  'terminated_at',
  'fault',
  'security_groups',
  'addresses',
  'system_metadata',
  'trusted_certs',
  'created_at',
  'updated_at',
  'deleted',
] as const satisfies readonly (keyof ServerRow)[];

/** A server row as far as its view goes. */
export type ServerViewRow = Pick<ServerRow, (typeof VIEW_COLUMNS)[number]>;

/** What a view needs beside the row; lists load these in batches. */
export interface ServerExtras {
  metadata: Record<string, string>;
  tags: string[];
  groups: string[];
  volumes: { id: string; delete_on_termination: boolean }[];
  /** The availability zone shown (the host's zone, else the requested one). */
  zone: string;
  /** The compute host's status for host_status (2.16): UP, DOWN, MAINTENANCE, UNKNOWN or "" without a host. */
  hostStatus: string;
}

const PROGRESS = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);
const FAULTS = new Set(['ERROR', 'DELETED']);

/** sha224(project + host), as Nova's hostId; "" when the server has no host. */
export function hostIdOf(projectId: string, host: string | null): string {
  if (!host) return '';
  const key = projectId + host;
  let id = hostIds.get(key);
  if (id === undefined) {
    id = createHash('sha224').update(key).digest('hex');
    if (hostIds.size >= 10_000) hostIds.clear();
    hostIds.set(key, id);
  }
  return id;
}

/** hostId by project and host: a list of 1,000 servers over a few hosts hashes each pair once. */
const hostIds = new Map<string, string>();

/** Nova's libvirt instance name ("instance-0000002a"), derived from a stable hash of the uuid. */
export function instanceName(id: string): string {
  const n = Number.parseInt(id.replaceAll('-', '').slice(0, 8), 16) & 0x7fffffff;
  return `instance-${n.toString(16).padStart(8, '0')}`;
}

function isoZ(iso: string | null): string | null {
  return iso ? iso.replace(/\.\d+Z$/, 'Z') : null;
}

export interface ViewOptions {
  /** 'basic' for PUT/rebuild responses before 2.75, 'detail' otherwise. */
  detail: boolean;
  /** May this caller see the extended server attributes (host, instance name …)? */
  extended: boolean;
  /** May it see flavor extra specs (2.47+)? */
  extraSpecs: boolean;
  /** May it see host_status (2.16+)? */
  hostStatus: boolean;
  /** Show server_groups (2.71+, show/update/rebuild only). */
  serverGroups?: boolean;
  /** Leave user_data out (rebuild's own handling). */
  noUserData?: boolean;
}

export function flavorView(
  ctx: RouteContext,
  f: FlavorSnapshot,
  extraSpecs: boolean,
): Record<string, unknown> {
  const mv = ctx.mv!;
  if (!mv.atLeast('2.47')) {
    return {
      id: f.id,
      links: [{ rel: 'bookmark', href: `${computeRoot(ctx)}/flavors/${f.id}` }],
    };
  }
  const body: Record<string, unknown> = {
    vcpus: f.vcpus,
    ram: f.memory_mb,
    disk: f.root_gb,
    ephemeral: f.ephemeral_gb,
    swap: f.swap,
    original_name: f.name,
  };
  if (extraSpecs) body['extra_specs'] = f.extra_specs ?? {};
  return body;
}

/** The cached addresses; the basic view (rebuild/update answers before 2.75) has no OS-EXT-IPS keys (Nova's
 * extend_address=False). */
function addressesView(text: string, extended: boolean): Record<string, unknown> {
  const all = parseJson<Record<string, Record<string, unknown>[]>>(text, {});
  if (extended) return all;
  const out: Record<string, unknown> = {};
  for (const [label, list] of Object.entries(all))
    out[label] = list.map((a) => ({ version: a['version'], addr: a['addr'] }));
  return out;
}

export function serverView(
  ctx: RouteContext,
  row: ServerViewRow,
  extras: ServerExtras,
  opts: ViewOptions,
): Record<string, unknown> {
  const mv = ctx.mv!;
  const status = row.deleted ? 'DELETED' : statusOf(row.vm_state, row.task_state);
  const flavor = parseJson<FlavorSnapshot>(row.flavor, {} as FlavorSnapshot);
  const root = computeRoot(ctx);
  const s: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    status,
    tenant_id: row.project_id,
    user_id: row.user_id,
    metadata: extras.metadata,
    hostId: hostIdOf(row.project_id, row.host),
    image: row.image_id
      ? { id: row.image_id, links: [{ rel: 'bookmark', href: `${root}/images/${row.image_id}` }] }
      : '',
    flavor: flavorView(ctx, flavor, opts.extraSpecs),
    created: isoZ(row.created_at),
    updated: isoZ(row.updated_at),
    addresses: row.vm_state === 'building' ? {} : addressesView(row.addresses, opts.detail),
    accessIPv4: row.access_ip_v4,
    accessIPv6: compressV6(row.access_ip_v6),
    links: resourceLinks(ctx, `servers/${row.id}`),
    'OS-DCF:diskConfig': diskConfigOf(row.system_metadata),
  };
  if (FAULTS.has(status) && row.fault) {
    const f = parseJson<{ code: number; message: string; details?: string; created: string }>(row.fault, {
      code: 500,
      message: '',
      created: row.updated_at,
    });
    const fault: Record<string, unknown> = { code: f.code, created: isoZ(f.created), message: f.message };
    if (f.details !== undefined && (f.code !== 500 || opts.extended)) fault['details'] = f.details;
    s['fault'] = fault;
  }
  if (PROGRESS.has(status)) s['progress'] = row.progress;
  if (opts.detail || mv.atLeast('2.75')) {
    s['OS-EXT-AZ:availability_zone'] = extras.zone;
    s['config_drive'] = row.config_drive;
    s['key_name'] = row.key_name;
    s['OS-SRV-USG:launched_at'] = naive(row.launched_at);
    s['OS-SRV-USG:terminated_at'] = naive(row.terminated_at);
    // Nova leaves the key out when the server is in no group (after removing its last one).
    const groups = parseJson<string[]>(row.security_groups, []);
    if (groups.length > 0) s['security_groups'] = groups.map((name) => ({ name }));
    if (opts.extended) {
      s['OS-EXT-SRV-ATTR:host'] = row.host;
      s['OS-EXT-SRV-ATTR:instance_name'] = instanceName(row.id);
      s['OS-EXT-SRV-ATTR:hypervisor_hostname'] = row.node;
      if (mv.atLeast('2.3')) {
        s['OS-EXT-SRV-ATTR:reservation_id'] = row.reservation_id;
        s['OS-EXT-SRV-ATTR:launch_index'] = row.launch_index;
        s['OS-EXT-SRV-ATTR:hostname'] = row.hostname;
        s['OS-EXT-SRV-ATTR:kernel_id'] = '';
        s['OS-EXT-SRV-ATTR:ramdisk_id'] = '';
        s['OS-EXT-SRV-ATTR:root_device_name'] = row.host ? '/dev/vda' : null;
        if (!opts.noUserData) s['OS-EXT-SRV-ATTR:user_data'] = row.user_data;
      }
    }
    s['OS-EXT-STS:task_state'] = row.task_state;
    s['OS-EXT-STS:vm_state'] = row.vm_state;
    s['OS-EXT-STS:power_state'] = row.power_state;
    s['os-extended-volumes:volumes_attached'] = extras.volumes.map((v) =>
      mv.atLeast('2.3') ? { id: v.id, delete_on_termination: v.delete_on_termination } : { id: v.id },
    );
    if (mv.atLeast('2.16') && opts.hostStatus) s['host_status'] = extras.hostStatus;
  }
  if (mv.atLeast('2.9')) s['locked'] = row.locked === 1;
  if (mv.atLeast('2.73')) s['locked_reason'] = row.locked_reason;
  if (mv.atLeast('2.19')) s['description'] = row.description;
  if (mv.atLeast('2.26')) s['tags'] = extras.tags;
  if (mv.atLeast('2.63'))
    s['trusted_image_certificates'] = parseJson<string[] | null>(row.trusted_certs, null);
  if (mv.atLeast('2.90') && !opts.extended) s['OS-EXT-SRV-ATTR:hostname'] = row.hostname;
  if (opts.serverGroups && mv.atLeast('2.71')) s['server_groups'] = extras.groups;
  return s;
}

/** The list (non-detail) entry: id, name, links. */
export function serverSummary(
  ctx: RouteContext,
  row: Pick<ServerRow, 'id' | 'name'>,
): Record<string, unknown> {
  return { id: row.id, links: resourceLinks(ctx, `servers/${row.id}`), name: row.name };
}

/** An IPv6 address in its canonical compressed form, as Nova prints it (str(netaddr.IPAddress)). */
export function compressV6(addr: string): string {
  if (!addr) return addr;
  try {
    return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  } catch {
    return addr;
  }
}
