// Maintenance subcommands: status, db migrate, identity rotate-keys (network teardown is in network.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIGRATIONS, VERSION } from '../compose/cloud.ts';
import { loadConfig, type MonostackConfig } from '../platform/config.ts';
import { openDatabase } from '../platform/db/database.ts';
import { migrate, migrationStatus } from '../platform/db/migrate.ts';
import { KeyRepository } from '../services/identity/tokens/key-repository.ts';

export interface ManageFlags {
  dataDir?: string;
  config?: string;
  json?: boolean;
}

export function configFrom(
  flags: ManageFlags,
  extra: Partial<MonostackConfig> = {},
): Readonly<MonostackConfig> {
  return loadConfig({
    file: flags.config,
    flags: { ...extra, ...(flags.dataDir ? { data_dir: flags.dataDir } : {}) },
  });
}

export interface RunState {
  pid: number;
  url: string;
  version: string;
  started_at: string;
  database: string;
}

export const STATE_FILE = 'monostack.state.json';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The run state of the cloud of a data directory while its process is alive; undefined when it is not running. */
export async function runningCloud(dataDir: string): Promise<RunState | undefined> {
  try {
    const state = JSON.parse(await readFile(join(dataDir, STATE_FILE), 'utf8')) as RunState;
    return alive(state.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}

export async function runStatus(flags: ManageFlags): Promise<number> {
  const config = configFrom(flags);
  const state = await runningCloud(config.data_dir);
  const running = state !== undefined;
  let api: string | undefined;
  if (running && state) {
    try {
      const res = await fetch(`${state.url}/v3`, { signal: AbortSignal.timeout(3000) });
      const body = (await res.json()) as { version?: { id?: string } };
      api = `identity ${body.version?.id ?? '?'} (HTTP ${res.status})`;
    } catch (err) {
      api = `not answering: ${(err as Error).message}`;
    }
  }
  const database = await openDatabase(config.database.url);
  let schema: Record<string, number> = {};
  try {
    schema = await migrationStatus(database);
  } finally {
    await database.close();
  }
  const out = {
    version: VERSION,
    data_dir: config.data_dir,
    running,
    pid: running ? state?.pid : undefined,
    url: running ? state?.url : undefined,
    started_at: running ? state?.started_at : undefined,
    api,
    database: database.description,
    schema,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const lines = [
      `monostack ${VERSION}`,
      `data dir:  ${config.data_dir}`,
      `state:     ${running ? `running (pid ${state?.pid}) since ${state?.started_at}` : 'not running'}`,
      ...(running ? [`url:       ${state?.url}`, `api:       ${api}`] : []),
      `database:  ${database.description}`,
      `schema:    ${
        Object.entries(schema)
          .map(([s, v]) => `${s} v${v}`)
          .join(', ') || 'not migrated'
      }`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return running ? 0 : 3;
}

export async function runDbMigrate(flags: ManageFlags): Promise<void> {
  const config = configFrom(flags);
  const database = await openDatabase(config.database.url);
  try {
    const applied = await migrate(database, MIGRATIONS);
    process.stdout.write(
      applied.length ? `applied:\n  ${applied.join('\n  ')}\n` : 'database is up to date\n',
    );
  } finally {
    await database.close();
  }
}

export async function runRotateKeys(flags: ManageFlags): Promise<void> {
  const config = configFrom(flags);
  const { key_repository, max_active_keys } = config.identity.fernet_tokens;
  const repo = new KeyRepository(key_repository, max_active_keys);
  await repo.setup();
  await repo.rotate();
  const keys = await repo.load();
  process.stdout.write(`rotated Fernet keys in ${key_repository}: ${keys.length} active\n`);
}
