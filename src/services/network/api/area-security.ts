// The security area: Security groups and their rules.
import type { NetworkContext } from '../context.ts';
import type { ApiArea } from './area.ts';

export function securityArea(_cx: NetworkContext): ApiArea {
  return { routes: [], taggable: [], extensions: [] };
}
