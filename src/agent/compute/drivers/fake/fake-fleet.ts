// Many fake hosts in one process: N fake drivers named fake-host-000, fake-host-001, … for scale tests.
import { join } from 'node:path';
import { FakeDriver, type FakeDriverOptions } from './fake-driver.ts';

export interface FakeFleetOptions extends Omit<FakeDriverOptions, 'hostname' | 'stateFile'> {
  hosts: number;
  /** Host name prefix; names are the prefix and a zero-padded index. Default 'fake-host-'. */
  prefix?: string;
  /** A directory holding one state file per host (`<hostname>.json`); in memory when absent. */
  stateDir?: string;
}

/** Names of a fleet's hosts: prefix + index padded to at least three digits. */
export function fleetHostnames(count: number, prefix = 'fake-host-'): string[] {
  const width = Math.max(3, String(Math.max(0, count - 1)).length);
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(width, '0')}`);
}

/** A set of fake drivers, one per simulated host, sharing delays and fault options. */
export class FakeFleet {
  readonly drivers: readonly FakeDriver[];
  readonly #byHost: ReadonlyMap<string, FakeDriver>;

  private constructor(drivers: FakeDriver[]) {
    this.drivers = Object.freeze(drivers);
    this.#byHost = new Map(drivers.map((d) => [d.info.hostname, d]));
  }

  /** Builds the fleet, loading each host's guests from stateDir when given. */
  static async open(opts: FakeFleetOptions): Promise<FakeFleet> {
    const { hosts, prefix, stateDir, ...common } = opts;
    const drivers = await Promise.all(
      fleetHostnames(hosts, prefix).map((hostname) =>
        FakeDriver.open({
          ...common,
          hostname,
          stateFile: stateDir ? join(stateDir, `${hostname}.json`) : undefined,
        }),
      ),
    );
    return new FakeFleet(drivers);
  }

  get hostnames(): string[] {
    return [...this.#byHost.keys()];
  }

  /** The driver of one host, or undefined. */
  host(hostname: string): FakeDriver | undefined {
    return this.#byHost.get(hostname);
  }

  get guestCount(): number {
    let n = 0;
    for (const d of this.drivers) n += d.guestCount;
    return n;
  }

  async flush(): Promise<void> {
    await Promise.all(this.drivers.map((d) => d.flush()));
  }
}
