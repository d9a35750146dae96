// /v2.0/availability_zones: the zones of the DHCP agents (resource 'network') and L3 agents (resource 'router'),
// 'available' when one of the zone's agents is administratively up, as Neutron derives them.
import type { Route } from '../../../platform/http/types.ts';
import type { NetworkContext } from '../context.ts';
import { AGENT_KINDS, DEFAULT_ZONE } from '../domain/agents.ts';
import { listBody, parseListQuery } from './listing.ts';
import type { ResourceSpec } from './resource.ts';

const shown = { post: false, put: false } as const;

export const availabilityZoneSpec: ResourceSpec = {
  member: 'availability_zone',
  collection: 'availability_zones',
  attrs: {
    name: shown,
    resource: shown,
    state: shown,
    /** Internal: the listing pages by it; never shown. */
    id: { post: false, put: false, visible: false },
  },
};

const RESOURCE_OF: Record<string, string> = {
  [AGENT_KINDS['neutron-dhcp-agent'].type]: 'network',
  [AGENT_KINDS['neutron-l3-agent'].type]: 'router',
};

/** The zones with their state; before any agent reported, the default zone for both resources. */
export async function availabilityZones(
  cx: NetworkContext,
): Promise<{ name: string; resource: string; state: string }[]> {
  const agents = await cx.db
    .selectFrom('network_agents')
    .select(['agent_type', 'availability_zone', 'admin_state_up'])
    .where('agent_type', 'in', Object.keys(RESOURCE_OF))
    .execute();
  if (agents.length === 0)
    return ['network', 'router'].map((resource) => ({ name: DEFAULT_ZONE, resource, state: 'available' }));
  const up = new Map<string, boolean>();
  for (const a of agents) {
    if (!a.availability_zone) continue;
    const key = `${a.availability_zone}\u0000${RESOURCE_OF[a.agent_type]}`;
    up.set(key, (up.get(key) ?? false) || a.admin_state_up === 1);
  }
  return [...up.entries()]
    .map(([key, isUp]) => {
      const [name, resource] = key.split('\u0000') as [string, string];
      return { name, resource, state: isUp ? 'available' : 'unavailable' };
    })
    .sort((x, y) => x.name.localeCompare(y.name) || x.resource.localeCompare(y.resource));
}

export function availabilityZoneRoutes(cx: NetworkContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/network/v2.0/availability_zones',
      async handler(ctx) {
        ctx.requireAuth();
        const q = parseListQuery(ctx, availabilityZoneSpec);
        const zones = (await availabilityZones(cx)).map((z) => ({ ...z, id: `${z.name}/${z.resource}` }));
        return listBody(ctx, availabilityZoneSpec, zones, q);
      },
    },
  ];
}
