// Server queries: lookups (findServer returns undefined; handlers turn that into Nova's 404) and the batched extras a
// view needs (metadata, tags, groups, volumes, zone, host status).
import type { Selectable } from 'kysely';
import type { ServerExtras } from '../api/servers.view.ts';
import type { ComputeContext, ComputeDb } from '../context.ts';
import { compiled, compiledUpdate } from './compiled.ts';
import type { ServerRow } from './tables.ts';

export type Server = Selectable<ServerRow>;

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Normalises a server id as Nova accepts it (dashed or not); undefined when it cannot be a uuid. */
export function normaliseUuid(id: string): string | undefined {
  if (!UUID.test(id)) return undefined;
  const h = id.replaceAll('-', '').toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const liveServerById = compiled(1, (db, id: string) =>
  db.selectFrom('compute_servers').selectAll().where('id', '=', id).where('deleted', '=', 0),
);

const anyServerById = compiled(1, (db, id: string) =>
  db.selectFrom('compute_servers').selectAll().where('id', '=', id),
);

export async function findServer(
  db: ComputeDb,
  id: string,
  opts: { deleted?: boolean } = {},
): Promise<Server | undefined> {
  const uuid = normaliseUuid(id);
  if (!uuid) return undefined;
  const rows = await (opts.deleted ? anyServerById : liveServerById)(db, uuid);
  return rows[0];
}

const updateAtSeq = compiledUpdate('compute_servers', ['id', 'task_seq']);

/**
 * Sets columns of a server as long as its task_seq is still `taskSeq` (nobody started another task meanwhile);
 * true when it did. One compiled statement per set of columns.
 */
export async function updateServerAtSeq(
  db: ComputeDb,
  id: string,
  taskSeq: number,
  set: Partial<Server>,
): Promise<boolean> {
  return (await updateAtSeq(db, set, id, taskSeq)) === 1;
}

/** Each host's zone and status, cached per compute write generation. */
export class HostInfoCache {
  #gen = -1;
  #value: Map<string, { zone: string; status: string }> = new Map();
  #at = 0;
  readonly #cx: ComputeContext;
  readonly #zones: (cx: ComputeContext) => Promise<Map<string, string>>;

  constructor(cx: ComputeContext, zones: (cx: ComputeContext) => Promise<Map<string, string>>) {
    this.#cx = cx;
    this.#zones = zones;
  }

  async get(): Promise<Map<string, { zone: string; status: string }>> {
    const now = this.#cx.clock.now();
    if (this.#gen === this.#cx.generation && now - this.#at < 5000) return this.#value;
    const gen = this.#cx.generation;
    const zones = await this.#zones(this.#cx);
    const hosts = await this.#cx.db
      .selectFrom('compute_hosts')
      .select(['host', 'disabled', 'forced_down', 'heartbeat_at'])
      .execute();
    const m = new Map<string, { zone: string; status: string }>();
    const downAfter = this.#cx.config.service_down_time * 1000;
    for (const h of hosts) {
      const alive = h.heartbeat_at !== null && now - Date.parse(h.heartbeat_at) <= downAfter;
      const status = h.forced_down || !alive ? 'DOWN' : h.disabled ? 'MAINTENANCE' : 'UP';
      m.set(h.host, { zone: zones.get(h.host) ?? this.#cx.config.default_availability_zone, status });
    }
    this.#value = m;
    this.#gen = gen;
    this.#at = now;
    return m;
  }
}

/** Loads the extras of many servers in four queries. */
export async function loadExtras(
  db: ComputeDb,
  servers: readonly Pick<Server, 'id' | 'host' | 'availability_zone'>[],
  hosts: Map<string, { zone: string; status: string }>,
  defaultZone: string,
): Promise<Map<string, ServerExtras>> {
  const out = new Map<string, ServerExtras>();
  if (servers.length === 0) return out;
  for (const s of servers) {
    const h = s.host ? hosts.get(s.host) : undefined;
    out.set(s.id, {
      metadata: {},
      tags: [],
      groups: [],
      volumes: [],
      zone: h?.zone ?? s.availability_zone ?? (s.host ? defaultZone : ''),
      hostStatus: s.host ? (h?.status ?? 'UNKNOWN') : '',
    });
  }
  const ids = servers.map((s) => s.id);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const [meta, tags, groups, bdms] = await Promise.all([
      db.selectFrom('compute_server_metadata').selectAll().where('server_id', 'in', chunk).execute(),
      db
        .selectFrom('compute_server_tags')
        .selectAll()
        .where('server_id', 'in', chunk)
        .orderBy('tag')
        .execute(),
      db.selectFrom('compute_server_group_members').selectAll().where('server_id', 'in', chunk).execute(),
      db
        .selectFrom('compute_block_device_mappings')
        .select(['server_id', 'volume_id', 'delete_on_termination'])
        .where('server_id', 'in', chunk)
        .where('destination_type', '=', 'volume')
        .orderBy('id')
        .execute(),
    ]);
    for (const m of meta) out.get(m.server_id)!.metadata[m.key] = m.value;
    for (const t of tags) out.get(t.server_id)!.tags.push(t.tag);
    for (const g of groups) out.get(g.server_id)!.groups.push(g.group_id);
    for (const b of bdms)
      if (b.volume_id)
        out
          .get(b.server_id)!
          .volumes.push({ id: b.volume_id, delete_on_termination: b.delete_on_termination === 1 });
  }
  return out;
}
