// Microversion negotiation as data: parse OpenStack-API-Version (or a legacy header), check the range.
import { ApiError } from '../errors.ts';

export interface MicroversionSpec {
  /** The service type as written in OpenStack-API-Version ("compute", "placement", "volume"). */
  serviceType: string;
  min: string;
  max: string;
  /** A legacy header still accepted, e.g. X-OpenStack-Nova-API-Version. */
  legacyHeader?: string;
}

export class Microversion {
  readonly major: number;
  readonly minor: number;
  constructor(major: number, minor: number) {
    this.major = major;
    this.minor = minor;
  }
  static parse(s: string): Microversion | undefined {
    const m = /^(\d+)\.(\d+)$/.exec(s.trim());
    return m ? new Microversion(Number(m[1]), Number(m[2])) : undefined;
  }
  compare(o: Microversion): number {
    return this.major - o.major || this.minor - o.minor;
  }
  /** Versions named in code ('2.47'), parsed once: views ask per item of a list. */
  static readonly #known = new Map<string, Microversion>();
  atLeast(v: string): boolean {
    let o = Microversion.#known.get(v);
    if (!o) {
      o = Microversion.parse(v)!;
      Microversion.#known.set(v, o);
    }
    return this.major - o.major > 0 || (this.major === o.major && this.minor >= o.minor);
  }
  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

/** Picks the requested version: the service's minimum when none is asked for, max for "latest"; 406 outside. */
export function negotiate(
  spec: MicroversionSpec,
  headers: Record<string, string | string[] | undefined>,
): Microversion {
  const min = Microversion.parse(spec.min)!;
  const max = Microversion.parse(spec.max)!;
  let asked: string | undefined;
  const modern = headers['openstack-api-version'];
  for (const h of (Array.isArray(modern) ? modern : modern ? [modern] : []).flatMap((x) => x.split(','))) {
    const [type, ver] = h.trim().split(/\s+/, 2);
    if (type?.toLowerCase() === spec.serviceType && ver) asked = ver;
  }
  if (asked === undefined && spec.legacyHeader) {
    const legacy = headers[spec.legacyHeader.toLowerCase()];
    asked = Array.isArray(legacy) ? legacy[0] : legacy;
  }
  if (asked === undefined) return min;
  if (asked.trim().toLowerCase() === 'latest') return max;
  const v = Microversion.parse(asked);
  if (!v)
    throw new ApiError(
      400,
      'InvalidMicroversion',
      `Invalid ${spec.serviceType} API version string: ${asked}`,
    );
  if (v.compare(min) < 0 || v.compare(max) > 0) {
    throw new ApiError(
      406,
      'VersionNotSupported',
      `Version ${asked} is not supported by the API. Minimum is ${spec.min} and maximum is ${spec.max}.`,
    );
  }
  return v;
}

/** Floor lookup: the value registered at the highest version not above v ({ '2.1': a, '2.10': b }). */
export function byVersion<T>(v: Microversion, table: Record<string, T>): T {
  let best: [Microversion, T] | undefined;
  for (const [k, val] of Object.entries(table)) {
    const kv = Microversion.parse(k)!;
    if (kv.compare(v) <= 0 && (!best || kv.compare(best[0]) > 0)) best = [kv, val];
  }
  if (!best) throw new Error(`no entry at or below ${v}`);
  return best[1];
}
