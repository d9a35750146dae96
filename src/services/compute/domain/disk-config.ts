// Nova's OS-DCF:diskConfig: a server's auto_disk_config flag (kept in its system_metadata), what create, rebuild
// and resize make of the requested value and the image's auto_disk_config property, and how the API shows it.
import { ApiError } from '../../../platform/errors.ts';

/** The system_metadata key of the server's own flag (a boolean). */
export const AUTO_DISK_CONFIG = 'auto_disk_config';
/** Where the boot image's auto_disk_config property is kept (as Nova's image_* system metadata). */
export const IMAGE_AUTO_DISK_CONFIG = 'image_auto_disk_config';

export type DiskConfig = 'AUTO' | 'MANUAL';

const TRUE_WORDS = new Set(['1', 't', 'true', 'on', 'y', 'yes']);

/** oslo's bool_from_string (not strict): anything but a true word, and no value, is false. */
function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return false;
  return TRUE_WORDS.has(String(v).trim().toLowerCase());
}

/** The API's word for a server's flag, read from its system_metadata JSON (MANUAL unless set). */
export function diskConfigOf(systemMetadata: string | null | undefined): DiskConfig {
  if (!systemMetadata?.includes(AUTO_DISK_CONFIG)) return 'MANUAL';
  try {
    const meta = JSON.parse(systemMetadata) as Record<string, unknown>;
    return meta[AUTO_DISK_CONFIG] === true ? 'AUTO' : 'MANUAL';
  } catch {
    return 'MANUAL';
  }
}

/** The requested OS-DCF:diskConfig as the flag (undefined when the request names none). */
export function requestedAutoDiskConfig(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  return value === 'AUTO';
}

/**
 * Nova's _ensure_auto_disk_config_is_valid: an image whose auto_disk_config property is "disabled" refuses
 * a request for AUTO (400).
 */
export function checkAutoDiskConfig(
  requested: boolean | undefined,
  imageProp: unknown,
  imageId: string,
): void {
  const disabled = typeof imageProp === 'string' && imageProp.trim().toLowerCase() === 'disabled';
  if (disabled && requested) {
    throw new ApiError(
      400,
      'AutoDiskConfigDisabledByImage',
      `Requested image ${imageId} has automatic disk resize disabled.`,
    );
  }
}

/**
 * The flag a create or rebuild leaves (_inherit_properties_from_image): the request's, else the image's
 * auto_disk_config property read as a boolean.
 */
export function inheritAutoDiskConfig(
  requested: boolean | undefined,
  imageProp: unknown,
  imageId: string,
): boolean {
  checkAutoDiskConfig(requested, imageProp, imageId);
  return requested ?? truthy(imageProp);
}
