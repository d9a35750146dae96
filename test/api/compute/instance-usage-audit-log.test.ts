// /os-instance_usage_audit_log: the last completed monthly audit period (before now or a given time) with every
// compute host not run (Monostack runs no audit task); Nova's timestamp parsing; admin only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  lastCompletedMonth,
  parseAuditTimestamp,
  pythonDateTime,
} from '../../../src/services/compute/domain/audit-period.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, expectKeys, nova } from './compute-support.ts';

let tc: TestCloud;
let member: TestUser;

before(async () => {
  tc = await startTestCloud({ compute: { fake: { hosts: 2 } } } as never);
  member = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

const KEYS = [
  'hosts_not_run',
  'log',
  'num_hosts',
  'num_hosts_done',
  'num_hosts_not_run',
  'num_hosts_running',
  'overall_status',
  'period_beginning',
  'period_ending',
  'total_errors',
  'total_instances',
];

describe('audit periods', () => {
  test('the last completed month, across a year and on a boundary', () => {
    const period = (iso: string) => {
      const p = lastCompletedMonth(Date.parse(iso));
      return [pythonDateTime(p.begin), pythonDateTime(p.end)];
    };
    assert.deepEqual(period('2026-11-21T10:00:00Z'), ['2026-10-01 00:00:00', '2026-11-01 00:00:00']);
    assert.deepEqual(period('2026-01-15T00:00:00Z'), ['2025-12-01 00:00:00', '2026-01-01 00:00:00']);
    assert.deepEqual(period('2026-03-01T00:00:00Z'), ['2026-01-01 00:00:00', '2026-02-01 00:00:00']);
    assert.deepEqual(period('2026-03-01T00:00:00.001Z'), ['2026-02-01 00:00:00', '2026-03-01 00:00:00']);
  });

  test('timestamps as strptime reads them', () => {
    assert.equal(parseAuditTimestamp('2026-11-21 10:00:00'), Date.parse('2026-11-21T10:00:00Z'));
    assert.equal(parseAuditTimestamp('2026-1-2 3:4:5'), Date.parse('2026-01-02T03:04:05Z'));
    assert.equal(parseAuditTimestamp('2026-11-21 10:00:00.5'), Date.parse('2026-11-21T10:00:00.500Z'));
    for (const bad of [
      'invalid_time',
      '2026-11-21T10:00:00',
      '2026-02-30 00:00:00',
      '2026-11-21 10:00:60',
      '2026-11-21 10:00:00.1234567',
      ' 2026-11-21 10:00:00',
      '2026-11-21',
    ])
      assert.equal(parseAuditTimestamp(bad), undefined, bad);
  });
});

describe('os-instance_usage_audit_log', () => {
  test('lists the current period with every compute host not run', async () => {
    const res = await nova(tc, 'GET', '/os-instance_usage_audit_log', { token: tc.adminToken });
    assert.equal(res.status, 200, res.text);
    const log = res.body.instance_usage_audit_logs;
    expectKeys(log, KEYS);
    const now = lastCompletedMonth(Date.now());
    assert.equal(log.period_beginning, pythonDateTime(now.begin));
    assert.equal(log.period_ending, pythonDateTime(now.end));
    assert.equal(log.num_hosts, 2);
    assert.equal(log.num_hosts_done, 0);
    assert.equal(log.num_hosts_running, 0);
    assert.equal(log.num_hosts_not_run, 2);
    assert.equal(log.hosts_not_run.length, 2);
    assert.equal(log.total_instances, 0);
    assert.equal(log.total_errors, 0);
    assert.equal(log.overall_status, '0 of 2 hosts done. 0 errors.');
    assert.deepEqual(log.log, {});
  });

  test('shows the period before a timestamp; a bad one is a 400', async () => {
    const res = await nova(
      tc,
      'GET',
      `/os-instance_usage_audit_log/${encodeURIComponent('2026-11-21 10:00:00')}`,
      {
        token: tc.adminToken,
      },
    );
    assert.equal(res.status, 200, res.text);
    const log = res.body.instance_usage_audit_log;
    expectKeys(log, KEYS);
    assert.equal(log.period_beginning, '2026-10-01 00:00:00');
    assert.equal(log.period_ending, '2026-11-01 00:00:00');
    expectFault(
      await nova(tc, 'GET', '/os-instance_usage_audit_log/invalid_time', { token: tc.adminToken }),
      400,
      'Invalid timestamp for date invalid_time',
    );
  });

  test('admin only', async () => {
    expectFault(await nova(tc, 'GET', '/os-instance_usage_audit_log', { token: member.token }), 403);
    expectFault(
      await nova(tc, 'GET', `/os-instance_usage_audit_log/${encodeURIComponent('2026-11-21 10:00:00')}`, {
        token: member.token,
      }),
      403,
    );
  });
});
