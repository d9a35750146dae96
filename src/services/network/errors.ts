// Neutron's error types as ApiErrors (rendered {"NeutronError": {type, message, detail}} by the neutron dialect).
import { ApiError } from '../../platform/errors.ts';

/** webob's 400 from the attribute layer: type HTTPBadRequest. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'HTTPBadRequest', message);
}

/** neutron_lib BadRequest: "Bad <resource> request: <msg>." */
export function badResourceRequest(resource: string, msg: string): ApiError {
  return new ApiError(400, 'BadRequest', `Bad ${resource} request: ${msg}.`);
}

/** neutron_lib InvalidInput: "Invalid input for operation: <msg>." */
export function invalidInput(msg: string): ApiError {
  return new ApiError(400, 'InvalidInput', `Invalid input for operation: ${msg}.`);
}

/** A typed 404 (NetworkNotFound, PortNotFound, …) with Neutron's message. */
export function notFound(type: string, message: string): ApiError {
  return new ApiError(404, type, message);
}

/** The 404 of a resource the caller may not see, or of an unknown sub-resource path. */
export function resourceNotFound(): ApiError {
  return new ApiError(404, 'HTTPNotFound', 'The resource could not be found.');
}

export function conflict(type: string, message: string): ApiError {
  return new ApiError(409, type, message);
}

/** neutron_lib OverQuota. */
export function overQuota(resources: string[]): ApiError {
  return new ApiError(
    409,
    'OverQuota',
    `Quota exceeded for resources: ${JSON.stringify(resources).replace(/"/g, "'")}.`,
  );
}

/** oslo.policy's refusal, as Neutron renders it. */
export function policyDenied(rule: string): ApiError {
  return new ApiError(403, 'PolicyNotAuthorized', `(rule:${rule}) is disallowed by policy`);
}

/** If-Match revision mismatch. */
export function revisionMismatch(expected: number, current: number): ApiError {
  return new ApiError(
    412,
    'RevisionNumberConstraintFailed',
    `Constrained to ${expected}, but current revision is ${current}`,
  );
}
