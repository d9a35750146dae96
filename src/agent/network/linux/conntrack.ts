// Deletes conntrack entries in a namespace (cutting established flows a removed rule had allowed).
import { runIn } from './exec.ts';

export interface FlowFilter {
  family: 'ipv4' | 'ipv6';
  src?: string;
  dst?: string;
  /** Protocol name or number understood by conntrack(8). */
  proto?: string;
  dport?: number;
}

/** Deletes the matching entries; none matching is fine. */
export async function deleteFlows(ns: string, f: FlowFilter): Promise<void> {
  const args = ['-D', '-f', f.family];
  if (f.src) args.push('-s', f.src);
  if (f.dst) args.push('-d', f.dst);
  if (f.proto) args.push('-p', f.proto);
  if (f.dport !== undefined && f.proto) args.push('--dport', String(f.dport));
  await runIn(ns, 'conntrack', args, { okCodes: [0, 1] });
}
