// Questions the API asks a host's agent about a guest (console output, console sockets, diagnostics), answered by its driver.
import type { ConsoleEndpoint, ConsoleKind, GuestDiagnostics, NicSpec } from './hypervisor-driver.ts';

/**
 * In all-in-one the compute service answers these from the in-process agent; agents on other hosts will answer
 * over the internal API. Every method throws HostUnreachable when the host has no live agent here, and the
 * driver's GuestNotFound when the guest is absent.
 */
export interface HostQueries {
  consoleOutput(host: string, serverId: string, length?: number): Promise<string>;
  consoleEndpoint(host: string, serverId: string, kind: ConsoleKind): Promise<ConsoleEndpoint | undefined>;
  diagnostics(host: string, serverId: string): Promise<GuestDiagnostics>;
  /** Hot-plugs a NIC into the guest and wires it (os-interface attach); absent where hosts cannot. */
  attachNic?(host: string, serverId: string, nic: NicSpec): Promise<void>;
  /** Unplugs a NIC from the guest (os-interface detach). */
  detachNic?(host: string, serverId: string, portId: string): Promise<void>;
}

export class HostUnreachable extends Error {
  readonly host: string;
  constructor(host: string) {
    super(`Compute host ${host} could not be found.`);
    this.name = 'HostUnreachable';
    this.host = host;
  }
}
