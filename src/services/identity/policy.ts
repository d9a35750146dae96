// Keystone's default policy for every identity API operation, as Zed enforces it without enforce_new_defaults.
//
// Each rule is Zed's (Debian-patched, "secure RBAC phase 1") new default OR'ed with the deprecated rule it
// replaced where that adds anything, which is what oslo.policy does while enforce_new_defaults is False.
// The effect is that a project-scoped admin is a cloud admin, as Tempest and the openstack CLI expect.

import type { PolicyRule } from '../../platform/policy/types.ts';
import { assignmentPolicies } from './policy-assignment.ts';
import { authPolicies } from './policy-auth.ts';
import { catalogPolicies } from './policy-catalog.ts';
import { rule } from './policy-checks.ts';
import { resourcePolicies } from './policy-resources.ts';

/** The helper rules every identity rule builds on. */
export const identityBasePolicies: readonly PolicyRule[] = [
  rule('admin_required', 'role:admin or is_admin:1', undefined),
  rule('service_role', 'role:service', undefined),
  rule('service_or_admin', 'rule:admin_required or rule:service_role', undefined),
  rule('owner', 'user_id:%(user_id)s', undefined),
  rule('admin_or_owner', 'rule:admin_required or rule:owner', undefined),
  rule('token_subject', 'user_id:%(target.token.user_id)s', undefined),
  rule('admin_or_token_subject', 'rule:admin_required or rule:token_subject', undefined),
  rule('service_admin_or_token_subject', 'rule:service_or_admin or rule:token_subject', undefined),
];

export const identityPolicies: readonly PolicyRule[] = Object.freeze([
  ...identityBasePolicies,
  ...authPolicies,
  ...resourcePolicies,
  ...assignmentPolicies,
  ...catalogPolicies,
]);

export const identityPolicyByName: ReadonlyMap<string, PolicyRule> = new Map(
  identityPolicies.map((r) => [r.name, r]),
);
