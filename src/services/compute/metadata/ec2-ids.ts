// EC2-style ids (i-…, ami-…, aki-…, ari-…) of servers and images, formatted as Nova's "<prefix>-%08x".
import { createHash } from 'node:crypto';

export type Ec2Prefix = 'i' | 'ami' | 'aki' | 'ari';

/**
 * Nova numbers servers and images in mapping tables and prints the number as eight hex digits. Monostack has no
 * such numbers: the eight digits are the uuid's first 32 bits (stable for the resource's life, the same on
 * every host, and unique in practice for a cloud's size). Ids that are not uuids use their SHA-256 instead.
 */
export function ec2Id(prefix: Ec2Prefix, uuid: string): string {
  const hex = uuid.replaceAll('-', '').toLowerCase();
  const digits = /^[0-9a-f]{8}/.test(hex) ? hex.slice(0, 8) : createHash('sha256').update(uuid).digest('hex');
  return `${prefix}-${digits.slice(0, 8)}`;
}

/** Nova's glance_type_to_ec2_type: kernel → aki, ramdisk → ari, anything else → ami. */
export function ec2ImagePrefix(imageType: string): Ec2Prefix {
  if (imageType === 'kernel' || imageType === 'aki') return 'aki';
  if (imageType === 'ramdisk' || imageType === 'ari') return 'ari';
  return 'ami';
}
