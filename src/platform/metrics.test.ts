// Request metrics: each (service, method, route, status) counts its own requests, and the latency histogram
// each (service, method).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics } from './metrics.ts';

test('requests are counted per route and status, latencies per service and method', async () => {
  const m = new Metrics();
  m.observeRequest('network', 'POST', '/network/v2.0/ports', 201, 0.002);
  m.observeRequest('network', 'POST', '/network/v2.0/ports', 201, 0.004);
  m.observeRequest('network', 'POST', '/network/v2.0/ports', 409, 0.001);
  m.observeRequest('compute', 'GET', '/compute/v2.1/servers', 200, 0.3);
  const text = await m.registry.metrics();
  const value = (line: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(line))
        ?.split(' ')
        .at(-1),
    );
  assert.equal(
    value(
      'monostack_http_requests_total{service="network",method="POST",route="/network/v2.0/ports",status="201"}',
    ),
    2,
  );
  assert.equal(
    value(
      'monostack_http_requests_total{service="network",method="POST",route="/network/v2.0/ports",status="409"}',
    ),
    1,
  );
  assert.equal(value('monostack_http_request_duration_seconds_count{service="network",method="POST"}'), 3);
  assert.equal(value('monostack_http_request_duration_seconds_count{service="compute",method="GET"}'), 1);
  assert.equal(
    value('monostack_http_request_duration_seconds_bucket{le="0.0025",service="network",method="POST"}'),
    2,
  );
});
