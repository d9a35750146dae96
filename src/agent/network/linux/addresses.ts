// Interface addresses: read with ip -j and converge a device to an exact list (link-local left alone).
import { ip, ipJson } from './exec.ts';

interface AddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
}

/** The global-scope addresses of a device as "addr/len". */
export async function deviceAddresses(ns: string | undefined, dev: string): Promise<string[]> {
  const rows = await ipJson<{ addr_info?: AddrInfo[] }>(ns, ['addr', 'show', 'dev', dev]);
  return rows
    .flatMap((r) => r.addr_info ?? [])
    .filter((a) => a.scope !== 'link')
    .map((a) => `${a.local}/${a.prefixlen}`);
}

/** Adds the missing addresses and removes the others ("addr/len" each). */
export async function syncAddresses(ns: string | undefined, dev: string, want: string[]): Promise<void> {
  const have = await deviceAddresses(ns, dev);
  for (const a of have) if (!want.includes(a)) await ip(ns, ['addr', 'del', a, 'dev', dev]);
  for (const a of want)
    if (!have.includes(a))
      await ip(ns, ['addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : [])]);
}
