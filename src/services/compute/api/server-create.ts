// POST /servers: validate against the flavor, image, keypair, zone and quota, then record N servers in BUILD
// with task_state "scheduling" in one transaction; the scheduler reconciler takes it from there.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { ApiError } from '../../../platform/errors.ts';
import { byVersion } from '../../../platform/http/microversion.ts';
import type { RouteContext, RouteResult } from '../../../platform/http/types.ts';
import { SchemaValidator } from '../../../platform/http/validate.ts';
import type { ComputeContext } from '../context.ts';
import {
  AUTO_DISK_CONFIG,
  IMAGE_AUTO_DISK_CONFIG,
  inheritAutoDiskConfig,
  requestedAutoDiskConfig,
} from '../domain/disk-config.ts';
import { hostnameFrom } from '../domain/hostname.ts';
import { hostZones } from '../domain/zones.ts';
import { ComputeErrors } from '../errors.ts';
import {
  checkRequestedGroups,
  checkRequestedNetworks,
  type RequestedNetwork,
} from '../network/requested-networks.ts';
import { recordAction } from '../store/actions.ts';
import { compiled, compiledInsert } from '../store/compiled.ts';
import { findFlavor, hasFlavorAccess } from '../store/flavors.ts';
import { getLimits } from '../store/quotas.ts';
import { checkServerQuota, lockProjectQuota } from '../store/server-quota.ts';
import type { FlavorSnapshot } from '../store/tables.ts';
import { serverCreate } from './schemas/servers.schema.ts';

const validator = new SchemaValidator();

/** The last path segment of an href, as Nova's get_id_from_href. */
export function idFromHref(ref: string): string {
  const s = String(ref).trim();
  const i = s.lastIndexOf('/');
  return i >= 0 ? s.slice(i + 1) : s;
}

const keypairOf = compiled(2, (db, userId: string, name: string) =>
  db
    .selectFrom('compute_keypairs')
    .select('public_key')
    .where('user_id', '=', userId)
    .where('name', '=', name),
);

const insertServer = compiledInsert('compute_servers');
const insertMetadata = compiledInsert('compute_server_metadata');
const insertTag = compiledInsert('compute_server_tags');
const insertGroupMember = compiledInsert('compute_server_group_members');

export async function loadFlavorFor(
  cx: ComputeContext,
  flavorId: string,
  projectId: string,
  isAdmin: boolean,
): Promise<FlavorSnapshot> {
  const f = await findFlavor(cx.db, flavorId);
  if (!f || f.disabled) throw ComputeErrors.badRequest(`Flavor ${flavorId} could not be found.`);
  if (!f.is_public && !isAdmin) {
    if (!(await hasFlavorAccess(cx.db, f.id, projectId)))
      throw ComputeErrors.badRequest(`Flavor ${flavorId} could not be found.`);
  }
  return {
    id: f.id,
    name: f.name,
    vcpus: f.vcpus,
    memory_mb: f.memory_mb,
    root_gb: f.root_gb,
    ephemeral_gb: f.ephemeral_gb,
    swap: f.swap,
    extra_specs: JSON.parse(f.extra_specs) as Record<string, string>,
  };
}

/** Looks the image up as the caller and checks it can boot on the flavor; returns properties to keep. */
export async function checkImage(
  cx: ComputeContext,
  token: string,
  imageId: string,
  flavor: FlavorSnapshot,
): Promise<Record<string, unknown>> {
  const image = await cx.image.find(token, imageId);
  if (!image) throw ComputeErrors.badRequest('Can not find requested image');
  if (image.status !== 'active') throw ComputeErrors.badRequest(`Image ${imageId} is not active.`);
  if ((image.min_ram ?? 0) > flavor.memory_mb)
    throw ComputeErrors.badRequest("Flavor's memory is too small for requested image.");
  const gib = 1024 ** 3;
  if (flavor.root_gb > 0) {
    if ((image.min_disk ?? 0) > flavor.root_gb)
      throw ComputeErrors.badRequest(
        `Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is ${flavor.root_gb * gib} bytes, minimum size is ${image.min_disk * gib} bytes.`,
      );
    if ((image.size ?? 0) > flavor.root_gb * gib)
      throw ComputeErrors.badRequest(
        `Flavor's disk is too small for requested image. Flavor disk is ${flavor.root_gb * gib} bytes, image is ${image.size} bytes.`,
      );
  }
  const props: Record<string, unknown> = {
    image_min_ram: image.min_ram,
    image_min_disk: image.min_disk,
    image_disk_format: image.disk_format,
    image_container_format: image.container_format,
  };
  for (const [k, v] of Object.entries(image))
    if (
      k.startsWith('hw_') ||
      k.startsWith('os_') ||
      k === 'img_hv_type' ||
      k === 'kernel_id' ||
      k === 'ramdisk_id' ||
      k === 'auto_disk_config'
    )
      props[`image_${k}`] = v;
  return props;
}

/** Nova's random admin password (12 characters, no ambiguous ones). */
function generatePassword(): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
}

export async function createServers(cx: ComputeContext, ctx: RouteContext): Promise<RouteResult> {
  const mv = ctx.mv!;
  validator.validate(byVersion(mv, serverCreate), ctx.body);
  const auth = ctx.requireAuth();
  const projectId = auth.projectId ?? '';
  const req = (ctx.body as { server: Record<string, unknown> }).server;
  const hints = ((ctx.body as Record<string, unknown>)['os:scheduler_hints'] ??
    (ctx.body as Record<string, unknown>)['OS-SCH-HNT:scheduler_hints'] ??
    {}) as Record<string, unknown>;
  ctx.authorize('os_compute_api:servers:create', { project_id: projectId, user_id: auth.userId });
  const isAdmin = ctx.can('os_compute_api:servers:create:forced_host', { project_id: projectId });

  const flavor = await loadFlavorFor(cx, idFromHref(String(req['flavorRef'])), projectId, isAdmin);
  const bdms = (req['block_device_mapping_v2'] as Record<string, unknown>[] | undefined) ?? [];
  if (
    bdms.some(
      (b) =>
        b['source_type'] === 'volume' ||
        b['destination_type'] === 'volume' ||
        b['source_type'] === 'snapshot',
    )
  )
    throw ComputeErrors.badRequest(
      'Block Device Mapping is Invalid: the block storage service is not available.',
    );
  let imageId =
    req['imageRef'] === undefined || req['imageRef'] === '' ? '' : idFromHref(String(req['imageRef']));
  if (!imageId) {
    const bootImage = bdms.find((b) => b['source_type'] === 'image' && Number(b['boot_index'] ?? -1) === 0);
    if (bootImage) imageId = String(bootImage['uuid']);
  }
  if (!imageId)
    throw ComputeErrors.badRequest(
      'Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.',
    );
  const imageProps = await checkImage(cx, auth.token, imageId, flavor);
  const autoDiskConfig = inheritAutoDiskConfig(
    requestedAutoDiskConfig(req['OS-DCF:diskConfig']),
    imageProps[IMAGE_AUTO_DISK_CONFIG],
    imageId,
  );

  const networks = req['networks'];
  let requestedNetworks: RequestedNetwork[] | undefined;
  const groupNames = (
    (req['security_groups'] as { name: string }[] | undefined) ?? [{ name: 'default' }]
  ).map((g) => g.name);
  if (cx.network) {
    const neutron = cx.network.user(auth.token);
    await checkRequestedGroups(neutron, projectId, groupNames);
    requestedNetworks = await checkRequestedNetworks(neutron, {
      projectId,
      isAdmin: ctx.can('os_compute_api:servers:create:forced_host', { project_id: projectId }),
      networks,
      maxCount: Number(req['max_count'] ?? req['min_count'] ?? 1),
    });
  } else if (Array.isArray(networks) && networks.length > 0) {
    const first = networks[0] as Record<string, unknown>;
    const ref = String(first['uuid'] ?? first['port'] ?? '');
    throw new ApiError(400, 'NetworkNotFound', `Network ${ref} could not be found.`);
  }

  let keyData: string | null = null;
  const keyName = req['key_name'] as string | undefined;
  if (keyName !== undefined && keyName !== null) {
    const [kp] = await keypairOf(cx.db, auth.userId, keyName);
    if (!kp) throw ComputeErrors.badRequest('Invalid key_name provided.');
    keyData = kp.public_key;
  }

  // Availability zone, and "zone:host:node" forcing for admins (and 2.74 host/hypervisor_hostname).
  let zone = (req['availability_zone'] as string | undefined) ?? null;
  let forcedHost = (req['host'] as string | undefined) ?? null;
  let forcedNode = (req['hypervisor_hostname'] as string | undefined) ?? null;
  if (zone?.includes(':')) {
    const [z, h, n] = zone.split(':');
    zone = z || null;
    if (h || n) {
      ctx.authorize('os_compute_api:servers:create:forced_host', { project_id: projectId });
      forcedHost = h || null;
      forcedNode = n || null;
    }
  }
  if (forcedHost || forcedNode) {
    if (req['host'] !== undefined || req['hypervisor_hostname'] !== undefined)
      ctx.authorize('compute:servers:create:requested_destination', { project_id: projectId });
    const host = await cx.db
      .selectFrom('compute_hosts')
      .select(['host', 'node'])
      .where((eb) => (forcedHost ? eb('host', '=', forcedHost) : eb('node', '=', forcedNode!)))
      .executeTakeFirst();
    if (!host) throw ComputeErrors.badRequest(`Compute host ${forcedHost ?? forcedNode} could not be found.`);
  }
  if (zone) {
    const zones = await zoneNames(cx);
    if (!zones.has(zone)) throw ComputeErrors.badRequest('The requested availability zone is not available');
  }

  const groupId = hints['group'] as string | undefined;
  if (groupId !== undefined) {
    const g = await cx.db
      .selectFrom('compute_server_groups')
      .select(['id', 'project_id'])
      .where('id', '=', String(groupId))
      .executeTakeFirst();
    if (!g) throw ComputeErrors.badRequest(`Invalid server group: ${groupId}`);
  }

  const metadata = (req['metadata'] as Record<string, string> | undefined) ?? {};
  const minCount = Number(req['min_count'] ?? 1);
  const maxCount = Number(req['max_count'] ?? minCount);
  if (minCount > maxCount) throw ComputeErrors.badRequest('min_count must be <= max_count');
  const tags = (req['tags'] as string[] | undefined) ?? [];
  const name = String(req['name']);
  const password = typeof req['adminPass'] === 'string' ? (req['adminPass'] as string) : generatePassword();
  const reservationId = `r-${randomBytes(4).toString('hex').slice(0, 8)}`;
  const securityGroups = groupNames;
  const requestSpec = {
    zone,
    forcedHost,
    forcedNode,
    group: groupId ?? null,
    sameHost: toList(hints['same_host']),
    differentHost: toList(hints['different_host']),
    image: { id: imageId, ...imageProps },
    ignoreHosts: [] as string[],
    attempts: 0,
    ...(requestedNetworks ? { networks: requestedNetworks, securityGroupNames: groupNames } : {}),
  };

  const ids = await cx.write(async (trx, record) => {
    // The limits are read once, under the quota lock: they serve the metadata, server and group checks.
    await lockProjectQuota(cx, trx, projectId);
    const limits = await getLimits(trx, cx.config, projectId);
    const metaLimit = limits['metadata_items'] ?? 128;
    if (metaLimit >= 0 && Object.keys(metadata).length > metaLimit)
      throw new ApiError(
        403,
        'MetadataLimitExceeded',
        `Quota exceeded for metadata_items: Requested ${Object.keys(metadata).length}, but already used 0 of ${metaLimit} metadata_items`,
      );
    const count = await checkServerQuota(cx, trx, projectId, flavor, minCount, maxCount, limits);
    if (groupId !== undefined) {
      const members = await trx
        .selectFrom('compute_server_group_members')
        .select(sql<number>`count(*)`.as('n'))
        .where('group_id', '=', groupId)
        .executeTakeFirst();
      const limit = limits['server_group_members'] ?? -1;
      if (limit >= 0 && Number(members?.n ?? 0) + count > limit)
        throw new ApiError(403, 'QuotaError', 'Quota exceeded, too many servers in group');
    }
    const now = cx.nowMicro();
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = cx.ids.uuid();
      const display = count > 1 ? `${name}-${i + 1}` : name;
      const hostname = (req['hostname'] as string | undefined) ?? hostnameFrom(display, id);
      await insertServer(trx, {
        id,
        project_id: projectId,
        user_id: auth.userId,
        name: display,
        hostname,
        description: (req['description'] as string | null | undefined) ?? null,
        reservation_id: reservationId,
        launch_index: i,
        flavor_id: flavor.id,
        flavor: JSON.stringify(flavor),
        image_id: imageId,
        key_name: keyName ?? null,
        key_data: keyData,
        user_data: (req['user_data'] as string | undefined) ?? null,
        config_drive:
          req['config_drive'] === true || req['config_drive'] === 'True' || cx.config.force_config_drive
            ? 'True'
            : '',
        access_ip_v4: (req['accessIPv4'] as string | undefined) ?? '',
        access_ip_v6: (req['accessIPv6'] as string | undefined) ?? '',
        availability_zone: zone,
        vm_state: 'building',
        task_state: 'scheduling',
        power_state: 0,
        task_seq: 1,
        task_args: '{}',
        host: null,
        node: null,
        old_flavor: null,
        new_flavor: null,
        locked: 0,
        locked_by: null,
        locked_reason: null,
        progress: 0,
        launched_at: null,
        terminated_at: null,
        fault: null,
        addresses: '{}',
        deleted: 0,
        deleted_at: null,
        request_spec: JSON.stringify(requestSpec),
        security_groups: JSON.stringify(securityGroups),
        trusted_certs: req['trusted_image_certificates']
          ? JSON.stringify(req['trusted_image_certificates'])
          : null,
        system_metadata: JSON.stringify({ ...imageProps, [AUTO_DISK_CONFIG]: autoDiskConfig }),
        created_at: now,
        updated_at: now,
      });
      for (const [k, v] of Object.entries(metadata))
        await insertMetadata(trx, { server_id: id, key: k, value: String(v) });
      for (const t of new Set(tags)) await insertTag(trx, { server_id: id, tag: t });
      if (groupId !== undefined) await insertGroupMember(trx, { group_id: groupId, server_id: id });
      for (const b of bdms) {
        await trx
          .insertInto('compute_block_device_mappings')
          .values({
            server_id: id,
            boot_index:
              b['boot_index'] === undefined || b['boot_index'] === null ? null : Number(b['boot_index']),
            source_type: String(b['source_type'] ?? 'image'),
            destination_type: String(b['destination_type'] ?? 'local'),
            uuid: (b['uuid'] as string | undefined) ?? null,
            volume_id: null,
            volume_size: b['volume_size'] === undefined ? null : Number(b['volume_size']),
            device_name: (b['device_name'] as string | undefined) ?? null,
            delete_on_termination: b['delete_on_termination'] ? 1 : 0,
            tag: (b['tag'] as string | undefined) ?? null,
            disk_bus: (b['disk_bus'] as string | undefined) ?? null,
            device_type: (b['device_type'] as string | undefined) ?? null,
            guest_format: (b['guest_format'] as string | undefined) ?? null,
            volume_type: (b['volume_type'] as string | undefined) ?? null,
            attachment_id: null,
            created_at: now,
          })
          .execute();
      }
      await recordAction(trx, {
        serverId: id,
        action: 'create',
        requestId: ctx.requestId,
        userId: auth.userId,
        projectId,
        now,
      });
      record({ kind: 'server', id, action: 'create', projectId, data: { task: 'scheduling' } });
      out.push(id);
    }
    return out;
  });

  if (req['return_reservation_id'] === true) return { status: 202, body: { reservation_id: reservationId } };
  const first = ids[0]!;
  const links = [
    { rel: 'self', href: `${ctx.baseUrl()}/compute/v2.1/servers/${first}` },
    { rel: 'bookmark', href: `${ctx.baseUrl()}/compute/servers/${first}` },
  ];
  return {
    status: 202,
    headers: { location: links[0]!.href },
    body: {
      server: {
        id: first,
        links,
        'OS-DCF:diskConfig': autoDiskConfig ? 'AUTO' : 'MANUAL',
        security_groups: securityGroups.map((n) => ({ name: n })),
        adminPass: password,
      },
    },
  };
}

function toList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

async function zoneNames(cx: ComputeContext): Promise<Set<string>> {
  const zones = await hostZones(cx);
  const out = new Set<string>(zones.values());
  out.add(cx.config.default_availability_zone);
  return out;
}
