import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors.ts';
import { keystoneDialect, neutronDialect, novaDialect, placementDialect } from './error-dialects.ts';

const ctx = { requestId: 'req-1', baseUrl: 'http://192.0.2.1:5000' };

describe('error dialects', () => {
  it('renders Keystone bodies, with WWW-Authenticate on 401', () => {
    const r = keystoneDialect(
      new ApiError(401, 'Unauthorized', 'The request you have made requires authentication.'),
      ctx,
    );
    assert.deepEqual(r.body, {
      error: {
        code: 401,
        title: 'Unauthorized',
        message: 'The request you have made requires authentication.',
      },
    });
    assert.equal(r.headers['www-authenticate'], 'Keystone uri="http://192.0.2.1:5000/v3"');
    assert.equal(keystoneDialect(new ApiError(404, 'X', 'gone'), ctx).headers['www-authenticate'], undefined);
  });

  it('renders Nova fault names, computeFault as fallback, and retryAfter on 413', () => {
    assert.deepEqual(novaDialect(new ApiError(404, 'InstanceNotFound', 'no'), ctx).body, {
      itemNotFound: { code: 404, message: 'no' },
    });
    assert.deepEqual(novaDialect(new ApiError(500, 'X', 'boom'), ctx).body, {
      computeFault: { code: 500, message: 'boom' },
    });
    const over = novaDialect(new ApiError(413, 'OverQuota', 'quota', { extra: { retryAfter: 0 } }), ctx);
    assert.equal((over.body as { overLimit: { retryAfter: string } }).overLimit.retryAfter, '0');
  });

  it('renders Neutron and Placement bodies', () => {
    assert.deepEqual(
      neutronDialect(new ApiError(404, 'NetworkNotFound', 'Network x could not be found.'), ctx).body,
      {
        NeutronError: { type: 'NetworkNotFound', message: 'Network x could not be found.', detail: '' },
      },
    );
    const p = placementDialect(new ApiError(409, 'placement.concurrent_update', 'busy'), ctx).body as {
      errors: Record<string, unknown>[];
    };
    assert.deepEqual(p.errors[0], {
      status: 409,
      title: 'Conflict',
      detail: 'busy',
      code: 'placement.concurrent_update',
      request_id: 'req-1',
    });
  });
});
