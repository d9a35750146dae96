// nftables tables replaced atomically (declare, delete, redefine in one nft -f transaction) or removed.
import { isMissing, runIn } from './exec.ts';

export type NftFamily = 'inet' | 'ip' | 'ip6' | 'bridge';

/** The transaction that atomically swaps a table's whole content for `body` (chains, sets, rules). */
export function replaceTableScript(family: NftFamily, name: string, body: string): string {
  return `table ${family} ${name}\ndelete table ${family} ${name}\ntable ${family} ${name} {\n${body}}\n`;
}

export async function applyTable(ns: string, family: NftFamily, name: string, body: string): Promise<void> {
  await runIn(ns, 'nft', ['-f', '-'], { input: replaceTableScript(family, name, body) });
}

export async function deleteTable(ns: string, family: NftFamily, name: string): Promise<void> {
  await runIn(ns, 'nft', ['delete', 'table', family, name]).catch((err: unknown) => {
    if (!isMissing(err)) throw err;
  });
}

/** The table's current ruleset text ('' when absent), to skip no-op reloads. */
export async function listTable(ns: string, family: NftFamily, name: string): Promise<string> {
  return runIn(ns, 'nft', ['list', 'table', family, name]).catch(() => '');
}
