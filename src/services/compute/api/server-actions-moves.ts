// Server actions that move a server or change its flavor: resize, confirmResize, revertResize, migrate,
// os-migrateLive and evacuate. Each records a compute_migrations row; the scheduler reconciler picks the
// destination for tasks whose task_args say `schedule: true`.
import { sql } from 'kysely';
import { ApiError } from '../../../platform/errors.ts';
import type { ComputeTrx } from '../context.ts';
import {
  AUTO_DISK_CONFIG,
  checkAutoDiskConfig,
  IMAGE_AUTO_DISK_CONFIG,
  requestedAutoDiskConfig,
} from '../domain/disk-config.ts';
import { checkState } from '../domain/server-states.ts';
import { ComputeErrors } from '../errors.ts';
import { getLimits } from '../store/quotas.ts';
import type { Server } from '../store/servers.ts';
import type { FlavorSnapshot } from '../store/tables.ts';
import { parseJson } from './common.ts';
import { strictBool } from './resource-common.ts';
import {
  type ActionHandler,
  type ActionRequest,
  accepted,
  createMigration,
  flavorOf,
  generatePassword,
  loadForAction,
  requireHost,
  serviceIsUp,
  sysMeta,
  taskArgs,
} from './server-actions-common.ts';
import { idFromHref } from './server-create.ts';
import { startTask } from './servers.ts';

async function flavorById(a: ActionRequest, id: string): Promise<FlavorSnapshot & { disabled: number }> {
  const f = await a.cx.db.selectFrom('compute_flavors').selectAll().where('id', '=', id).executeTakeFirst();
  if (!f) throw ComputeErrors.badRequest(`Flavor ${id} could not be found.`);
  return {
    id: f.id,
    name: f.name,
    vcpus: f.vcpus,
    memory_mb: f.memory_mb,
    root_gb: f.root_gb,
    ephemeral_gb: f.ephemeral_gb,
    swap: f.swap,
    extra_specs: parseJson<Record<string, string>>(f.extra_specs, {}),
    disabled: f.disabled,
  };
}

/** Nova's upsize quota check: only growth in cores and ram counts (compute_utils.upsize_quota_delta). */
async function checkUpsizeQuota(
  a: ActionRequest,
  trx: ComputeTrx,
  s: Server,
  current: FlavorSnapshot,
  next: FlavorSnapshot,
): Promise<void> {
  const deltas: Record<string, number> = {};
  const cores = Number(next.vcpus ?? 0) - Number(current.vcpus ?? 0);
  const ram = Number(next.memory_mb ?? 0) - Number(current.memory_mb ?? 0);
  if (cores > 0) deltas['cores'] = cores;
  if (ram > 0) deltas['ram'] = ram;
  if (Object.keys(deltas).length === 0) return;
  if (a.cx.dialect === 'postgres')
    await sql`select pg_advisory_xact_lock(hashtext(${`compute-quota:${s.project_id}`}))`.execute(trx);
  const limits = await getLimits(trx, a.cx.config, s.project_id);
  const rows = await trx
    .selectFrom('compute_servers')
    .select(['flavor'])
    .where('project_id', '=', s.project_id)
    .where('deleted', '=', 0)
    .execute();
  const used: Record<string, number> = { cores: 0, ram: 0 };
  for (const r of rows) {
    const f = parseJson<Partial<FlavorSnapshot>>(r.flavor, {});
    used['cores']! += Number(f.vcpus ?? 0);
    used['ram']! += Number(f.memory_mb ?? 0);
  }
  const overs = Object.keys(deltas).filter((r) => {
    const limit = limits[r] ?? -1;
    return limit >= 0 && used[r]! + deltas[r]! > limit;
  });
  if (overs.length === 0) return;
  const join = (f: (r: string) => string) => overs.map(f).join(', ');
  throw new ApiError(
    403,
    'TooManyInstances',
    `Quota exceeded for ${overs.join(', ')}: Requested ${join((r) => String(deltas[r]))}, but already used ${join((r) => String(used[r]))} of ${join((r) => String(limits[r]))} ${overs.join(', ')}`,
  );
}

/** Starts a cold move (resize or migrate): migration row, flavors, task resize_prep with schedule: true. */
async function startColdMove(
  a: ActionRequest,
  s: Server,
  type: 'resize' | 'migration',
  next: FlavorSnapshot,
  host: string | null,
  autoDiskConfig: boolean,
): Promise<void> {
  const current = flavorOf(s);
  const migrationId = a.cx.ids.uuid();
  // Nova's resize (and so migrate) sets auto_disk_config to the request's value, false when it names none.
  const meta = {
    ...sysMeta(s),
    old_vm_state: s.vm_state,
    image_base_image_ref: s.image_id,
    [AUTO_DISK_CONFIG]: autoDiskConfig,
  };
  await startTask(
    a.cx,
    a.ctx,
    s,
    type === 'resize' ? 'resize' : 'migrate',
    {
      task_state: 'resize_prep',
      old_flavor: JSON.stringify(current),
      new_flavor: JSON.stringify(next),
      system_metadata: JSON.stringify(meta),
      task_args: taskArgs(s, {
        schedule: true,
        migration_id: migrationId,
        new_flavor: next,
        ...(host ? { host } : {}),
      }),
    },
    async (trx) => {
      if (type === 'resize') await checkUpsizeQuota(a, trx, s, current, next);
      await createMigration(
        a,
        trx,
        s,
        { type, status: 'pre-migrating', oldFlavor: current.id, newFlavor: next.id, destHost: host },
        migrationId,
      );
    },
  );
}

const resize: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:servers:resize', { state: 'resize' });
  const autoDiskConfig = requestedAutoDiskConfig(a.args['OS-DCF:diskConfig']);
  const meta = sysMeta(s);
  checkAutoDiskConfig(
    autoDiskConfig,
    meta[IMAGE_AUTO_DISK_CONFIG],
    String(meta['image_base_image_ref'] ?? s.image_id),
  );
  const flavorId = idFromHref(String(a.args.flavorRef));
  const current = flavorOf(s);
  const next = await flavorById(a, flavorId);
  if (next.root_gb === 0 && current.root_gb !== 0)
    throw ComputeErrors.badRequest(
      'Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.',
    );
  const same = current.id === next.id;
  if (!same && next.disabled) throw ComputeErrors.badRequest(`Flavor ${flavorId} could not be found.`);
  if (same) throw ComputeErrors.badRequest('When resizing, instances must change flavor!');
  const { disabled: _d, ...snapshot } = next;
  await startColdMove(a, s, 'resize', snapshot, null, autoDiskConfig ?? false);
  return accepted();
};

const migrate: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:os-migrate-server:migrate', { state: 'migrate' });
  let host: string | null = null;
  if (a.ctx.mv!.atLeast('2.56') && a.args && typeof a.args === 'object')
    host = (a.args.host as string | null | undefined) ?? null;
  if (host !== null) {
    if (host === s.host)
      throw ComputeErrors.badRequest('Cannot migrate to the host where the server exists.');
    await requireHost(a.cx, host);
  }
  await startColdMove(a, s, 'migration', flavorOf(s), host, false);
  return accepted();
};

/** The migration a resize left waiting for confirmation (status finished), or Nova's 400. */
async function finishedMigration(a: ActionRequest, s: Server): Promise<string> {
  const m = await a.cx.db
    .selectFrom('compute_migrations')
    .select(['uuid'])
    .where('server_id', '=', s.id)
    .where('status', '=', 'finished')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (!m) throw ComputeErrors.badRequest('Instance has not been resized.');
  return m.uuid;
}

/** confirmResize answers 204 (Nova keeps it for compatibility). */
const confirmResize: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:servers:confirm_resize', { state: 'confirmResize' });
  const migrationId = await finishedMigration(a, s);
  const prev = String(sysMeta(s)['old_vm_state'] ?? 'active');
  await startTask(
    a.cx,
    a.ctx,
    s,
    'confirmResize',
    {
      task_state: 'resize_confirming',
      task_args: JSON.stringify({ prev_vm_state: prev, migration_id: migrationId }),
    },
    async (trx) => {
      await trx
        .updateTable('compute_migrations')
        .set({ status: 'confirming', updated_at: a.cx.nowMicro() })
        .where('uuid', '=', migrationId)
        .execute();
    },
  );
  return { status: 204 };
};

/** revertResize: the flavor goes back to the old one now; the lifecycle moves the allocations back. */
const revertResize: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:servers:revert_resize', { state: 'revertResize' });
  const migrationId = await finishedMigration(a, s);
  const old = parseJson<FlavorSnapshot | null>(s.old_flavor, null);
  if (!old) throw ComputeErrors.badRequest('Flavor used by the instance could not be found.');
  const prev = String(sysMeta(s)['old_vm_state'] ?? 'active');
  // The server returns to the host it left (the migration's source).
  const mig = await a.cx.db
    .selectFrom('compute_migrations')
    .select(['source_compute', 'source_node'])
    .where('uuid', '=', migrationId)
    .executeTakeFirst();
  await startTask(
    a.cx,
    a.ctx,
    s,
    'revertResize',
    {
      task_state: 'resize_reverting',
      flavor: JSON.stringify(old),
      flavor_id: old.id,
      // The source host's agent runs the revert (re-creating its guest when the move removed it); the
      // destination's guest is then no one's and is reaped there.
      ...(mig?.source_compute && mig.source_compute !== s.host
        ? { host: mig.source_compute, node: mig.source_node ?? s.node }
        : {}),
      task_args: JSON.stringify({
        prev_vm_state: prev,
        schedule: false,
        migration_id: migrationId,
        revert: true,
        new_flavor: parseJson<FlavorSnapshot | null>(s.new_flavor, null),
        ...(mig?.source_compute ? { source_host: mig.source_compute, source_node: mig.source_node } : {}),
      }),
    },
    async (trx) => {
      await checkUpsizeQuota(a, trx, s, flavorOf(s), old);
      await trx
        .updateTable('compute_migrations')
        .set({ status: 'reverting', updated_at: a.cx.nowMicro() })
        .where('uuid', '=', migrationId)
        .execute();
    },
  );
  return accepted();
};

const migrateLive: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:os-migrate-server:migrate_live', {
    state: 'os-migrateLive',
  });
  const mv = a.ctx.mv!;
  const host = (a.args.host as string | null | undefined) ?? null;
  let block: boolean | null;
  if (mv.atLeast('2.25') && a.args.block_migration === 'auto') block = null;
  else block = strictBool(a.args.block_migration, 'block_migration');
  let force = false;
  if (mv.atLeast('2.30') && !mv.atLeast('2.68') && a.args.force !== undefined) {
    force = strictBool(a.args.force, 'force');
    if (force && !host) throw ComputeErrors.badRequest("Can't force to a non-provided destination");
  }
  if (host !== null) await requireHost(a.cx, host);
  const migrationId = a.cx.ids.uuid();
  const f = flavorOf(s);
  await startTask(
    a.cx,
    a.ctx,
    s,
    'live-migration',
    {
      task_state: 'migrating',
      task_args: taskArgs(s, {
        schedule: true,
        migration_id: migrationId,
        block_migration: block,
        ...(host ? { host, force } : {}),
      }),
    },
    (trx) =>
      createMigration(
        a,
        trx,
        s,
        { type: 'live-migration', status: 'accepted', oldFlavor: f.id, newFlavor: f.id, destHost: host },
        migrationId,
      ),
  );
  return accepted();
};

/** evacuate: 200; before 2.14 the body carries the admin password. No lock check, as Nova. */
const evacuate: ActionHandler = async (a) => {
  const mv = a.ctx.mv!;
  const s = await loadForAction(a, 'os_compute_api:os-evacuate', { lock: false });
  const body = a.args as { host?: string; onSharedStorage?: unknown; adminPass?: string; force?: unknown };
  const host = body.host ?? null;
  if (mv.atLeast('2.29') && !mv.atLeast('2.68') && body.force !== undefined) {
    if (strictBool(body.force, 'force') && !host)
      throw ComputeErrors.badRequest("Can't force to a non-provided destination");
  }
  let password: string | null;
  if (mv.atLeast('2.14')) password = body.adminPass ?? generatePassword();
  else {
    const shared = strictBool(body.onSharedStorage, 'onSharedStorage');
    if (body.adminPass !== undefined && shared)
      throw ComputeErrors.badRequest("admin password can't be changed on existing disk");
    password = body.adminPass ?? (shared ? null : generatePassword());
  }
  if (host !== null)
    await requireHost(a.cx, host, (h) => ComputeErrors.notFound(`Compute host ${h} not found.`));
  if (s.host === host) throw ComputeErrors.badRequest("The target host can't be the same one.");
  checkState(s, 'evacuate');
  const source = s.host
    ? await a.cx.db
        .selectFrom('compute_hosts')
        .select(['forced_down', 'heartbeat_at'])
        .where('host', '=', s.host)
        .executeTakeFirst()
    : undefined;
  if (s.host && serviceIsUp(a.cx, source))
    throw ComputeErrors.badRequest(`Compute service of ${s.host} is still in use.`);
  const migrationId = a.cx.ids.uuid();
  const f = flavorOf(s);
  await startTask(
    a.cx,
    a.ctx,
    s,
    'evacuate',
    {
      task_state: 'rebuilding',
      task_args: taskArgs(s, {
        schedule: true,
        evacuate: true,
        migration_id: migrationId,
        ...(host ? { host } : {}),
      }),
    },
    (trx) =>
      createMigration(
        a,
        trx,
        s,
        { type: 'evacuation', status: 'accepted', oldFlavor: f.id, newFlavor: f.id, destHost: host },
        migrationId,
      ),
  );
  if (!mv.atLeast('2.14')) return { status: 200, body: { adminPass: password } };
  return { status: 200 };
};

export const moveActions: Record<string, ActionHandler> = {
  resize,
  confirmResize,
  revertResize,
  migrate,
  'os-migrateLive': migrateLive,
  evacuate,
};
