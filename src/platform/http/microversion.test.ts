import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiError } from '../errors.ts';
import { byVersion, Microversion, type MicroversionSpec, negotiate } from './microversion.ts';

const compute: MicroversionSpec = {
  serviceType: 'compute',
  min: '2.1',
  max: '2.93',
  legacyHeader: 'X-OpenStack-Nova-API-Version',
};

describe('microversions', () => {
  it('defaults to the minimum and maps latest to the maximum', () => {
    assert.equal(String(negotiate(compute, {})), '2.1');
    assert.equal(String(negotiate(compute, { 'openstack-api-version': 'compute latest' })), '2.93');
  });

  it('reads the modern header among other services and the legacy header', () => {
    assert.equal(
      String(negotiate(compute, { 'openstack-api-version': 'volume 3.10, compute 2.60' })),
      '2.60',
    );
    assert.equal(String(negotiate(compute, { 'x-openstack-nova-api-version': '2.37' })), '2.37');
    // The modern header wins over the legacy one.
    assert.equal(
      String(
        negotiate(compute, {
          'openstack-api-version': 'compute 2.50',
          'x-openstack-nova-api-version': '2.37',
        }),
      ),
      '2.50',
    );
  });

  it('answers 406 outside the range and 400 to garbage', () => {
    const out = (() => {
      try {
        negotiate(compute, { 'openstack-api-version': 'compute 2.94' });
      } catch (e) {
        return e;
      }
    })() as ApiError;
    assert.equal(out.status, 406);
    assert.match(out.message, /Minimum is 2\.1 and maximum is 2\.93/);
    assert.throws(
      () => negotiate(compute, { 'openstack-api-version': 'compute two' }),
      (e: ApiError) => e.status === 400,
    );
  });

  it('compares numerically and floors lookups', () => {
    const v = Microversion.parse('2.10')!;
    assert.ok(v.atLeast('2.9'));
    assert.ok(!v.atLeast('2.11'));
    assert.equal(byVersion(v, { '2.1': 'a', '2.9': 'b', '2.11': 'c' }), 'b');
    assert.equal(byVersion(Microversion.parse('2.1')!, { '2.1': 'a', '2.9': 'b' }), 'a');
  });
});
