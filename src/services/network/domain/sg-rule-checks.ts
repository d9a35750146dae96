// A security group rule's attributes as Neutron converts and checks them: protocol, ethertype, ports (with ICMP
// type/code meaning), remote prefix, one remote only; and the identity two rules share when they duplicate.
import { ConvertError } from '../api/resource.ts';
import { formatPrefix, parsePrefix } from './sg-cidr.ts';
import { sgErrors } from './sg-errors.ts';
import {
  canonicalProtocol,
  isIcmp,
  isIpv6Only,
  PORT_PROTOCOLS,
  PROTOCOL_NUMBERS,
  protocolNumber,
  SUPPORTED_PROTOCOLS_TEXT,
  takesPorts,
} from './sg-protocols.ts';

const INT_TEXT = /^\s*[+-]?\d+\s*$/;

/** convert_protocol: a known name (any case, stored lower) or 0–255 as a number or string (stored as text). */
export function convertProtocol(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (v >= 0 && v <= 255) return String(v);
  } else if (typeof v === 'string') {
    if (INT_TEXT.test(v)) {
      const n = Number.parseInt(v, 10);
      if (n >= 0 && n <= 255) return v;
    } else if (PROTOCOL_NUMBERS.has(v.toLowerCase())) return v.toLowerCase();
  }
  throw sgErrors.invalidProtocol(v, SUPPORTED_PROTOCOLS_TEXT);
}

/** convert_ethertype_to_case_insensitive. */
export function convertEthertype(v: unknown): string {
  if (typeof v === 'string') {
    for (const e of ['IPv4', 'IPv6']) if (e.toLowerCase() === v.toLowerCase()) return e;
  }
  throw sgErrors.invalidEthertype(v);
}

/** convert_validate_port_value: null, or an integer 0–65535 (numbers or integer strings). */
export function convertPort(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  let n: number | undefined;
  if (typeof v === 'number' && Number.isFinite(v)) n = Math.trunc(v);
  else if (typeof v === 'string' && INT_TEXT.test(v)) n = Number.parseInt(v, 10);
  if (n === undefined || n < 0 || n > 65535) throw sgErrors.invalidPortValue(v);
  return n;
}

/** convert_ip_prefix_to_cidr: empty → null; else the prefix with its length ("10.0.0.1" → "10.0.0.1/32"). */
export function convertPrefix(v: unknown): string | null {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return null;
  const p = typeof v === 'string' ? parsePrefix(v) : undefined;
  if (!p) throw sgErrors.invalidCidr(v);
  return formatPrefix(p);
}

/** remote_group_id has no validator in Neutron: any string is looked up (and not found). */
export function convertRemoteGroup(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string') throw new ConvertError(`'${JSON.stringify(v)}' is not a valid string`);
  return v;
}

export interface RuleValues {
  direction: string;
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}

function checkPortRange(r: RuleValues): void {
  const { port_range_min: min, port_range_max: max, protocol } = r;
  if (min === null && max === null) return;
  if (!protocol) throw sgErrors.protocolRequiredWithPorts();
  if (takesPorts(protocol)) {
    if (min === 0 || max === 0) throw sgErrors.invalidPortValue(0);
    if (min === null || max === null || min > max) throw sgErrors.invalidPortRange();
  } else if (isIcmp(protocol)) {
    for (const [v, field, attr] of [
      [min, 'type', 'port_range_min'],
      [max, 'code', 'port_range_max'],
    ] as const) {
      if (v !== null && !(v >= 0 && v <= 255)) throw sgErrors.invalidIcmpValue(field, attr, v);
    }
    if (min === null && max !== null) throw sgErrors.missingIcmpType(max);
  } else {
    throw sgErrors.invalidProtocolForPort(
      protocolNumber(protocol) ?? 0,
      PORT_PROTOCOLS.map((p) => p.toUpperCase()).join(', '),
    );
  }
}

/** Neutron's _validate_security_group_rule up to the lookups: canonical forms, ports, prefix, protocol, remotes. */
export function checkRule(r: RuleValues): void {
  r.protocol = canonicalProtocol(r.protocol, r.ethertype);
  if (r.port_range_min === 1 && r.port_range_max === 65535) {
    r.port_range_min = null;
    r.port_range_max = null;
  }
  checkPortRange(r);
  if (r.remote_ip_prefix) {
    const p = parsePrefix(r.remote_ip_prefix);
    if (p && r.ethertype !== `IPv${p.version}`)
      throw sgErrors.parameterConflict(r.ethertype, r.remote_ip_prefix);
  }
  if (r.protocol !== null && isIpv6Only(r.protocol) && r.ethertype === 'IPv4')
    throw sgErrors.ethertypeConflictWithProtocol(r.ethertype, r.protocol);
  if (r.remote_ip_prefix && r.remote_group_id) throw sgErrors.multipleRemotes();
}

/** Number → name as Neutron's IP_PROTOCOL_NUM_TO_NAME_MAP (the later name wins: 0 is 'ip', 58 'ipv6-icmp'). */
const NUM_TO_NAME = new Map<string, string>();
for (const [name, num] of PROTOCOL_NUMBERS) if (name !== 'icmpv6') NUM_TO_NAME.set(String(num), name);

function protocolIdentity(protocol: string): string {
  const name = protocol === 'icmpv6' ? 'ipv6-icmp' : protocol;
  const num = PROTOCOL_NUMBERS.get(name);
  if (num !== undefined) return `${name}:${num}`;
  const byNum = NUM_TO_NAME.get(protocol);
  return byNum ? `${byNum}:${protocol}` : `${protocol}:${protocol}`;
}

/** Neutron's _rule_to_key: what makes two rules of a group the same rule ('+' for none / any address). */
export function ruleKey(r: RuleValues): string {
  const none = '+';
  const prefix =
    r.remote_ip_prefix === null || r.remote_ip_prefix === '0.0.0.0/0' || r.remote_ip_prefix === '::/0'
      ? none
      : r.remote_ip_prefix;
  return [
    r.direction,
    r.ethertype,
    r.port_range_max ?? none,
    r.port_range_min ?? none,
    r.protocol === null ? none : protocolIdentity(r.protocol),
    r.remote_group_id ?? none,
    none,
    prefix,
  ].join('_');
}
