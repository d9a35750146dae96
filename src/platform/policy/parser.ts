// Parser for oslo.policy check strings: tokenizes as oslo does and builds a check tree.

/** A parsed check string; `and`/`or` nodes hold two or more operands. */
export type CheckNode =
  | { readonly kind: 'true' }
  | { readonly kind: 'false' }
  | { readonly kind: 'not'; readonly check: CheckNode }
  | { readonly kind: 'and'; readonly checks: readonly CheckNode[] }
  | { readonly kind: 'or'; readonly checks: readonly CheckNode[] }
  | { readonly kind: 'rule'; readonly name: string }
  | { readonly kind: 'role'; readonly match: string }
  | { readonly kind: 'generic'; readonly key: string; readonly match: string };

export class PolicyParseError extends Error {
  readonly checkStr: string;

  constructor(checkStr: string, reason: string) {
    super(`invalid policy check string ${JSON.stringify(checkStr)}: ${reason}`);
    this.name = 'PolicyParseError';
    this.checkStr = checkStr;
  }
}

type Token =
  | { readonly t: '(' | ')' | 'and' | 'or' | 'not' }
  | { readonly t: 'check'; readonly check: CheckNode }
  | { readonly t: 'string'; readonly text: string };

const OPEN: Token = { t: '(' };
const CLOSE: Token = { t: ')' };
const TRUE: CheckNode = { kind: 'true' };
const FALSE: CheckNode = { kind: 'false' };

/** One `kind:match` token, as oslo's _parse_check; a token without a colon is an error here. */
function parseAtom(text: string, source: string): CheckNode {
  if (text === '@') return TRUE;
  if (text === '!') return FALSE;
  const colon = text.indexOf(':');
  if (colon < 0) throw new PolicyParseError(source, `check ${JSON.stringify(text)} has no "kind:match" form`);
  const key = text.slice(0, colon);
  const match = text.slice(colon + 1);
  if (key === 'rule') return { kind: 'rule', name: match };
  if (key === 'role') return { kind: 'role', match };
  // oslo's external http/https checks call out over the network; we never do, so they fail closed.
  if (key === 'http' || key === 'https') return FALSE;
  return { kind: 'generic', key, match };
}

/** oslo's _parse_tokenize: split on whitespace, peel parentheses off each word's ends. */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  for (const word of source.split(/\s+/)) {
    if (word === '') continue;
    const tok = word.replace(/^\(+/, '');
    for (let i = 0; i < word.length - tok.length; i++) tokens.push(OPEN);
    if (tok === '') continue;
    const clean = tok.replace(/\)+$/, '');
    const trail = tok.length - clean.length;
    const lowered = clean.toLowerCase();
    if (lowered === 'and' || lowered === 'or' || lowered === 'not') {
      tokens.push({ t: lowered });
    } else if (clean !== '') {
      const first = tok[0];
      const quoted = tok.length >= 2 && (first === '"' || first === "'") && tok[tok.length - 1] === first;
      tokens.push(
        quoted ? { t: 'string', text: tok.slice(1, -1) } : { t: 'check', check: parseAtom(clean, source) },
      );
    }
    for (let i = 0; i < trail; i++) tokens.push(CLOSE);
  }
  return tokens;
}

/** Precedence-climbing parser: `not` binds tighter than `and`, which binds tighter than `or`. */
function parseTokens(tokens: readonly Token[], source: string): CheckNode {
  let pos = 0;
  const fail = (reason: string): never => {
    throw new PolicyParseError(source, reason);
  };

  const parseOr = (): CheckNode => {
    const checks = [parseAnd()];
    while (tokens[pos]?.t === 'or') {
      pos++;
      checks.push(parseAnd());
    }
    return checks.length === 1 ? checks[0]! : { kind: 'or', checks: flatten('or', checks) };
  };

  const parseAnd = (): CheckNode => {
    const checks = [parseUnary()];
    while (tokens[pos]?.t === 'and') {
      pos++;
      checks.push(parseUnary());
    }
    return checks.length === 1 ? checks[0]! : { kind: 'and', checks: flatten('and', checks) };
  };

  const parseUnary = (): CheckNode => {
    const tok = tokens[pos];
    if (tok === undefined) return fail('unexpected end of rule');
    pos++;
    switch (tok.t) {
      case 'not':
        return { kind: 'not', check: parseUnary() };
      case '(': {
        const inner = parseOr();
        if (tokens[pos]?.t !== ')') return fail('missing ")"');
        pos++;
        return inner;
      }
      case 'check':
        return tok.check;
      case 'string':
        return fail(`a quoted string ("${tok.text}") cannot stand alone as a check`);
      default:
        return fail(`unexpected "${tok.t}"`);
    }
  };

  const node = parseOr();
  if (pos < tokens.length) {
    const tok = tokens[pos]!;
    fail(
      `unexpected ${tok.t === 'check' || tok.t === 'string' ? 'check' : `"${tok.t}"`} after a complete expression`,
    );
  }
  return node;
}

/** Merges directly nested nodes of the same kind, so `a or (b or c)` evaluates as one list. */
function flatten(kind: 'and' | 'or', checks: readonly CheckNode[]): CheckNode[] {
  const out: CheckNode[] = [];
  for (const c of checks) {
    if (c.kind === kind) out.push(...c.checks);
    else out.push(c);
  }
  return out;
}

/** Parses a check string; the empty string means "always". Throws PolicyParseError when malformed. */
export function parseCheckString(source: string): CheckNode {
  if (source === '') return TRUE;
  const tokens = tokenize(source);
  if (tokens.length === 0) throw new PolicyParseError(source, 'no checks in a non-empty rule');
  return parseTokens(tokens, source);
}

/** Renders a check tree back to a fully parenthesised check string (for logs and tests). */
export function formatCheck(node: CheckNode): string {
  switch (node.kind) {
    case 'true':
      return '@';
    case 'false':
      return '!';
    case 'not':
      return `not ${formatCheck(node.check)}`;
    case 'and':
    case 'or':
      return `(${node.checks.map(formatCheck).join(` ${node.kind} `)})`;
    case 'rule':
      return `rule:${node.name}`;
    case 'role':
      return `role:${node.match}`;
    case 'generic':
      return `${node.key}:${node.match}`;
  }
}
