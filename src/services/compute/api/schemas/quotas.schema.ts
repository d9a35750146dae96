// Bodies of PUT /os-quota-sets/{project_id} and PUT /os-quota-class-sets/{class}, per microversion.

import {
  boolean,
  integerOrString,
  type JsonSchema,
  MAX_INT,
  strict,
  type VersionedSchema,
  wrap,
} from './parameter-types.ts';

/** A limit: -1 (unlimited) up to the database's largest integer, as a number or a numeric string. */
const limit = integerOrString(-1, MAX_INT);

/** Nova-network era resources, gone from 2.36 (quota sets) and 2.50 (quota classes). */
const NETWORK = ['fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules', 'networks'];
/** File injection limits, gone from 2.57. */
const INJECTION = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];
const OTHERS = [
  'instances',
  'cores',
  'ram',
  'metadata_items',
  'key_pairs',
  'server_groups',
  'server_group_members',
];

function limits(names: string[]): Record<string, JsonSchema> {
  return Object.fromEntries(names.map((n) => [n, limit]));
}

function quotaSet(names: string[]): JsonSchema {
  return wrap('quota_set', strict({ ...limits(names), force: boolean }));
}

function quotaClassSet(names: string[]): JsonSchema {
  return wrap('quota_class_set', strict(limits(names)));
}

/** PUT /os-quota-sets/{tenant_id} (admin): `force` skips the check against current usage. */
export const quotaSetUpdate: VersionedSchema = Object.freeze({
  '2.1': quotaSet([...OTHERS, ...INJECTION, ...NETWORK]),
  '2.36': quotaSet([...OTHERS, ...INJECTION]),
  '2.57': quotaSet(OTHERS),
});

/** PUT /os-quota-class-sets/{quota_class} (admin). */
export const quotaClassSetUpdate: VersionedSchema = Object.freeze({
  '2.1': quotaClassSet([...OTHERS, ...INJECTION, ...NETWORK]),
  '2.50': quotaClassSet([...OTHERS, ...INJECTION]),
  '2.57': quotaClassSet(OTHERS),
});
