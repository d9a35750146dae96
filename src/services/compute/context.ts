// The compute service's dependencies, its write path and the clients it uses to reach other services.
import type { Kysely, Transaction } from 'kysely';
import type { ImageClient } from '../../clients/image.ts';
import type { NetworkClient } from '../../clients/network.ts';
import type { PlacementClient } from '../../clients/placement.ts';
import { type Clock, type IdSource, isoMicro, isoSeconds } from '../../platform/clock.ts';
import type { ComputeConfig } from '../../platform/config.ts';
import type { DialectName } from '../../platform/db/database.ts';
import { type Change, ServiceWriter } from '../../platform/db/writer.ts';
import type { Logger } from '../../platform/log.ts';
import type { ChangeFeed } from '../../platform/watch/feed.ts';
import type { BuildAdmission } from './admission.ts';
import { NetworkEventHub } from './network/events.ts';
import type { ComputeTables } from './store/tables.ts';

export type ComputeDb = Kysely<ComputeTables>;
export type ComputeTrx = Transaction<ComputeTables>;

export interface ComputeDeps {
  db: ComputeDb;
  dialect: DialectName;
  feed: ChangeFeed;
  config: ComputeConfig;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  placement: PlacementClient;
  image: ImageClient;
  /** Neutron; absent: compute runs without networking (no ports, nova-network APIs answer as before). */
  network?: NetworkClient;
  /** Nova's vif_plugging_timeout (default 300 s) and vif_plugging_is_fatal (default true). */
  vifPlugging?: { timeoutMs: number; fatal: boolean };
}

export class ComputeContext {
  readonly db: ComputeDb;
  readonly dialect: DialectName;
  readonly feed: ChangeFeed;
  readonly config: ComputeConfig;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly log: Logger;
  readonly placement: PlacementClient;
  readonly image: ImageClient;
  /** Neutron (settable once, by the composition root). */
  network: NetworkClient | undefined;
  /** External events from Neutron (network-vif-plugged …) and the builds waiting on them. */
  readonly networkEvents: NetworkEventHub;
  readonly vifPlugging: { timeoutMs: number; fatal: boolean };
  /** Holds new builds back while the process is saturated with builds under way (set by the service). */
  admission: BuildAdmission | undefined;
  readonly #writer: ServiceWriter<ComputeTables>;

  constructor(deps: ComputeDeps) {
    this.db = deps.db;
    this.dialect = deps.dialect;
    this.feed = deps.feed;
    this.config = deps.config;
    this.clock = deps.clock;
    this.ids = deps.ids;
    this.log = deps.log;
    this.placement = deps.placement;
    this.image = deps.image;
    this.network = deps.network;
    this.networkEvents = new NetworkEventHub();
    this.vifPlugging = deps.vifPlugging ?? { timeoutMs: 300_000, fatal: true };
    this.#writer = new ServiceWriter('compute', deps.db, deps.feed);
  }

  get generation(): number {
    return this.#writer.generation;
  }

  /** Nova's timestamps: ISO 8601 to the second with a Z ("2026-11-21T07:00:00Z"). */
  nowIso(): string {
    return isoSeconds(this.clock.now());
  }

  /** Microsecond-precision timestamps (instance actions, usage), as Nova stores them. */
  nowMicro(): string {
    return isoMicro(this.clock.now());
  }

  write<T>(fn: (trx: ComputeTrx, record: (c: Change) => void) => Promise<T>): Promise<T> {
    return this.#writer.write(fn);
  }
}
