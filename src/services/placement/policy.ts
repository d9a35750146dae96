// Placement's default policy (placement/policies/*.py, Zed) as data.
//
// Every rule's new default is system-scoped (role:admin/reader and system_scope:all), registered with the
// deprecated "rule:admin_api" (role:admin). Zed runs with enforce_new_defaults=False, so oslo.policy ORs the
// two: in effect a project-scoped admin passes every rule (our bootstrap's service user `monostack` holds
// admin on the service project), while a project member or reader gets 403 — except GET /usages, which a
// project reader may call for its own project.
import type { PolicyRule } from '../../platform/policy/types.ts';

const SYSTEM_ADMIN = 'rule:system_admin_api';
const SYSTEM_READER = 'rule:system_reader_api';
const PROJECT_READER_OR_SYSTEM_READER = 'rule:system_or_project_reader';
const DEPRECATED_ADMIN = 'rule:admin_api';

const S: readonly string[] = Object.freeze(['system']);
const SP: readonly string[] = Object.freeze(['system', 'project']);

function rule(
  name: string,
  checkStr: string,
  description: string,
  operations: readonly { method: string; path: string }[],
  scopeTypes: readonly string[] = S,
): PolicyRule {
  return { name, checkStr, description, operations, scopeTypes };
}

const RP = '/resource_providers/{uuid}';

export const placementPolicies: readonly PolicyRule[] = Object.freeze([
  // placement/policies/base.py: each new default ORed with its deprecated rule (enforce_new_defaults=False).
  {
    name: 'admin_api',
    checkStr: 'role:admin',
    description: 'Default rule for most placement APIs.',
    scopeTypes: S,
  },
  {
    name: 'system_admin_api',
    checkStr: `(role:admin and system_scope:all) or ${DEPRECATED_ADMIN}`,
    description: 'Default rule for System Admin APIs.',
  },
  {
    name: 'system_reader_api',
    checkStr: `(role:reader and system_scope:all) or ${DEPRECATED_ADMIN}`,
    description: 'Default rule for System level read only APIs.',
  },
  {
    name: 'project_reader_api',
    checkStr: `(role:reader and project_id:%(project_id)s) or ${DEPRECATED_ADMIN}`,
    description: 'Default rule for Project level read only APIs.',
  },
  {
    name: 'system_or_project_reader',
    checkStr: `rule:system_reader_api or rule:project_reader_api or ${DEPRECATED_ADMIN}`,
    description: 'Default rule for System+Project read only APIs.',
  },
  // aggregate.py
  rule('placement:resource_providers:aggregates:list', SYSTEM_READER, 'List resource provider aggregates.', [
    { method: 'GET', path: `${RP}/aggregates` },
  ]),
  rule(
    'placement:resource_providers:aggregates:update',
    SYSTEM_ADMIN,
    'Update resource provider aggregates.',
    [{ method: 'PUT', path: `${RP}/aggregates` }],
  ),
  // allocation.py
  rule('placement:allocations:manage', SYSTEM_ADMIN, 'Manage allocations.', [
    { method: 'POST', path: '/allocations' },
  ]),
  rule('placement:allocations:list', SYSTEM_READER, 'List allocations.', [
    { method: 'GET', path: '/allocations/{consumer_uuid}' },
  ]),
  rule('placement:allocations:update', SYSTEM_ADMIN, 'Update allocations.', [
    { method: 'PUT', path: '/allocations/{consumer_uuid}' },
  ]),
  rule('placement:allocations:delete', SYSTEM_ADMIN, 'Delete allocations.', [
    { method: 'DELETE', path: '/allocations/{consumer_uuid}' },
  ]),
  rule(
    'placement:resource_providers:allocations:list',
    SYSTEM_READER,
    'List resource provider allocations.',
    [{ method: 'GET', path: `${RP}/allocations` }],
  ),
  // allocation_candidate.py
  rule('placement:allocation_candidates:list', SYSTEM_READER, 'List allocation candidates.', [
    { method: 'GET', path: '/allocation_candidates' },
  ]),
  // inventory.py
  rule(
    'placement:resource_providers:inventories:list',
    SYSTEM_READER,
    'List resource provider inventories.',
    [{ method: 'GET', path: `${RP}/inventories` }],
  ),
  rule(
    'placement:resource_providers:inventories:create',
    SYSTEM_ADMIN,
    'Create one resource provider inventory.',
    [{ method: 'POST', path: `${RP}/inventories` }],
  ),
  rule('placement:resource_providers:inventories:show', SYSTEM_READER, 'Show resource provider inventory.', [
    { method: 'GET', path: `${RP}/inventories/{resource_class}` },
  ]),
  rule(
    'placement:resource_providers:inventories:update',
    SYSTEM_ADMIN,
    'Update resource provider inventory.',
    [
      { method: 'PUT', path: `${RP}/inventories` },
      { method: 'PUT', path: `${RP}/inventories/{resource_class}` },
    ],
  ),
  rule(
    'placement:resource_providers:inventories:delete',
    SYSTEM_ADMIN,
    'Delete resource provider inventory.',
    [
      { method: 'DELETE', path: `${RP}/inventories` },
      { method: 'DELETE', path: `${RP}/inventories/{resource_class}` },
    ],
  ),
  // reshaper.py
  rule('placement:reshaper:reshape', SYSTEM_ADMIN, 'Reshape Inventory and Allocations.', [
    { method: 'POST', path: '/reshaper' },
  ]),
  // resource_class.py
  rule('placement:resource_classes:list', SYSTEM_READER, 'List resource classes.', [
    { method: 'GET', path: '/resource_classes' },
  ]),
  rule('placement:resource_classes:create', SYSTEM_ADMIN, 'Create resource class.', [
    { method: 'POST', path: '/resource_classes' },
  ]),
  rule('placement:resource_classes:show', SYSTEM_READER, 'Show resource class.', [
    { method: 'GET', path: '/resource_classes/{name}' },
  ]),
  rule('placement:resource_classes:update', SYSTEM_ADMIN, 'Update resource class.', [
    { method: 'PUT', path: '/resource_classes/{name}' },
  ]),
  rule('placement:resource_classes:delete', SYSTEM_ADMIN, 'Delete resource class.', [
    { method: 'DELETE', path: '/resource_classes/{name}' },
  ]),
  // resource_provider.py
  rule('placement:resource_providers:list', SYSTEM_READER, 'List resource providers.', [
    { method: 'GET', path: '/resource_providers' },
  ]),
  rule('placement:resource_providers:create', SYSTEM_ADMIN, 'Create resource provider.', [
    { method: 'POST', path: '/resource_providers' },
  ]),
  rule('placement:resource_providers:show', SYSTEM_READER, 'Show resource provider.', [
    { method: 'GET', path: RP },
  ]),
  rule('placement:resource_providers:update', SYSTEM_ADMIN, 'Update resource provider.', [
    { method: 'PUT', path: RP },
  ]),
  rule('placement:resource_providers:delete', SYSTEM_ADMIN, 'Delete resource provider.', [
    { method: 'DELETE', path: RP },
  ]),
  // trait.py
  rule('placement:traits:list', SYSTEM_READER, 'List traits.', [{ method: 'GET', path: '/traits' }]),
  rule('placement:traits:show', SYSTEM_READER, 'Show trait.', [{ method: 'GET', path: '/traits/{name}' }]),
  rule('placement:traits:update', SYSTEM_ADMIN, 'Update trait.', [{ method: 'PUT', path: '/traits/{name}' }]),
  rule('placement:traits:delete', SYSTEM_ADMIN, 'Delete trait.', [
    { method: 'DELETE', path: '/traits/{name}' },
  ]),
  rule('placement:resource_providers:traits:list', SYSTEM_READER, 'List resource provider traits.', [
    { method: 'GET', path: `${RP}/traits` },
  ]),
  rule('placement:resource_providers:traits:update', SYSTEM_ADMIN, 'Update resource provider traits.', [
    { method: 'PUT', path: `${RP}/traits` },
  ]),
  rule('placement:resource_providers:traits:delete', SYSTEM_ADMIN, 'Delete resource provider traits.', [
    { method: 'DELETE', path: `${RP}/traits` },
  ]),
  // usage.py
  rule('placement:resource_providers:usages', SYSTEM_READER, 'List resource provider usages.', [
    { method: 'GET', path: `${RP}/usages` },
  ]),
  rule(
    'placement:usages',
    PROJECT_READER_OR_SYSTEM_READER,
    'List total resource usages for a given project.',
    [{ method: 'GET', path: '/usages' }],
    SP,
  ),
]);
