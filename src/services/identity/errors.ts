// Identity's error catalog: Keystone's codes, statuses and message texts.
import { ApiError } from '../../platform/errors.ts';

export const IdentityErrors = {
  notFound: (target: string, id: string) =>
    new ApiError(404, `${pascal(target)}NotFound`, `Could not find ${target}: ${id}.`),
  conflict: (type: string, details: string) =>
    new ApiError(409, 'Conflict', `Conflict occurred attempting to store ${type} - ${details}.`),
  validation: (message: string) => new ApiError(400, 'ValidationError', message),
  expecting: (attribute: string, target: string) =>
    new ApiError(
      400,
      'ValidationError',
      `Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
    ),
  unauthorized: (message = 'The request you have made requires authentication.') =>
    new ApiError(401, 'Unauthorized', message),
  forbidden: (message: string) => new ApiError(403, 'Forbidden', message),
  forbiddenAction: (action: string) =>
    new ApiError(
      403,
      'ForbiddenAction',
      `You are not authorized to perform the requested action: ${action}.`,
    ),
  tokenNotFound: (token: string) => new ApiError(404, 'TokenNotFound', `Could not find token: ${token}.`),
  passwordHistory: (uniqueCount: number) =>
    new ApiError(
      400,
      'PasswordHistoryValidationError',
      `The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${uniqueCount}.`,
    ),
  passwordAge: (minAgeDays: number, daysLeft: number) =>
    new ApiError(
      400,
      'PasswordAgeValidationError',
      `You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for ${minAgeDays} day(s) before it can be changed. Please try again in ${daysLeft} day(s) or contact your administrator to reset your password.`,
    ),
  passwordRequirements: (detail: string) =>
    new ApiError(
      400,
      'PasswordRequirementsValidationError',
      `The password does not meet the requirements: ${detail}.`,
    ),
  notImplemented: () =>
    new ApiError(501, 'NotImplemented', 'The action you have requested has not been implemented.'),
};

function pascal(s: string): string {
  return s
    .split(/[\s_]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}
