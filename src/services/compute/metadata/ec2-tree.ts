// The EC2 metadata tree and its text rendering: directories list their entries one per line (a sub-directory
// with a trailing "/", or its "_name"), lists print one item per line, leaves print as Python's str().

/** A node of the tree: a directory (object), a list of strings, or a leaf. */
export type Ec2Node = Ec2Dir | string[] | string | number | boolean | null | Uint8Array;
export interface Ec2Dir {
  [key: string]: Ec2Node | undefined;
}

function isDir(n: Ec2Node | undefined): n is Ec2Dir {
  return typeof n === 'object' && n !== null && !Array.isArray(n) && !(n instanceof Uint8Array);
}

/** Nova's ec2_md_print: the text (or bytes, for user data) a node answers with. */
export function ec2Print(data: Ec2Node): string | Uint8Array {
  if (isDir(data)) {
    const lines: string[] = [];
    for (const key of Object.keys(data).sort()) {
      if (key === '_name') continue;
      const v = data[key];
      if (isDir(v)) lines.push(typeof v['_name'] === 'string' ? v['_name'] : `${key}/`);
      else lines.push(key);
    }
    return lines.join('\n');
  }
  if (Array.isArray(data)) return data.join('\n');
  if (data instanceof Uint8Array || typeof data === 'string') return data;
  if (data === null) return 'None';
  if (typeof data === 'boolean') return data ? 'True' : 'False';
  return String(data);
}

/**
 * Walks `tokens` down the tree; undefined when a step is missing. (Nova answers 500 for a path below a leaf or
 * into a list — a TypeError there; this answers the 404 the guest meant.)
 */
export function findInTree(data: Ec2Node, tokens: string[]): Ec2Node | undefined {
  let node: Ec2Node | undefined = data;
  for (const t of tokens) {
    if (!isDir(node)) return undefined;
    if (!Object.hasOwn(node, t)) return undefined;
    node = node[t];
    if (node === undefined) return undefined;
  }
  return node;
}
