// Small per-server APIs: diagnostics, os-server-password, os-security-groups of a server, and
// POST /os-server-external-events (Neutron's, Cinder's and Cyborg's notifications to compute).
import { createHash } from 'node:crypto';
import type { Route, RouteContext, RouteResult } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { PowerState } from '../domain/server-states.ts';
import { ComputeErrors } from '../errors.ts';
import type { NetworkEventName } from '../network/events.ts';
import { handleNetworkEvent, NETWORK_EVENTS, type NicDetacher } from '../network/notifier.ts';
import type { Server } from '../store/servers.ts';
import { parseJson } from './common.ts';
import { validateBody } from './resource-common.ts';
import { serverExternalEventsCreate } from './schemas/server-external-events.schema.ts';
import { flavorOf, notReady, sysMeta } from './server-actions-common.ts';
import { serverGroups } from './server-security-groups.ts';
import { visibleServer } from './servers.ts';

const S = '/compute/v2.1/servers/:server_id';

/** The fake hypervisor's diagnostics (Nova's fake driver values, sized by the server's flavor). */
function diagnostics(ctx: RouteContext, s: Server): Record<string, unknown> {
  const f = flavorOf(s);
  const memoryKib = (f.memory_mb ?? 512) * 1024;
  if (!ctx.mv!.atLeast('2.48'))
    return {
      cpu0_time: 17300000000,
      memory: memoryKib,
      vda_errors: -1,
      vda_read: 262144,
      vda_read_req: 112,
      vda_write: 5778432,
      vda_write_req: 488,
      vnet1_rx: 2070139,
      vnet1_rx_drop: 0,
      vnet1_rx_errors: 0,
      vnet1_rx_packets: 26701,
      vnet1_tx: 140208,
      vnet1_tx_drop: 0,
      vnet1_tx_errors: 0,
      vnet1_tx_packets: 662,
    };
  const cpus = Math.max(f.vcpus ?? 1, 1);
  const uptime = s.launched_at ? Math.max(0, Math.floor((Date.now() - Date.parse(s.launched_at)) / 1000)) : 0;
  return {
    state: 'running',
    driver: 'libvirt',
    hypervisor: 'qemu',
    hypervisor_os: 'linux',
    uptime,
    config_drive: s.config_drive === 'True',
    num_cpus: cpus,
    num_nics: 1,
    num_disks: 1,
    cpu_details: Array.from({ length: cpus }, (_, id) => ({ id, time: 17300000000, utilisation: 15 })),
    nic_details: [
      {
        mac_address: `fa:16:3e:${s.id.slice(0, 2)}:${s.id.slice(2, 4)}:${s.id.slice(4, 6)}`,
        rx_octets: 2070139,
        rx_errors: 0,
        rx_drop: 0,
        rx_packets: 26701,
        rx_rate: null,
        tx_octets: 140208,
        tx_errors: 0,
        tx_drop: 0,
        tx_packets: 662,
        tx_rate: null,
      },
    ],
    disk_details: [
      { read_bytes: 262144, read_requests: 112, write_bytes: 5778432, write_requests: 488, errors_count: 0 },
    ],
    memory_details: { maximum: memoryKib, used: 0 },
  };
}

/** Neutron-like ids for the group names a server carries (stable per project and name). */
function groupId(projectId: string, name: string): string {
  const h = createHash('sha1').update(`${projectId}:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Events that carry their subject in `tag` (Nova drops them with 400 without one). */
const TAG_REQUIRED = new Set(['volume-extended', 'power-update', 'accelerator-request-bound']);

interface ExternalEvent {
  name: string;
  server_uuid: string;
  status?: string;
  tag?: string;
  code?: number;
}

/** power-update (2.76): a hypervisor-side power change the ironic driver reports, applied when no task runs. */
async function applyPowerUpdate(cx: ComputeContext, s: Server, tag: string): Promise<void> {
  if (s.task_state !== null) return;
  const on = tag === 'POWER_ON';
  if (on ? s.vm_state !== 'stopped' : s.vm_state !== 'active') return;
  await cx.write(async (trx, record) => {
    await trx
      .updateTable('compute_servers')
      .set({
        vm_state: on ? 'active' : 'stopped',
        power_state: on ? PowerState.RUNNING : PowerState.SHUTDOWN,
        updated_at: cx.nowMicro(),
      })
      .where('id', '=', s.id)
      .where('task_seq', '=', s.task_seq)
      .execute();
    record({ kind: 'server', id: s.id, action: 'update', projectId: s.project_id, data: { host: s.host } });
  });
}

async function externalEvents(
  cx: ComputeContext,
  ctx: RouteContext,
  hosts: NicDetacher,
): Promise<RouteResult> {
  validateBody(ctx, serverExternalEventsCreate);
  ctx.authorize('os_compute_api:os-server-external-events:create', {});
  const events = (ctx.body as { events: ExternalEvent[] }).events;
  const ids = [...new Set(events.map((e) => e.server_uuid))];
  const rows = await cx.db
    .selectFrom('compute_servers')
    .selectAll()
    .where('id', 'in', ids)
    .where('deleted', '=', 0)
    .execute();
  const servers = new Map(rows.map((r) => [r.id, r]));
  let status = 200;
  const out: ExternalEvent[] = [];
  for (const e of events) {
    const ev: ExternalEvent = { ...e };
    out.push(ev);
    const s = servers.get(e.server_uuid);
    if (!s) {
      Object.assign(ev, { status: 'failed', code: 404 });
      status = 207;
    } else if (TAG_REQUIRED.has(e.name) && e.tag === undefined) {
      Object.assign(ev, { status: 'failed', code: 400 });
      status = 207;
    } else if (!s.host) {
      Object.assign(ev, { status: 'failed', code: 422 });
      status = 207;
    } else {
      // The event's own status (a failed plug) is kept; the code says it was delivered.
      Object.assign(ev, { status: e.status ?? 'completed', code: 200 });
      if (e.name === 'power-update' && e.tag) await applyPowerUpdate(cx, s, e.tag);
      if (NETWORK_EVENTS.has(e.name) && e.tag)
        await handleNetworkEvent(
          cx,
          {
            name: e.name as NetworkEventName,
            serverId: s.id,
            portId: e.tag,
            status: e.status === 'failed' ? 'failed' : 'completed',
          },
          hosts,
        ).catch((err: unknown) =>
          cx.log.warn({ err, server: s.id, event: e.name }, 'network event not applied'),
        );
    }
  }
  return { status, body: { events: out } };
}

export function serverMiscRoutes(cx: ComputeContext, hosts: NicDetacher): Route[] {
  const load = (ctx: RouteContext, rule: string) => visibleServer(cx, ctx, ctx.params['server_id']!, rule);
  return [
    {
      method: 'GET',
      path: `${S}/diagnostics`,
      async handler(ctx) {
        const s = await load(ctx, 'os_compute_api:os-server-diagnostics');
        if (!s.host) throw notReady(s.id);
        if (s.power_state !== PowerState.RUNNING)
          throw ComputeErrors.invalidState(s.id, 'power_state', String(s.power_state), 'get_diagnostics');
        return { body: diagnostics(ctx, s) };
      },
    },
    {
      method: 'GET',
      path: `${S}/os-server-password`,
      async handler(ctx) {
        const s = await load(ctx, 'os_compute_api:os-server-password:show');
        const meta = sysMeta(s);
        const password = Object.keys(meta)
          .filter((k) => k.startsWith('password_'))
          .sort()
          .map((k) => String(meta[k] ?? ''))
          .join('');
        return { body: { password } };
      },
    },
    {
      method: 'DELETE',
      path: `${S}/os-server-password`,
      async handler(ctx): Promise<RouteResult> {
        const s = await load(ctx, 'os_compute_api:os-server-password:clear');
        const meta = sysMeta(s);
        for (let i = 0; i < 4; i++) meta[`password_${i}`] = '';
        await cx.write(async (trx, record) => {
          await trx
            .updateTable('compute_servers')
            .set({ system_metadata: JSON.stringify(meta), updated_at: cx.nowMicro() })
            .where('id', '=', s.id)
            .execute();
          record({ kind: 'server', id: s.id, action: 'update', projectId: s.project_id });
        });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: `${S}/os-security-groups`,
      async handler(ctx) {
        const s = await load(ctx, 'os_compute_api:os-security-groups:list');
        if (cx.network)
          return {
            body: { security_groups: await serverGroups(cx.network.user(ctx.requireAuth().token), s) },
          };
        const groups = parseJson<string[]>(s.security_groups, [])
          .map((name) => ({
            id: groupId(s.project_id, name),
            description: name === 'default' ? 'Default security group' : '',
            name,
            tenant_id: s.project_id,
            rules: [],
          }))
          .sort((x, y) => x.name.localeCompare(y.name));
        return { body: { security_groups: groups } };
      },
    },
    {
      method: 'POST',
      path: '/compute/v2.1/os-server-external-events',
      handler: (ctx) => externalEvents(cx, ctx, hosts),
    },
  ];
}
