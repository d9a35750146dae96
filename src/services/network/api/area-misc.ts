// The misc area: Quotas, RBAC policies, agents, availability zones, IP availability.
import type { NetworkContext } from '../context.ts';
import { agentRoutes } from './agents.ts';
import type { ApiArea } from './area.ts';
import { availabilityZoneRoutes } from './availability-zones.ts';
import type { ExtensionInfo } from './extensions.ts';
import { ipAvailabilityRoutes } from './ip-availability.ts';
import { quotaRoutes } from './quotas.ts';
import { rbacPolicyRoutes } from './rbac-policies.ts';

/** Extensions this area implements (availability_zone and network-ip-availability are in the base list). */
const extensions: ExtensionInfo[] = [
  {
    alias: 'quotas',
    name: 'Quota management support',
    description: 'Expose functions for quotas management per project',
  },
  {
    alias: 'quota_details',
    name: 'Quota details management support',
    description: 'Expose functions for quotas usage statistics per project',
  },
  {
    alias: 'quota-check-limit',
    name: 'Quota engine limit check',
    description: 'Support for checking the resource usage before applying a new quota limit',
  },
  {
    alias: 'rbac-policies',
    name: 'RBAC Policies',
    description: 'Allows creation and modification of policies that control tenant access to resources.',
  },
  { alias: 'agent', name: 'agent', description: 'The agent management extension.' },
];

export function miscArea(cx: NetworkContext): ApiArea {
  return {
    routes: [
      ...quotaRoutes(cx),
      ...rbacPolicyRoutes(cx),
      ...agentRoutes(cx),
      ...availabilityZoneRoutes(cx),
      ...ipAvailabilityRoutes(cx),
    ],
    taggable: [],
    extensions,
  };
}
