// Parsing of Placement's filter query parameters (resources, required, member_of, in_tree) with its messages.
import { isUuidLike, normalizeUuid } from '../api/common.ts';
import { PlacementErrors } from '../errors.ts';

const bad = (msg: string) => PlacementErrors.badRequest(msg);

/** "VCPU:2,MEMORY_MB:512" → { VCPU: 2, MEMORY_MB: 512 }. */
export function parseResources(qs: string): Record<string, number> {
  const form = '?resources=VCPU:2,MEMORY_MB:1024';
  if (qs.trim() === '') {
    throw bad(
      `Badly formed resources parameter. Expected resources query string parameter in form: ${form}. Got: empty string.`,
    );
  }
  const out: Record<string, number> = {};
  for (const rt of qs.split(',')) {
    const parts = rt.split(':');
    if (parts.length !== 2) {
      throw bad(
        `Badly formed resources parameter. Expected resources query string parameter in form: ${form}. Got: ${rt}.`,
      );
    }
    const [rc, amountStr] = parts as [string, string];
    if (!/^\s*[+-]?\d+\s*$/.test(amountStr)) {
      throw bad(`Requested resource ${rc} expected positive integer amount. Got: ${amountStr}.`);
    }
    const amount = Number.parseInt(amountStr, 10);
    if (amount < 1) throw bad(`Requested resource ${rc} requires amount >= 1. Got: ${amount}.`);
    out[rc] = amount;
  }
  return out;
}

export interface TraitFilter {
  /** AND of ORs: each set needs one of its traits. */
  required: Set<string>[];
  forbidden: Set<string>;
}

/** One value of `required`: "A,!B" or (1.39) "in:A,B". */
export function parseTraitValue(val: string, allowForbidden: boolean, allowAny: boolean): TraitFilter {
  if (val.startsWith('in:')) {
    if (!allowAny) {
      throw bad(
        `Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: ${val}`,
      );
    }
    const any = new Set(
      val
        .slice(3)
        .split(',')
        .map((s) => s.trim()),
    );
    if ([...any].some((t) => t === '')) {
      throw bad(
        `Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: ${val}`,
      );
    }
    if ([...any].some((t) => t.startsWith('!'))) {
      throw bad(
        `Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: ${val}`,
      );
    }
    return { required: [any], forbidden: new Set() };
  }
  const all = val.split(',').map((s) => s.trim());
  const forbidden = new Set(all.filter((t) => t.startsWith('!')).map((t) => t.replace(/^!+/, '')));
  if (all.some((t) => t === '') || [...forbidden].some((t) => t === '')) {
    const form = allowForbidden ? 'HW_CPU_X86_VMX,!CUSTOM_MAGIC' : 'HW_CPU_X86_VMX,CUSTOM_MAGIC';
    throw bad(
      `Invalid query string parameters: Expected 'required' parameter value of the form: ${form}. Got an empty trait in: ${val}`,
    );
  }
  if (forbidden.size > 0 && !allowForbidden) {
    throw bad(
      `Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: ${val}`,
    );
  }
  return { required: all.filter((t) => !t.startsWith('!')).map((t) => new Set([t])), forbidden };
}

/** All `required<suffix>` values: before 1.39 only the last one counts. */
export function parseTraits(values: string[], allowForbidden: boolean, allowAny: boolean): TraitFilter {
  const use = allowAny ? values : values.slice(-1);
  const out: TraitFilter = { required: [], forbidden: new Set() };
  for (const v of use) {
    const f = parseTraitValue(v, allowForbidden, allowAny);
    out.required.push(...f.required);
    for (const t of f.forbidden) out.forbidden.add(t);
  }
  return out;
}

export interface AggFilter {
  /** AND of ORs of aggregate uuids. */
  required: Set<string>[];
  forbidden: Set<string>;
}

/** All `member_of<suffix>` values: several only from 1.24, '!' forms only from 1.32. */
export function parseMemberOf(
  values: string[],
  suffix: string,
  multi: boolean,
  allowForbidden: boolean,
): AggFilter {
  if (!multi && values.length > 1) throw bad(`Multiple member_of${suffix} parameters are not supported`);
  const out: AggFilter = { required: [], forbidden: new Set() };
  for (const value of values) {
    if (value.includes(',') && !(value.startsWith('in:') || value.startsWith('!in:'))) {
      throw bad(
        `Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: ${value}`,
      );
    }
    let required: string[] = [];
    let forbidden: string[] = [];
    if (value.startsWith('!in:')) forbidden = value.slice(4).split(',');
    else if (value.startsWith('!')) forbidden = [value.slice(1)];
    else if (value.startsWith('in:')) required = value.slice(3).split(',');
    else required = [value];
    for (const u of [...required, ...forbidden]) {
      if (!isUuidLike(u)) {
        throw bad(
          `Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: ${u}`,
        );
      }
    }
    if (required.length) out.required.push(new Set(required.map(normalizeUuid)));
    if (forbidden.length) {
      if (!allowForbidden) {
        throw bad(`Forbidden member_of${suffix} parameters are not supported in the specified microversion`);
      }
      for (const f of forbidden) out.forbidden.add(normalizeUuid(f));
    }
  }
  return out;
}

export function parseInTree(value: string): string {
  const v = value.trim();
  if (!isUuidLike(v)) {
    throw bad(
      `Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: ${value}`,
    );
  }
  return normalizeUuid(v);
}

/** True when `have` satisfies the filter. */
export function traitsMatch(have: Set<string>, f: TraitFilter): boolean {
  for (const any of f.required) {
    let ok = false;
    for (const t of any) if (have.has(t)) ok = true;
    if (!ok) return false;
  }
  for (const t of f.forbidden) if (have.has(t)) return false;
  return true;
}

export function aggsMatch(have: Set<string>, f: AggFilter): boolean {
  for (const any of f.required) {
    let ok = false;
    for (const a of any) if (have.has(a)) ok = true;
    if (!ok) return false;
  }
  for (const a of f.forbidden) if (have.has(a)) return false;
  return true;
}

/** Every trait named in a filter. */
export function traitNames(f: TraitFilter): string[] {
  const names = new Set<string>(f.forbidden);
  for (const any of f.required) for (const t of any) names.add(t);
  return [...names];
}
