// The security area: security groups and their rules, and the groups ports carry.
import type { NetworkContext } from '../context.ts';
import { hooks, type PortHook } from '../domain/hooks.ts';
import { implementPortSecurityGroups } from '../domain/port-security-groups.ts';
import { sgPortBindings } from '../domain/sg-port-bindings.ts';
import type { ApiArea } from './area.ts';
import type { ExtensionInfo } from './extensions.ts';
import { securityGroupRuleRoutes } from './security-group-rules.ts';
import { securityGroupRoutes, securityGroupTaggable } from './security-groups.ts';

const EXTENSIONS: ExtensionInfo[] = [
  { alias: 'security-group', name: 'security-group', description: 'The security groups extension.' },
  {
    alias: 'stateful-security-group',
    name: 'Stateful security group',
    description: 'Indicates if the security group is stateful or not',
  },
  {
    alias: 'security-groups-normalized-cidr',
    name: 'Normalized CIDR field for security group rules',
    description: 'Add new field with normalized remote_ip_prefix cidr in SG rule',
  },
];

/** Drops a deleted port's bindings whichever path deletes it (its groups may then be deleted). */
const unbindOnPortDelete: PortHook = (cx, trx, port) => sgPortBindings.unbind(cx, trx, port.id);

export function securityArea(cx: NetworkContext): ApiArea {
  implementPortSecurityGroups(sgPortBindings);
  if (!hooks.portDeleted.includes(unbindOnPortDelete)) hooks.portDeleted.push(unbindOnPortDelete);
  return {
    routes: [...securityGroupRoutes(cx), ...securityGroupRuleRoutes(cx)],
    taggable: [securityGroupTaggable],
    extensions: EXTENSIONS,
  };
}
