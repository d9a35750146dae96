// Tempest 33 from Debian against a real `monostack up`: every interop-required test of each served area passes.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runConformance } from '../../src/cmd/conformance/runner.ts';
import { TEMPEST_BIN } from '../../src/cmd/conformance/tempest.ts';

const skip = process.env['CI'] === 'true' ? false : existsSync(TEMPEST_BIN) ? false : `${TEMPEST_BIN} not installed`;

/** The areas Monostack serves today, and how many tests their interop lists hold. */
const AREAS: readonly [string, number][] = [
  ['identity', 17],
  ['image', 23],
];

describe('Tempest interop', { skip }, () => {
  it(`passes every interop-required test of ${AREAS.map(([a]) => a).join(' and ')}`, { timeout: 1_200_000 }, async () => {
    const lines: string[] = [];
    const result = await runConformance({ areas: AREAS.map(([a]) => a), workers: 2, log: (l) => lines.push(l) });
    const report = result.results.map((r) => `${r.verdict} ${r.id}${r.reason ? `  ${r.reason}` : ''}`).join('\n');
    assert.equal(result.error, undefined, `${result.error}\n${lines.join('\n')}`);
    assert.equal(result.results.length, AREAS.reduce((n, [, c]) => n + c, 0), report);
    const notPassed = result.results.filter((r) => r.verdict !== 'PASS');
    assert.deepEqual(notPassed, [], `${report}\nworkspace: ${result.workspace}`);
    if (!result.kept) await rm(result.workspace, { recursive: true, force: true });
  });
});
