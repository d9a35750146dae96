// Availability zones: a host's zone is the availability_zone metadata of an aggregate it belongs to, else
// the configured default zone (Nova's default_availability_zone, "nova").
import type { ComputeConfig } from '../../../platform/config.ts';
import type { ComputeDb, ComputeTrx } from '../context.ts';

/** The zone Nova reports for its control-plane services (internal_service_availability_zone). */
export const INTERNAL_ZONE = 'internal';

interface ZoneSource {
  db: ComputeDb | ComputeTrx;
  config: Pick<ComputeConfig, 'default_availability_zone'>;
}

/** The availability_zone metadata of an aggregate's JSON metadata, if set. */
export function aggregateZone(metadata: string): string | undefined {
  try {
    const m = JSON.parse(metadata) as Record<string, unknown>;
    const z = m['availability_zone'];
    return typeof z === 'string' && z !== '' ? z : undefined;
  } catch {
    return undefined;
  }
}

/**
 * host → zone for every compute host (and for hosts that are only aggregate members). A host in several
 * zoned aggregates takes the zones joined by "," in name order, as Nova's get_host_availability_zone does
 * (the API refuses to create that situation).
 */
export async function hostZones(cx: ZoneSource): Promise<Map<string, string>> {
  const hosts = await cx.db.selectFrom('compute_hosts').select('host').execute();
  const members = await cx.db
    .selectFrom('compute_aggregate_hosts')
    .innerJoin('compute_aggregates', 'compute_aggregates.id', 'compute_aggregate_hosts.aggregate_id')
    .select(['compute_aggregate_hosts.host', 'compute_aggregates.metadata'])
    .execute();
  const zones = new Map<string, Set<string>>();
  for (const m of members) {
    const z = aggregateZone(m.metadata);
    if (!z) continue;
    const s = zones.get(m.host) ?? new Set<string>();
    s.add(z);
    zones.set(m.host, s);
  }
  const out = new Map<string, string>();
  for (const h of hosts) out.set(h.host, cx.config.default_availability_zone);
  for (const [host, s] of zones) out.set(host, [...s].sort().join(','));
  return out;
}

/** One host's zone. */
export async function hostZone(cx: ZoneSource, host: string): Promise<string> {
  return (await hostZones(cx)).get(host) ?? cx.config.default_availability_zone;
}
