// Neutron's security group exceptions (neutron/extensions/securitygroup.py) as ApiErrors: type = class name.
import { ApiError } from '../../../platform/errors.ts';

const bad = (type: string, message: string) => new ApiError(400, type, message);
const conflict = (type: string, message: string) => new ApiError(409, type, message);

export const sgErrors = {
  notFound: (id: string) => new ApiError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`),
  ruleNotFound: (id: string) =>
    new ApiError(404, 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`),
  inUse: (id: string) => conflict('SecurityGroupInUse', `Security Group ${id} in use.`),
  cannotRemoveDefault: () =>
    conflict('SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.'),
  cannotUpdateDefault: () =>
    conflict('SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.'),
  defaultExists: () =>
    conflict('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.'),
  ruleExists: (ruleId: string) =>
    conflict('SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${ruleId}.`),
  duplicateInPost: () =>
    conflict('DuplicateSecurityGroupRuleInPost', 'Duplicate Security Group Rule in POST.'),
  conflict: (reason: string) =>
    conflict('SecurityGroupConflict', `Error ${reason} while attempting the operation.`),
  invalidPortRange: () =>
    bad('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max'),
  invalidProtocolForPort: (protocol: number, valid: string) =>
    bad(
      'SecurityGroupInvalidProtocolForPort',
      `Ports cannot be specified for protocol ${protocol}. Ports are only supported for ${valid}.`,
    ),
  invalidPortValue: (port: unknown) =>
    bad('SecurityGroupInvalidPortValue', `Invalid value for port ${py(port)}`),
  invalidIcmpValue: (field: string, attr: string, value: number) =>
    bad(
      'SecurityGroupInvalidIcmpValue',
      `Invalid value for ICMP ${field} (${attr}) ${value}. It must be 0 to 255.`,
    ),
  ethertypeConflictWithProtocol: (ethertype: string, protocol: string) =>
    bad(
      'SecurityGroupEthertypeConflictWithProtocol',
      `Invalid ethertype ${ethertype} for protocol ${protocol}.`,
    ),
  missingIcmpType: (value: number) =>
    bad(
      'SecurityGroupMissingIcmpType',
      `ICMP code (port-range-max) ${value} is provided but ICMP type (port-range-min) is missing.`,
    ),
  invalidProtocol: (protocol: unknown, values: string) =>
    bad(
      'SecurityGroupRuleInvalidProtocol',
      `Security group rule protocol ${py(protocol)} not supported. Only protocol values ${values} and integer representations [0 to 255] are supported.`,
    ),
  notSingleTenant: () =>
    bad(
      'SecurityGroupRulesNotSingleTenant',
      'Multiple tenant_ids in bulk security group rule create not allowed',
    ),
  multipleRemotes: () =>
    bad(
      'SecurityGroupMultipleRemoteEntites',
      'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.',
    ),
  protocolRequiredWithPorts: () =>
    bad('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.'),
  notSingleGroup: () =>
    bad(
      'SecurityGroupNotSingleGroupRules',
      'Only allowed to update rules for one security profile at a time',
    ),
  parameterConflict: (ethertype: string, cidr: string) =>
    bad('SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${ethertype} for CIDR ${cidr}`),
  invalidEthertype: (ethertype: unknown) =>
    bad(
      'SecurityGroupRuleInvalidEtherType',
      `Security group rule for ethertype '${py(ethertype)}' not supported. Allowed values are ['IPv4', 'IPv6'].`,
    ),
  invalidCidr: (input: unknown) => bad('InvalidCIDR', `Invalid CIDR ${py(input)} given as IP prefix.`),
};

/** A value as Python's str() shows it in a message. */
function py(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** A foreign-key violation (SQLite or PostgreSQL). */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return !!e && typeof e === 'object' && (e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || e.code === '23503');
}
