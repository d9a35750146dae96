// Console access: os-getConsoleOutput (the guest's log, from its host), the per-protocol console actions
// (2.1-2.5) and POST /servers/{id}/remote-consoles (2.6+), whose URLs carry tokens the console proxy checks.
import { ApiError } from '../../../platform/errors.ts';
import { byVersion } from '../../../platform/http/microversion.ts';
import type { Route, RouteResult } from '../../../platform/http/types.ts';
import type { ApiConsoleType } from '../consoles/access-urls.ts';
import type { ComputeConsoles } from '../consoles/consoles.ts';
import { hostQueryError } from '../consoles/host-errors.ts';
import type { ComputeContext } from '../context.ts';
import { ComputeErrors } from '../errors.ts';
import type { Server } from '../store/servers.ts';
import { validateSchema } from './resource-common.ts';
import { remoteConsoleCreate } from './schemas/remote-consoles.schema.ts';
import { type ActionHandler, type ActionRequest, loadForAction, notReady } from './server-actions-common.ts';
import { visibleServer } from './servers.ts';

/** Nova strips control characters other than tab and newline from console output. */
export function stripControl(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (c >= 0x20 || c === 0x09 || c === 0x0a) out += ch;
  }
  return out;
}

/** os-getConsoleOutput: 200 {"output"}; `length` keeps the last lines (-1 or absent: all). */
function consoleOutput(consoles: ComputeConsoles): ActionHandler {
  return async (a) => {
    const s = await loadForAction(a, 'os_compute_api:os-console-output', { lock: false });
    if (!s.host) throw notReady(s.id);
    const raw = a.args?.length;
    const length = raw === undefined || raw === null ? -1 : Number(raw);
    let text: string;
    try {
      text = await consoles.hostQueries.consoleOutput(s.host, s.id, length >= 0 ? length : undefined);
    } catch (err) {
      hostQueryError(err, s);
    }
    return { status: 200, body: { output: stripControl(text) } };
  };
}

/** Protocols served (Nova's [vnc] and [serial_console] enabled); others answer Nova's 400. */
const SUPPORTED: Record<string, ApiConsoleType> = { novnc: 'novnc', serial: 'serial' };
const PROTOCOL_TYPES: Record<string, string[]> = {
  vnc: ['novnc', 'xvpvnc'],
  spice: ['spice-html5'],
  rdp: ['rdp-html5'],
  serial: ['serial'],
  mks: ['webmks'],
};

/** A console URL for `type`, after Nova's checks (host assigned, not deleting or migrating). */
async function consoleUrl(
  consoles: ComputeConsoles,
  baseUrl: string,
  s: Server,
  type: string,
  method: string,
): Promise<string> {
  if (!s.host) throw notReady(s.id);
  if (s.task_state === 'deleting' || s.task_state === 'migrating')
    throw ComputeErrors.invalidState(s.id, 'task_state', s.task_state, method);
  if (type === 'xvpvnc') throw new ApiError(400, 'ConsoleTypeInvalid', `Invalid console type ${type}`);
  const served = SUPPORTED[type];
  if (!served) throw new ApiError(400, 'ConsoleTypeUnavailable', `Unavailable console type ${type}.`);
  return consoles.accessUrl(s, served, baseUrl);
}

function consoleAction(consoles: ComputeConsoles, method: string): ActionHandler {
  return async (a: ActionRequest): Promise<RouteResult> => {
    const s = await loadForAction(a, 'os_compute_api:os-remote-consoles', { lock: false });
    const type = String(a.args.type);
    const url = await consoleUrl(consoles, a.ctx.baseUrl(), s, type, method);
    return { status: 200, body: { console: { type, url } } };
  };
}

/** The console actions of POST /servers/{id}/action. */
export function consoleActions(consoles: ComputeConsoles): Record<string, ActionHandler> {
  return {
    'os-getConsoleOutput': consoleOutput(consoles),
    'os-getVNCConsole': consoleAction(consoles, 'get_vnc_console'),
    'os-getSPICEConsole': consoleAction(consoles, 'get_spice_console'),
    'os-getRDPConsole': consoleAction(consoles, 'get_rdp_console'),
    'os-getSerialConsole': consoleAction(consoles, 'get_serial_console'),
  };
}

/** POST /servers/{server_id}/remote-consoles (2.6+). */
export function remoteConsoleRoutes(cx: ComputeContext, consoles: ComputeConsoles): Route[] {
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
        const url = await consoleUrl(consoles, ctx.baseUrl(), s, type, `get_${protocol}_console`);
        return { status: 200, body: { remote_console: { protocol, type, url } } };
      },
    },
  ];
}
