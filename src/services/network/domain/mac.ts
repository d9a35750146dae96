// MAC addresses: random ones under the configured base_mac (as Neutron's get_random_mac) and validation.
import { randomBytes } from 'node:crypto';

/** Random bytes drawn 6 at a time from a pool refilled in blocks (one system call per 256 MACs). */
let pool = Buffer.alloc(0);
let used = 0;
function sixRandomBytes(): Buffer {
  if (used + 6 > pool.length) {
    pool = randomBytes(6 * 256);
    used = 0;
  }
  used += 6;
  return pool.subarray(used - 6, used);
}

/** A random MAC keeping base_mac's first three octets (four when its fourth is not 00). */
export function randomMac(baseMac: string): string {
  const base = baseMac.toLowerCase().split(':');
  const keep = base[3] && base[3] !== '00' ? 4 : 3;
  const rnd = sixRandomBytes();
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(i < keep ? base[i]! : rnd[i]!.toString(16).padStart(2, '0'));
  return out.join(':');
}

/** neutron-lib's validate_mac_address: six hex octets, not all zero, unicast or not. */
export function isValidMac(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  if (!/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(v) && !/^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/.test(v))
    return false;
  return normalizeMac(v) !== '00:00:00:00:00:00';
}

/** Lower-case colon form (convert_to_sanitized_mac_address). */
export function normalizeMac(v: string): string {
  const hex = v.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  return hex.match(/../g)!.join(':');
}
