// Tempest 33 from Debian against a real `monostack up`: every interop-required identity test must pass.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runConformance } from '../../src/cmd/conformance/runner.ts';
import { TEMPEST_BIN } from '../../src/cmd/conformance/tempest.ts';

const skip =
  process.env['CI'] === 'true' ? false : existsSync(TEMPEST_BIN) ? false : `${TEMPEST_BIN} not installed`;

describe('Tempest interop: identity', { skip }, () => {
  it('passes all 17 interop-required identity tests', { timeout: 900_000 }, async () => {
    const lines: string[] = [];
    const result = await runConformance({ areas: ['identity'], workers: 2, log: (l) => lines.push(l) });
    const report = result.results
      .map((r) => `${r.verdict} ${r.id}${r.reason ? `  ${r.reason}` : ''}`)
      .join('\n');
    assert.equal(result.error, undefined, `${result.error}\n${lines.join('\n')}`);
    assert.equal(result.results.length, 17, report);
    const notPassed = result.results.filter((r) => r.verdict !== 'PASS');
    assert.deepEqual(notPassed, [], `${report}\nworkspace: ${result.workspace}`);
    if (!result.kept) await rm(result.workspace, { recursive: true, force: true });
  });
});
