// Helpers for the network API tests: Neutron requests under /network/v2.0 and error assertions.
import assert from 'node:assert/strict';
import type { RequestOptions, TestCloud, TestResponse } from '../../support/cloud.ts';

export function neutron(
  tc: TestCloud,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<TestResponse> {
  return tc.request(method, `/network/v2.0${path}`, opts);
}

/** Asserts a NeutronError of this status and type (and message, when given). */
export function expectNeutronError(
  res: TestResponse,
  status: number,
  type: string,
  message?: string | RegExp,
): void {
  assert.equal(res.status, status, res.text);
  const err = (res.body as { NeutronError?: { type: string; message: string } }).NeutronError;
  assert.ok(err, `no NeutronError in ${res.text}`);
  assert.equal(err.type, type, res.text);
  if (typeof message === 'string') assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
}
