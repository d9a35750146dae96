// Which host serves a network's DHCP and which hosts a router (Neutron's DHCP and L3 agent schedulers), chosen
// among the live, enabled agents of that kind by rendezvous hashing: no binding rows, every caller agrees, a dead
// agent's networks and routers move to the others once it misses agent_down_time, and a joining agent takes
// about 1/n of them.
import { createHash } from 'node:crypto';
import type { NetworkContext } from '../context.ts';
import { AGENT_KINDS, agentAlive } from './agents.ts';

export interface Hosting {
  /** The host serving DHCP for this network. */
  dhcpHost(networkId: string): string;
  /** The host whose L3 agent runs this router. */
  l3Host(routerId: string): string;
}

/**
 * Reads the live DHCP and L3 agents once. With none alive of a kind (an agent's first pass can come before its
 * first heartbeat), `fallbackHost` serves: a lone host is never left without DHCP or routers.
 */
export async function loadHosting(cx: NetworkContext, fallbackHost: string): Promise<Hosting> {
  const rows = await cx.db
    .selectFrom('network_agents')
    .select(['host', 'agent_type', 'heartbeat_timestamp', 'admin_state_up'])
    .where('agent_type', 'in', [AGENT_KINDS['neutron-dhcp-agent'].type, AGENT_KINDS['neutron-l3-agent'].type])
    .execute();
  const live = (type: string) =>
    [
      ...new Set(
        rows
          .filter((a) => a.agent_type === type && a.admin_state_up === 1 && agentAlive(cx, a))
          .map((a) => a.host),
      ),
    ].sort();
  const dhcp = live(AGENT_KINDS['neutron-dhcp-agent'].type);
  const l3 = live(AGENT_KINDS['neutron-l3-agent'].type);
  return {
    dhcpHost: (id) => pickHost(dhcp, `dhcp:${id}`) ?? fallbackHost,
    l3Host: (id) => pickHost(l3, `l3:${id}`) ?? fallbackHost,
  };
}

/** Rendezvous (highest random weight) hashing: the host with the greatest hash of (host, key). */
export function pickHost(hosts: readonly string[], key: string): string | undefined {
  let best: string | undefined;
  let bestWeight = '';
  for (const h of hosts) {
    const w = createHash('sha1').update(`${h}\0${key}`).digest('hex');
    if (best === undefined || w > bestWeight) {
      best = h;
      bestWeight = w;
    }
  }
  return best;
}
