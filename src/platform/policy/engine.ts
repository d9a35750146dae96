// PolicyEngine: registered defaults plus operator overrides, compiled once, enforced per request.

import { ApiError } from '../errors.ts';
import { compileNode, referencedRules } from './compile.ts';
import { type CheckNode, PolicyParseError, parseCheckString } from './parser.ts';
import type {
  CompiledCheck,
  Credentials,
  EffectiveRule,
  EvalContext,
  PolicyRule,
  PolicyTarget,
} from './types.ts';

/** Thrown by authorize() when the caller fails a rule; a 403 in every API dialect. */
export class PolicyNotAuthorized extends ApiError {
  readonly rule: string;

  constructor(rule: string) {
    super(403, 'PolicyNotAuthorized', `${rule} is disallowed by policy`);
    this.name = 'PolicyNotAuthorized';
    this.rule = rule;
  }
}

/** An operator override that failed to parse; the rule it names then denies everyone, as oslo does. */
export interface OverrideError {
  readonly name: string;
  readonly checkStr: string;
  readonly message: string;
}

const DENY_ALL: CheckNode = { kind: 'false' };
const OPERATOR_RULE = 'Rule defined by the operator.';

export class PolicyEngine {
  readonly #rules = new Map<string, EffectiveRule>();
  readonly #compiled = new Map<string, CompiledCheck>();
  readonly #overrideErrors: OverrideError[] = [];
  readonly #resolve = (name: string): CompiledCheck | undefined => this.#compiled.get(name);

  /**
   * Defaults must parse (a bad default is a programming error and throws); an override that does
   * not parse denies its rule and is listed in overrideErrors(). Rules may not reference themselves
   * through a cycle of `rule:` checks.
   */
  constructor(defaults: readonly PolicyRule[], overrides: Readonly<Record<string, string>> = {}) {
    const trees = new Map<string, CheckNode>();
    for (const rule of defaults) {
      if (trees.has(rule.name)) throw new Error(`policy rule ${rule.name} is registered twice`);
      trees.set(rule.name, parseCheckString(rule.checkStr));
      this.#rules.set(rule.name, { ...rule, defaultCheckStr: rule.checkStr, overridden: false });
    }
    for (const [name, checkStr] of Object.entries(overrides)) {
      if (typeof checkStr !== 'string') throw new Error(`policy override ${name} is not a string`);
      let tree: CheckNode;
      try {
        tree = parseCheckString(checkStr);
      } catch (e) {
        if (!(e instanceof PolicyParseError)) throw e;
        this.#overrideErrors.push({ name, checkStr, message: e.message });
        tree = DENY_ALL;
      }
      trees.set(name, tree);
      const base = this.#rules.get(name);
      this.#rules.set(
        name,
        base === undefined
          ? { name, checkStr, description: OPERATOR_RULE, defaultCheckStr: undefined, overridden: true }
          : { ...base, checkStr, overridden: checkStr !== base.defaultCheckStr },
      );
    }
    assertAcyclic(trees);
    for (const [name, tree] of trees) this.#compiled.set(name, compileNode(tree));
  }

  /** Whether the caller passes the rule. Throws an Error when no rule by that name exists. */
  enforce(name: string, target: PolicyTarget, creds: Credentials): boolean {
    const check = this.#compiled.get(name);
    if (check === undefined) throw new Error(`policy rule ${name} is not registered`);
    const ctx: EvalContext = { target, creds, rule: this.#resolve, lowerRoles: undefined };
    return check(ctx);
  }

  /** As enforce(), but throws PolicyNotAuthorized naming the rule when the caller fails it. */
  authorize(name: string, target: PolicyTarget, creds: Credentials): void {
    if (!this.enforce(name, target, creds)) throw new PolicyNotAuthorized(name);
  }

  has(name: string): boolean {
    return this.#compiled.has(name);
  }

  /** Every rule as enforced: defaults (overridden or not), then operator-only rules. */
  rules(): EffectiveRule[] {
    return [...this.#rules.values()];
  }

  overrideErrors(): readonly OverrideError[] {
    return this.#overrideErrors;
  }
}

/** Rejects `rule:` cycles, which oslo would only discover as unbounded recursion at request time. */
function assertAcyclic(trees: ReadonlyMap<string, CheckNode>): void {
  const edges = new Map<string, string[]>();
  for (const [name, tree] of trees)
    edges.set(
      name,
      [...referencedRules(tree)].filter((r) => trees.has(r)),
    );
  const state = new Map<string, 'open' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'open') {
      const cycle = [...path.slice(path.indexOf(name)), name].join(' -> ');
      throw new Error(`policy rules reference each other in a cycle: ${cycle}`);
    }
    state.set(name, 'open');
    for (const next of edges.get(name) ?? []) visit(next, [...path, name]);
    state.set(name, 'done');
  };
  for (const name of trees.keys()) visit(name, []);
}
