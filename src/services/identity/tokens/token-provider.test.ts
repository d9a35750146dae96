// Tests for issuing and validating Fernet tokens, expiry and key rotation through the provider.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeBase64Url, generateKey, parseKey } from './fernet.ts';
import { KeyRepository } from './key-repository.ts';
import type { TokenClaims } from './token-provider.ts';
import { FernetTokenProvider, InvalidToken, newAuditId, TokenExpired } from './token-provider.ts';

const root = await mkdtemp(join(tmpdir(), 'monostack-tokens-'));
after(() => rm(root, { recursive: true, force: true }));

const START = Date.parse('2030-01-01T00:00:00Z');

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = START;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

function claims(overrides: Partial<TokenClaims> = {}): TokenClaims {
  return {
    userId: 'b3c1f0a2d4e54f6a8b9c0d1e2f3a4b5c',
    methods: ['password'],
    issuedAt: START,
    expiresAt: START + 3_600_000,
    auditIds: [newAuditId()],
    scope: { kind: 'project', projectId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9' },
    ...overrides,
  };
}

describe('FernetTokenProvider', () => {
  it('issues unpadded urlsafe tokens that validate back to the claims', () => {
    const clock = fakeClock();
    const provider = new FernetTokenProvider(() => [parseKey(generateKey())], clock.now);
    const c = claims();
    const token = provider.issue(c);
    assert.match(token, /^gAAAAA[A-Za-z0-9_-]+$/);
    assert.ok(token.length < 255, `${token.length} chars`);
    assert.deepEqual(provider.validate(token), c);
    assert.deepEqual(provider.validate(`${token}${'='.repeat((4 - (token.length % 4)) % 4)}`), c);
    assert.ok(Object.isFrozen(provider.validate(token)));
    assert.equal(decodeBase64Url(token)!.readUInt32BE(5), Math.floor(START / 1000));
  });

  it('rejects expired tokens with TokenExpired, including cached ones', () => {
    const clock = fakeClock();
    const provider = new FernetTokenProvider(() => [parseKey(generateKey())], clock.now);
    const token = provider.issue(claims({ expiresAt: START + 1000 }));
    provider.validate(token);
    clock.advance(999);
    provider.validate(token);
    clock.advance(1);
    assert.throws(() => provider.validate(token), TokenExpired);
    assert.throws(
      () => provider.validate(token),
      (err: unknown) => {
        return err instanceof TokenExpired && err.expiresAt === START + 1000;
      },
    );
  });

  it('rejects tampered, foreign and malformed tokens with InvalidToken', () => {
    const clock = fakeClock();
    const provider = new FernetTokenProvider(() => [parseKey(generateKey())], clock.now, { cacheSize: 0 });
    const token = provider.issue(claims());
    const raw = decodeBase64Url(token)!;
    raw[40]! ^= 0x80;
    const foreign = new FernetTokenProvider(() => [parseKey(generateKey())], clock.now).issue(claims());
    for (const bad of [raw.toString('base64url'), foreign, '', 'not a token', 'x'.repeat(5000)]) {
      assert.throws(() => provider.validate(bad), InvalidToken);
    }
    assert.throws(() => provider.validate(undefined as unknown as string), InvalidToken);
  });

  it('issues with the primary key and validates across rotations until the key is pruned', async () => {
    const clock = fakeClock();
    const repo = new KeyRepository(join(root, 'keys'), 3);
    await repo.setup();
    const provider = await FernetTokenProvider.create(repo, clock.now);
    const old = provider.issue(claims());
    await repo.rotate();
    assert.ok(provider.validate(old), 'valid before reload');
    await provider.reload();
    assert.ok(provider.validate(old), 'valid after one rotation');
    const newer = provider.issue(claims());
    await repo.rotate();
    await provider.reload();
    assert.throws(() => provider.validate(old), InvalidToken);
    assert.ok(provider.validate(newer));
  });

  it('requires keys before use', async () => {
    const provider = new FernetTokenProvider(new KeyRepository(join(root, 'empty')), Date.now);
    assert.throws(() => provider.issue(claims()), /reload/);
    assert.throws(() => provider.validate('gAAAAA'), /reload/);
    await assert.rejects(new FernetTokenProvider(() => []).reload(), /no Fernet keys/);
  });

  it('makes 22-char audit ids of 16 random bytes', () => {
    const id = newAuditId();
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(Buffer.from(id, 'base64url').length, 16);
    assert.notEqual(newAuditId(), id);
  });
});
