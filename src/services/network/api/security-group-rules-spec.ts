// The security_group_rules attribute map (Neutron's securitygroup extension with standard attributes and
// normalized_cidr) and a rule's wire form.

import { normalizedCidr } from '../domain/sg-cidr.ts';
import {
  convertEthertype,
  convertPort,
  convertPrefix,
  convertProtocol,
  convertRemoteGroup,
} from '../domain/sg-rule-checks.ts';
import type { SecurityGroupRulesTable } from '../store/tables-security.ts';
import { maxLen, oneOf, type ResourceSpec, standardAttrs } from './resource.ts';

const std = standardAttrs({ name: false });
delete std['tags'];

export const ruleSpec: ResourceSpec = {
  member: 'security_group_rule',
  collection: 'security_group_rules',
  bulk: true,
  attrs: {
    ...std,
    security_group_id: { post: true, put: false, validate: maxLen(36) },
    remote_group_id: { post: true, put: false, default: null, convert: convertRemoteGroup },
    direction: { post: true, put: false, validate: oneOf(['ingress', 'egress']) },
    protocol: { post: true, put: false, default: null, convert: convertProtocol },
    port_range_min: { post: true, put: false, default: null, convert: convertPort },
    port_range_max: { post: true, put: false, default: null, convert: convertPort },
    ethertype: { post: true, put: false, default: 'IPv4', convert: convertEthertype },
    remote_ip_prefix: { post: true, put: false, default: null, convert: convertPrefix },
    normalized_cidr: { post: false, put: false, convert: convertPrefix },
  },
};

export function renderRule(r: SecurityGroupRulesTable): Record<string, unknown> {
  return {
    id: r.id,
    tenant_id: r.project_id,
    security_group_id: r.security_group_id,
    ethertype: r.ethertype,
    direction: r.direction,
    protocol: r.protocol,
    port_range_min: r.port_range_min,
    port_range_max: r.port_range_max,
    remote_ip_prefix: r.remote_ip_prefix,
    normalized_cidr: r.remote_ip_prefix === null ? null : normalizedCidr(r.remote_ip_prefix),
    remote_group_id: r.remote_group_id,
    description: r.description,
    created_at: r.created_at,
    updated_at: r.updated_at,
    revision_number: r.revision_number,
    project_id: r.project_id,
  };
}
