// Value handling with oslo.policy's Python semantics: str() rendering, %(key)s substitution, path lookups.

import type { PolicyTarget } from './types.ts';

/** Marks a key that is absent (oslo's KeyError); undefined counts as absent too. */
export const MISSING: unique symbol = Symbol('missing');
export type Lookup = unknown | typeof MISSING;

function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(obj: Readonly<Record<string, unknown>>, key: string): Lookup {
  if (!Object.hasOwn(obj, key)) return MISSING;
  const v = obj[key];
  return v === undefined ? MISSING : v;
}

/** Python's repr() for the JSON-ish values a target or credential can hold. */
function pyRepr(v: unknown): string {
  if (typeof v === 'string') {
    const q = v.includes("'") && !v.includes('"') ? '"' : "'";
    const body = v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
    return q + (q === "'" ? body.replaceAll("'", "\\'") : body) + q;
  }
  return pyStr(v);
}

/** Python's str(): True/False/None spelled as Python does, lists and dicts as their repr. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isRecord(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/**
 * Finds `key` in the target: the whole dotted key first (Keystone flattens its targets), then by
 * walking nested records, trying each split of the dotted key so half-flattened targets work too.
 */
export function lookupTarget(obj: unknown, key: string): Lookup {
  if (!isRecord(obj)) return MISSING;
  const whole = own(obj, key);
  if (whole !== MISSING) return whole;
  for (let i = key.indexOf('.'); i !== -1; i = key.indexOf('.', i + 1)) {
    const head = own(obj, key.slice(0, i));
    if (head === MISSING) continue;
    const found = lookupTarget(head, key.slice(i + 1));
    if (found !== MISSING) return found;
  }
  return MISSING;
}

/** A `match` string with its `%(key)s` substitutions pre-split; render returns MISSING on absent keys. */
export interface Template {
  readonly constant: string | undefined;
  render(target: PolicyTarget): string | typeof MISSING;
}

const SUBST = /%\(([^)]*)\)s|%%/g;

export function compileTemplate(match: string): Template {
  if (!match.includes('%')) return { constant: match, render: () => match };
  const parts: (string | { readonly key: string })[] = [];
  let last = 0;
  for (const m of match.matchAll(SUBST)) {
    parts.push(match.slice(last, m.index));
    parts.push(m[1] === undefined ? '%' : { key: m[1] });
    last = m.index + m[0].length;
  }
  parts.push(match.slice(last));
  const pieces = parts.filter((p) => p !== '');
  if (pieces.every((p) => typeof p === 'string')) {
    const text = pieces.join('');
    return { constant: text, render: () => text };
  }
  return {
    constant: undefined,
    render(target) {
      let out = '';
      for (const p of pieces) {
        if (typeof p === 'string') {
          out += p;
          continue;
        }
        const v = lookupTarget(target, p.key);
        if (v === MISSING) return MISSING;
        out += pyStr(v);
      }
      return out;
    },
  };
}

/**
 * oslo's GenericCheck._find_in_dict: walk `segments` through the credentials; a list on the way
 * matches when any element does; at the end compare str(value) with the match.
 */
export function credsContain(
  value: unknown,
  segments: readonly string[],
  index: number,
  match: string,
): boolean {
  if (index === segments.length) return pyStr(value) === match;
  if (!isRecord(value)) return false;
  const next = own(value, segments[index]!);
  if (next === MISSING) return false;
  if (Array.isArray(next)) return next.some((el) => credsContain(el, segments, index + 1, match));
  return credsContain(next, segments, index + 1, match);
}

/**
 * The left side of a generic check read as a Python literal (oslo uses ast.literal_eval): quoted
 * strings, integers, True, False and None. Returns its str(), or undefined for a credential path.
 */
export function literalKey(key: string): string | undefined {
  if (key === 'True' || key === 'False' || key === 'None') return key;
  if (/^[+-]?\d+$/.test(key)) return String(Number.parseInt(key, 10));
  const q = key[0];
  if (key.length >= 2 && (q === '"' || q === "'") && key[key.length - 1] === q) {
    const body = key.slice(1, -1);
    if (!body.includes(q)) return body;
  }
  return undefined;
}
