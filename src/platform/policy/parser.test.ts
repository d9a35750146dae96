// Tests for the oslo.policy check-string grammar: atoms, precedence, parentheses and errors.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCheck, PolicyParseError, parseCheckString } from './parser.ts';

const fmt = (s: string): string => formatCheck(parseCheckString(s));

describe('parseCheckString', () => {
  it('parses the special and simple atoms', () => {
    assert.equal(fmt(''), '@');
    assert.equal(fmt('@'), '@');
    assert.equal(fmt('!'), '!');
    assert.equal(fmt('rule:admin_required'), 'rule:admin_required');
    assert.equal(fmt('role:admin'), 'role:admin');
    assert.equal(fmt('is_admin:True'), 'is_admin:True');
    assert.equal(fmt('project_id:%(project_id)s'), 'project_id:%(project_id)s');
    assert.equal(
      fmt('token.project.domain.id:%(target.domain.id)s'),
      'token.project.domain.id:%(target.domain.id)s',
    );
  });

  it('keeps everything after the first colon as the match', () => {
    assert.deepEqual(parseCheckString('role:compute:admin'), { kind: 'role', match: 'compute:admin' });
    assert.deepEqual(parseCheckString("'Member':%(role.name)s"), {
      kind: 'generic',
      key: "'Member'",
      match: '%(role.name)s',
    });
  });

  it('gives not precedence over and, and and over or', () => {
    assert.equal(fmt('a:1 or b:2 and c:3'), '(a:1 or (b:2 and c:3))');
    assert.equal(fmt('a:1 and b:2 or c:3 and d:4'), '((a:1 and b:2) or (c:3 and d:4))');
    assert.equal(fmt('not a:1 and b:2'), '(not a:1 and b:2)');
    assert.equal(fmt('not a:1 or b:2'), '(not a:1 or b:2)');
    assert.equal(fmt('a:1 or b:2 and c:3 and d:4 or e:5'), '(a:1 or (b:2 and c:3 and d:4) or e:5)');
    assert.equal(fmt('not not a:1'), 'not not a:1');
  });

  it('honours parentheses, including ones glued to checks', () => {
    assert.equal(fmt('(a:1 or b:2) and c:3'), '((a:1 or b:2) and c:3)');
    assert.equal(fmt('not (a:1 or b:2)'), 'not (a:1 or b:2)');
    assert.equal(fmt('((role:reader and system_scope:all))'), '(role:reader and system_scope:all)');
    assert.equal(
      fmt('(role:reader and domain_id:%(target.domain_id)s) or user_id:%(target.user.id)s'),
      '((role:reader and domain_id:%(target.domain_id)s) or user_id:%(target.user.id)s)',
    );
  });

  it('treats operators case-insensitively and flattens same-kind nesting', () => {
    assert.equal(fmt('a:1 AND b:2 Or NOT c:3'), '((a:1 and b:2) or not c:3)');
    assert.equal(fmt('a:1 or (b:2 or c:3)'), '(a:1 or b:2 or c:3)');
  });

  it('rejects malformed rules', () => {
    for (const bad of [
      'a:1 b:2',
      'a:1 and',
      'or a:1',
      '(a:1',
      'a:1)',
      '()',
      'not',
      '   ',
      'admin',
      '"quoted"',
      'a:1 and "x"',
    ]) {
      assert.throws(() => parseCheckString(bad), PolicyParseError, bad);
    }
  });

  it('fails external http checks closed instead of calling out', () => {
    assert.equal(fmt('http://policy.example/check'), '!');
  });
});
