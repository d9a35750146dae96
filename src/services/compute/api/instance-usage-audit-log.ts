// /os-instance_usage_audit_log (nova/api/openstack/compute/instance_usage_audit_log.py): the state of the
// "instance_usage_audit" task on each compute host for the last completed audit period. Monostack runs no
// audit task, so every compute host (disabled ones included) is reported as not run.
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { lastCompletedMonth, parseAuditTimestamp, pythonDateTime } from '../domain/audit-period.ts';
import { V } from './flavors.ts';

const RULE = 'os_compute_api:os-instance-usage-audit-log';

/** One task log per host that ran the audit in the period (none here). */
interface TaskLog {
  host: string;
  state: 'RUNNING' | 'DONE';
  task_items: number;
  errors: number;
  message: string;
}

async function auditReport(cx: ComputeContext, before: number): Promise<Record<string, unknown>> {
  const { begin, end } = lastCompletedMonth(before);
  const logs: TaskLog[] = [];
  const rows = await cx.db.selectFrom('compute_hosts').select('host').orderBy('host').execute();
  const hosts = new Set(rows.map((r) => r.host));
  const seen = new Set(logs.map((l) => l.host));
  const done = new Set(logs.filter((l) => l.state === 'DONE').map((l) => l.host));
  const running = new Set(logs.filter((l) => l.state === 'RUNNING').map((l) => l.host));
  const totalErrors = logs.reduce((n, l) => n + l.errors, 0);
  const missing = [...hosts].filter((h) => !seen.has(h));
  const doneText = done.size === hosts.size ? 'ALL' : `${done.size} of ${hosts.size}`;
  return {
    period_beginning: pythonDateTime(begin),
    period_ending: pythonDateTime(end),
    num_hosts: hosts.size,
    num_hosts_done: done.size,
    num_hosts_running: running.size,
    num_hosts_not_run: missing.length,
    hosts_not_run: missing,
    total_instances: logs.reduce((n, l) => n + l.task_items, 0),
    total_errors: totalErrors,
    overall_status: `${doneText} hosts done. ${totalErrors} errors.`,
    log: Object.fromEntries(
      logs.map((l) => [
        l.host,
        { state: l.state, instances: l.task_items, errors: l.errors, message: l.message },
      ]),
    ),
  };
}

async function show(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize(`${RULE}:show`, {});
  const raw = ctx.params['before_timestamp']!;
  const before = parseAuditTimestamp(raw);
  if (before === undefined) throw new ApiError(400, 'BadRequest', `Invalid timestamp for date ${raw}`);
  return { body: { instance_usage_audit_log: await auditReport(cx, before) } };
}

export function instanceUsageAuditLogRoutes(cx: ComputeContext): Route[] {
  return [
    {
      method: 'GET',
      path: `${V}/os-instance_usage_audit_log`,
      async handler(ctx) {
        ctx.authorize(`${RULE}:list`, {});
        return { body: { instance_usage_audit_logs: await auditReport(cx, cx.clock.now()) } };
      },
    },
    {
      method: 'GET',
      path: `${V}/os-instance_usage_audit_log/:before_timestamp`,
      handler: (ctx) => show(cx, ctx),
    },
  ];
}
