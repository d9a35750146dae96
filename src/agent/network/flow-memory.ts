// What the security-group tables last allowed (rule keys per port, remote-group members per namespace), kept in the
// state dir so that an agent restarted after a rule was removed still cuts the flows that rule had allowed.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

type Memory = Map<string, Set<string>>;

export class FlowMemory {
  readonly #path: string;
  readonly ruleKeys: Memory = new Map();
  readonly groupMembers: Memory = new Map();
  #saved = '';

  constructor(stateDir: string) {
    this.#path = join(stateDir, 'flow-memory.json');
  }

  /** Reads what a previous run remembered (nothing when absent or unreadable). */
  async load(): Promise<void> {
    let data: { ruleKeys?: Record<string, string[]>; groupMembers?: Record<string, string[]> };
    try {
      this.#saved = await readFile(this.#path, 'utf8');
      data = JSON.parse(this.#saved) as typeof data;
    } catch {
      return;
    }
    const fill = (into: Memory, from: Record<string, string[]> | undefined) => {
      into.clear();
      for (const [k, v] of Object.entries(from ?? {})) if (Array.isArray(v)) into.set(k, new Set(v));
    };
    fill(this.ruleKeys, data.ruleKeys);
    fill(this.groupMembers, data.groupMembers);
  }

  /** Writes the memory when it changed since the last write (atomically: a crash leaves the old or the new). */
  async save(): Promise<void> {
    const plain = (m: Memory) => Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()]));
    const text = JSON.stringify({ ruleKeys: plain(this.ruleKeys), groupMembers: plain(this.groupMembers) });
    if (text === this.#saved) return;
    await writeFile(`${this.#path}.tmp`, text);
    await rename(`${this.#path}.tmp`, this.#path);
    this.#saved = text;
  }

  clear(): void {
    this.ruleKeys.clear();
    this.groupMembers.clear();
    this.#saved = '';
  }
}
