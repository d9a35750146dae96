// Image's error catalog: Glance's statuses and message texts.
import { ApiError } from '../../platform/errors.ts';

export const ImageErrors = {
  imageNotFound: (id: string) => new ApiError(404, 'ImageNotFound', `No image found with ID ${id}`),
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  forbidden: (message: string) => new ApiError(403, 'Forbidden', message),
  conflict: (message: string) => new ApiError(409, 'Conflict', message),
  tooLarge: (message: string) => new ApiError(413, 'RequestEntityTooLarge', message),
  unsupportedMediaType: (message: string) => new ApiError(415, 'UnsupportedMediaType', message),
  notFound: (message: string) => new ApiError(404, 'NotFound', message),
  gone: (message: string) => new ApiError(410, 'Gone', message),
  rangeNotSatisfiable: (message: string) => new ApiError(416, 'RequestedRangeNotSatisfiable', message),
  serviceUnavailable: (message: string) => new ApiError(503, 'ServiceUnavailable', message),
};
