// Placement's error catalog: its statuses, `placement.*` error codes (placement/errors.py) and message texts.
import { ApiError } from '../../platform/errors.ts';

export const Codes = {
  DEFAULT: 'placement.undefined_code',
  INVENTORY_INUSE: 'placement.inventory.inuse',
  CONCURRENT_UPDATE: 'placement.concurrent_update',
  DUPLICATE_NAME: 'placement.duplicate_name',
  PROVIDER_IN_USE: 'placement.resource_provider.inuse',
  PROVIDER_CANNOT_DELETE_PARENT: 'placement.resource_provider.cannot_delete_parent',
  RESOURCE_PROVIDER_NOT_FOUND: 'placement.resource_provider.not_found',
  ILLEGAL_DUPLICATE_QUERYPARAM: 'placement.query.duplicate_key',
  QUERYPARAM_BAD_VALUE: 'placement.query.bad_value',
  QUERYPARAM_MISSING_VALUE: 'placement.query.missing_value',
} as const;

export const PlacementErrors = {
  badRequest: (message: string, code: string = Codes.DEFAULT) => new ApiError(400, code, message),
  notFound: (message = 'The resource could not be found.') => new ApiError(404, Codes.DEFAULT, message),
  conflict: (message: string, code: string = Codes.DEFAULT) => new ApiError(409, code, message),
  concurrent: (message: string) => new ApiError(409, Codes.CONCURRENT_UPDATE, message),
  forbidden: (rule: string) =>
    new ApiError(403, Codes.DEFAULT, `Policy does not allow ${rule} to be performed.`),
  methodNotAllowed: (allow?: string) =>
    new ApiError(
      405,
      Codes.DEFAULT,
      'The method specified is not allowed for this resource.',
      allow ? { headers: { allow } } : {},
    ),
  unsupportedMediaType: (got: string) =>
    new ApiError(415, Codes.DEFAULT, `The media type ${got} is not supported, use application/json`),
  notAcceptable: (message: string) => new ApiError(406, Codes.DEFAULT, message),
  providerNotFound: (uuid: string) =>
    new ApiError(404, Codes.DEFAULT, `No resource provider with uuid ${uuid} found`),
};

/** Thrown inside a write transaction when a provider's generation moved; the caller answers 409. */
export class GenerationConflict extends Error {
  constructor(
    message = 'Another thread concurrently updated the resource provider data. Please retry your update',
  ) {
    super(message);
    this.name = 'GenerationConflict';
  }
}
