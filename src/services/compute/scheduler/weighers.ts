// The scheduler's weighers, pure: free RAM, vCPU and disk, each normalised to 0..1 across the candidates and
// multiplied (positive spreads, negative packs), plus soft (anti-)affinity as Nova's ServerGroupSoft*Weighers.
import type { HostState, SchedulingRequest } from './filters.ts';

export interface WeightMultipliers {
  ram: number;
  cpu: number;
  disk: number;
}

function normalise(values: number[]): number[] {
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (max === min) return values.map(() => 0);
  return values.map((v) => (v - min) / (max - min));
}

/** Hosts ordered best first. Ties keep a random order so concurrent builds spread across equal hosts. */
export function weighHosts(
  hosts: readonly HostState[],
  r: SchedulingRequest,
  m: WeightMultipliers,
  random = Math.random,
): HostState[] {
  if (hosts.length <= 1) return [...hosts];
  const ram = normalise(hosts.map((h) => h.free.ramMb));
  const cpu = normalise(hosts.map((h) => h.free.vcpu));
  const disk = normalise(hosts.map((h) => h.free.diskGb));
  const soft = normalise(hosts.map((h) => r.group?.hosts.get(h.host) ?? 0));
  const policy = r.group?.policy;
  const scored = hosts.map((h, i) => {
    let w = m.ram * ram[i]! + m.cpu * cpu[i]! + m.disk * disk[i]!;
    if (policy === 'soft-affinity') w += soft[i]!;
    if (policy === 'soft-anti-affinity') w -= soft[i]!;
    return { h, w, tie: random() };
  });
  scored.sort((a, b) => b.w - a.w || a.tie - b.tie);
  return scored.map((s) => s.h);
}
