// JSON-Schema validation of request bodies (ajv), with OpenStack-style messages ("Invalid input for field …").
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ApiError } from '../errors.ts';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export class SchemaValidator {
  readonly #ajv: Ajv;
  readonly #cache = new WeakMap<object, ValidateFunction>();

  constructor() {
    this.#ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });
    addFormats(this.#ajv);
  }

  compile(schema: Record<string, unknown>): ValidateFunction {
    let v = this.#cache.get(schema);
    if (!v) {
      v = this.#ajv.compile(schema);
      this.#cache.set(schema, v);
    }
    return v;
  }

  /** Throws ApiError 400 ValidationError with a message naming the field. */
  validate(schema: Record<string, unknown>, data: unknown): void {
    const v = this.compile(schema);
    if (v(data)) return;
    throw new ApiError(400, 'ValidationError', formatError(v.errors?.[0], data));
  }
}

function repr(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 64 ? `${v.slice(0, 64)}…` : v}'`;
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

function pyType(t: unknown): string {
  const map: Record<string, string> = {
    integer: 'integer',
    number: 'number',
    boolean: 'boolean',
    null: 'null',
  };
  return Array.isArray(t) ? t.map((x) => `'${map[x] ?? x}'`).join(', ') : `'${map[String(t)] ?? t}'`;
}

function valueAt(data: unknown, pointer: string): unknown {
  let cur = data;
  for (const p of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return cur;
}

export function formatError(e: ErrorObject | undefined, data: unknown): string {
  if (!e) return 'Invalid input.';
  const path = e.instancePath.split('/').slice(1).join('/');
  const value = valueAt(data, e.instancePath);
  let msg: string;
  switch (e.keyword) {
    case 'required':
      msg = `'${(e.params as { missingProperty: string }).missingProperty}' is a required property`;
      break;
    case 'type':
      msg = `${repr(value)} is not of type ${pyType((e.params as { type: unknown }).type)}`;
      break;
    case 'additionalProperties':
      msg = `Additional properties are not allowed ('${(e.params as { additionalProperty: string }).additionalProperty}' was unexpected)`;
      break;
    case 'maxLength':
      msg = `${repr(value)} is too long`;
      break;
    case 'minLength':
      msg = `${repr(value)} is too short`;
      break;
    case 'enum':
      msg = `${repr(value)} is not one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
      break;
    case 'pattern':
      msg = `${repr(value)} does not match '${(e.params as { pattern: string }).pattern}'`;
      break;
    case 'minItems':
      msg = `${repr(value)} is too short`;
      break;
    case 'maxItems':
      msg = `${repr(value)} is too long`;
      break;
    case 'minProperties':
      msg = `${repr(value)} does not have enough properties`;
      break;
    case 'format':
      msg = `${repr(value)} is not a '${(e.params as { format: string }).format}'`;
      break;
    default:
      msg = `${repr(value)} ${e.message ?? 'is invalid'}`;
  }
  return path ? `Invalid input for field '${path}': ${msg}` : msg;
}
