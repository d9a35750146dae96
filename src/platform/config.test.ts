import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from './config.ts';

describe('config', () => {
  it('works with no file at all', () => {
    const c = loadConfig({ env: {}, flags: { data_dir: join(tmpdir(), 'no-such-monostack-dir') } });
    assert.equal(c.port, 5000);
    assert.equal(c.public_url, 'http://127.0.0.1:5000');
    assert.match(c.database.url, /^sqlite:.*monostack\.db$/);
    assert.equal(c.identity.password_hash_rounds, 12);
    assert.equal(c.image.data_dir, join(tmpdir(), 'no-such-monostack-dir', 'images'));
    assert.equal(
      c.identity.fernet_tokens.key_repository,
      join(tmpdir(), 'no-such-monostack-dir', 'fernet-keys'),
    );
    const custom = loadConfig({
      env: {},
      flags: {
        data_dir: join(tmpdir(), 'x'),
        identity: { fernet_tokens: { key_repository: join(tmpdir(), 'keys') } },
      } as never,
    });
    assert.equal(custom.identity.fernet_tokens.key_repository, join(tmpdir(), 'keys'));
    assert.ok(Object.isFrozen(c.identity.token));
  });

  it('layers file < environment < flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'monostack-cfg-'));
    try {
      await writeFile(
        join(dir, 'monostack.yaml'),
        'port: 6000\nidentity:\n  token:\n    expiration: 600\n  security_compliance:\n    lockout_failure_attempts: 3\n',
      );
      const env = { MONOSTACK_PORT: '7000', MONOSTACK__identity__token__expiration: '900' };
      const c = loadConfig({ env, flags: { data_dir: dir } });
      assert.equal(c.port, 7000);
      assert.equal(c.identity.token.expiration, 900);
      assert.equal(c.identity.security_compliance.lockout_failure_attempts, 3);
      assert.equal(loadConfig({ env, flags: { data_dir: dir, port: 8000 } }).port, 8000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown options and wrong types', () => {
    assert.throws(
      () => loadConfig({ env: { MONOSTACK__identity__nope: '1' } }),
      /unknown configuration option "identity.nope"/,
    );
    assert.throws(() => loadConfig({ env: { MONOSTACK_PORT: 'many' } }), /must be a number/);
  });
});
