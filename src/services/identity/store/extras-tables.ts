// Kysely row types of the smaller Keystone APIs (policies, OAuth1 consumers, endpoint filtering, domain configs),
// kept apart from tables.ts; handlers use them through `ix.db as unknown as ExtrasDb` (and the same cast of a
// transaction). JSON is stored as text, booleans as 0/1, as in tables.ts.
import type { Kysely, Transaction } from 'kysely';

/** /v3/policies: an opaque blob of a given type (keystone/policy/backends/sql.py). */
export interface PolicyRow {
  id: string;
  blob: string;
  type: string;
  /** JSON object of the attributes that are not columns. */
  extra: string;
}

/** /v3/OS-OAUTH1/consumers: the secret is shown once, on create; only its hash is kept. */
export interface OAuthConsumerRow {
  id: string;
  description: string | null;
  secret_hash: string;
  extra: string;
}

/** /v3/OS-EP-FILTER/endpoint_groups. */
export interface EndpointGroupRow {
  id: string;
  name: string;
  description: string | null;
  /** JSON object: any of service_id, region_id, interface. */
  filters: string;
}

export interface ProjectEndpointGroupRow {
  endpoint_group_id: string;
  project_id: string;
}

export interface ProjectEndpointRow {
  endpoint_id: string;
  project_id: string;
}

/** /v3/domains/{id}/config: one option of one group (Keystone's whitelisted_config and sensitive_config). */
export interface DomainConfigRow {
  domain_id: string;
  group_name: string;
  option_name: string;
  /** The option's value as JSON text. */
  value: string;
  /** 1 for options Keystone never shows (ldap password). */
  sensitive: number;
}

export interface ExtrasTables {
  identity_policies: PolicyRow;
  identity_oauth_consumers: OAuthConsumerRow;
  identity_endpoint_groups: EndpointGroupRow;
  identity_project_endpoint_groups: ProjectEndpointGroupRow;
  identity_project_endpoints: ProjectEndpointRow;
  identity_domain_configs: DomainConfigRow;
}

export type ExtrasDb = Kysely<ExtrasTables>;
export type ExtrasTrx = Transaction<ExtrasTables>;

/** Removes the endpoint-filter and domain-config rows that point at deleted projects, domains or endpoints. */
export async function deleteExtrasOf(
  // biome-ignore lint/suspicious/noExplicitAny: called from identity transactions typed with other tables.
  trx: Transaction<any>,
  of: { projectIds?: string[]; domainId?: string; endpointIds?: string[] },
): Promise<void> {
  const t = trx as unknown as ExtrasTrx;
  if (of.projectIds?.length) {
    await t.deleteFrom('identity_project_endpoint_groups').where('project_id', 'in', of.projectIds).execute();
    await t.deleteFrom('identity_project_endpoints').where('project_id', 'in', of.projectIds).execute();
  }
  if (of.domainId)
    await t.deleteFrom('identity_domain_configs').where('domain_id', '=', of.domainId).execute();
  if (of.endpointIds?.length) {
    await t.deleteFrom('identity_project_endpoints').where('endpoint_id', 'in', of.endpointIds).execute();
  }
}
