// The compute service's error catalog: codes are Nova's exception names, messages its texts where clients read them.
import { ApiError } from '../../platform/errors.ts';

export const ComputeErrors = {
  serverNotFound: (id: string) => new ApiError(404, 'InstanceNotFound', `Instance ${id} could not be found.`),
  flavorNotFound: (id: string) => new ApiError(404, 'FlavorNotFound', `Flavor ${id} could not be found.`),
  imageNotFound: (id: string) => new ApiError(404, 'ImageNotFound', `Image ${id} could not be found.`),
  keypairNotFound: (name: string, userId: string) =>
    new ApiError(404, 'KeypairNotFound', `Keypair ${name} not found for user ${userId}`),
  invalidState: (id: string, attr: string, state: string | null, method: string) =>
    new ApiError(
      409,
      'InstanceInvalidState',
      `Cannot '${method}' instance ${id} while it is in ${attr} ${state ?? 'None'}`,
    ),
  locked: (id: string) => new ApiError(409, 'InstanceIsLocked', `Instance ${id} is locked`),
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  conflict: (message: string) => new ApiError(409, 'Conflict', message),
  forbidden: (message: string) => new ApiError(403, 'Forbidden', message),
  /** Nova's PolicyNotAuthorized text. */
  policyDenied: (rule: string) =>
    new ApiError(403, 'PolicyNotAuthorized', `Policy doesn't allow ${rule} to be performed.`),
  notFound: (message: string) => new ApiError(404, 'NotFound', message),
  quotaExceeded: (message: string) => new ApiError(403, 'QuotaError', message),
};
