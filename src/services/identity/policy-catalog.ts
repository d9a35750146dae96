// Keystone's default rules for the catalog, endpoint filtering and policies, limits and federation.

import type { PolicyRule } from '../../platform/policy/types.ts';
import { ADMIN, ALWAYS, ADMIN_OR_SYSTEM_READER as READ, rule, SDP, SP } from './policy-checks.ts';

const EPG = '/v3/OS-EP-FILTER/endpoint_groups';
const PEP = '/v3/OS-EP-FILTER/projects/{project_id}/endpoints';
const POL = '/v3/policies/{policy_id}/OS-ENDPOINT-POLICY';
const IDP = '/v3/OS-FEDERATION/identity_providers';
const SPS = '/v3/OS-FEDERATION/service_providers';
const MAP = '/v3/OS-FEDERATION/mappings';
const LIMIT_READER =
  `${READ} or (domain_id:%(target.limit.domain.id)s or domain_id:%(target.limit.project.domain_id)s)` +
  ' or (project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)';

export const catalogPolicies: readonly PolicyRule[] = [
  // Regions are readable by every authenticated caller.
  rule('identity:get_region', ALWAYS, SDP, 'GET,HEAD /v3/regions/{region_id}'),
  rule('identity:list_regions', ALWAYS, SDP, 'GET,HEAD /v3/regions'),
  rule('identity:create_region', ADMIN, SP, 'POST /v3/regions', 'PUT /v3/regions/{region_id}'),
  rule('identity:update_region', ADMIN, SP, 'PATCH /v3/regions/{region_id}'),
  rule('identity:delete_region', ADMIN, SP, 'DELETE /v3/regions/{region_id}'),
  rule('identity:get_service', READ, SP, 'GET /v3/services/{service_id}'),
  rule('identity:list_services', READ, SP, 'GET /v3/services'),
  rule('identity:create_service', ADMIN, SP, 'POST /v3/services'),
  rule('identity:update_service', ADMIN, SP, 'PATCH /v3/services/{service_id}'),
  rule('identity:delete_service', ADMIN, SP, 'DELETE /v3/services/{service_id}'),
  rule('identity:get_endpoint', READ, SP, 'GET /v3/endpoints/{endpoint_id}'),
  rule('identity:list_endpoints', READ, SP, 'GET /v3/endpoints'),
  rule('identity:create_endpoint', ADMIN, SP, 'POST /v3/endpoints'),
  rule('identity:update_endpoint', ADMIN, SP, 'PATCH /v3/endpoints/{endpoint_id}'),
  rule('identity:delete_endpoint', ADMIN, SP, 'DELETE /v3/endpoints/{endpoint_id}'),
  // OS-EP-FILTER: endpoint groups and project endpoints.
  rule('identity:create_endpoint_group', ADMIN, SP, `POST ${EPG}`),
  rule('identity:list_endpoint_groups', READ, SP, `GET ${EPG}`),
  rule('identity:get_endpoint_group', READ, SP, `GET,HEAD ${EPG}/{endpoint_group_id}`),
  rule('identity:update_endpoint_group', ADMIN, SP, `PATCH ${EPG}/{endpoint_group_id}`),
  rule('identity:delete_endpoint_group', ADMIN, SP, `DELETE ${EPG}/{endpoint_group_id}`),
  rule(
    'identity:list_projects_associated_with_endpoint_group',
    READ,
    SP,
    `GET ${EPG}/{endpoint_group_id}/projects`,
  ),
  rule(
    'identity:list_endpoints_associated_with_endpoint_group',
    READ,
    SP,
    `GET ${EPG}/{endpoint_group_id}/endpoints`,
  ),
  rule(
    'identity:get_endpoint_group_in_project',
    READ,
    SP,
    `GET,HEAD ${EPG}/{endpoint_group_id}/projects/{project_id}`,
  ),
  rule(
    'identity:list_endpoint_groups_for_project',
    READ,
    SP,
    'GET /v3/OS-EP-FILTER/projects/{project_id}/endpoint_groups',
  ),
  rule(
    'identity:add_endpoint_group_to_project',
    ADMIN,
    SP,
    `PUT ${EPG}/{endpoint_group_id}/projects/{project_id}`,
  ),
  rule(
    'identity:remove_endpoint_group_from_project',
    ADMIN,
    SP,
    `DELETE ${EPG}/{endpoint_group_id}/projects/{project_id}`,
  ),
  rule(
    'identity:list_projects_for_endpoint',
    READ,
    SP,
    'GET /v3/OS-EP-FILTER/endpoints/{endpoint_id}/projects',
  ),
  rule('identity:add_endpoint_to_project', ADMIN, SP, `PUT ${PEP}/{endpoint_id}`),
  rule('identity:check_endpoint_in_project', READ, SP, `GET,HEAD ${PEP}/{endpoint_id}`),
  rule('identity:list_endpoints_for_project', READ, SP, `GET ${PEP}`),
  rule('identity:remove_endpoint_from_project', ADMIN, SP, `DELETE ${PEP}/{endpoint_id}`),
  // Policy blobs and OS-ENDPOINT-POLICY associations.
  rule('identity:get_policy', READ, SP, 'GET /v3/policies/{policy_id}'),
  rule('identity:list_policies', READ, SP, 'GET /v3/policies'),
  rule('identity:create_policy', ADMIN, SP, 'POST /v3/policies'),
  rule('identity:update_policy', ADMIN, SP, 'PATCH /v3/policies/{policy_id}'),
  rule('identity:delete_policy', ADMIN, SP, 'DELETE /v3/policies/{policy_id}'),
  rule('identity:create_policy_association_for_endpoint', ADMIN, SP, `PUT ${POL}/endpoints/{endpoint_id}`),
  rule('identity:check_policy_association_for_endpoint', READ, SP, `GET,HEAD ${POL}/endpoints/{endpoint_id}`),
  rule('identity:delete_policy_association_for_endpoint', ADMIN, SP, `DELETE ${POL}/endpoints/{endpoint_id}`),
  rule('identity:create_policy_association_for_service', ADMIN, SP, `PUT ${POL}/services/{service_id}`),
  rule('identity:check_policy_association_for_service', READ, SP, `GET,HEAD ${POL}/services/{service_id}`),
  rule('identity:delete_policy_association_for_service', ADMIN, SP, `DELETE ${POL}/services/{service_id}`),
  rule(
    'identity:create_policy_association_for_region_and_service',
    ADMIN,
    SP,
    `PUT ${POL}/services/{service_id}/regions/{region_id}`,
  ),
  rule(
    'identity:check_policy_association_for_region_and_service',
    READ,
    SP,
    `GET,HEAD ${POL}/services/{service_id}/regions/{region_id}`,
  ),
  rule(
    'identity:delete_policy_association_for_region_and_service',
    ADMIN,
    SP,
    `DELETE ${POL}/services/{service_id}/regions/{region_id}`,
  ),
  rule(
    'identity:get_policy_for_endpoint',
    READ,
    SP,
    'GET,HEAD /v3/endpoints/{endpoint_id}/OS-ENDPOINT-POLICY/policy',
  ),
  rule('identity:list_endpoints_for_policy', READ, SP, `GET ${POL}/endpoints`),
  // Unified limits: the model and registered limits are public; a limit is visible to its owners.
  rule('identity:get_limit_model', ALWAYS, SDP, 'GET,HEAD /v3/limits/model'),
  rule('identity:get_limit', LIMIT_READER, SDP, 'GET,HEAD /v3/limits/{limit_id}'),
  rule('identity:list_limits', ALWAYS, SDP, 'GET,HEAD /v3/limits'),
  rule('identity:create_limits', ADMIN, SP, 'POST /v3/limits'),
  rule('identity:update_limit', ADMIN, SP, 'PATCH /v3/limits/{limit_id}'),
  rule('identity:delete_limit', ADMIN, SP, 'DELETE /v3/limits/{limit_id}'),
  rule('identity:get_registered_limit', ALWAYS, SDP, 'GET,HEAD /v3/registered_limits/{registered_limit_id}'),
  rule('identity:list_registered_limits', ALWAYS, SDP, 'GET,HEAD /v3/registered_limits'),
  rule('identity:create_registered_limits', ADMIN, SP, 'POST /v3/registered_limits'),
  rule('identity:update_registered_limit', ADMIN, SP, 'PATCH /v3/registered_limits/{registered_limit_id}'),
  rule('identity:delete_registered_limit', ADMIN, SP, 'DELETE /v3/registered_limits/{registered_limit_id}'),
  // OS-FEDERATION.
  rule('identity:create_identity_provider', ADMIN, SP, `PUT ${IDP}/{idp_id}`),
  rule('identity:list_identity_providers', READ, SP, `GET,HEAD ${IDP}`),
  rule('identity:get_identity_provider', READ, SP, `GET,HEAD ${IDP}/{idp_id}`),
  rule('identity:update_identity_provider', ADMIN, SP, `PATCH ${IDP}/{idp_id}`),
  rule('identity:delete_identity_provider', ADMIN, SP, `DELETE ${IDP}/{idp_id}`),
  rule('identity:create_protocol', ADMIN, SP, `PUT ${IDP}/{idp_id}/protocols/{protocol_id}`),
  rule('identity:update_protocol', ADMIN, SP, `PATCH ${IDP}/{idp_id}/protocols/{protocol_id}`),
  rule('identity:get_protocol', READ, SP, `GET ${IDP}/{idp_id}/protocols/{protocol_id}`),
  rule('identity:list_protocols', READ, SP, `GET ${IDP}/{idp_id}/protocols`),
  rule('identity:delete_protocol', ADMIN, SP, `DELETE ${IDP}/{idp_id}/protocols/{protocol_id}`),
  rule('identity:create_mapping', ADMIN, SP, `PUT ${MAP}/{mapping_id}`),
  rule('identity:get_mapping', READ, SP, `GET,HEAD ${MAP}/{mapping_id}`),
  rule('identity:list_mappings', READ, SP, `GET,HEAD ${MAP}`),
  rule('identity:delete_mapping', ADMIN, SP, `DELETE ${MAP}/{mapping_id}`),
  rule('identity:update_mapping', ADMIN, SP, `PATCH ${MAP}/{mapping_id}`),
  rule('identity:create_service_provider', ADMIN, SP, `PUT ${SPS}/{service_provider_id}`),
  rule('identity:list_service_providers', READ, SP, `GET,HEAD ${SPS}`),
  rule('identity:get_service_provider', READ, SP, `GET,HEAD ${SPS}/{service_provider_id}`),
  rule('identity:update_service_provider', ADMIN, SP, `PATCH ${SPS}/{service_provider_id}`),
  rule('identity:delete_service_provider', ADMIN, SP, `DELETE ${SPS}/{service_provider_id}`),
];
