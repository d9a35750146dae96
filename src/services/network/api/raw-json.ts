// JSON text the database built, carried inside a response body and written out as is by bodyJson (no parse and
// re-serialisation of large nested lists); anywhere else it serialises as the value it encodes.

export class RawJson {
  constructor(readonly text: string) {}

  /** For a plain JSON.stringify of the body (show, create, …): the value itself. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/** One object as JSON.stringify writes it, with RawJson values written as their text. */
function objectJson(item: Record<string, unknown>): string {
  let out = '';
  for (const [k, v] of Object.entries(item)) {
    const text = v instanceof RawJson ? v.text : JSON.stringify(v);
    if (text === undefined) continue;
    out += `${out === '' ? '' : ','}${JSON.stringify(k)}:${text}`;
  }
  return `{${out}}`;
}

/** A list body ({collection: [objects], links…}) as JSON, the objects' RawJson values spliced in as text. */
export function bodyJson(body: Record<string, unknown>): string {
  let out = '';
  for (const [k, v] of Object.entries(body)) {
    const text = Array.isArray(v)
      ? `[${v.map((item) => (item !== null && typeof item === 'object' && !Array.isArray(item) ? objectJson(item as Record<string, unknown>) : (JSON.stringify(item) ?? 'null'))).join(',')}]`
      : JSON.stringify(v);
    if (text === undefined) continue;
    out += `${out === '' ? '' : ','}${JSON.stringify(k)}:${text}`;
  }
  return `{${out}}`;
}
