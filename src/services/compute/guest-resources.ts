// The control plane's side of GuestResources: image bytes from the image service (with the compute service's
// token) and config-drive files from the metadata service, for this process's real hypervisor drivers.
import {
  type ConfigDriveFile,
  type GuestResources,
  type ImageDownload,
  ImageUnavailable,
} from '../../agent/compute/guest-resources.ts';
import { imageProperties } from '../../clients/image.ts';
import type { TokenSource } from '../../platform/transport.ts';
import type { ComputeContext } from './context.ts';
import type { MetadataService } from './metadata/service.ts';

export class ComputeGuestResources implements GuestResources {
  readonly #cx: ComputeContext;
  readonly #token: TokenSource;
  readonly #metadata: MetadataService;

  constructor(cx: ComputeContext, token: TokenSource, metadata: MetadataService) {
    this.#cx = cx;
    this.#token = token;
    this.#metadata = metadata;
  }

  async openImage(imageId: string): Promise<ImageDownload> {
    const token = await this.#token();
    const img = await this.#cx.image.find(token, imageId);
    if (!img) throw new ImageUnavailable(imageId, 'it does not exist');
    if (img.status !== 'active') throw new ImageUnavailable(imageId, `its status is ${img.status}`);
    const data = await this.#cx.image.download(token, imageId);
    return {
      id: img.id,
      diskFormat: img.disk_format ?? 'raw',
      containerFormat: img.container_format ?? 'bare',
      size: data.length,
      ...(typeof img['checksum'] === 'string' ? { checksum: img['checksum'] } : {}),
      ...(typeof img['os_hash_algo'] === 'string' && typeof img['os_hash_value'] === 'string'
        ? { osHashAlgo: img['os_hash_algo'], osHashValue: img['os_hash_value'] }
        : {}),
      minDisk: img.min_disk ?? 0,
      minRam: img.min_ram ?? 0,
      properties: imageProperties(img),
      body: (async function* () {
        yield data;
      })(),
    };
  }

  configDriveFiles(serverId: string): Promise<ConfigDriveFile[]> {
    return this.#metadata.configDriveFiles(serverId);
  }
}
