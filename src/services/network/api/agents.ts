// /v2.0/agents: the network agents of each host (admin only): list with filters, show, update
// (admin_state_up, description), delete. Others see an empty list and 404s, as Neutron's policy layer answers.
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext } from '../context.ts';
import { agentAlive, agentTime } from '../domain/agents.ts';
import { allows } from '../domain/rbac-rules.ts';
import { notFound, policyDenied, resourceNotFound } from '../errors.ts';
import type { AgentsTable } from '../store/tables-misc.ts';
import { bool, json } from './common.ts';
import { listBody, parseListQuery } from './listing.ts';
import { parseUpdate, type ResourceSpec, showBody, toBoolean, view } from './resource.ts';

const readOnly = { post: false, put: false } as const;
const noFilter = { post: false, put: false, filter: false } as const;

export const agentSpec: ResourceSpec = {
  member: 'agent',
  collection: 'agents',
  attrs: {
    id: readOnly,
    agent_type: readOnly,
    binary: readOnly,
    topic: readOnly,
    host: readOnly,
    admin_state_up: { post: false, put: true, convert: toBoolean },
    created_at: noFilter,
    started_at: noFilter,
    heartbeat_timestamp: noFilter,
    alive: { post: false, put: false, convert: toBoolean },
    configurations: noFilter,
    resource_versions: noFilter,
    resources_synced: noFilter,
    availability_zone: readOnly,
    description: {
      post: false,
      put: true,
      validate: (v: unknown) =>
        v === null
          ? undefined
          : typeof v !== 'string'
            ? `'${String(v)}' is not a valid string`
            : v.length > 255
              ? `'${v}' exceeds maximum length of 255`
              : undefined,
    },
  },
};

export function renderAgent(cx: NetworkContext, a: AgentsTable): Record<string, unknown> {
  return {
    id: a.id,
    agent_type: a.agent_type,
    binary: a.binary,
    topic: a.topic,
    host: a.host,
    admin_state_up: bool(a.admin_state_up),
    created_at: agentTime(a.created_at),
    started_at: agentTime(a.started_at),
    heartbeat_timestamp: agentTime(a.heartbeat_timestamp),
    description: a.description,
    alive: agentAlive(cx, a),
    configurations: json<Record<string, unknown>>(a.configurations, {}),
    resource_versions: {},
    availability_zone: a.availability_zone,
    resources_synced: a.resources_synced === null ? null : a.resources_synced === 1,
  };
}

function agentNotFound(id: string): Error {
  return notFound('AgentNotFound', `Agent ${id} could not be found.`);
}

/** An agent by id (AgentNotFound), then the caller's right to see it (404 without giving it away). */
async function findAgent(cx: NetworkContext, ctx: RouteContext, id: string): Promise<AgentsTable> {
  ctx.requireAuth();
  const row = await cx.db.selectFrom('network_agents').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw agentNotFound(id);
  if (!allows(ctx, 'get_agent', renderAgent(cx, row), 'admin_only')) throw resourceNotFound();
  return row;
}

/** A write the caller may not make: 404 when it may not even see the agent, else PolicyNotAuthorized. */
function authorizeWrite(ctx: RouteContext, rule: string, target: Record<string, unknown>): void {
  if (allows(ctx, rule, target, 'admin_only')) return;
  throw policyDenied(rule);
}

export function agentRoutes(cx: NetworkContext): Route[] {
  const base = '/network/v2.0/agents';
  return [
    {
      method: 'GET',
      path: base,
      async handler(ctx) {
        ctx.requireAuth();
        const q = parseListQuery(ctx, agentSpec);
        const rows = await cx.db
          .selectFrom('network_agents')
          .selectAll()
          .orderBy('host')
          .orderBy('agent_type')
          .execute();
        const items = rows
          .map((r) => renderAgent(cx, r))
          .filter((a) => allows(ctx, 'get_agent', a, 'admin_only'));
        return listBody(ctx, agentSpec, items, q);
      },
    },
    {
      method: 'GET',
      path: `${base}/:id`,
      async handler(ctx) {
        const row = await findAgent(cx, ctx, ctx.params['id']!);
        return showBody(ctx, agentSpec, renderAgent(cx, row));
      },
    },
    {
      method: 'PUT',
      path: `${base}/:id`,
      async handler(ctx) {
        const item = parseUpdate(agentSpec, { projectId: undefined, isAdmin: true }, ctx.body);
        const row = await findAgent(cx, ctx, ctx.params['id']!);
        authorizeWrite(ctx, 'update_agent', { ...renderAgent(cx, row), ...item.values });
        const set: Partial<AgentsTable> = {};
        if (item.values['admin_state_up'] !== undefined)
          set.admin_state_up = item.values['admin_state_up'] ? 1 : 0;
        if (item.values['description'] !== undefined) set.description = item.values['description'];
        const next = await cx.write(async (trx, record) => {
          if (Object.keys(set).length > 0)
            await trx.updateTable('network_agents').set(set).where('id', '=', row.id).execute();
          const cur = await trx
            .selectFrom('network_agents')
            .selectAll()
            .where('id', '=', row.id)
            .executeTakeFirst();
          if (!cur) throw agentNotFound(row.id);
          record({ kind: 'agent', id: row.id, action: 'update' });
          return cur;
        });
        return { body: { agent: view(ctx, agentSpec, renderAgent(cx, next)) } };
      },
    },
    {
      method: 'DELETE',
      path: `${base}/:id`,
      async handler(ctx) {
        const row = await findAgent(cx, ctx, ctx.params['id']!);
        authorizeWrite(ctx, 'delete_agent', renderAgent(cx, row));
        await cx.write(async (trx, record) => {
          await trx.deleteFrom('network_agents').where('id', '=', row.id).execute();
          record({ kind: 'agent', id: row.id, action: 'delete' });
        });
        return { status: 204 };
      },
    },
  ];
}
