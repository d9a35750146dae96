// How a failed question to a guest's host (HostQueries) reads in Nova's console APIs.

import { HostUnreachable } from '../../../agent/compute/host-queries.ts';
import { DriverError, GuestNotFound } from '../../../agent/compute/hypervisor-driver.ts';
import { ApiError } from '../../../platform/errors.ts';
import { ComputeErrors } from '../errors.ts';

export function isHostUnreachable(err: unknown): boolean {
  return err instanceof HostUnreachable || (err instanceof Error && err.name === 'HostUnreachable');
}

export function isGuestNotFound(err: unknown): boolean {
  return err instanceof GuestNotFound || (err instanceof Error && err.name === 'GuestNotFound');
}

/**
 * The API error for a host query that failed about server `s`: the host's service is down (Nova's
 * ComputeServiceUnavailable, 409); the guest is gone (InstanceNotFound 404, or InstanceNotReady 409 while it
 * builds, as Nova's compute manager says); a driver without the feature (501). Anything else is rethrown.
 */
export function hostQueryError(
  err: unknown,
  s: { id: string; host: string | null; vm_state: string },
): never {
  if (isHostUnreachable(err))
    throw new ApiError(
      409,
      'ComputeServiceUnavailable',
      `Compute service of ${s.host ?? 'None'} is unavailable at this time.`,
    );
  if (isGuestNotFound(err)) {
    if (s.vm_state === 'building')
      throw new ApiError(409, 'InstanceNotReady', `Instance ${s.id} is not ready`);
    throw ComputeErrors.serverNotFound(s.id);
  }
  if (err instanceof DriverError && err.code === 501)
    throw new ApiError(501, 'NotImplemented', 'The requested functionality is not supported.');
  throw err;
}
