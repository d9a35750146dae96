// Tests how Tempest is started: its shebang's interpreter and a clean environment.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseShebang, tempestEnv } from './tempest.ts';

describe('parseShebang', () => {
  it("reads Debian's tempest script line", () => {
    assert.deepEqual(parseShebang('#! /usr/bin/python3'), ['/usr/bin/python3']);
    assert.deepEqual(parseShebang('#!/usr/bin/python3 -u'), ['/usr/bin/python3', '-u']);
  });

  it('turns /usr/bin/env python3 into /usr/bin/python3, not whatever is first on PATH', () => {
    assert.deepEqual(parseShebang('#!/usr/bin/env python3'), ['/usr/bin/python3']);
  });

  it('refuses a line that is no shebang', () => {
    assert.equal(parseShebang('import sys'), undefined);
  });
});

describe('tempestEnv', () => {
  const base = {
    PATH: '/home/u/.pyenv/shims:/usr/local/bin:/usr/bin:/bin',
    PYTHONPATH: '/home/u/lib',
    VIRTUAL_ENV: '/home/u/venv',
    NO_PROXY: 'internal.example',
    HOME: '/home/u',
    UNSET: undefined,
  };
  const env = tempestEnv(base, '/tmp/ws/tempest', '/usr/bin/python3', 600);

  it("puts the interpreter's directory first and drops foreign python settings", () => {
    assert.equal(env['PATH'], '/usr/bin:/home/u/.pyenv/shims:/usr/local/bin:/bin');
    assert.equal(env['PYTHON'], '/usr/bin/python3');
    assert.equal(env['PYTHONPATH'], undefined);
    assert.equal(env['VIRTUAL_ENV'], undefined);
    assert.equal(env['HOME'], '/home/u');
    assert.ok(!('UNSET' in env));
  });

  it('points Tempest at the workspace config and bypasses proxies for loopback', () => {
    assert.equal(env['TEMPEST_CONFIG_DIR'], '/tmp/ws/tempest/etc');
    assert.equal(env['TEMPEST_CONFIG'], 'tempest.conf');
    assert.equal(env['OS_TEST_TIMEOUT'], '600');
    assert.equal(env['NO_PROXY'], '127.0.0.1,localhost,::1,internal.example');
    assert.equal(env['no_proxy'], env['NO_PROXY']);
  });
});
