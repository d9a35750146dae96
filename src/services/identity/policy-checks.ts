// Building blocks of Keystone's default policy: shared check strings, scope sets and the rule() helper.

import type { PolicyOperation, PolicyRule } from '../../platform/policy/types.ts';

/** Anyone with a valid token. */
export const ALWAYS = '';
/** Keystone's `admin_required`: the admin role on any scope (so a project-scoped admin is cloud admin). */
export const ADMIN = 'rule:admin_required';
export const SYSTEM_READER = 'role:reader and system_scope:all';
export const ADMIN_OR_SYSTEM_READER = `${ADMIN} or (${SYSTEM_READER})`;
export const SERVICE_OR_ADMIN = 'rule:service_or_admin';

/** scope_types as Keystone declares them (informational: enforce_scope is off, as in Zed's default). */
export const SP: readonly string[] = Object.freeze(['system', 'project']);
export const SDP: readonly string[] = Object.freeze(['system', 'domain', 'project']);
export const P: readonly string[] = Object.freeze(['project']);

const VERBS: Readonly<Record<string, string>> = Object.freeze({
  get: 'Show',
  list: 'List',
  create: 'Create',
  update: 'Update',
  delete: 'Delete',
  check: 'Check',
  add: 'Add',
  remove: 'Remove',
  revoke: 'Revoke',
  validate: 'Validate',
  authorize: 'Authorize',
});

const WORDS: Readonly<Record<string, string>> = Object.freeze({
  ec2: 'EC2',
  ec2tokens: 'EC2 tokens',
  s3tokens: 'S3 tokens',
  auth: 'authentication',
});

/** A one-line description derived from the rule name, e.g. `identity:list_user_projects` -> "List user projects." */
export function describeRule(name: string): string {
  const words = (name.split(':').pop() ?? name).split('_').map((w) => WORDS[w] ?? w);
  const verbAt = words.findIndex((w) => VERBS[w] !== undefined);
  if (verbAt > 0) words.unshift(`${words.splice(0, verbAt).join(' ')}:`);
  const text = words.map((w) => VERBS[w] ?? w).join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** Parses 'GET,HEAD /v3/path' into one operation per method. */
function operations(specs: readonly string[]): PolicyOperation[] {
  const out: PolicyOperation[] = [];
  for (const spec of specs) {
    const [methods = '', path = ''] = spec.trim().split(/\s+/, 2);
    for (const method of methods.split(',')) out.push({ method, path });
  }
  return out;
}

/** One default rule; `ops` are 'METHOD[,METHOD] /path' strings. */
export function rule(
  name: string,
  checkStr: string,
  scopeTypes: readonly string[] | undefined,
  ...ops: string[]
): PolicyRule {
  const base: PolicyRule = { name, checkStr, description: describeRule(name), operations: operations(ops) };
  return Object.freeze(scopeTypes === undefined ? base : { ...base, scopeTypes });
}
