// Checks that Debian's Tempest knows every test in the conformance lists (listing needs no cloud).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/cmd/conformance/runner.ts';
import {
  TEMPEST_BIN,
  tempestCommand,
  tempestEnv,
  tempestInit,
  tempestListTests,
} from '../../src/cmd/conformance/tempest.ts';
import { parseTestList, resolveList } from '../../src/cmd/conformance/test-list.ts';

const LISTS = path.join(REPO_ROOT, 'test', 'conformance');
const haveTempest = existsSync(TEMPEST_BIN);

describe('conformance lists against Tempest', {
  skip: haveTempest ? false : `${TEMPEST_BIN} not installed`,
}, () => {
  let dir = '';
  let known: string[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'monostack-tempest-list-'));
    const command = await tempestCommand();
    const ctx = {
      command,
      dir: path.join(dir, 'tempest'),
      env: tempestEnv(process.env, path.join(dir, 'tempest'), command[0]!, 60),
    };
    await tempestInit(ctx, path.join(dir, 'workspace.yaml'));
    known = await tempestListTests(ctx);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds all 17 identity tests by name', async () => {
    const entries = parseTestList(await readFile(path.join(LISTS, 'identity.txt'), 'utf8'));
    assert.equal(entries.length, 17);
    const resolved = resolveList(entries, known);
    assert.deepEqual(
      resolved.filter((r) => r.how !== 'exact').map((r) => r.entry.raw),
      [],
    );
  });

  it('resolves every other list, by idempotent id where a test moved', async () => {
    const hasHeatPlugin = known.some((id) => id.startsWith('heat_tempest_plugin.'));
    for (const file of (await readdir(LISTS)).filter((f) => f.endsWith('.txt'))) {
      if (file === 'orchestration.txt' && !hasHeatPlugin) continue;
      const entries = parseTestList(await readFile(path.join(LISTS, file), 'utf8'));
      const missing = resolveList(entries, known).filter((r) => r.how === 'missing');
      assert.deepEqual(
        missing.map((r) => r.entry.raw),
        [],
        `${file}: unknown to tempest`,
      );
    }
  });
});
