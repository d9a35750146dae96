// Routes the agent owns in a namespace (marked proto static): converge to an exact list per address family.
import { ip, ipJson } from './exec.ts';

export interface RouteSpec {
  /** "default" or a CIDR. */
  destination: string;
  nexthop: string;
}

function key(r: RouteSpec): string {
  return `${r.destination === '0.0.0.0/0' || r.destination === '::/0' ? 'default' : r.destination} ${r.nexthop}`;
}

/** Replaces the namespace's proto-static routes with `want` (other routes, e.g. connected ones, stay). */
export async function syncRoutes(ns: string, want: RouteSpec[]): Promise<void> {
  for (const fam of ['-4', '-6'] as const) {
    const mine = want.filter((r) => r.nexthop.includes(':') === (fam === '-6'));
    const rows = await ipJson<{ dst: string; gateway?: string }>(ns, [
      fam,
      'route',
      'show',
      'proto',
      'static',
    ]);
    const have = rows.map((r) => ({ destination: r.dst, nexthop: r.gateway ?? '' }));
    const wantKeys = new Set(mine.map(key));
    const haveKeys = new Set(have.map(key));
    for (const r of have)
      if (!wantKeys.has(key(r))) await ip(ns, [fam, 'route', 'del', r.destination, 'via', r.nexthop]);
    for (const r of mine)
      if (!haveKeys.has(key(r)))
        await ip(ns, [fam, 'route', 'replace', r.destination, 'via', r.nexthop, 'proto', 'static']);
  }
}
