// The bootstrap passwords of a data directory, generated once and kept in secrets.json (mode 0600).
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BootstrapPasswords } from '../services/identity/bootstrap.ts';

const FILE = 'secrets.json';

function generate(): string {
  return randomBytes(15).toString('base64url');
}

/** Reads the data directory's passwords, creating any that are missing; `adminPassword` wins on first creation. */
export async function loadSecrets(
  dataDir: string,
  given: { admin?: string; demo?: string } = {},
): Promise<BootstrapPasswords> {
  const path = join(dataDir, FILE);
  let stored: Partial<BootstrapPasswords> = {};
  try {
    stored = JSON.parse(await readFile(path, 'utf8')) as Partial<BootstrapPasswords>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secrets: BootstrapPasswords = {
    admin: stored.admin ?? (given.admin || generate()),
    demo: stored.demo ?? (given.demo || generate()),
    service: stored.service ?? generate(),
  };
  if (stored.admin !== secrets.admin || stored.demo !== secrets.demo || stored.service !== secrets.service) {
    await writeFile(`${path}.tmp`, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }
  return secrets;
}
