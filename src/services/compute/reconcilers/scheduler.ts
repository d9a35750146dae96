// The scheduler: a reconciler on servers that need a host (task_state "scheduling", or a move whose task_args
// say schedule). It asks placement for candidates, filters and weighs hosts, claims (placement's generation
// compare-and-swap; on a lost race the next alternate), then binds the server to the host.

import type { Selectable } from 'kysely';
import { WorkQueue } from '../../../platform/reconcile/queue.ts';
import type { ChangeEvent } from '../../../platform/watch/feed.ts';
import { parseJson } from '../api/common.ts';
import type { ComputeContext } from '../context.ts';
import { hostZones } from '../domain/zones.ts';
import { filterHosts, type HostState, type SchedulingRequest } from '../scheduler/filters.ts';
import { weighHosts } from '../scheduler/weighers.ts';
import { findServer, type Server, updateServerAtSeq } from '../store/servers.ts';
import type { ComputeTables, FlavorSnapshot } from '../store/tables.ts';
import type { ServerLifecycle } from './lifecycle.ts';

interface RequestSpec {
  zone: string | null;
  forcedHost: string | null;
  forcedNode: string | null;
  group: string | null;
  sameHost: string[];
  differentHost: string[];
  image: Record<string, unknown>;
  ignoreHosts: string[];
}

/** How long the scheduler reuses host facts (rows, zones, aggregates) between decisions. */
const HOST_FACTS_TTL_MS = 1000;

interface HostFacts {
  hosts: Selectable<ComputeTables['compute_hosts']>[];
  zones: Map<string, string>;
  aggs: Map<string, Record<string, string>[]>;
}

export interface SchedulerStats {
  decisions: number;
  failures: number;
  retries: number;
}

export class Scheduler {
  readonly #cx: ComputeContext;
  readonly #lifecycle: ServerLifecycle;
  readonly #queue: WorkQueue;
  readonly stats: SchedulerStats = { decisions: 0, failures: 0, retries: 0 };
  #unsubscribe: (() => void) | undefined;
  #unsubscribeFacts: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #facts: { at: number; value: Promise<HostFacts> } | undefined;
  /** Builds of one server group are placed one at a time, so (anti-)affinity sees its siblings. */
  readonly #groupLocks = new Map<string, Promise<void>>();

  constructor(cx: ComputeContext, lifecycle: ServerLifecycle) {
    this.#cx = cx;
    this.#lifecycle = lifecycle;
    this.#queue = new WorkQueue((id) => this.#schedule(id), {
      concurrency: 16,
      onError: (key, err) => cx.log.warn({ err, server: key }, 'scheduling failed; will retry'),
    });
  }

  start(resyncMs = 10_000): void {
    this.#unsubscribe = this.#cx.feed.subscribe(
      (e: ChangeEvent) =>
        e.service === 'compute' &&
        e.kind === 'server' &&
        (e.data['task'] === 'scheduling' || e.data['schedule'] === true),
      (events) => {
        for (const e of events) this.#queue.add(e.resourceId);
      },
    );
    this.#unsubscribeFacts = this.#cx.feed.subscribe(
      (e: ChangeEvent) => e.service === 'compute' && e.kind !== 'server',
      () => {
        this.#facts = undefined;
      },
    );
    void this.resync();
    this.#timer = setInterval(() => void this.resync(), resyncMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribeFacts?.();
    if (this.#timer) clearInterval(this.#timer);
    await this.#queue.stop();
  }

  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Level-triggered: every server still waiting for a host gets queued. */
  async resync(): Promise<void> {
    try {
      const rows = await this.#cx.db
        .selectFrom('compute_servers')
        .select(['id', 'task_state', 'task_args'])
        .where('deleted', '=', 0)
        .where('task_state', 'is not', null)
        .execute();
      for (const r of rows) {
        if (
          r.task_state === 'scheduling' ||
          parseJson<Record<string, unknown>>(r.task_args, {})['schedule'] === true
        )
          this.#queue.add(r.id);
      }
    } catch (err) {
      this.#cx.log.warn({ err }, 'scheduler resync failed');
    }
  }

  async #schedule(id: string): Promise<void> {
    const s = await findServer(this.#cx.db, id);
    if (!s || s.task_state === null) return;
    const args = parseJson<Record<string, unknown>>(s.task_args, {});
    if (s.task_state !== 'scheduling' && args['schedule'] !== true) return;
    const spec = parseJson<RequestSpec>(s.request_spec, {} as RequestSpec);
    const group = spec.group;
    if (!group) return this.#place(s, spec, args);
    const prev = this.#groupLocks.get(group) ?? Promise.resolve();
    const mine = prev.then(() => this.#place(s, spec, args));
    const tail = mine.catch(() => {});
    this.#groupLocks.set(group, tail);
    try {
      await mine;
    } finally {
      if (this.#groupLocks.get(group) === tail) this.#groupLocks.delete(group);
    }
  }

  async #hostStates(
    providerSummaries: Record<string, { resources: Record<string, { capacity: number; used: number }> }>,
  ): Promise<Map<string, HostState>> {
    const cx = this.#cx;
    const { hosts, zones, aggs } = await this.#hostFacts();
    const now = cx.clock.now();
    const out = new Map<string, HostState>();
    for (const h of hosts) {
      const sum = providerSummaries[h.node_uuid];
      if (!sum) continue;
      const free = (rc: string) => {
        const r = sum.resources[rc];
        return r ? r.capacity - r.used : 0;
      };
      out.set(h.node_uuid, {
        host: h.host,
        node: h.node,
        rpUuid: h.node_uuid,
        zone: zones.get(h.host) ?? cx.config.default_availability_zone,
        enabled: h.disabled === 0,
        up:
          h.forced_down === 0 &&
          h.heartbeat_at !== null &&
          now - Date.parse(h.heartbeat_at) <= cx.config.service_down_time * 1000,
        hypervisorType: h.hypervisor_type,
        aggregates: aggs.get(h.host) ?? [],
        free: { vcpu: free('VCPU'), ramMb: free('MEMORY_MB'), diskGb: free('DISK_GB') },
      });
    }
    return out;
  }

  /**
   * Hosts, their zones and aggregate metadata, cached for HOST_FACTS_TTL_MS (Nova's host manager caches host
   * state likewise); dropped at once when a host, service or aggregate changes in this process.
   */
  #hostFacts(): Promise<HostFacts> {
    const now = Date.now();
    if (!this.#facts || now - this.#facts.at > HOST_FACTS_TTL_MS) {
      const value = this.#loadHostFacts();
      value.catch(() => {
        if (this.#facts?.value === value) this.#facts = undefined;
      });
      this.#facts = { at: now, value };
    }
    return this.#facts.value;
  }

  async #loadHostFacts(): Promise<HostFacts> {
    const cx = this.#cx;
    const hosts = await cx.db.selectFrom('compute_hosts').selectAll().execute();
    const zones = await hostZones(cx);
    const rows = await cx.db
      .selectFrom('compute_aggregate_hosts')
      .innerJoin('compute_aggregates', 'compute_aggregates.id', 'compute_aggregate_hosts.aggregate_id')
      .select(['compute_aggregate_hosts.host', 'compute_aggregates.metadata'])
      .execute();
    const aggs = new Map<string, Record<string, string>[]>();
    for (const a of rows) {
      const list = aggs.get(a.host) ?? [];
      list.push(parseJson<Record<string, string>>(a.metadata, {}));
      aggs.set(a.host, list);
    }
    return { hosts, zones, aggs };
  }

  async #groupInfo(s: Server, groupId: string): Promise<SchedulingRequest['group']> {
    const cx = this.#cx;
    const g = await cx.db
      .selectFrom('compute_server_groups')
      .selectAll()
      .where('id', '=', groupId)
      .executeTakeFirst();
    if (!g) return undefined;
    const members = await cx.db
      .selectFrom('compute_server_group_members')
      .innerJoin('compute_servers', 'compute_servers.id', 'compute_server_group_members.server_id')
      .select(['compute_servers.host'])
      .where('compute_server_group_members.group_id', '=', groupId)
      .where('compute_servers.id', '!=', s.id)
      .where('compute_servers.deleted', '=', 0)
      .execute();
    const hosts = new Map<string, number>();
    for (const m of members) if (m.host) hosts.set(m.host, (hosts.get(m.host) ?? 0) + 1);
    const rules = parseJson<{ max_server_per_host?: number }>(g.rules, {});
    return { policy: g.policy, hosts, maxPerHost: rules.max_server_per_host ?? 1 };
  }

  async #serverHosts(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.#cx.db
      .selectFrom('compute_servers')
      .select('host')
      .where('id', 'in', ids)
      .execute();
    return rows.map((r) => r.host).filter((h): h is string => h !== null);
  }

  async #place(s: Server, spec: RequestSpec, args: Record<string, unknown>): Promise<void> {
    const cx = this.#cx;
    const building = s.task_state === 'scheduling';
    const flavor = parseJson<FlavorSnapshot>(
      args['new_flavor'] ? JSON.stringify(args['new_flavor']) : s.flavor,
      {} as FlavorSnapshot,
    );
    const resources: Record<string, number> = {
      VCPU: flavor.vcpus,
      MEMORY_MB: flavor.memory_mb,
    };
    const disk = flavor.root_gb + flavor.ephemeral_gb + Math.ceil(flavor.swap / 1024);
    if (disk > 0) resources['DISK_GB'] = disk;
    const { allocationRequests, providerSummaries } = await cx.placement.getAllocationCandidates({
      resources,
      limit: 1000,
    });
    const states = await this.#hostStates(providerSummaries);
    const req: SchedulingRequest = {
      projectId: s.project_id,
      zone: spec.zone ?? null,
      forcedHost: (args['dest_host'] as string | undefined) ?? spec.forcedHost ?? null,
      forcedNode: spec.forcedNode ?? null,
      image: spec.image ?? {},
      ignoreHosts: [
        ...(spec.ignoreHosts ?? []),
        // A resize may stay on its host (Nova's allow_resize_to_same_host, on in DevStack and any one-host
        // cloud); a migration, live migration or evacuation must leave it.
        ...(!building && s.host && !args['new_flavor'] ? [s.host] : []),
      ],
      ...(spec.group ? { group: await this.#groupInfo(s, spec.group) } : {}),
      sameHosts: spec.sameHost?.length ? await this.#serverHosts(spec.sameHost) : null,
      differentHosts: await this.#serverHosts(spec.differentHost ?? []),
    };
    const candidates = allocationRequests
      .map((ar) => {
        const rp = Object.keys(ar.allocations)[0]!;
        const h = states.get(rp);
        return h ? { h, ar } : undefined;
      })
      .filter((x): x is NonNullable<typeof x> => x !== undefined);
    const { passed, removed } = filterHosts(
      candidates.map((c) => c.h),
      req,
    );
    const ordered = weighHosts(passed, req, {
      ram: cx.config.ram_weight_multiplier,
      cpu: cx.config.cpu_weight_multiplier,
      disk: cx.config.disk_weight_multiplier,
    });
    this.stats.decisions++;
    const consumer = s.id;
    const moving = !building && s.host !== null && typeof args['migration_id'] === 'string';
    if (moving) {
      // The source's allocation goes to the migration (Nova's migration-based allocations).
      const existing = await cx.placement.getAllocations(s.id);
      if (Object.keys(existing.allocations ?? {}).length > 0)
        await cx.placement.moveAllocations(s.id, args['migration_id'] as string);
    }
    for (const h of ordered.slice(0, Math.max(1, cx.config.max_attempts + 5))) {
      const ar = candidates.find((c) => c.h === h)!.ar;
      const claimed = await cx.placement.claim(consumer, {
        allocations: ar.allocations,
        projectId: s.project_id,
        userId: s.user_id,
        consumerGeneration: null,
      });
      if (!claimed) {
        this.stats.retries++;
        continue;
      }
      const bound = await this.#bind(s, h, args);
      if (!bound) await cx.placement.deleteAllocations(consumer).catch(() => {});
      return;
    }
    if (moving) await cx.placement.moveAllocations(args['migration_id'] as string, s.id).catch(() => {});
    this.stats.failures++;
    const why = Object.entries(removed)
      .map(([f, n]) => `${f} removed ${n}`)
      .join(', ');
    if (building) {
      await this.#lifecycle.failBuild(
        s,
        'No valid host was found. ',
        500,
        why
          ? `No valid host was found. ${why}`
          : 'No valid host was found. There are not enough hosts available.',
      );
    } else {
      await this.#lifecycle.failMove(s, args, 'No valid host was found. ');
    }
  }

  /** Binds the server to the chosen host and hands it to that host's agent; false if it changed meanwhile. */
  async #bind(s: Server, h: HostState, args: Record<string, unknown>): Promise<boolean> {
    const cx = this.#cx;
    return cx.write(async (trx, record) => {
      const now = cx.nowMicro();
      const next: Partial<Server> = { host: h.host, node: h.node, task_seq: s.task_seq + 1, updated_at: now };
      if (s.task_state === 'scheduling') {
        next.task_state = 'spawning';
        next.availability_zone = s.availability_zone;
      } else {
        next.task_args = JSON.stringify({
          ...args,
          schedule: false,
          source_host: s.host,
          source_node: s.node,
        });
        if (s.task_state === 'resize_prep') next.task_state = 'resize_finish';
        if (args['new_flavor']) {
          next.old_flavor = s.flavor;
          next.flavor = JSON.stringify(args['new_flavor']);
          next.flavor_id = (args['new_flavor'] as FlavorSnapshot).id;
        }
        if (typeof args['migration_id'] === 'string') {
          await trx
            .updateTable('compute_migrations')
            .set({
              dest_compute: h.host,
              dest_node: h.node,
              dest_host: h.host,
              status: 'migrating',
              updated_at: now,
            })
            .where('uuid', '=', args['migration_id'])
            .execute();
        }
      }
      if (!(await updateServerAtSeq(trx, s.id, s.task_seq, next))) return false;
      record({
        kind: 'server',
        id: s.id,
        action: 'update',
        projectId: s.project_id,
        data: { host: h.host, task: next.task_state ?? s.task_state },
      });
      return true;
    });
  }
}
