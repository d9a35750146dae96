// What compute does with Neutron's port events, whether they come over POST /os-server-external-events or from
// an in-process network service (its ComputeNotifier): plug events wake builds, changes refresh the info cache.
import type { ComputeNotifier } from '../../network/context.ts';
import type { ComputeContext } from '../context.ts';
import { refreshInfoCache } from './allocation.ts';
import type { NetworkEvent } from './events.ts';

export const NETWORK_EVENTS: ReadonlySet<string> = new Set([
  'network-vif-plugged',
  'network-vif-unplugged',
  'network-changed',
  'network-vif-deleted',
]);

/** Applies one event (the server exists and has a host; the caller checked). */
export async function handleNetworkEvent(cx: ComputeContext, e: NetworkEvent): Promise<void> {
  if (e.name === 'network-vif-plugged') {
    cx.networkEvents.plugged(e);
    return;
  }
  // network-changed (addresses, groups, floating IPs), a port deleted or unplugged: Nova refreshes its cache.
  if (cx.network) await refreshInfoCache(cx, e.serverId);
}

/** The in-process ComputeNotifier the network service calls (Neutron's Nova notifier without HTTP). */
export function computeNotifier(cx: ComputeContext): ComputeNotifier {
  return {
    portEvent(e) {
      handleNetworkEvent(cx, e).catch((err: unknown) =>
        cx.log.warn({ err, server: e.serverId, port: e.portId, event: e.name }, 'network event not applied'),
      );
    },
  };
}
