// Reads conformance test lists and resolves their entries against the test ids Tempest knows.

/** One test named by a list file. */
export interface ListEntry {
  /** The line as written, e.g. `tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token[id-6f8e…]`. */
  raw: string;
  /** The id without its `[…]` attributes. */
  name: string;
  /** The idempotent id (`id-<uuid>` without `id-`), when the line carries one. */
  uuid?: string;
}

/** How a list entry was found in Tempest's listing. */
export type ResolutionKind = 'exact' | 'uuid' | 'missing';

export interface Resolution {
  entry: ListEntry;
  /** The full id Tempest lists (with attributes such as `,smoke`), absent when missing. */
  tempestId?: string;
  how: ResolutionKind;
}

/** The id without its `[…]` attribute suffix. */
export function testBaseName(id: string): string {
  const at = id.indexOf('[');
  return at === -1 ? id : id.slice(0, at);
}

/** The idempotent id from `[id-<uuid>,…]`, if any. */
export function testUuid(id: string): string | undefined {
  const at = id.indexOf('[');
  if (at === -1) return undefined;
  const attrs = id.slice(at + 1, id.lastIndexOf(']') === -1 ? undefined : id.lastIndexOf(']')).split(',');
  for (const attr of attrs) {
    const m = /^id-([0-9a-fA-F-]{36})$/.exec(attr.trim());
    if (m) return m[1]!.toLowerCase();
  }
  return undefined;
}

/** `module.Class` of a test id (`a.b.test_x.Klass.test_y[…]` → `a.b.test_x.Klass`). */
export function testClassOf(id: string): string {
  const name = testBaseName(id);
  const at = name.lastIndexOf('.');
  return at === -1 ? name : name.slice(0, at);
}

/** Parses a list file: one test id per line; blank lines and `#` comments are ignored; duplicates keep the first. */
export function parseTestList(text: string): ListEntry[] {
  const seen = new Set<string>();
  const entries: ListEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const raw = line.trim();
    if (!raw || raw.startsWith('#')) continue;
    const name = testBaseName(raw);
    if (seen.has(name)) continue;
    seen.add(name);
    const entry: ListEntry = { raw, name };
    const uuid = testUuid(raw);
    if (uuid) entry.uuid = uuid;
    entries.push(entry);
  }
  return entries;
}

/** Test ids from `tempest run --list-tests` output (other lines, such as warnings, are dropped). */
export function parseTempestListing(stdout: string): string[] {
  const ids: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const id = line.trim();
    if (/^[A-Za-z_][\w]*(\.[\w:-]+)+(\[[^\]\s]*\])?$/.test(id)) ids.push(id);
  }
  return ids;
}

function commonPrefixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * Finds each entry in Tempest's listing: by its name without attributes first, then, for a test
 * that moved, by its idempotent id (the closest name wins, then the shortest).
 */
export function resolveList(entries: readonly ListEntry[], known: readonly string[]): Resolution[] {
  const byName = new Map<string, string>();
  const byUuid = new Map<string, string[]>();
  for (const id of known) {
    byName.set(testBaseName(id), id);
    const uuid = testUuid(id);
    if (uuid) byUuid.set(uuid, [...(byUuid.get(uuid) ?? []), id]);
  }
  return entries.map((entry): Resolution => {
    const exact = byName.get(entry.name);
    if (exact) return { entry, tempestId: exact, how: 'exact' };
    const candidates = entry.uuid ? byUuid.get(entry.uuid) : undefined;
    if (candidates?.length) {
      const best = [...candidates].sort(
        (a, b) =>
          commonPrefixLength(testBaseName(b), entry.name) - commonPrefixLength(testBaseName(a), entry.name) ||
          a.length - b.length ||
          a.localeCompare(b),
      )[0]!;
      return { entry, tempestId: best, how: 'uuid' };
    }
    return { entry, how: 'missing' };
  });
}

/** Every known test under a dotted prefix (`tempest.api.identity` takes `tempest.api.identity.v3.…`, not `…identityx`). */
export function selectByPrefix(known: readonly string[], prefix: string): string[] {
  const p = prefix.replace(/\.+$/, '');
  return known.filter((id) => {
    if (!id.startsWith(p)) return false;
    const next = id[p.length];
    return next === undefined || next === '.' || next === '[';
  });
}

/** List entries standing for ids Tempest gave us directly (for `--all-of` and `--regex`). */
export function entriesFromIds(ids: readonly string[]): ListEntry[] {
  return parseTestList(ids.join('\n'));
}
