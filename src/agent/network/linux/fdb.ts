// Head-end replication on a VXLAN device: one all-zero fdb entry per remote host's underlay address.
import { run } from './exec.ts';

const ZERO = '00:00:00:00:00:00';

/** Converges the flood entries of `dev` to exactly `remotes`. */
export async function syncFloodEntries(ns: string, dev: string, remotes: string[]): Promise<void> {
  const out = (await run('bridge', ['-n', ns, '-j', 'fdb', 'show', 'dev', dev])).trim();
  const rows = out ? (JSON.parse(out) as { mac: string; dst?: string }[]) : [];
  const have = new Set(rows.filter((r) => r.mac === ZERO && r.dst).map((r) => r.dst as string));
  for (const d of have)
    if (!remotes.includes(d)) await run('bridge', ['-n', ns, 'fdb', 'del', ZERO, 'dev', dev, 'dst', d]);
  for (const d of remotes)
    if (!have.has(d)) await run('bridge', ['-n', ns, 'fdb', 'append', ZERO, 'dev', dev, 'dst', d]);
}
