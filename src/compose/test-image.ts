// The project's test guest image in a running cloud: built from Debian packages on first use (cached under the
// data directory) and registered as public images, as DevStack registers CirrOS, so a new user can boot at once.
import { ImageClient } from '../clients/image.ts';
import { buildTestImage, testImageLocation } from '../guest-image/build.ts';
import { type RegisteredTestImage, registerTestImage } from '../guest-image/register.ts';
import type { Logger } from '../platform/log.ts';
import type { Cloud } from './cloud.ts';

/** The name the disk image is registered under (its kernel and ramdisk get -kernel and -ramdisk). */
export const TEST_IMAGE_NAME = 'monostack-test';

/** Builds (or reuses) and registers the test image; idempotent across restarts. */
export async function ensureTestImage(cloud: Cloud, log: Logger): Promise<RegisteredTestImage> {
  const { outDir, cacheDir } = testImageLocation(cloud.config.data_dir);
  const built = await buildTestImage({ outDir, cacheDir, log: (line) => log.info({ image: 'test' }, line) });
  const token = await cloud.serviceToken();
  const registered = await registerTestImage(new ImageClient(cloud.transport), token, built, {
    name: TEST_IMAGE_NAME,
    visibility: 'public',
  });
  log.info({ ...registered, version: built.version }, 'test guest image registered');
  return registered;
}
