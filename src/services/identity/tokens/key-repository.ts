// Fernet key repository on disk with keystone-manage fernet_setup/fernet_rotate semantics.
import { randomBytes } from 'node:crypto';
import { access, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FernetKey } from './fernet.ts';
import { generateKey, parseKey } from './fernet.ts';

const KEY_FILE_NAME = /^(0|[1-9][0-9]*)$/;
const STAGED = 0;

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/**
 * Keys are files named by integer index: `0` is the staged key (the next primary), the highest index
 * is the primary (used to encrypt) and the rest are secondaries (still accepted for decryption).
 */
export class KeyRepository {
  readonly dir: string;
  /** Staged + primary + secondaries kept after a rotation, as keystone's [fernet_tokens] max_active_keys. */
  readonly maxActiveKeys: number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string, maxActiveKeys = 3) {
    if (!Number.isInteger(maxActiveKeys) || maxActiveKeys < 2) {
      throw new RangeError('maxActiveKeys must be an integer >= 2 (a staged and a primary key)');
    }
    this.dir = dir;
    this.maxActiveKeys = maxActiveKeys;
  }

  /** Creates the directory (mode 0700) and keys 0 and 1 unless a staged key already exists. Idempotent. */
  setup(): Promise<void> {
    return this.#exclusive(async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      try {
        await access(join(this.dir, String(STAGED)));
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await this.#writeNewKey(STAGED);
      await this.#rotate();
    });
  }

  /** Promotes the staged key to primary (index max+1), stages a new key 0 and prunes the oldest keys. */
  rotate(): Promise<void> {
    return this.#exclusive(() => this.#rotate());
  }

  /** Loads all keys: primary first, then secondaries by descending index, then the staged key last. */
  async load(): Promise<FernetKey[]> {
    const indexes = await this.#indexes();
    const loaded = await Promise.all(
      indexes.map(async (index) => {
        let text: string;
        try {
          text = (await readFile(join(this.dir, String(index)), 'utf8')).trim();
        } catch (err) {
          if (isNotFound(err)) return undefined; // removed by a concurrent rotation
          throw err;
        }
        if (text === '') return undefined; // keystone ignores empty key files too
        try {
          return parseKey(text);
        } catch (err) {
          throw new Error(`invalid Fernet key file ${index} in key repository`, { cause: err });
        }
      }),
    );
    return loaded.filter((key): key is FernetKey => key !== undefined);
  }

  async #rotate(): Promise<void> {
    const indexes = await this.#indexes();
    if (!indexes.includes(STAGED)) {
      throw new Error('key repository has no staged key 0; run setup() first');
    }
    const newPrimary = (indexes[0] ?? 0) + 1;
    await rename(join(this.dir, String(STAGED)), join(this.dir, String(newPrimary)));
    await this.#writeNewKey(STAGED);
    const active = [newPrimary, ...indexes.filter((index) => index !== STAGED)];
    for (const index of active.slice(this.maxActiveKeys - 1)) {
      await rm(join(this.dir, String(index)), { force: true });
    }
  }

  /** Key indexes present in the directory, descending. */
  async #indexes(): Promise<number[]> {
    const entries = await readdir(this.dir, { withFileTypes: true });
    return entries
      .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && KEY_FILE_NAME.test(entry.name))
      .map((entry) => Number(entry.name))
      .filter((index) => Number.isSafeInteger(index))
      .sort((a, b) => b - a);
  }

  /** Writes a fresh key atomically: a 0600 temp file, fsync, then rename over `index`. */
  async #writeNewKey(index: number): Promise<void> {
    const temp = join(this.dir, `.${index}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const file = await open(temp, 'wx', 0o600);
      try {
        await file.writeFile(generateKey());
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, join(this.dir, String(index)));
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
