// An in-memory NetworkControlPlane for the agent tests: mutable desired state, recorded statuses, metadata lookups.
import type { NetworkControlPlane, PortStatus } from '../../../src/agent/network/control-plane.ts';
import type { HostNetworkState } from '../../../src/agent/network/desired-state.ts';

export class MemoryNetworkControlPlane implements NetworkControlPlane {
  state: HostNetworkState = { networks: [], ports: [], routers: [], securityGroups: [] };
  readonly statuses = new Map<string, PortStatus>();
  readonly statusLog: { portId: string; status: PortStatus }[] = [];
  /** `${networkId} ${ip}` → instance. */
  readonly instances = new Map<string, { instanceId: string; projectId: string }>();
  readonly #watchers = new Set<() => void>();
  desiredCalls = 0;

  /** Per-host states (multi-host tests); hosts not listed get `state`. */
  readonly hostStates = new Map<string, HostNetworkState>();

  async desiredState(host: string): Promise<HostNetworkState> {
    this.desiredCalls++;
    return structuredClone(this.hostStates.get(host) ?? this.state);
  }

  async setPortStatus(updates: { portId: string; status: PortStatus }[]): Promise<void> {
    for (const u of updates) {
      this.statuses.set(u.portId, u.status);
      this.statusLog.push(u);
    }
  }

  watch(onChange: () => void): () => void {
    this.#watchers.add(onChange);
    return () => this.#watchers.delete(onChange);
  }

  async metadataInstance(networkId: string, ipAddress: string) {
    return this.instances.get(`${networkId} ${ipAddress}`);
  }

  /** Tells the watchers the state changed. */
  changed(): void {
    for (const w of this.#watchers) w();
  }
}
