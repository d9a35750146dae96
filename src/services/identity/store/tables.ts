// Kysely table types for the tables Identity owns (all prefixed identity_); booleans are stored as 0/1 integers
// and JSON as text, so one schema serves SQLite and PostgreSQL.
import type { Generated } from 'kysely';
import type { FeedTables } from '../../../platform/watch/feed.ts';

export interface DomainRow {
  id: string;
  name: string;
  description: string;
  enabled: number;
  extra: string;
  created_at: string;
}

export interface ProjectRow {
  id: string;
  name: string;
  domain_id: string;
  /** null for a top-level project (its parent is its domain). */
  parent_id: string | null;
  description: string;
  enabled: number;
  extra: string;
  created_at: string;
}

export interface ProjectTagRow {
  project_id: string;
  tag: string;
}

export interface UserRow {
  id: string;
  name: string;
  domain_id: string;
  enabled: number;
  default_project_id: string | null;
  /** bcrypt hash of the current password, or null for a user without one. */
  password_hash: string | null;
  password_created_at: string | null;
  password_expires_at: string | null;
  failed_auth_count: number;
  failed_auth_at: string | null;
  last_active_at: string | null;
  /** JSON object of user options (ignore_lockout_failure_attempts, …). */
  options: string;
  extra: string;
  created_at: string;
}

export interface PasswordHistoryRow {
  id: Generated<number>;
  user_id: string;
  password_hash: string;
  created_at: string;
}

export interface GroupRow {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  extra: string;
}

export interface GroupMemberRow {
  group_id: string;
  user_id: string;
}

/** A global role has domain_id GLOBAL_ROLE_DOMAIN (Keystone's '<<null>>' sentinel), so uniqueness works. */
export const GLOBAL_ROLE_DOMAIN = '<<null>>';

export interface RoleRow {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  options: string;
  extra: string;
}

export interface ImpliedRoleRow {
  prior_role_id: string;
  implied_role_id: string;
}

export type AssignmentType =
  | 'UserProject'
  | 'GroupProject'
  | 'UserDomain'
  | 'GroupDomain'
  | 'UserSystem'
  | 'GroupSystem';

/** System assignments use target_id SYSTEM_TARGET. */
export const SYSTEM_TARGET = 'system';

export interface AssignmentRow {
  type: AssignmentType;
  actor_id: string;
  target_id: string;
  role_id: string;
  inherited: number;
}

export interface RegionRow {
  id: string;
  description: string;
  parent_region_id: string | null;
  extra: string;
}

export interface ServiceRow {
  id: string;
  type: string;
  enabled: number;
  /** JSON: name, description and any extra attributes. */
  extra: string;
}

export interface EndpointRow {
  id: string;
  service_id: string;
  interface: string;
  url: string;
  region_id: string | null;
  enabled: number;
  extra: string;
}

export interface AppCredentialRow {
  id: string;
  name: string;
  user_id: string;
  project_id: string;
  secret_hash: string;
  description: string;
  expires_at: string | null;
  unrestricted: number;
  created_at: string;
}

export interface AppCredentialRoleRow {
  app_cred_id: string;
  role_id: string;
}

export interface CredentialRow {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
  extra: string;
}

export interface RevocationEventRow {
  id: Generated<number>;
  user_id: string | null;
  project_id: string | null;
  domain_id: string | null;
  role_id: string | null;
  audit_id: string | null;
  audit_chain_id: string | null;
  app_cred_id: string | null;
  trust_id: string | null;
  /** Tokens issued at or before this instant (epoch ms) that match are revoked. */
  issued_before: number;
  revoked_at: string;
}

/** An OS-TRUST trust; deleted_at set means deleted (Keystone soft-deletes trusts). */
export interface TrustRow {
  id: string;
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string | null;
  impersonation: number;
  /** ISO 8601 UTC ("…Z"), or null for a trust that does not expire. */
  expires_at: string | null;
  /** Tokens that may still be issued from the trust; null for unlimited. */
  remaining_uses: number | null;
  redelegation_count: number;
  redelegated_trust_id: string | null;
  deleted_at: string | null;
  /** JSON: attributes a client sent that Keystone keeps as extras. */
  extra: string;
  created_at: string;
}

export interface TrustRoleRow {
  trust_id: string;
  role_id: string;
}

export interface IdentityTables extends FeedTables {
  identity_domains: DomainRow;
  identity_projects: ProjectRow;
  identity_project_tags: ProjectTagRow;
  identity_users: UserRow;
  identity_password_history: PasswordHistoryRow;
  identity_groups: GroupRow;
  identity_group_members: GroupMemberRow;
  identity_roles: RoleRow;
  identity_implied_roles: ImpliedRoleRow;
  identity_assignments: AssignmentRow;
  identity_regions: RegionRow;
  identity_services: ServiceRow;
  identity_endpoints: EndpointRow;
  identity_app_credentials: AppCredentialRow;
  identity_app_credential_roles: AppCredentialRoleRow;
  identity_credentials: CredentialRow;
  identity_revocation_events: RevocationEventRow;
  identity_trusts: TrustRow;
  identity_trust_roles: TrustRoleRow;
}
