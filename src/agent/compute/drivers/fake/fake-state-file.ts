// Persists a fake host's guests in a JSON-lines journal with group commit, so fake guests outlive the agent process.
import { appendFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FakeGuest } from './fake-guest.ts';

/** One journal line: a guest's whole record, or the removal of one. */
type Entry = { guest: FakeGuest } | { removed: string };

/** The journal is rewritten with only live guests once it holds this many times more lines than guests. */
const COMPACT_RATIO = 4;

/**
 * Each save appends the records of the guests changed since the last write (a removed guest leaves a removal
 * line), so a write costs what changed, not the whole host. Writes are coalesced: every save() called while a
 * write runs shares the next write, and resolves once a write that began after the call has landed. Loading
 * replays the journal (the last line of a guest wins) and rewrites it compacted (atomically: temporary file and
 * rename), as does a write that finds the journal too long. The former format (one JSON document) still loads.
 */
export class FakeStateFile {
  readonly path: string;
  readonly #guest: (id: string) => FakeGuest | undefined;
  readonly #all: () => FakeGuest[];
  readonly #dirty = new Set<string>();
  #writing: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #dirMade = false;
  #lines = 0;

  constructor(path: string, guests: { get: (id: string) => FakeGuest | undefined; all: () => FakeGuest[] }) {
    this.path = path;
    this.#guest = guests.get;
    this.#all = guests.all;
  }

  /** Reads the guests a previous process left (none when there is no file), and compacts the journal. */
  async load(): Promise<FakeGuest[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.#compact([]); // the journal and its directory exist from now on
      return [];
    }
    const guests = new Map<string, FakeGuest>();
    if (text.startsWith('{"version"')) {
      const body = JSON.parse(text) as { guests?: FakeGuest[] };
      for (const g of body.guests ?? []) guests.set(g.spec.id, g);
    } else {
      for (const line of text.split('\n')) {
        if (!line) continue;
        let entry: Entry;
        try {
          entry = JSON.parse(line) as Entry;
        } catch {
          continue; // a line cut short by a crash mid-write: the lines before it stand
        }
        if ('guest' in entry) guests.set(entry.guest.spec.id, entry.guest);
        else guests.delete(entry.removed);
      }
    }
    await this.#compact([...guests.values()]);
    return [...guests.values()];
  }

  /** Records that guest `id` changed (or went); resolves once that is on disk. */
  save(id: string): Promise<void> {
    this.#dirty.add(id);
    if (!this.#writing) {
      this.#writing = this.#write().finally(() => {
        this.#writing = undefined;
      });
      return this.#writing;
    }
    // A write is under way: queue one more after it, shared by every caller until it starts.
    this.#next ??= this.#writing
      .catch(() => undefined)
      .then(() => {
        this.#next = undefined;
        return this.#writing ?? this.#startQueued();
      });
    return this.#next;
  }

  /** Resolves once no write is pending. */
  async flush(): Promise<void> {
    while (this.#writing || this.#next) await (this.#next ?? this.#writing);
  }

  #startQueued(): Promise<void> {
    this.#writing = this.#write().finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  async #write(): Promise<void> {
    const ids = [...this.#dirty];
    this.#dirty.clear();
    if (ids.length === 0) return;
    try {
      const all = this.#all();
      if (this.#lines + ids.length > COMPACT_RATIO * all.length + 100) {
        await this.#compact(all);
        return;
      }
      let text = '';
      for (const id of ids) {
        const g = this.#guest(id);
        text += `${JSON.stringify(g ? { guest: g } : { removed: id })}\n`;
      }
      await this.#ensureDir();
      // A few hundred bytes into the page cache: done in place, cheaper than three thread-pool round trips.
      appendFileSync(this.path, text);
      // Still a turn of the event loop, as a real write's completion would be: network I/O is not starved.
      await new Promise((resolve) => setImmediate(resolve));
      this.#lines += ids.length;
    } catch (err) {
      for (const id of ids) this.#dirty.add(id); // the next write carries them
      throw err;
    }
  }

  async #compact(guests: FakeGuest[]): Promise<void> {
    await this.#ensureDir();
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, guests.map((g) => `${JSON.stringify({ guest: g })}\n`).join(''));
    await rename(tmp, this.path);
    this.#lines = guests.length;
  }

  async #ensureDir(): Promise<void> {
    if (this.#dirMade) return;
    await mkdir(dirname(this.path), { recursive: true });
    this.#dirMade = true;
  }
}
