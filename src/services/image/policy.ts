// Glance's default policy for every image API rule (glance/policies/*.py, Zed), and the policy target of an image.
//
// Zed registers each rule's new default with a deprecated "rule:default"; with enforce_new_defaults=False
// oslo.policy ORs the two, and Glance's "default" is the empty check, so the rules alone admit every caller.
// What actually guards Glance in that mode is code: the database only shows an image to its owner, its
// members, or everyone when public/community, and check_is_image_mutable() lets only the owner or an admin
// change one (api/v2/policy.py). We register the new defaults themselves (role-based: admin everything,
// member writes its project's images, reader reads) and keep those code checks in the handlers, so a
// project member manages its own images exactly as in Zed while a reader-only token cannot write.

import type { RouteContext } from '../../platform/http/types.ts';
import type { PolicyRule } from '../../platform/policy/types.ts';
import type { ImageRow } from './store/tables.ts';

const PROJECT_MEMBER = 'role:member and project_id:%(project_id)s';
const PROJECT_READER = 'role:reader and project_id:%(project_id)s';
const IMAGE_MEMBER_CHECK = 'project_id:%(member_id)s';
const COMMUNITY_VISIBILITY_CHECK = "'community':%(visibility)s";
const PUBLIC_VISIBILITY_CHECK = "'public':%(visibility)s";
const SHARED_VISIBILITY_CHECK = "'shared':%(visibility)s";
const VISIBLE_TO_CALLER =
  `(project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK} or ${COMMUNITY_VISIBILITY_CHECK} ` +
  `or ${PUBLIC_VISIBILITY_CHECK} or ${SHARED_VISIBILITY_CHECK})`;

export const ADMIN = 'role:admin';
export const ADMIN_OR_PROJECT_MEMBER = `role:admin or (${PROJECT_MEMBER})`;
export const ADMIN_OR_PROJECT_READER = `role:admin or (${PROJECT_READER})`;
export const ADMIN_OR_PROJECT_READER_GET_IMAGE = `role:admin or (role:reader and ${VISIBLE_TO_CALLER})`;
export const ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE = `role:admin or (role:member and ${VISIBLE_TO_CALLER})`;
export const ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE = `role:admin or (${PROJECT_MEMBER} and project_id:%(owner)s)`;
export const ADMIN_OR_SHARED_MEMBER = `role:admin or (role:member and ${IMAGE_MEMBER_CHECK})`;
export const ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER = `role:admin or role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK})`;
/** Metadefs (glance/policies/base.py): a reader sees its project's namespaces and public ones. */
export const ADMIN_OR_PROJECT_READER_GET_NAMESPACE = `role:admin or (role:reader and (project_id:%(project_id)s or ${PUBLIC_VISIBILITY_CHECK}))`;

const P: readonly string[] = Object.freeze(['project']);

function rule(
  name: string,
  checkStr: string,
  description: string,
  operations?: readonly { method: string; path: string }[],
  scoped = true,
): PolicyRule {
  return {
    name,
    checkStr,
    description,
    ...(operations ? { operations } : {}),
    ...(scoped ? { scopeTypes: P } : {}),
  };
}

const IMAGE = '/v2/images/{image_id}';
const MEMBER = '/v2/images/{image_id}/members/{member_id}';

export const imagePolicies: readonly PolicyRule[] = Object.freeze([
  // glance/policies/base.py
  rule(
    'default',
    '',
    'Defines the default rule used for policies that historically had an empty policy in the supplied policy.json file.',
    undefined,
    false,
  ),
  rule('context_is_admin', 'role:admin', 'Defines the rule for the is_admin:True check.', undefined, false),
  // glance/policies/image.py
  rule('add_image', ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE, 'Create new image', [
    { method: 'POST', path: '/v2/images' },
  ]),
  rule('delete_image', ADMIN_OR_PROJECT_MEMBER, 'Deletes the image', [{ method: 'DELETE', path: IMAGE }]),
  rule('get_image', ADMIN_OR_PROJECT_READER_GET_IMAGE, 'Get specified image', [
    { method: 'GET', path: IMAGE },
  ]),
  rule('get_images', ADMIN_OR_PROJECT_READER, 'Get all available images', [
    { method: 'GET', path: '/v2/images' },
  ]),
  rule('modify_image', ADMIN_OR_PROJECT_MEMBER, 'Updates given image', [{ method: 'PATCH', path: IMAGE }]),
  rule('publicize_image', ADMIN, 'Publicize given image', [{ method: 'PATCH', path: IMAGE }]),
  rule('communitize_image', ADMIN_OR_PROJECT_MEMBER, 'Communitize given image', [
    { method: 'PATCH', path: IMAGE },
  ]),
  rule('download_image', ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE, 'Downloads given image', [
    { method: 'GET', path: `${IMAGE}/file` },
  ]),
  rule('upload_image', ADMIN_OR_PROJECT_MEMBER, 'Uploads data to specified image', [
    { method: 'PUT', path: `${IMAGE}/file` },
  ]),
  rule('delete_image_location', ADMIN, 'Deletes the location of given image', [
    { method: 'PATCH', path: IMAGE },
  ]),
  rule('get_image_location', ADMIN_OR_PROJECT_READER, 'Reads the location of the image', [
    { method: 'GET', path: IMAGE },
  ]),
  rule('set_image_location', ADMIN_OR_PROJECT_MEMBER, 'Sets location URI to given image', [
    { method: 'PATCH', path: IMAGE },
  ]),
  rule('add_member', ADMIN_OR_PROJECT_MEMBER, 'Create image member', [
    { method: 'POST', path: `${IMAGE}/members` },
  ]),
  rule('delete_member', ADMIN_OR_PROJECT_MEMBER, 'Delete image member', [{ method: 'DELETE', path: MEMBER }]),
  rule('get_member', ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER, 'Show image member details', [
    { method: 'GET', path: MEMBER },
  ]),
  rule('get_members', ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER, 'List image members', [
    { method: 'GET', path: `${IMAGE}/members` },
  ]),
  rule('modify_member', ADMIN_OR_SHARED_MEMBER, 'Update image member', [{ method: 'PUT', path: MEMBER }]),
  rule('manage_image_cache', ADMIN, 'Manage image cache'),
  rule('deactivate', ADMIN_OR_PROJECT_MEMBER, 'Deactivate image', [
    { method: 'POST', path: `${IMAGE}/actions/deactivate` },
  ]),
  rule('reactivate', ADMIN_OR_PROJECT_MEMBER, 'Reactivate image', [
    { method: 'POST', path: `${IMAGE}/actions/reactivate` },
  ]),
  rule('copy_image', ADMIN, 'Copy existing image to other stores', [
    { method: 'POST', path: `${IMAGE}/import` },
  ]),
  // glance/policies/tasks.py: the task rules stayed "rule:default"; the tasks API itself is admin-only.
  rule('get_task', 'rule:default', 'Get an image task.', [{ method: 'GET', path: '/v2/tasks/{task_id}' }]),
  rule('get_tasks', 'rule:default', 'List tasks for all images.', [{ method: 'GET', path: '/v2/tasks' }]),
  rule('add_task', 'rule:default', 'List tasks for all images.', [{ method: 'POST', path: '/v2/tasks' }]),
  rule('modify_task', 'rule:default', 'This policy is not used.'),
  rule('tasks_api_access', ADMIN, 'This is a generic protection for the tasks API.'),
  // glance/policies/discovery.py and cache.py
  rule('stores_info_detail', ADMIN, 'Expose store specific information', [
    { method: 'GET', path: '/v2/info/stores/detail' },
  ]),
  rule('cache_image', ADMIN, 'Queue image for caching', [{ method: 'PUT', path: '/v2/cache/{image_id}' }]),
  rule('cache_list', ADMIN, 'List cache status', [{ method: 'GET', path: '/v2/cache' }]),
  rule('cache_delete', ADMIN, 'Delete image(s) from cache and/or queue', [
    { method: 'DELETE', path: '/v2/cache' },
    { method: 'DELETE', path: '/v2/cache/{image_id}' },
  ]),
  // glance/policies/metadef.py: reads follow the namespace's visibility, writes are the admin's.
  rule('metadef_default', '', 'Default rule of the metadata definitions API.', undefined, false),
  rule(
    'metadef_admin',
    'role:admin',
    'Administrator rule of the metadata definitions API.',
    undefined,
    false,
  ),
  ...metadefRules(),
]);

function metadefRules(): PolicyRule[] {
  const NS = '/v2/metadefs/namespaces';
  const read = ADMIN_OR_PROJECT_READER_GET_NAMESPACE;
  const admin = 'rule:metadef_admin';
  const table: [string, string, string, string, string][] = [
    ['get_metadef_namespace', read, 'Get a specific namespace.', 'GET', `${NS}/{namespace_name}`],
    ['get_metadef_namespaces', ADMIN_OR_PROJECT_READER, 'List namespace.', 'GET', NS],
    ['modify_metadef_namespace', admin, 'Modify an existing namespace.', 'PUT', `${NS}/{namespace_name}`],
    ['add_metadef_namespace', admin, 'Create a namespace.', 'POST', NS],
    ['delete_metadef_namespace', admin, 'Delete a namespace.', 'DELETE', `${NS}/{namespace_name}`],
    [
      'get_metadef_object',
      read,
      'Get a specific object from a namespace.',
      'GET',
      `${NS}/{namespace_name}/objects/{object_name}`,
    ],
    ['get_metadef_objects', read, 'Get objects from a namespace.', 'GET', `${NS}/{namespace_name}/objects`],
    [
      'modify_metadef_object',
      admin,
      'Update an object within a namespace.',
      'PUT',
      `${NS}/{namespace_name}/objects/{object_name}`,
    ],
    [
      'add_metadef_object',
      admin,
      'Create an object within a namespace.',
      'POST',
      `${NS}/{namespace_name}/objects`,
    ],
    [
      'delete_metadef_object',
      admin,
      'Delete an object within a namespace.',
      'DELETE',
      `${NS}/{namespace_name}/objects/{object_name}`,
    ],
    [
      'list_metadef_resource_types',
      read,
      'List meta definition resource types.',
      'GET',
      '/v2/metadefs/resource_types',
    ],
    [
      'get_metadef_resource_type',
      read,
      'Get meta definition resource types associations.',
      'GET',
      `${NS}/{namespace_name}/resource_types`,
    ],
    [
      'add_metadef_resource_type_association',
      admin,
      'Create meta definition resource types association.',
      'POST',
      `${NS}/{namespace_name}/resource_types`,
    ],
    [
      'remove_metadef_resource_type_association',
      admin,
      'Delete meta definition resource types association.',
      'POST',
      `${NS}/{namespace_name}/resource_types/{name}`,
    ],
    [
      'get_metadef_property',
      read,
      'Get a specific meta definition property.',
      'GET',
      `${NS}/{namespace_name}/properties/{property_name}`,
    ],
    [
      'get_metadef_properties',
      read,
      'List meta definition properties.',
      'GET',
      `${NS}/{namespace_name}/properties`,
    ],
    [
      'modify_metadef_property',
      admin,
      'Update meta definition property.',
      'GET',
      `${NS}/{namespace_name}/properties/{property_name}`,
    ],
    [
      'add_metadef_property',
      admin,
      'Create meta definition property.',
      'POST',
      `${NS}/{namespace_name}/properties`,
    ],
    [
      'remove_metadef_property',
      admin,
      'Delete meta definition property.',
      'DELETE',
      `${NS}/{namespace_name}/properties/{property_name}`,
    ],
    ['get_metadef_tag', read, 'Get tag definition.', 'GET', `${NS}/{namespace_name}/tags/{tag_name}`],
    ['get_metadef_tags', read, 'List tag definitions.', 'GET', `${NS}/{namespace_name}/tags`],
    ['modify_metadef_tag', admin, 'Update tag definition.', 'PUT', `${NS}/{namespace_name}/tags/{tag_name}`],
    ['add_metadef_tag', admin, 'Add tag definition.', 'POST', `${NS}/{namespace_name}/tags/{tag_name}`],
    ['add_metadef_tags', admin, 'Create tag definitions.', 'POST', `${NS}/{namespace_name}/tags`],
    [
      'delete_metadef_tag',
      admin,
      'Delete tag definition.',
      'DELETE',
      `${NS}/{namespace_name}/tags/{tag_name}`,
    ],
    ['delete_metadef_tags', admin, 'Delete tag definitions.', 'DELETE', `${NS}/{namespace_name}/tags`],
  ];
  return table.map(([name, check, description, method, path]) =>
    rule(name, check, description, [{ method, path }]),
  );
}

/**
 * Glance's ImageTarget (glance/api/policy.py): the image's attributes and custom properties, with the aliases
 * `project_id` → owner, `id` → the image id and `member_id` → the caller's project when the image is shared
 * and the caller is not its owner (ImageRepo sets `member` so, glance/db/__init__.py).
 */
export function imageTarget(
  row: ImageRow,
  ctx?: Pick<RouteContext, 'auth'>,
  tags?: readonly string[],
): Record<string, unknown> {
  const caller = ctx?.auth?.projectId;
  const member = row.visibility === 'shared' && caller !== undefined && caller !== row.owner ? caller : null;
  const target: Record<string, unknown> = {
    ...customProperties(row.properties),
    id: row.id,
    image_id: row.id,
    name: row.name,
    status: row.status,
    visibility: row.visibility,
    protected: row.protected === 1,
    os_hidden: row.os_hidden === 1,
    owner: row.owner,
    project_id: row.owner,
    member,
    member_id: member,
    disk_format: row.disk_format,
    container_format: row.container_format,
    min_disk: row.min_disk,
    min_ram: row.min_ram,
    size: row.size === null ? null : Number(row.size),
    virtual_size: row.virtual_size === null ? null : Number(row.virtual_size),
    checksum: row.checksum,
    os_hash_algo: row.os_hash_algo,
    os_hash_value: row.os_hash_value,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
  if (tags) target['tags'] = [...tags];
  return target;
}

function customProperties(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The target of a proposed image (ImageAPIPolicy with a dict): owner defaults to the caller's project. */
export function newImageTarget(
  props: { owner?: string | null; visibility?: string },
  ctx?: Pick<RouteContext, 'auth'>,
): Record<string, unknown> {
  const owner = 'owner' in props ? (props.owner ?? null) : (ctx?.auth?.projectId ?? null);
  return { project_id: owner, owner, visibility: props.visibility ?? 'private' };
}
