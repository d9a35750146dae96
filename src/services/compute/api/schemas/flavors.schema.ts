// Bodies of the flavor APIs: flavor-manage create/update, os-extra_specs, and flavor access actions.

import {
  boolean,
  DESCRIPTION_PATTERN,
  flavorParamNonNegative,
  flavorParamPositive,
  type JsonSchema,
  METADATA_KEY_PATTERN,
  name,
  strict,
  type VersionedSchema,
  wrap,
} from './parameter-types.ts';

const flavorDescription: JsonSchema = {
  type: ['string', 'null'],
  minLength: 0,
  maxLength: 65535,
  pattern: DESCRIPTION_PATTERN,
};

const flavorProps: Record<string, JsonSchema> = {
  name,
  // No leading or trailing space; a number is taken as its string form.
  id: {
    type: ['string', 'number', 'null'],
    minLength: 1,
    maxLength: 255,
    pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$',
  },
  ram: flavorParamPositive,
  vcpus: flavorParamPositive,
  disk: flavorParamNonNegative,
  'OS-FLV-EXT-DATA:ephemeral': flavorParamNonNegative,
  swap: flavorParamNonNegative,
  // Above zero, at most a float32's max; as a string, a decimal with some non-zero digit.
  rxtx_factor: {
    type: ['number', 'string'],
    pattern: '^(?=[0-9.]*[1-9])[0-9]+(\\.[0-9]+)?$',
    exclusiveMinimum: 0,
    maximum: 3.40282e38,
  },
  'os-flavor-access:is_public': boolean,
};

const REQUIRED = ['name', 'ram', 'vcpus', 'disk'];

/** POST /flavors; 2.55 adds description. */
export const flavorCreate: VersionedSchema = Object.freeze({
  '2.1': wrap('flavor', strict(flavorProps, REQUIRED)),
  '2.55': wrap('flavor', strict({ ...flavorProps, description: flavorDescription }, REQUIRED)),
});

/** PUT /flavors/{flavor_id} (2.55+): only the description may change. */
export const flavorUpdate: VersionedSchema = Object.freeze({
  '2.55': wrap('flavor', strict({ description: flavorDescription }, ['description'])),
});

const extraSpecs: JsonSchema = {
  type: 'object',
  patternProperties: { [METADATA_KEY_PATTERN]: { type: ['string', 'number'], maxLength: 255 } },
  additionalProperties: false,
};

/** POST /flavors/{flavor_id}/os-extra_specs. */
export const flavorExtraSpecsCreate: VersionedSchema = Object.freeze({
  '2.1': strict({ extra_specs: extraSpecs }, ['extra_specs']),
});

/** PUT /flavors/{flavor_id}/os-extra_specs/{key}: the body is the one `{key: value}` pair. */
export const flavorExtraSpecUpdate: VersionedSchema = Object.freeze({
  '2.1': { ...extraSpecs, minProperties: 1, maxProperties: 1 },
});

const tenant: JsonSchema = { type: 'string', minLength: 1, maxLength: 255 };

/** POST /flavors/{flavor_id}/action {"addTenantAccess": {"tenant": ...}}. */
export const flavorAddTenantAccess: VersionedSchema = Object.freeze({
  '2.1': wrap('addTenantAccess', strict({ tenant }, ['tenant'])),
});
/** POST /flavors/{flavor_id}/action {"removeTenantAccess": {"tenant": ...}}. */
export const flavorRemoveTenantAccess: VersionedSchema = Object.freeze({
  '2.1': wrap('removeTenantAccess', strict({ tenant }, ['tenant'])),
});
