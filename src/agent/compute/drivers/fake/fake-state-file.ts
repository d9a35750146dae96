// Persists a fake host's guests to a JSON file with group commit, so fake guests outlive the agent process.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FakeGuest } from './fake-guest.ts';

interface StateFileBody {
  version: 1;
  guests: FakeGuest[];
}

/**
 * Writes are atomic (temporary file + rename) and coalesced: every save() called while a write runs shares the
 * next write, and resolves once a write that began after the call has landed.
 */
export class FakeStateFile {
  readonly path: string;
  readonly #snapshot: () => FakeGuest[];
  #writing: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #dirMade = false;

  constructor(path: string, snapshot: () => FakeGuest[]) {
    this.path = path;
    this.#snapshot = snapshot;
  }

  /** Reads the guests a previous process left; none when the file does not exist. */
  async load(): Promise<FakeGuest[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const body = JSON.parse(text) as StateFileBody;
    return Array.isArray(body.guests) ? body.guests : [];
  }

  save(): Promise<void> {
    if (!this.#writing) {
      this.#writing = this.#write().finally(() => {
        this.#writing = undefined;
      });
      return this.#writing;
    }
    // A write is under way with older state: queue one more after it, shared by every caller until it starts.
    this.#next ??= this.#writing
      .catch(() => undefined)
      .then(() => {
        this.#next = undefined;
        return this.save();
      });
    return this.#next;
  }

  /** Resolves once no write is pending. */
  async flush(): Promise<void> {
    while (this.#writing || this.#next) await (this.#next ?? this.#writing);
  }

  async #write(): Promise<void> {
    const body: StateFileBody = { version: 1, guests: this.#snapshot() };
    if (!this.#dirMade) {
      await mkdir(dirname(this.path), { recursive: true });
      this.#dirMade = true;
    }
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, JSON.stringify(body));
    await rename(tmp, this.path);
  }
}
