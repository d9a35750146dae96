// Tests for packing and unpacking versioned token claims.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { encode } from '@msgpack/msgpack';
import { InvalidToken } from './errors.ts';
import type { TokenClaims } from './payload.ts';
import { packClaims, unpackClaims } from './payload.ts';

const uuid = (): string => randomBytes(16).toString('hex');
const auditId = (): string => randomBytes(16).toString('base64url');
const issuedAt = 1_760_000_000_123;

function claims(overrides: Partial<TokenClaims> = {}): TokenClaims {
  return {
    userId: uuid(),
    methods: ['password'],
    issuedAt,
    expiresAt: issuedAt + 3_600_000,
    auditIds: [auditId()],
    scope: { kind: 'unscoped' },
    ...overrides,
  };
}

const SHAPES: [string, TokenClaims][] = [
  ['unscoped', claims()],
  ['project', claims({ scope: { kind: 'project', projectId: uuid() }, methods: ['token'] })],
  ['domain (string id)', claims({ scope: { kind: 'domain', domainId: 'default' } })],
  ['domain (uuid)', claims({ scope: { kind: 'domain', domainId: uuid() } })],
  ['system', claims({ scope: { kind: 'system' }, methods: ['password', 'totp'] })],
  [
    'application credential',
    claims({
      scope: { kind: 'project', projectId: uuid() },
      methods: ['application_credential'],
      appCredId: uuid(),
    }),
  ],
  [
    'trust',
    claims({ scope: { kind: 'project', projectId: uuid() }, methods: ['password'], trustId: uuid() }),
  ],
  [
    'trust (non-uuid ids), rescoped',
    claims({
      userId: 'ldap-trustee',
      methods: ['password', 'token'],
      auditIds: [auditId(), auditId()],
      scope: { kind: 'project', projectId: 'Project-Not-Hex' },
      trustId: 'trust-Not-Hex',
    }),
  ],
  [
    'rescoped, non-uuid user, all methods',
    claims({
      userId: 'ldap-user-Ä',
      methods: ['password', 'token', 'application_credential', 'totp', 'external', 'mapped', 'oauth1'],
      auditIds: [auditId(), auditId()],
      scope: { kind: 'project', projectId: 'Project-Not-Hex' },
      expiresAt: issuedAt - 1,
    }),
  ],
];

describe('token payloads', () => {
  for (const [name, c] of SHAPES) {
    it(`round trips ${name}`, () => {
      assert.deepEqual(unpackClaims(packClaims(c)), c);
    });
  }

  it('packs uuids and audit ids as raw bytes', () => {
    const c = claims({ scope: { kind: 'project', projectId: uuid() }, auditIds: [auditId(), auditId()] });
    assert.ok(packClaims(c).length < 100, `${packClaims(c).length} bytes`);
    const upper = { ...c, userId: c.userId.toUpperCase() };
    assert.equal(unpackClaims(packClaims(upper)).userId, upper.userId);
    assert.equal(packClaims(upper).length, packClaims(c).length + 16);
  });

  it('rejects claims it cannot represent', () => {
    assert.throws(() => packClaims(claims({ methods: ['kerberos'] })), TypeError);
    assert.throws(() => packClaims(claims({ methods: [] })), TypeError);
    assert.throws(() => packClaims(claims({ methods: ['toString'] })), TypeError);
    assert.throws(() => packClaims(claims({ auditIds: [] })), TypeError);
    assert.throws(() => packClaims(claims({ auditIds: [auditId(), auditId(), auditId()] })), TypeError);
    assert.throws(() => packClaims(claims({ auditIds: ['short'] })), TypeError);
    assert.throws(() => packClaims(claims({ auditIds: ['AAAAAAAAAAAAAAAAAAAAAB'] })), TypeError);
    assert.throws(() => packClaims(claims({ userId: '' })), TypeError);
    assert.throws(() => packClaims(claims({ appCredId: uuid() })), TypeError);
    assert.throws(() => packClaims(claims({ trustId: uuid() })), TypeError);
    assert.throws(
      () =>
        packClaims(
          claims({ scope: { kind: 'project', projectId: uuid() }, trustId: uuid(), appCredId: uuid() }),
        ),
      TypeError,
    );
    assert.throws(() => packClaims(claims({ issuedAt: 1.5 })), RangeError);
  });

  it('rejects garbage and malformed payloads with InvalidToken', () => {
    const u = [true, randomBytes(16)];
    const a = [randomBytes(16)];
    const bad: [string, Uint8Array][] = [
      ['empty', new Uint8Array()],
      ['random bytes', randomBytes(64)],
      ['truncated', packClaims(claims()).subarray(0, 20)],
      ['trailing bytes', Buffer.concat([packClaims(claims()), Buffer.from([0])])],
      ['not an array', encode({ userId: 'x' })],
      ['unknown version', encode([5, u, 1, 0, 1, a])],
      ['trust without trust id', encode([3, u, 1, u, 0, 1, a])],
      ['string version', encode(['0', u, 1, 0, 1, a])],
      ['wrong field count', encode([0, u, 1, 0, 1, a, 'extra'])],
      ['short uuid', encode([0, [true, randomBytes(15)], 1, 0, 1, a])],
      ['id without flag', encode([0, uuid(), 1, 0, 1, a])],
      ['empty string id', encode([0, [false, ''], 1, 0, 1, a])],
      ['unknown method bit', encode([0, u, 128, 0, 1, a])],
      ['no methods', encode([0, u, 0, 0, 1, a])],
      ['float time', encode([0, u, 1, 0.5, 1, a])],
      ['no audit ids', encode([0, u, 1, 0, 1, []])],
      ['three audit ids', encode([0, u, 1, 0, 1, [a[0], a[0], a[0]]])],
      ['short audit id', encode([0, u, 1, 0, 1, [randomBytes(15)]])],
      ['string audit id', encode([0, u, 1, 0, 1, [auditId()]])],
      ['timestamp extension', encode([0, u, 1, new Date(), 1, a])],
      ['project without id', encode([2, u, 1, 0, 1, a])],
    ];
    for (const [name, bytes] of bad) {
      assert.throws(() => unpackClaims(bytes), InvalidToken, name);
    }
  });
});
