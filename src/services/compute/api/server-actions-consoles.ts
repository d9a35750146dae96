// Console access: os-getConsoleOutput, the per-protocol console actions (2.1-2.5) and POST
// /servers/{id}/remote-consoles (2.6+). The console proxy arrives with the QEMU driver; until then the URLs
// carry a random token nothing validates and the console log is the fake guest's boot log.
import { randomBytes } from 'node:crypto';
import { ApiError } from '../../../platform/errors.ts';
import { byVersion } from '../../../platform/http/microversion.ts';
import type { Route, RouteResult } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { ComputeErrors } from '../errors.ts';
import type { HostInfoCache, Server } from '../store/servers.ts';
import { validateSchema } from './resource-common.ts';
import { remoteConsoleCreate } from './schemas/remote-consoles.schema.ts';
import {
  type ActionHandler,
  type ActionRequest,
  flavorOf,
  loadForAction,
  notReady,
} from './server-actions-common.ts';
import { visibleServer } from './servers.ts';

/** The console lines the fake hypervisor prints for a server's boots (deterministic per server). */
export function fakeConsoleLog(s: Server): string[] {
  const f = flavorOf(s);
  const lines = [
    `[    0.000000] Linux version 6.1.0-fake (monostack fake hypervisor) booting from ${s.image_id}`,
    `[    0.000000] Memory: ${f.memory_mb ?? 0}MB, CPUs: ${f.vcpus ?? 0}`,
    '[    0.412000] Freeing unused kernel memory',
    `cloud-init: datasource ${s.config_drive === 'True' ? 'ConfigDrive' : 'OpenStack metadata service'}`,
    `cloud-init: set hostname to ${s.hostname}`,
    'cloud-init: modules:final finished',
    `${s.hostname} login:`,
  ];
  if (s.vm_state === 'stopped' || s.vm_state === 'shelved' || s.vm_state === 'shelved_offloaded')
    lines.push('reboot: Power down');
  return lines;
}

/** os-getConsoleOutput: 200 {"output"}; `length` keeps the last lines (-1 or absent: all). */
const consoleOutput: ActionHandler = async (a) => {
  const s = await loadForAction(a, 'os_compute_api:os-console-output', { lock: false });
  if (!s.host) throw notReady(s.id);
  const raw = a.args?.length;
  const length = raw === undefined || raw === null ? -1 : Number(raw);
  let lines = fakeConsoleLog(s);
  if (length >= 0) lines = length === 0 ? [] : lines.slice(-length);
  return { status: 200, body: { output: stripControl(lines.join('\n')) } };
};

/** Nova strips control characters other than tab and newline from console output. */
export function stripControl(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (c >= 0x20 || c === 0x09 || c === 0x0a) out += ch;
  }
  return out;
}

/** Protocols served (Nova's [vnc] and [serial_console] enabled); others answer Nova's 400. */
const SUPPORTED: Record<string, string> = { novnc: 'vnc', serial: 'serial' };
const PROTOCOL_TYPES: Record<string, string[]> = {
  vnc: ['novnc', 'xvpvnc'],
  spice: ['spice-html5'],
  rdp: ['rdp-html5'],
  serial: ['serial'],
  mks: ['webmks'],
};

/** A console URL for `type`, after Nova's checks (host assigned, not deleting or migrating). */
function consoleUrl(baseUrl: string, s: Server, type: string, method: string): string {
  if (!s.host) throw notReady(s.id);
  if (s.task_state === 'deleting' || s.task_state === 'migrating')
    throw ComputeErrors.invalidState(s.id, 'task_state', s.task_state, method);
  if (type === 'xvpvnc') throw new ApiError(400, 'ConsoleTypeInvalid', `Invalid console type ${type}`);
  if (!SUPPORTED[type])
    throw new ApiError(400, 'ConsoleTypeUnavailable', `Unavailable console type ${type}.`);
  return `${baseUrl}/compute/console?token=${randomBytes(18).toString('hex')}`;
}

function consoleAction(method: string): ActionHandler {
  return async (a: ActionRequest): Promise<RouteResult> => {
    const s = await loadForAction(a, 'os_compute_api:os-remote-consoles', { lock: false });
    const type = String(a.args.type);
    const url = consoleUrl(a.ctx.baseUrl(), s, type, method);
    return { status: 200, body: { console: { type, url } } };
  };
}

export const consoleActions: Record<string, ActionHandler> = {
  'os-getConsoleOutput': consoleOutput,
  'os-getVNCConsole': consoleAction('get_vnc_console'),
  'os-getSPICEConsole': consoleAction('get_spice_console'),
  'os-getRDPConsole': consoleAction('get_rdp_console'),
  'os-getSerialConsole': consoleAction('get_serial_console'),
};

/** POST /servers/{server_id}/remote-consoles (2.6+). */
export function remoteConsoleRoutes(cx: ComputeContext, _hosts: HostInfoCache): Route[] {
  return [
    {
      method: 'POST',
      path: '/compute/v2.1/servers/:server_id/remote-consoles',
      async handler(ctx) {
        if (!ctx.mv!.atLeast('2.6')) throw new ApiError(404, 'NotFound', 'The resource could not be found.');
        validateSchema(byVersion(ctx.mv!, remoteConsoleCreate), ctx.body);
        const s = await visibleServer(cx, ctx, ctx.params['server_id']!, 'os_compute_api:os-remote-consoles');
        const { protocol, type } = (ctx.body as { remote_console: { protocol: string; type: string } })
          .remote_console;
        if (!PROTOCOL_TYPES[protocol]?.includes(type))
          throw new ApiError(400, 'ConsoleTypeInvalid', `Invalid console type ${type}`);
        const url = consoleUrl(ctx.baseUrl(), s, type, `get_${protocol}_console`);
        return { status: 200, body: { remote_console: { protocol, type, url } } };
      },
    },
  ];
}
