// Server actions that involve images: rebuild, createImage, createBackup, shelve, shelveOffload and unshelve.
// Snapshot images are created queued in the image service with the caller's token; the host's agent uploads.
import { ApiError } from '../../../platform/errors.ts';
import { AUTO_DISK_CONFIG, inheritAutoDiskConfig, requestedAutoDiskConfig } from '../domain/disk-config.ts';
import { ComputeErrors } from '../errors.ts';
import { getLimits } from '../store/quotas.ts';
import { findServer, type Server } from '../store/servers.ts';
import { computeRoot } from './common.ts';
import {
  type ActionHandler,
  type ActionRequest,
  flavorOf,
  generatePassword,
  inheritedImageProps,
  loadForAction,
  requireHost,
  sysMeta,
  taskArgs,
} from './server-actions-common.ts';
import { checkImage, idFromHref } from './server-create.ts';
import { renderServer, startTask } from './servers.ts';

/** Before 2.39 Nova counts image metadata against the metadata_items quota. */
async function checkImageMetaQuota(
  a: ActionRequest,
  s: Server,
  metadata: Record<string, string>,
): Promise<void> {
  if (a.ctx.mv!.atLeast('2.39')) return;
  const n = Object.keys(metadata).length;
  if (n === 0) return;
  const limit = (await getLimits(a.cx.db, a.cx.config, s.project_id))['metadata_items'] ?? -1;
  if (limit >= 0 && n > limit) throw new ApiError(403, 'Forbidden', 'Image metadata limit exceeded');
}

/** Creates the queued image a snapshot, backup or shelve uploads to; returns its id. */
async function createServerImage(
  a: ActionRequest,
  s: Server,
  name: string,
  type: 'snapshot' | 'backup',
  extra: Record<string, unknown>,
): Promise<string> {
  const auth = a.ctx.requireAuth();
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra)) props[k] = String(v);
  const ownerFields: Record<string, unknown> =
    auth.projectId === s.project_id
      ? { visibility: 'private' }
      : { owner: s.project_id, instance_owner: s.project_id };
  const image = await a.cx.image.create(auth.token, {
    ...inheritedImageProps(s),
    name,
    container_format: 'bare',
    disk_format: 'qcow2',
    instance_uuid: s.id,
    user_id: auth.userId,
    image_type: type,
    base_image_ref: s.image_id,
    ...ownerFields,
    ...props,
  });
  return image.id;
}

/** Starts the task; if another operation got there first, the queued image is removed again. */
async function startImageTask(
  a: ActionRequest,
  s: Server,
  imageId: string,
  action: string,
  set: Partial<Server> & { task_state: string },
): Promise<void> {
  try {
    await startTask(a.cx, a.ctx, s, action, set);
  } catch (err) {
    await a.cx.image.delete(a.ctx.requireAuth().token, imageId).catch(() => {});
    throw err;
  }
}

/** createImage (no lock check, as Nova): 202 with Location before 2.45, {"image_id"} from 2.45. */
const createImage: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:servers:create_image', {
    lock: false,
    state: 'createImage',
  });
  const metadata = (a.args.metadata as Record<string, string> | undefined) ?? {};
  await checkImageMetaQuota(a, s, metadata);
  const imageId = await createServerImage(a, s, String(a.args.name).trim(), 'snapshot', metadata);
  await startImageTask(a, s, imageId, 'createImage', {
    task_state: 'image_snapshot',
    task_args: taskArgs(s, { snapshot_image_id: imageId }),
  });
  if (a.ctx.mv!.atLeast('2.45')) return { status: 202, body: { image_id: imageId } };
  return { status: 202, headers: { location: `${a.ctx.baseUrl()}/image/v2/images/${imageId}` } };
};

/**
 * createBackup: like createImage with image_type "backup"; then older backups of the same type beyond
 * `rotation` are deleted (Nova rotates after the upload; here the new image is kept and counted).
 */
const createBackup: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:os-create-backup', { lock: false, state: 'createBackup' });
  const metadata = (a.args.metadata as Record<string, string> | undefined) ?? {};
  const backupType = String(a.args.backup_type);
  const rotation = Number(a.args.rotation);
  await checkImageMetaQuota(a, s, metadata);
  const imageId = await createServerImage(a, s, String(a.args.name).trim(), 'backup', {
    ...metadata,
    backup_type: backupType,
  });
  await startImageTask(a, s, imageId, 'createBackup', {
    task_state: 'image_backup',
    task_args: taskArgs(s, { snapshot_image_id: imageId, backup_type: backupType, rotation }),
  });
  await rotateBackups(a, s, backupType, rotation, imageId);
  if (a.ctx.mv!.atLeast('2.45')) return { status: 202, body: { image_id: imageId } };
  return rotation > 0
    ? { status: 202, headers: { location: `${computeRoot(a.ctx)}/v2.1/images/${imageId}` } }
    : { status: 202 };
};

/** Deletes the oldest backups of this server and type so that `rotation` remain (the new one counts). */
async function rotateBackups(
  a: ActionRequest,
  s: Server,
  backupType: string,
  rotation: number,
  newId: string,
): Promise<void> {
  const token = a.ctx.requireAuth().token;
  const images = (
    await a.cx.image.list(token, { instance_uuid: s.id, image_type: 'backup', backup_type: backupType })
  )
    .filter(
      (i) =>
        i['id'] !== newId &&
        i['instance_uuid'] === s.id &&
        i['image_type'] === 'backup' &&
        i['backup_type'] === backupType,
    )
    .sort((x, y) => String(y['created_at']).localeCompare(String(x['created_at'])));
  const keep = Math.max(rotation - 1, 0);
  for (const old of images.slice(keep)) await a.cx.image.delete(token, String(old['id'])).catch(() => {});
}

/** rebuild: 202 with the server (basic view before 2.75) and its new admin password. */
const rebuild: ActionHandler = async (a) => {
  const mv = a.ctx.mv!;
  const r = a.args as Record<string, unknown>;
  const auth = a.ctx.requireAuth();
  const password = typeof r['adminPass'] === 'string' ? (r['adminPass'] as string) : generatePassword();
  const s = await loadForAction(a, 'os_compute_api:servers:rebuild', { state: 'rebuild' });
  if (mv.atLeast('2.63') && 'trusted_image_certificates' in r)
    a.ctx.authorize('os_compute_api:servers:rebuild:trusted_certs', {
      project_id: s.project_id,
      user_id: s.user_id,
    });
  const imageId = idFromHref(String(r['imageRef']));
  const image = await a.cx.image.find(auth.token, imageId);
  if (!image) throw ComputeErrors.badRequest('Cannot find image for rebuild');
  const autoDiskConfig = inheritAutoDiskConfig(
    requestedAutoDiskConfig(r['OS-DCF:diskConfig']),
    image['auto_disk_config'],
    imageId,
  );
  const imageProps = await checkImage(a.cx, auth.token, imageId, flavorOf(s));

  const set: Partial<Server> = { image_id: imageId, progress: 0 };
  if (r['name'] !== undefined) set.name = String(r['name']).trim();
  if (mv.atLeast('2.19') && r['description'] !== undefined)
    set.description = r['description'] as string | null;
  if (r['accessIPv4'] !== undefined) set.access_ip_v4 = String(r['accessIPv4']);
  if (r['accessIPv6'] !== undefined) set.access_ip_v6 = String(r['accessIPv6']);
  if (mv.atLeast('2.54') && 'key_name' in r) {
    const keyName = r['key_name'] as string | null;
    if (keyName) {
      const kp = await a.cx.db
        .selectFrom('compute_keypairs')
        .select(['name', 'public_key'])
        .where('user_id', '=', auth.userId)
        .where('name', '=', keyName)
        .executeTakeFirst();
      if (!kp) throw ComputeErrors.badRequest('Invalid key_name provided.');
      set.key_name = kp.name;
      set.key_data = kp.public_key;
    } else {
      set.key_name = null;
      set.key_data = null;
    }
  }
  if (mv.atLeast('2.57') && 'user_data' in r) set.user_data = (r['user_data'] as string | null) ?? null;
  if (mv.atLeast('2.63') && 'trusted_image_certificates' in r) {
    const certs = r['trusted_image_certificates'];
    set.trusted_certs = certs ? JSON.stringify(certs) : null;
  }
  if (mv.atLeast('2.90') && typeof r['hostname'] === 'string') set.hostname = r['hostname'] as string;
  const metadata = r['metadata'] as Record<string, string> | undefined;
  if (metadata) {
    const limit = (await getLimits(a.cx.db, a.cx.config, s.project_id))['metadata_items'] ?? -1;
    if (limit >= 0 && Object.keys(metadata).length > limit)
      throw new ApiError(403, 'MetadataLimitExceeded', `Maximum number of metadata items exceeds ${limit}`);
  }
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(sysMeta(s))) if (!k.startsWith('image_')) meta[k] = v;
  Object.assign(meta, imageProps, { image_base_image_ref: imageId, [AUTO_DISK_CONFIG]: autoDiskConfig });
  set.system_metadata = JSON.stringify(meta);

  await startTask(
    a.cx,
    a.ctx,
    s,
    'rebuild',
    {
      ...set,
      task_state: 'rebuilding',
      task_args: taskArgs(s, {
        rebuild_image_id: imageId,
        preserve_ephemeral: r['preserve_ephemeral'] === true,
      }),
    },
    metadata
      ? async (trx) => {
          await trx.deleteFrom('compute_server_metadata').where('server_id', '=', s.id).execute();
          for (const [k, v] of Object.entries(metadata))
            await trx
              .insertInto('compute_server_metadata')
              .values({ server_id: s.id, key: k, value: String(v) })
              .execute();
        }
      : undefined,
  );
  const fresh = (await findServer(a.cx.db, s.id)) ?? s;
  const view = await renderServer(a.cx, a.hosts, a.ctx, fresh, false, { noUserData: true });
  if (mv.atLeast('2.54') && !('key_name' in view)) view['key_name'] = fresh.key_name;
  view['adminPass'] = password;
  if (mv.atLeast('2.57')) view['user_data'] = fresh.user_data;
  return {
    status: 202,
    headers: { location: `${computeRoot(a.ctx)}/v2.1/servers/${s.id}` },
    body: { server: view },
  };
};

/**
 * shelve: snapshot to "<name>-shelved", then (shelved_offload_time 0) offload at once: the lifecycle reads
 * task_args.shelve_offload_after.
 */
const shelve: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:os-shelve:shelve', { state: 'shelve' });
  const imageId = await createServerImage(a, s, `${s.name}-shelved`, 'snapshot', {});
  const meta = {
    ...sysMeta(s),
    image_base_image_ref: s.image_id,
    shelved_image_id: imageId,
    shelved_at: a.cx.nowIso(),
    shelved_host: s.host,
  };
  await startImageTask(a, s, imageId, 'shelve', {
    task_state: 'shelving',
    system_metadata: JSON.stringify(meta),
    task_args: taskArgs(s, { snapshot_image_id: imageId, shelve_offload_after: 0 }),
  });
  return { status: 202 };
};

const shelveOffload: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:os-shelve:shelve_offload', { state: 'shelveOffload' });
  await startTask(a.cx, a.ctx, s, 'shelveOffload', {
    task_state: 'shelving_offloading',
    task_args: taskArgs(s),
  });
  return { status: 202 };
};

/** unshelve: an offloaded server is scheduled again (2.77 zone, 2.91 host) and boots from its snapshot. */
const unshelve: ActionHandler = async (a) => {
  const mv = a.ctx.mv!;
  const s = await loadForAction(a, 'os_compute_api:os-shelve:unshelve', { state: 'unshelve' });
  const body = (a.args && typeof a.args === 'object' ? a.args : {}) as Record<string, unknown>;
  const hasZone = mv.atLeast('2.77') && 'availability_zone' in body;
  const zone = hasZone ? ((body['availability_zone'] as string | null) ?? null) : undefined;
  const host = mv.atLeast('2.91') ? ((body['host'] as string | undefined) ?? null) : null;
  if (host) a.ctx.authorize('os_compute_api:os-shelve:unshelve_to_host', { project_id: s.project_id });
  if ((zone || host) && s.vm_state !== 'shelved_offloaded')
    throw new ApiError(
      409,
      'UnshelveInstanceInvalidState',
      `Specifying an availability zone or a host when unshelving server "${s.id}" with status "${s.vm_state.toUpperCase()}" is not supported. The server status must be SHELVED_OFFLOADED.`,
    );
  if (zone) {
    const { hostZones } = await import('../domain/zones.ts');
    const zones = new Set((await hostZones(a.cx)).values());
    zones.add(a.cx.config.default_availability_zone);
    if (!zones.has(zone)) throw ComputeErrors.badRequest('The requested availability zone is not available');
  }
  if (host) await requireHost(a.cx, host);
  const offloaded = s.vm_state === 'shelved_offloaded';
  const shelvedImage = sysMeta(s)['shelved_image_id'];
  const set: Partial<Server> & { task_state: string } = {
    task_state: 'unshelving',
    task_args: taskArgs(s, {
      schedule: offloaded,
      ...(typeof shelvedImage === 'string' && offloaded ? { rebuild_image_id: shelvedImage } : {}),
      ...(zone !== undefined ? { availability_zone: zone } : {}),
      // 2.91: the scheduler places it on that host (as a forced destination), after its filters.
      ...(host ? { host, dest_host: host } : {}),
    }),
  };
  if (zone !== undefined) set.availability_zone = zone;
  await startTask(a.cx, a.ctx, s, 'unshelve', set);
  return { status: 202 };
};

export const imageActions: Record<string, ActionHandler> = {
  rebuild,
  createImage,
  createBackup,
  shelve,
  shelveOffload,
  unshelve,
};
