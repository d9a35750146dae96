// The bootstrap passwords of a data directory, generated once and kept in secrets.json (mode 0600).
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BootstrapPasswords } from '../services/identity/bootstrap.ts';

const FILE = 'secrets.json';

/** The bootstrap passwords and the metadata proxy's shared secret (signs instance ids for the metadata API). */
export interface MonostackSecrets extends BootstrapPasswords {
  metadata_proxy: string;
}

function generate(): string {
  return randomBytes(15).toString('base64url');
}

/** Reads the data directory's passwords, creating any that are missing; `adminPassword` wins on first creation. */
export async function loadSecrets(
  dataDir: string,
  given: { admin?: string; demo?: string } = {},
): Promise<MonostackSecrets> {
  const path = join(dataDir, FILE);
  let stored: Partial<MonostackSecrets> = {};
  try {
    stored = JSON.parse(await readFile(path, 'utf8')) as Partial<MonostackSecrets>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secrets: MonostackSecrets = {
    admin: stored.admin ?? (given.admin || generate()),
    demo: stored.demo ?? (given.demo || generate()),
    service: stored.service ?? generate(),
    metadata_proxy: stored.metadata_proxy ?? randomBytes(24).toString('base64url'),
  };
  if (
    stored.admin !== secrets.admin ||
    stored.demo !== secrets.demo ||
    stored.service !== secrets.service ||
    stored.metadata_proxy !== secrets.metadata_proxy
  ) {
    await writeFile(`${path}.tmp`, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }
  return secrets;
}
