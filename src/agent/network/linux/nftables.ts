// nftables tables replaced atomically (declare, delete, redefine in one nft -f transaction) or removed.
import { isMissing, runIn } from './exec.ts';

export type NftFamily = 'inet' | 'ip' | 'ip6' | 'bridge';

/** One table's wanted content: its body (chains, sets, rules), or undefined to remove it. */
export interface TableContent {
  family: NftFamily;
  name: string;
  body: string | undefined;
}

/** The transaction that atomically swaps a table's whole content for `body` (chains, sets, rules). */
export function replaceTableScript(family: NftFamily, name: string, body: string): string {
  return `table ${family} ${name}\ndelete table ${family} ${name}\ntable ${family} ${name} {\n${body}}\n`;
}

/** One transaction for several tables: each replaced (or removed: declared then deleted, so absent is fine). */
export function tablesScript(tables: TableContent[]): string {
  return tables
    .map((t) =>
      t.body === undefined
        ? `table ${t.family} ${t.name}\ndelete table ${t.family} ${t.name}\n`
        : replaceTableScript(t.family, t.name, t.body),
    )
    .join('');
}

/** Applies every table in one `nft -f` (one process, one kernel transaction: all or nothing). */
export async function applyTables(ns: string, tables: TableContent[]): Promise<void> {
  if (tables.length) await runIn(ns, 'nft', ['-f', '-'], { input: tablesScript(tables) });
}

export async function applyTable(ns: string, family: NftFamily, name: string, body: string): Promise<void> {
  await applyTables(ns, [{ family, name, body }]);
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
