// The files of a config drive (Nova's metadata_for_config_drive): ec2/<version>/meta-data.json and user-data for
// the EC2 versions not skipped, openstack/<version>/… for every OpenStack version, and openstack/content/….
import type { ConfigDriveFile } from '../../../agent/compute/guest-resources.ts';
import type { InstanceMetadata } from './content.ts';
import type { Ec2Dir } from './ec2-tree.ts';
import { pyJson } from './py-json.ts';
import {
  CONFIG_DRIVE_SKIP_EC2,
  EC2_VERSIONS,
  HAVANA,
  LIBERTY,
  NEWTON_TWO,
  OPENSTACK_VERSIONS,
  osAtLeast,
} from './versions.ts';

export interface ConfigDriveFileOptions {
  /** EC2 versions to leave off (Nova's config_drive_skip_versions); default all but 2009-04-04. */
  skipEc2Versions?: ReadonlySet<string>;
}

/** The config drive's files, in the order Nova writes them. */
export function configDriveFilesOf(
  im: InstanceMetadata,
  opts: ConfigDriveFileOptions = {},
): ConfigDriveFile[] {
  const skip = opts.skipEc2Versions ?? CONFIG_DRIVE_SKIP_EC2;
  const files: ConfigDriveFile[] = [];
  for (const v of [...EC2_VERSIONS, 'latest']) {
    if (skip.has(v)) continue;
    const data = im.ec2Metadata(v)!;
    const userData = data['user-data'];
    if (userData instanceof Uint8Array) files.push({ path: `ec2/${v}/user-data`, contents: userData });
    const md = data['meta-data'] as Ec2Dir;
    const keys = md['public-keys'] as Ec2Dir | undefined;
    if (keys?.['0']) delete (keys['0'] as Ec2Dir)['_name'];
    files.push({ path: `ec2/${v}/meta-data.json`, contents: pyJson(md) });
  }
  for (const v of [...OPENSTACK_VERSIONS, 'latest']) {
    const dir = `openstack/${v}`;
    files.push({ path: `${dir}/meta_data.json`, contents: im.metaDataJson(v) });
    if (im.userData !== null) files.push({ path: `${dir}/user_data`, contents: im.userData });
    if (osAtLeast(v, HAVANA)) files.push({ path: `${dir}/vendor_data.json`, contents: im.vendorDataJson() });
    if (osAtLeast(v, LIBERTY))
      files.push({ path: `${dir}/network_data.json`, contents: im.networkDataJson() });
    if (osAtLeast(v, NEWTON_TWO))
      files.push({ path: `${dir}/vendor_data2.json`, contents: im.vendorData2Json() });
  }
  for (const [key, contents] of im.content()) files.push({ path: `openstack/content/${key}`, contents });
  return files;
}
