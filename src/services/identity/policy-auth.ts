// Keystone's default rules for tokens, credentials, application credentials, trusts and OAuth1.

import type { PolicyRule } from '../../platform/policy/types.ts';
import {
  ADMIN,
  ADMIN_OR_SYSTEM_READER,
  ALWAYS,
  P,
  rule,
  SDP,
  SERVICE_OR_ADMIN,
  SP,
} from './policy-checks.ts';

const CRED_OWNER = 'user_id:%(target.credential.user_id)s';
const ADMIN_OR_CRED_OWNER = `(${ADMIN}) or ${CRED_OWNER}`;
const ADMIN_OR_READER_OR_CRED_OWNER = `(${ADMIN}) or (role:reader and system_scope:all) or ${CRED_OWNER}`;
/** Zed's new default plus the legacy `rule:admin_or_owner` it replaced (its owner half is not implied). */
const EC2_ADMIN_OR_MEMBER_OWNER = `(${ADMIN}) or (role:member and ${CRED_OWNER}) or rule:owner`;
const ADMIN_OR_READER_OR_OWNER = `(${ADMIN}) or (role:reader and system_scope:all) or rule:owner`;
const TRUSTOR = 'user_id:%(target.trust.trustor_user_id)s';
const TRUSTEE = 'user_id:%(target.trust.trustee_user_id)s';
const TRUST_PARTY = `(${ADMIN}) or (role:reader and system_scope:all or ${TRUSTOR} or ${TRUSTEE})`;
const ACCESS_RULE_OWNER = 'user_id:%(target.user.id)s';
const OAUTH = '/v3/users/{user_id}/OS-OAUTH1/access_tokens';

export const authPolicies: readonly PolicyRule[] = [
  // Token catalog and scope discovery: any authenticated caller.
  rule('identity:get_auth_catalog', ALWAYS, undefined, 'GET,HEAD /v3/auth/catalog'),
  rule('identity:get_auth_projects', ALWAYS, undefined, 'GET,HEAD /v3/auth/projects'),
  rule('identity:get_auth_domains', ALWAYS, undefined, 'GET,HEAD /v3/auth/domains'),
  rule('identity:get_auth_system', ALWAYS, undefined, 'GET,HEAD /v3/auth/system'),
  // Registered by Keystone for the legacy federation listings; no API enforces them today.
  rule('identity:list_projects_for_user', ALWAYS, undefined, 'GET /v3/auth/projects'),
  rule('identity:list_domains_for_user', ALWAYS, undefined, 'GET /v3/auth/domains'),
  // Tokens: the target is the subject token, flattened as target.token.*.
  rule(
    'identity:check_token',
    `${ADMIN_OR_SYSTEM_READER} or rule:token_subject`,
    SDP,
    'HEAD /v3/auth/tokens',
  ),
  rule(
    'identity:validate_token',
    `${ADMIN_OR_SYSTEM_READER} or rule:service_role or rule:token_subject`,
    SDP,
    'GET /v3/auth/tokens',
  ),
  rule('identity:revoke_token', `${ADMIN} or rule:token_subject`, SDP, 'DELETE /v3/auth/tokens'),
  rule('identity:revocation_list', SERVICE_OR_ADMIN, SP, 'GET /v3/auth/tokens/OS-PKI/revoked'),
  rule('identity:list_revoke_events', SERVICE_OR_ADMIN, SP, 'GET /v3/OS-REVOKE/events'),
  rule('identity:ec2tokens_validate', SERVICE_OR_ADMIN, SDP, 'POST /v3/ec2tokens'),
  rule('identity:s3tokens_validate', SERVICE_OR_ADMIN, SDP, 'POST /v3/s3tokens'),
  // Credentials.
  rule('identity:get_credential', ADMIN_OR_READER_OR_CRED_OWNER, SP, 'GET /v3/credentials/{credential_id}'),
  rule('identity:list_credentials', ADMIN_OR_READER_OR_CRED_OWNER, SP, 'GET /v3/credentials'),
  rule('identity:create_credential', ADMIN_OR_CRED_OWNER, SP, 'POST /v3/credentials'),
  rule('identity:update_credential', ADMIN_OR_CRED_OWNER, SP, 'PATCH /v3/credentials/{credential_id}'),
  rule('identity:delete_credential', ADMIN_OR_CRED_OWNER, SP, 'DELETE /v3/credentials/{credential_id}'),
  rule(
    'identity:ec2_get_credential',
    ADMIN_OR_READER_OR_CRED_OWNER,
    SP,
    'GET /v3/users/{user_id}/credentials/OS-EC2/{credential_id}',
  ),
  rule(
    'identity:ec2_list_credentials',
    EC2_ADMIN_OR_MEMBER_OWNER,
    SP,
    'GET /v3/users/{user_id}/credentials/OS-EC2',
  ),
  rule(
    'identity:ec2_create_credential',
    EC2_ADMIN_OR_MEMBER_OWNER,
    SP,
    'POST /v3/users/{user_id}/credentials/OS-EC2',
  ),
  rule(
    'identity:ec2_delete_credential',
    ADMIN_OR_CRED_OWNER,
    SP,
    'DELETE /v3/users/{user_id}/credentials/OS-EC2/{credential_id}',
  ),
  // Application credentials and their access rules.
  rule(
    'identity:get_application_credential',
    ADMIN_OR_READER_OR_OWNER,
    SP,
    'GET,HEAD /v3/users/{user_id}/application_credentials/{application_credential_id}',
  ),
  rule(
    'identity:list_application_credentials',
    ADMIN_OR_READER_OR_OWNER,
    SP,
    'GET,HEAD /v3/users/{user_id}/application_credentials',
  ),
  rule(
    'identity:create_application_credential',
    'user_id:%(user_id)s',
    P,
    'POST /v3/users/{user_id}/application_credentials',
  ),
  rule(
    'identity:delete_application_credential',
    'rule:admin_or_owner',
    SP,
    'DELETE /v3/users/{user_id}/application_credentials/{application_credential_id}',
  ),
  rule(
    'identity:get_access_rule',
    `(role:reader and system_scope:all) or ${ACCESS_RULE_OWNER}`,
    SP,
    'GET,HEAD /v3/users/{user_id}/access_rules/{access_rule_id}',
  ),
  rule(
    'identity:list_access_rules',
    `(role:reader and system_scope:all) or ${ACCESS_RULE_OWNER}`,
    SP,
    'GET,HEAD /v3/users/{user_id}/access_rules',
  ),
  rule(
    'identity:delete_access_rule',
    `(role:admin and system_scope:all) or ${ACCESS_RULE_OWNER}`,
    SP,
    'DELETE /v3/users/{user_id}/access_rules/{access_rule_id}',
  ),
  // Trusts.
  rule('identity:create_trust', TRUSTOR, P, 'POST /v3/OS-TRUST/trusts'),
  rule('identity:list_trusts', ADMIN_OR_SYSTEM_READER, SP, 'GET,HEAD /v3/OS-TRUST/trusts'),
  rule(
    'identity:list_trusts_for_trustor',
    `(${ADMIN}) or (role:reader and system_scope:all or ${TRUSTOR})`,
    SP,
    'GET,HEAD /v3/OS-TRUST/trusts?trustor_user_id={trustor_user_id}',
  ),
  rule(
    'identity:list_trusts_for_trustee',
    `(${ADMIN}) or (role:reader and system_scope:all or ${TRUSTEE})`,
    SP,
    'GET,HEAD /v3/OS-TRUST/trusts?trustee_user_id={trustee_user_id}',
  ),
  rule('identity:get_trust', TRUST_PARTY, SP, 'GET,HEAD /v3/OS-TRUST/trusts/{trust_id}'),
  rule('identity:list_roles_for_trust', TRUST_PARTY, SP, 'GET,HEAD /v3/OS-TRUST/trusts/{trust_id}/roles'),
  rule(
    'identity:get_role_for_trust',
    TRUST_PARTY,
    SP,
    'GET,HEAD /v3/OS-TRUST/trusts/{trust_id}/roles/{role_id}',
  ),
  rule('identity:delete_trust', `${ADMIN} or ${TRUSTOR}`, SP, 'DELETE /v3/OS-TRUST/trusts/{trust_id}'),
  // OAuth1 consumers and access tokens.
  rule('identity:get_consumer', ADMIN_OR_SYSTEM_READER, SP, 'GET /v3/OS-OAUTH1/consumers/{consumer_id}'),
  rule('identity:list_consumers', ADMIN_OR_SYSTEM_READER, SP, 'GET /v3/OS-OAUTH1/consumers'),
  rule('identity:create_consumer', ADMIN, SP, 'POST /v3/OS-OAUTH1/consumers'),
  rule('identity:update_consumer', ADMIN, SP, 'PATCH /v3/OS-OAUTH1/consumers/{consumer_id}'),
  rule('identity:delete_consumer', ADMIN, SP, 'DELETE /v3/OS-OAUTH1/consumers/{consumer_id}'),
  rule('identity:authorize_request_token', ADMIN, P, 'PUT /v3/OS-OAUTH1/authorize/{request_token_id}'),
  rule('identity:get_access_token', ADMIN, P, `GET ${OAUTH}/{access_token_id}`),
  rule('identity:get_access_token_role', ADMIN, P, `GET ${OAUTH}/{access_token_id}/roles/{role_id}`),
  rule('identity:list_access_tokens', ADMIN, P, `GET ${OAUTH}`),
  rule('identity:list_access_token_roles', ADMIN, P, `GET ${OAUTH}/{access_token_id}/roles`),
  rule('identity:delete_access_token', ADMIN, P, `DELETE ${OAUTH}/{access_token_id}`),
];
