// What a real hypervisor driver fetches from the control plane besides the spec: image bytes and config-drive files.

/** An image as the image service describes it, with a stream of its bytes. */
export interface ImageDownload {
  id: string;
  /** Glance's disk_format: qcow2, raw, aki, ari, ami, iso, … */
  diskFormat: string;
  containerFormat: string;
  /** Bytes; the driver checks it against what it received. */
  size: number;
  /** Glance's md5 `checksum` (may be absent on images uploaded without one). */
  checksum?: string;
  /** Glance's multihash: algorithm (sha512) and value; preferred over checksum when present. */
  osHashAlgo?: string;
  osHashValue?: string;
  minDisk: number;
  minRam: number;
  /** Every other image property as a string (kernel_id, ramdisk_id, os_command_line, hw_*, …). */
  properties: Record<string, string>;
  body: AsyncIterable<Uint8Array>;
}

/** A file of a config drive: its path inside the drive ('openstack/latest/meta_data.json') and contents. */
export interface ConfigDriveFile {
  path: string;
  contents: string | Uint8Array;
}

/**
 * Implemented by the control plane (in-process in all-in-one). Every method may throw on transport failure; the
 * driver reports a transient DriverError then.
 */
export interface GuestResources {
  /** Opens an image for download; throws ImageUnavailable when it does not exist or has no data. */
  openImage(imageId: string): Promise<ImageDownload>;
  /** The files of a server's config drive (OpenStack and EC2 formats, user data, vendor data, network data). */
  configDriveFiles(serverId: string): Promise<ConfigDriveFile[]>;
}

/** The image does not exist, is not active, or has no data. */
export class ImageUnavailable extends Error {
  readonly imageId: string;
  constructor(imageId: string, reason: string) {
    super(`Image ${imageId} is unacceptable: ${reason}`);
    this.name = 'ImageUnavailable';
    this.imageId = imageId;
  }
}
