// The misc area: Quotas, RBAC policies, agents, availability zones, IP availability.
import type { NetworkContext } from '../context.ts';
import type { ApiArea } from './area.ts';

export function miscArea(_cx: NetworkContext): ApiArea {
  return { routes: [], taggable: [], extensions: [] };
}
