// Per-namespace kernel settings (sysctl run inside the namespace).
import { runIn } from './exec.ts';

export async function setSysctls(ns: string, values: Record<string, string | number>): Promise<void> {
  const args = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  if (args.length) await runIn(ns, 'sysctl', ['-q', '-w', ...args]);
}
