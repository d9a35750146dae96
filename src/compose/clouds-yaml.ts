// clouds.yaml for the openstack CLI and SDKs: written into the data directory and merged into the user's file.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';

export interface CloudEntry {
  auth: {
    auth_url: string;
    username: string;
    password: string;
    project_name: string;
    user_domain_name: string;
    project_domain_name: string;
  };
  region_name: string;
  interface: string;
  identity_api_version: number;
}

export function cloudEntries(opts: {
  publicUrl: string;
  region: string;
  adminPassword: string;
  demoPassword: string;
}): Record<string, CloudEntry> {
  const entry = (username: string, password: string, project: string): CloudEntry => ({
    auth: {
      auth_url: `${opts.publicUrl}/v3`,
      username,
      password,
      project_name: project,
      user_domain_name: 'Default',
      project_domain_name: 'Default',
    },
    region_name: opts.region,
    interface: 'public',
    identity_api_version: 3,
  });
  return {
    monostack: entry('admin', opts.adminPassword, 'admin'),
    'monostack-demo': entry('demo', opts.demoPassword, 'demo'),
  };
}

/** Writes or merges entries into a clouds.yaml, keeping every other cloud in it untouched. */
export async function mergeCloudsYaml(path: string, entries: Record<string, CloudEntry>): Promise<void> {
  let doc: { clouds?: Record<string, unknown> } & Record<string, unknown> = {};
  try {
    const parsed = parse(await readFile(path, 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object') doc = parsed as typeof doc;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  doc.clouds = { ...(doc.clouds ?? {}), ...entries };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, stringify(doc), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
