// The VIFs compute plugged (port → device, network), kept in the state dir so a restarted agent knows them.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { VifPlug } from './control-plane.ts';

export class PlugRegistry {
  readonly #path: string;
  readonly #plugs = new Map<string, VifPlug>();

  constructor(stateDir: string) {
    this.#path = join(stateDir, 'plugs.json');
  }

  async load(): Promise<void> {
    const text = await readFile(this.#path, 'utf8').catch(() => '[]');
    this.#plugs.clear();
    for (const p of JSON.parse(text) as VifPlug[]) this.#plugs.set(p.portId, p);
  }

  get(portId: string): VifPlug | undefined {
    return this.#plugs.get(portId);
  }

  async set(plug: VifPlug): Promise<void> {
    this.#plugs.set(plug.portId, plug);
    await this.#save();
  }

  async delete(portId: string): Promise<void> {
    if (this.#plugs.delete(portId)) await this.#save();
  }

  async #save(): Promise<void> {
    const tmp = `${this.#path}.tmp`;
    await writeFile(tmp, JSON.stringify([...this.#plugs.values()]));
    await rename(tmp, this.#path);
  }
}
