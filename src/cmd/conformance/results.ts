// Turns Tempest's per-test outcomes into one verdict per listed test, and renders the report.
import type { TestOutcome } from './subunit.ts';
import type { Resolution } from './test-list.ts';
import { testClassOf } from './test-list.ts';

export type Verdict = 'PASS' | 'FAIL' | 'SKIP' | 'MISSING';

export interface TestResult {
  /** Tempest's full id when known, else the id as listed. */
  id: string;
  /** The list line this result answers; absent for results outside the list (a failed tearDownClass). */
  listed?: string;
  verdict: Verdict;
  /** One line: the skip reason or the exception that failed the test. */
  reason?: string;
  /** The traceback (or other detail) for failures. */
  details?: string;
  durationMs?: number;
}

export interface Summary {
  passed: number;
  /** Failures, missing tests included. */
  failed: number;
  skipped: number;
  missing: number;
  total: number;
}

/** The line that names the exception in a Python traceback (`tempest.lib.exceptions.Unauthorized: …`). */
export function exceptionLine(traceback: string): string | undefined {
  const lines = traceback.split(/\r?\n/);
  let last = -1;
  for (let i = 0; i < lines.length; i++)
    if (lines[i]!.startsWith('Traceback (most recent call last)')) last = i;
  for (let i = last + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (last !== -1 && (line.startsWith(' ') || line.startsWith('\t') || !line.trim())) continue;
    if (line.trim()) return line.trim();
  }
  return undefined;
}

function firstLine(text: string | undefined): string | undefined {
  const line = text
    ?.split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l);
  return line || undefined;
}

function failureDetails(outcome: TestOutcome): string | undefined {
  const { traceback, ...rest } = outcome.attachments;
  if (traceback) return traceback;
  const other = Object.entries(rest).filter(([name]) => name !== 'reason');
  return other.length ? other.map(([name, text]) => `${name}:\n${text}`).join('\n') : undefined;
}

function fromOutcome(id: string, outcome: TestOutcome, prefix = ''): Omit<TestResult, 'listed'> {
  const durationMs =
    outcome.startedAt !== undefined && outcome.stoppedAt !== undefined
      ? Math.round(outcome.stoppedAt - outcome.startedAt)
      : undefined;
  const base = durationMs === undefined ? { id } : { id, durationMs };
  switch (outcome.status) {
    case 'success':
    case 'xfail':
      return { ...base, verdict: 'PASS' };
    case 'skip':
      return {
        ...base,
        verdict: 'SKIP',
        reason: prefix + (firstLine(outcome.attachments['reason']) ?? 'skipped'),
      };
    case 'uxsuccess':
      return { ...base, verdict: 'FAIL', reason: prefix + 'unexpected success' };
    case 'fail': {
      const details = failureDetails(outcome);
      const reason = prefix + (exceptionLine(details ?? '') ?? firstLine(details) ?? 'failed');
      return details ? { ...base, verdict: 'FAIL', reason, details } : { ...base, verdict: 'FAIL', reason };
    }
    case 'inprogress':
      return {
        ...base,
        verdict: 'FAIL',
        reason: prefix + 'started but never finished (worker died or timed out)',
      };
    default:
      return { ...base, verdict: 'FAIL', reason: prefix + 'listed by the worker but never run' };
  }
}

const FIXTURE = /^(setUpClass|tearDownClass|setUpModule|tearDownModule) \((.+)\)$/;

/**
 * One result per resolved list entry, in list order. A test with no outcome of its own takes
 * its class's `setUpClass` outcome (a failed or skipped class fixture runs none of its tests);
 * failed fixtures that no listed test explains (`tearDownClass`) are appended as failures.
 */
export function judge(
  resolutions: readonly Resolution[],
  outcomes: ReadonlyMap<string, TestOutcome>,
  noResultReason = 'no result from tempest',
): TestResult[] {
  const fixtures = new Map<string, TestOutcome>();
  for (const outcome of outcomes.values()) {
    const m = FIXTURE.exec(outcome.id);
    if (m?.[1] === 'setUpClass') fixtures.set(m[2]!, outcome);
  }
  const results: TestResult[] = resolutions.map((r) => {
    if (r.how === 'missing' || !r.tempestId) {
      return {
        id: r.entry.raw,
        listed: r.entry.raw,
        verdict: 'MISSING',
        reason: 'tempest does not know this test',
      };
    }
    const own = outcomes.get(r.tempestId);
    if (own && own.status !== 'exists') return { ...fromOutcome(r.tempestId, own), listed: r.entry.raw };
    const fixture = fixtures.get(testClassOf(r.tempestId));
    if (fixture && fixture.status !== 'exists' && fixture.status !== 'success') {
      return { ...fromOutcome(r.tempestId, fixture, 'setUpClass: '), listed: r.entry.raw };
    }
    if (own) return { ...fromOutcome(r.tempestId, own), listed: r.entry.raw };
    return { id: r.tempestId, listed: r.entry.raw, verdict: 'FAIL', reason: noResultReason };
  });
  for (const outcome of outcomes.values()) {
    const m = FIXTURE.exec(outcome.id);
    if (!m || m[1] === 'setUpClass' || (outcome.status !== 'fail' && outcome.status !== 'uxsuccess'))
      continue;
    results.push(fromOutcome(outcome.id, outcome) as TestResult);
  }
  return results;
}

export function summarize(results: readonly TestResult[]): Summary {
  const s: Summary = { passed: 0, failed: 0, skipped: 0, missing: 0, total: results.length };
  for (const r of results) {
    if (r.verdict === 'PASS') s.passed++;
    else if (r.verdict === 'SKIP') s.skipped++;
    else {
      s.failed++;
      if (r.verdict === 'MISSING') s.missing++;
    }
  }
  return s;
}

/** The closing line CI reads: `N passed, N failed, N skipped`. */
export function closingLine(summary: Summary): string {
  return `${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`;
}

/** `PASS|FAIL|SKIP|MISSING  <id>  [reason]`. */
export function resultLine(r: TestResult): string {
  const verdict = r.verdict.padEnd(7);
  return r.reason && r.verdict !== 'PASS' ? `${verdict}  ${r.id}  ${r.reason}` : `${verdict}  ${r.id}`;
}

/** Keeps the end of a long traceback, where the cause is. */
export function trimDetails(text: string, maxLines = 40): string {
  const lines = text.replace(/\s+$/, '').split(/\r?\n/);
  if (lines.length <= maxLines) return lines.join('\n');
  return [`… ${lines.length - maxLines} lines trimmed …`, ...lines.slice(-maxLines)].join('\n');
}

/** The whole report: one line per test, then the failures' tracebacks (trimmed), then the closing line. */
export function renderReport(results: readonly TestResult[], maxLines = 40): string {
  const out = results.map(resultLine);
  // A failed setUpClass fails every test of its class with one traceback: print it once.
  const byDetails = new Map<string, string[]>();
  for (const r of results) {
    if (r.verdict !== 'FAIL' || !r.details) continue;
    byDetails.set(r.details, [...(byDetails.get(r.details) ?? []), r.id]);
  }
  if (byDetails.size) {
    out.push('', `---- failures (${byDetails.size} distinct) ----`);
    for (const [details, ids] of byDetails) {
      out.push('', ...ids.map((id) => `== ${id}`), trimDetails(details, maxLines));
    }
  }
  out.push('', closingLine(summarize(results)));
  return out.join('\n');
}
