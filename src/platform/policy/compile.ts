// Compiles a parsed check tree into a closure, so each rule is analysed once and evaluated cheaply.

import { type CheckNode, parseCheckString } from './parser.ts';
import type { CompiledCheck, EvalContext } from './types.ts';
import { compileTemplate, credsContain, literalKey, MISSING } from './values.ts';

const always: CompiledCheck = () => true;
const never: CompiledCheck = () => false;

function lowerRoles(ctx: EvalContext): ReadonlySet<string> {
  if (ctx.lowerRoles === undefined) {
    const roles = Array.isArray(ctx.creds.roles) ? ctx.creds.roles : [];
    ctx.lowerRoles = new Set(roles.map((r) => String(r).toLowerCase()));
  }
  return ctx.lowerRoles;
}

function compileRole(match: string): CompiledCheck {
  const tpl = compileTemplate(match);
  if (tpl.constant !== undefined) {
    const want = tpl.constant.toLowerCase();
    return (ctx) => lowerRoles(ctx).has(want);
  }
  return (ctx) => {
    const m = tpl.render(ctx.target);
    return m !== MISSING && lowerRoles(ctx).has(m.toLowerCase());
  };
}

function compileGeneric(key: string, match: string): CompiledCheck {
  const tpl = compileTemplate(match);
  const literal = literalKey(key);
  if (literal !== undefined) {
    if (tpl.constant !== undefined) return tpl.constant === literal ? always : never;
    return (ctx) => tpl.render(ctx.target) === literal;
  }
  const segments = key.split('.');
  const c = tpl.constant;
  if (c !== undefined) return (ctx) => credsContain(ctx.creds, segments, 0, c);
  return (ctx) => {
    const m = tpl.render(ctx.target);
    return m !== MISSING && credsContain(ctx.creds, segments, 0, m);
  };
}

/** Turns a check tree into a closure; `rule:` references are resolved at call time through the context. */
export function compileNode(node: CheckNode): CompiledCheck {
  switch (node.kind) {
    case 'true':
      return always;
    case 'false':
      return never;
    case 'not': {
      const inner = compileNode(node.check);
      return (ctx) => !inner(ctx);
    }
    case 'and': {
      const parts = node.checks.map(compileNode);
      return (ctx) => {
        for (const p of parts) if (!p(ctx)) return false;
        return true;
      };
    }
    case 'or': {
      const parts = node.checks.map(compileNode);
      return (ctx) => {
        for (const p of parts) if (p(ctx)) return true;
        return false;
      };
    }
    case 'rule': {
      const name = node.name;
      return (ctx) => {
        return ctx.rule(name)?.(ctx) === true;
      };
    }
    case 'role':
      return compileRole(node.match);
    case 'generic':
      return compileGeneric(node.key, node.match);
  }
}

/** Parses and compiles a check string; throws PolicyParseError when it is malformed. */
export function compileCheck(checkStr: string): CompiledCheck {
  return compileNode(parseCheckString(checkStr));
}

/** Names referenced through `rule:NAME` anywhere in a tree. */
export function referencedRules(node: CheckNode, out: Set<string> = new Set()): Set<string> {
  switch (node.kind) {
    case 'rule':
      out.add(node.name);
      break;
    case 'not':
      referencedRules(node.check, out);
      break;
    case 'and':
    case 'or':
      for (const c of node.checks) referencedRules(c, out);
      break;
    default:
      break;
  }
  return out;
}
