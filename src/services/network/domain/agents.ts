// The network agents each host runs, as Neutron lists them: one row per (agent type, host), kept alive by the
// host's heartbeats (reportAgentHeartbeat) and considered down after Neutron's agent_down_time without one.
import type { NetworkContext } from '../context.ts';
import type { AgentsTable } from '../store/tables-misc.ts';

/** Neutron's default agent_down_time (seconds): no heartbeat for longer and the agent is not alive. */
export const AGENT_DOWN_TIME_S = 75;

/** The binaries of an all-in-one network host, with Neutron's agent type, RPC topic and zone. */
export const AGENT_KINDS = {
  'neutron-linuxbridge-agent': { type: 'Linux bridge agent', topic: 'N/A', zoned: false },
  'neutron-dhcp-agent': { type: 'DHCP agent', topic: 'dhcp_agent', zoned: true },
  'neutron-l3-agent': { type: 'L3 agent', topic: 'l3_agent', zoned: true },
  'neutron-metadata-agent': { type: 'Metadata agent', topic: 'N/A', zoned: false },
} as const;

export type AgentBinary = keyof typeof AGENT_KINDS;

export const ALL_AGENT_BINARIES = Object.keys(AGENT_KINDS) as AgentBinary[];

/** The zone DHCP and L3 agents report (Neutron's default_availability_zone). */
export const DEFAULT_ZONE = 'nova';

export interface HeartbeatOptions {
  /** The agent (re)started: started_at becomes now. Default: the first heartbeat of this host in this process. */
  start?: boolean;
  /** What each agent reports as its configurations (shown as is). */
  configurations?: Partial<Record<AgentBinary, Record<string, unknown>>>;
}

const started = new WeakMap<NetworkContext, Set<string>>();

/**
 * Records a heartbeat of the host's network agents (every ~10 s, and at start): creates missing agents, else
 * refreshes heartbeat_timestamp (and started_at on a start). Heartbeats are not resource changes: no feed events.
 */
export async function reportAgentHeartbeat(
  cx: NetworkContext,
  host: string,
  binaries: readonly AgentBinary[] = ALL_AGENT_BINARIES,
  opts: HeartbeatOptions = {},
): Promise<void> {
  let seen = started.get(cx);
  if (!seen) {
    seen = new Set();
    started.set(cx, seen);
  }
  const start = opts.start ?? !seen.has(host);
  seen.add(host);
  const now = cx.nowIso();
  for (const binary of binaries) {
    const kind = AGENT_KINDS[binary];
    const conf = opts.configurations?.[binary];
    const set: Partial<AgentsTable> = { heartbeat_timestamp: now };
    if (start) set.started_at = now;
    if (conf) set.configurations = JSON.stringify(conf);
    const res = await cx.db
      .updateTable('network_agents')
      .set(set)
      .where('agent_type', '=', kind.type)
      .where('host', '=', host)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) > 0) continue;
    await cx.db
      .insertInto('network_agents')
      .values({
        id: cx.ids.uuid(),
        agent_type: kind.type,
        binary,
        topic: kind.topic,
        host,
        admin_state_up: 1,
        availability_zone: kind.zoned ? DEFAULT_ZONE : null,
        description: null,
        configurations: JSON.stringify(conf ?? {}),
        resources_synced: null,
        created_at: now,
        started_at: now,
        heartbeat_timestamp: now,
      })
      .onConflict((oc) => oc.columns(['agent_type', 'host']).doUpdateSet({ heartbeat_timestamp: now }))
      .execute();
  }
}

/** Whether an agent's last heartbeat is recent enough. */
export function agentAlive(cx: NetworkContext, a: Pick<AgentsTable, 'heartbeat_timestamp'>): boolean {
  const at = Date.parse(a.heartbeat_timestamp);
  return Number.isFinite(at) && cx.clock.now() - at <= AGENT_DOWN_TIME_S * 1000;
}

/** Neutron prints agent times as "YYYY-MM-DD HH:MM:SS" (UTC, no zone). */
export function agentTime(iso: string): string {
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');
}
