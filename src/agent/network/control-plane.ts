// The network agent's only way to the control plane (implemented by the network service), and the VIF plug API it offers compute.
import type { HostNetworkState } from './desired-state.ts';

export type PortStatus = 'ACTIVE' | 'DOWN';

/**
 * Implemented in-process by the network service in all-in-one, over the internal API on other hosts. Every method
 * may throw on transport failure; the agent retries on its next resync.
 */
export interface NetworkControlPlane {
  /** Everything this host must wire: its networks (with all their ports), routers and security groups. */
  desiredState(host: string): Promise<HostNetworkState>;
  /** Ports whose wiring changed on this host; the service sends network-vif-plugged/unplugged from it. */
  setPortStatus(updates: { portId: string; status: PortStatus }[]): Promise<void>;
  /** Calls onChange whenever this host's desired state may have changed (best effort); returns the unsubscribe. */
  watch(onChange: () => void): () => void;
  /** The instance owning the port with this address on this network, for the metadata proxy. */
  metadataInstance(
    networkId: string,
    ipAddress: string,
  ): Promise<{ instanceId: string; projectId: string } | undefined>;
}

export interface VifPlug {
  portId: string;
  /** The host device QEMU created in the root namespace (tap<port_id[0:11]>). */
  device: string;
  networkId: string;
  macAddress: string;
}

/** What compute calls before letting a guest run (plug) and after its NIC is gone (unplug). */
export interface VifPlugger {
  /** Resolves once the device is on its network with its security groups applied (the port is then ACTIVE). */
  plug(vif: VifPlug): Promise<void>;
  unplug(portId: string): Promise<void>;
}

/** What one reconcile pass could not do (it carries on with the rest and retries on the next pass). */
export interface ReconcileReport {
  errors: { resource: string; message: string }[];
}

/** The surface both the Linux and the fake agent offer. */
export interface NetworkAgent extends VifPlugger {
  /** First reconcile, then follows control-plane changes and resyncs periodically. */
  start(): Promise<void>;
  /** Stops following changes; the data plane keeps running. */
  stop(): Promise<void>;
  /** Stops and removes everything the agent made on the host (tests, decommissioning). */
  teardown(): Promise<void>;
  /** One serialised full pass (concurrent callers share the next pass); changes the agent follows go incrementally. */
  reconcile(): Promise<ReconcileReport>;
}
