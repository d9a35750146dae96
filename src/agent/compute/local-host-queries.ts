// HostQueries answered in-process by this process's own drivers, keyed by the host each serves (all-in-one).
import { type HostQueries, HostUnreachable } from './host-queries.ts';
import type {
  ConsoleEndpoint,
  ConsoleKind,
  GuestDiagnostics,
  HypervisorDriver,
  NicSpec,
} from './hypervisor-driver.ts';

export class LocalHostQueries implements HostQueries {
  #drivers = new Map<string, HypervisorDriver>();

  /** The drivers of the running agent (none: every host is unreachable). */
  serve(drivers: readonly HypervisorDriver[], hostOf = (d: HypervisorDriver) => d.info.hostname): void {
    this.#drivers = new Map(drivers.map((d) => [hostOf(d), d]));
  }

  #driver(host: string): HypervisorDriver {
    const d = this.#drivers.get(host);
    if (!d) throw new HostUnreachable(host);
    return d;
  }

  consoleOutput(host: string, serverId: string, length?: number): Promise<string> {
    return this.#driver(host).consoleOutput(serverId, length);
  }

  consoleEndpoint(host: string, serverId: string, kind: ConsoleKind): Promise<ConsoleEndpoint | undefined> {
    return this.#driver(host).consoleEndpoint(serverId, kind);
  }

  diagnostics(host: string, serverId: string): Promise<GuestDiagnostics> {
    return this.#driver(host).diagnostics(serverId);
  }

  attachNic(host: string, serverId: string, nic: NicSpec): Promise<void> {
    return this.#driver(host).attachNic(serverId, nic);
  }

  detachNic(host: string, serverId: string, portId: string): Promise<void> {
    return this.#driver(host).detachNic(serverId, portId);
  }
}
