// What compute does with Neutron's port events, whether they come over POST /os-server-external-events or from
// an in-process network service (its ComputeNotifier): plug events wake builds, changes refresh the info cache.
import type { HostQueries } from '../../../agent/compute/host-queries.ts';
import type { ComputeNotifier } from '../../network/context.ts';
import type { ComputeContext } from '../context.ts';
import { refreshInfoCache } from './allocation.ts';
import type { NetworkEvent } from './events.ts';
import { parseVifs } from './info-cache.ts';

export const NETWORK_EVENTS: ReadonlySet<string> = new Set([
  'network-vif-plugged',
  'network-vif-unplugged',
  'network-changed',
  'network-vif-deleted',
]);

/** The host call a deleted port needs: its NIC leaves the running guest. */
export type NicDetacher = Pick<HostQueries, 'detachNic'>;

/**
 * Applies one event (the server exists and has a host; the caller checked). A port deleted in Neutron while it was
 * the server's (network-vif-deleted) is detached from the guest on its host, as Nova does.
 */
export async function handleNetworkEvent(
  cx: ComputeContext,
  e: NetworkEvent,
  hosts?: NicDetacher,
): Promise<void> {
  if (e.name === 'network-vif-plugged') {
    cx.networkEvents.plugged(e);
    return;
  }
  if (e.name === 'network-vif-deleted' && hosts?.detachNic) {
    const s = await cx.db
      .selectFrom('compute_servers')
      .select(['host', 'network_info'])
      .where('id', '=', e.serverId)
      .executeTakeFirst();
    if (s?.host && parseVifs(s.network_info).some((v) => v.id === e.portId))
      await hosts
        .detachNic(s.host, e.serverId, e.portId)
        .catch((err: unknown) =>
          cx.log.warn(
            { err, server: e.serverId, port: e.portId },
            'deleted port not detached from the guest',
          ),
        );
  }
  // network-changed (addresses, groups, floating IPs), a port deleted or unplugged: Nova refreshes its cache.
  if (cx.network) await refreshInfoCache(cx, e.serverId);
}

/** The in-process ComputeNotifier the network service calls (Neutron's Nova notifier without HTTP). */
export function computeNotifier(cx: ComputeContext, hosts?: NicDetacher): ComputeNotifier {
  return {
    portEvent(e) {
      handleNetworkEvent(cx, e, hosts).catch((err: unknown) =>
        cx.log.warn({ err, server: e.serverId, port: e.portId, event: e.name }, 'network event not applied'),
      );
    },
  };
}
