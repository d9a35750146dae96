// Shared shapes of the policy engine: rules, credentials, targets and compiled checks.

/** One API operation a rule guards, as oslo.policy documents it. */
export interface PolicyOperation {
  readonly method: string;
  readonly path: string;
}

/** A registered policy default, as oslo.policy's DocumentedRuleDefault. */
export interface PolicyRule {
  readonly name: string;
  readonly checkStr: string;
  readonly description: string;
  readonly operations?: readonly PolicyOperation[];
  readonly scopeTypes?: readonly string[];
}

/** A rule as the engine enforces it: the default, or the operator's override of it. */
export interface EffectiveRule extends PolicyRule {
  /** The registered default's check string; undefined for an operator-only rule. */
  readonly defaultCheckStr: string | undefined;
  readonly overridden: boolean;
}

/**
 * The caller, as oslo.context's to_policy_values() plus Keystone's additions. Checks look keys up
 * here by dotted path (`token.project.domain.id` walks `token`); absent keys never match, while
 * null matches the literal `None` as Python's str(None) does.
 */
export interface Credentials {
  readonly user_id: string;
  readonly user_domain_id: string;
  readonly project_id?: string | null;
  readonly project_domain_id?: string | null;
  readonly domain_id?: string | null;
  readonly system_scope?: 'all' | null;
  /** Role names, already expanded through implied roles. Role checks ignore case. */
  readonly roles: readonly string[];
  readonly is_admin?: boolean;
  readonly is_admin_project?: boolean;
  readonly service_user_id?: string | null;
  readonly service_user_domain_id?: string | null;
  readonly service_project_id?: string | null;
  readonly service_project_domain_id?: string | null;
  readonly service_roles?: readonly string[];
  /** The rendered token body (`{user, project: {id, domain}, domain, ...}`), as Keystone passes it. */
  readonly token?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/** What the action is applied to; keys may be flat (`target.user.id`) or nested, or both. */
export type PolicyTarget = Readonly<Record<string, unknown>>;

/** Per-call state handed to compiled checks. */
export interface EvalContext {
  readonly target: PolicyTarget;
  readonly creds: Credentials;
  /** Resolves `rule:NAME`; undefined when no such rule exists. */
  readonly rule: (name: string) => CompiledCheck | undefined;
  /** Lower-cased roles, filled on first use by a role check. */
  lowerRoles: ReadonlySet<string> | undefined;
}

/** A check string compiled once to a closure. */
export type CompiledCheck = (ctx: EvalContext) => boolean;
