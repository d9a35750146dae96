// Tests the verdicts drawn from Tempest's outcomes and the report the runner prints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestResult } from './results.ts';
import {
  closingLine,
  exceptionLine,
  judge,
  renderReport,
  resultLine,
  summarize,
  trimDetails,
} from './results.ts';
import type { SubunitStatus, TestOutcome } from './subunit.ts';
import type { Resolution } from './test-list.ts';
import { parseTestList, resolveList } from './test-list.ts';

const M = 'tempest.api.identity.v3';
const ID = {
  pass: `${M}.test_tokens.TokensV3Test.test_create_token[id-6f8e4436-fc96-4282-8122-e41df57197a9]`,
  fail: `${M}.test_tokens.TokensV3Test.test_validate_token[id-a9512ac3-3909-48a4-b395-11f438e16260]`,
  skip: `${M}.test_users.IdentityV3UsersTest.test_user_account_lockout[id-a7ad8bbf-2cff-4520-8c1d-96332e151658]`,
  setupFailA: `${M}.test_api_discovery.TestApiDiscovery.test_api_media_types[id-657c1970-4722-4189-8831-7325f3bc4265,smoke]`,
  setupFailB: `${M}.test_api_discovery.TestApiDiscovery.test_list_api_versions[id-721f480f-35b6-46c7-846e-047e6acea0dc,smoke]`,
  classSkip: `${M}.test_catalog.IdentityCatalogTest.test_catalog_standardization[id-56b57ced-22b8-4127-9b8a-565dfb0207e2]`,
  hung: `${M}.test_domains.DefaultDomainTestJSON.test_default_domain_exists[id-17a5de24-e6a0-4e4a-a9ee-d85b6e5612b5]`,
  silent: `${M}.test_projects.IdentityV3ProjectsTest.test_list_projects_returns_only_authorized_projects[id-86128d46-e170-4644-866a-cc487f699e1d]`,
};
const MISSING = `${M}.test_gone.GoneTest.test_gone[id-00000000-0000-4000-8000-000000000000]`;

// A chained traceback, as Tempest prints when a request fails inside another handler.
const TRACEBACK = `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/urllib3/connection.py", line 174, in _new_conn
    conn = connection.create_connection(
ConnectionRefusedError: [Errno 111] Connection refused

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/tempest/api/identity/v3/test_tokens.py", line 80, in test_validate_token
    self.assertEqual(resp['expires_at'], expires_at)
testtools.matchers._impl.MismatchError: '2026-11-21T07:00:00.000000Z' != '2026-11-21T07:00:00Z'
`;

function outcome(id: string, status: SubunitStatus, attachments: Record<string, string> = {}): TestOutcome {
  return { id, status, attachments, tags: ['worker-0'], startedAt: 1_000, stoppedAt: 1_250 };
}

const OUTCOMES = new Map<string, TestOutcome>(
  [
    outcome(ID.pass, 'success'),
    outcome(ID.fail, 'fail', { traceback: TRACEBACK, 'pythonlogging:': 'log lines' }),
    outcome(ID.skip, 'skip', { reason: 'Security compliance not available.\n' }),
    outcome(ID.setupFailA, 'exists'),
    outcome(`setUpClass (${M}.test_api_discovery.TestApiDiscovery)`, 'fail', {
      traceback:
        'Traceback (most recent call last):\n  File "x.py", line 1, in setUpClass\n    boom()\n' +
        'tempest.lib.exceptions.Unauthorized: Unauthorized\nDetails: {"error": {"code": 401}}\n',
    }),
    outcome(`setUpClass (${M}.test_catalog.IdentityCatalogTest)`, 'skip', {
      reason: 'Keystone is not available.',
    }),
    outcome(ID.hung, 'inprogress'),
    outcome(`tearDownClass (${M}.test_tokens.TokensV3Test)`, 'fail', {
      traceback:
        'Traceback (most recent call last):\n  File "x.py", line 2, in tearDownClass\n' +
        'tempest.lib.exceptions.NotFound: Object not found\n',
    }),
  ].map((o) => [o.id, o]),
);

function resolutions(): Resolution[] {
  const list = [...Object.values(ID), MISSING].map((id) => id.replace(',smoke', '')).join('\n');
  return resolveList(parseTestList(list), Object.values(ID));
}

describe('exceptionLine', () => {
  it('takes the exception of the last traceback in a chain', () => {
    assert.equal(
      exceptionLine(TRACEBACK),
      "testtools.matchers._impl.MismatchError: '2026-11-21T07:00:00.000000Z' != '2026-11-21T07:00:00Z'",
    );
  });
  it('takes the first line of a plain message', () => {
    assert.equal(exceptionLine('\nsomething broke\nmore'), 'something broke');
  });
});

describe('judge', () => {
  const results = judge(resolutions(), OUTCOMES);
  const by = (id: string) => results.find((r) => r.id === id)!;

  it('gives one result per listed test, in list order, then unexplained fixture failures', () => {
    assert.deepEqual(
      results.map((r) => [r.verdict, r.id]),
      [
        ['PASS', ID.pass],
        ['FAIL', ID.fail],
        ['SKIP', ID.skip],
        ['FAIL', ID.setupFailA],
        ['FAIL', ID.setupFailB],
        ['SKIP', ID.classSkip],
        ['FAIL', ID.hung],
        ['FAIL', ID.silent],
        ['MISSING', MISSING],
        ['FAIL', `tearDownClass (${M}.test_tokens.TokensV3Test)`],
      ],
    );
  });

  it('keeps the list line each result answers', () => {
    assert.equal(by(ID.setupFailA).listed, ID.setupFailA.replace(',smoke', ''));
    assert.equal(by(`tearDownClass (${M}.test_tokens.TokensV3Test)`).listed, undefined);
  });

  it('gives reasons: skip reason, exception line, setUpClass cause', () => {
    assert.equal(by(ID.pass).reason, undefined);
    assert.equal(by(ID.pass).durationMs, 250);
    assert.equal(by(ID.skip).reason, 'Security compliance not available.');
    assert.match(by(ID.fail).reason!, /^testtools\.matchers\._impl\.MismatchError: /);
    assert.equal(by(ID.fail).details, TRACEBACK);
    assert.equal(by(ID.setupFailB).reason, 'setUpClass: tempest.lib.exceptions.Unauthorized: Unauthorized');
    assert.equal(by(ID.classSkip).reason, 'setUpClass: Keystone is not available.');
    assert.match(by(ID.hung).reason!, /never finished/);
    assert.equal(by(ID.silent).reason, 'no result from tempest');
    assert.equal(by(MISSING).reason, 'tempest does not know this test');
  });

  it('reports every listed test as failed with the given reason when nothing ran', () => {
    const none = judge(resolutions(), new Map(), 'not run: cloud exited early (1)');
    assert.equal(none.filter((r) => r.verdict === 'FAIL').length, 8);
    assert.ok(none.every((r) => r.verdict === 'MISSING' || r.reason === 'not run: cloud exited early (1)'));
  });
});

describe('summary and report', () => {
  const results = judge(resolutions(), OUTCOMES);

  it('counts missing tests as failed', () => {
    const s = summarize(results);
    assert.deepEqual(s, { passed: 1, failed: 7, skipped: 2, missing: 1, total: 10 });
    assert.equal(closingLine(s), '1 passed, 7 failed, 2 skipped');
  });

  it('prints one aligned line per test', () => {
    assert.equal(resultLine(results[0]!), `PASS     ${ID.pass}`);
    assert.equal(resultLine(results[2]!), `SKIP     ${ID.skip}  Security compliance not available.`);
    assert.equal(resultLine(results[8]!), `MISSING  ${MISSING}  tempest does not know this test`);
  });

  it('prints each distinct traceback once, then the closing line last', () => {
    const report = renderReport(results);
    const lines = report.split('\n');
    assert.equal(lines.at(-1), '1 passed, 7 failed, 2 skipped');
    assert.equal(report.match(/Details: \{"error"/g)?.length, 1);
    assert.ok(lines.includes(`== ${ID.setupFailA}`) && lines.includes(`== ${ID.setupFailB}`));
    assert.ok(lines.includes('---- failures (3 distinct) ----'));
  });

  it('trims long tracebacks from the top', () => {
    const long = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const trimmed = trimDetails(long, 10).split('\n');
    assert.equal(trimmed[0], '… 90 lines trimmed …');
    assert.equal(trimmed.at(-1), 'line 99');
    assert.equal(trimmed.length, 11);
  });

  it('prints a report for an all-pass run', () => {
    const ok: TestResult[] = [{ id: ID.pass, verdict: 'PASS' }];
    assert.equal(renderReport(ok), `PASS     ${ID.pass}\n\n1 passed, 0 failed, 0 skipped`);
  });
});
