// The network service's dependencies and its write path.
import type { Kysely, Transaction } from 'kysely';
import { type Clock, type IdSource, isoSeconds } from '../../platform/clock.ts';
import type { NetworkConfig } from '../../platform/config.ts';
import type { DialectName } from '../../platform/db/database.ts';
import { type Change, ServiceWriter } from '../../platform/db/writer.ts';
import type { Logger } from '../../platform/log.ts';
import type { ChangeFeed } from '../../platform/watch/feed.ts';
import type { NetworkTables } from './store/tables.ts';

export type NetworkDb = Kysely<NetworkTables>;
export type NetworkTrx = Transaction<NetworkTables>;

/** Told when ports change in ways compute cares about (Neutron's Nova notifier: network-vif-plugged, …). */
export interface ComputeNotifier {
  portEvent(event: {
    name: 'network-vif-plugged' | 'network-vif-unplugged' | 'network-changed' | 'network-vif-deleted';
    serverId: string;
    portId: string;
    status: 'completed' | 'failed';
  }): void;
}

export interface NetworkDeps {
  db: NetworkDb;
  dialect: DialectName;
  feed: ChangeFeed;
  config: NetworkConfig;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  /** The availability zone names hosts are in (default ['nova']). */
  notifier?: ComputeNotifier;
}

export class NetworkContext {
  readonly db: NetworkDb;
  readonly dialect: DialectName;
  readonly feed: ChangeFeed;
  readonly config: NetworkConfig;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly log: Logger;
  notifier: ComputeNotifier | undefined;
  readonly #writer: ServiceWriter<NetworkTables>;

  constructor(deps: NetworkDeps) {
    this.db = deps.db;
    this.dialect = deps.dialect;
    this.feed = deps.feed;
    this.config = deps.config;
    this.clock = deps.clock;
    this.ids = deps.ids;
    this.log = deps.log;
    this.notifier = deps.notifier;
    this.#writer = new ServiceWriter('network', deps.db, deps.feed);
  }

  get generation(): number {
    return this.#writer.generation;
  }

  /** Neutron's timestamps: ISO 8601 to the second with a Z ("2026-11-21T07:00:00Z"). */
  nowIso(): string {
    return isoSeconds(this.clock.now());
  }

  /** One transaction; recorded changes become feed events (kind: the resource, e.g. 'port'). */
  write<T>(fn: (trx: NetworkTrx, record: (c: Change) => void) => Promise<T>): Promise<T> {
    return this.#writer.write(fn);
  }
}
