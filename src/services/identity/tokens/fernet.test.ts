// Tests for the Fernet implementation, including the spec's published test vectors.
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { InvalidToken } from './errors.ts';
import { decodeBase64Url, decrypt, encrypt, generateKey, parseKey } from './fernet.ts';

const SECRET = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const SPEC_TOKEN =
  'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==';
const SPEC_IV = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const seconds = (iso: string): number => Date.parse(iso) / 1000;
const NOW = seconds('1985-10-26T01:20:00-07:00');
const hello = new TextEncoder().encode('hello');

// From https://github.com/fernet/spec/blob/master/invalid.json (all with now 01:20:01, ttl 60 s).
const INVALID_VECTORS: [string, string, string][] = [
  [
    'incorrect mac',
    'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==',
    '1985-10-26T01:20:01-07:00',
  ],
  ['too short', 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==', '1985-10-26T01:20:01-07:00'],
  [
    'invalid base64',
    '%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==',
    '1985-10-26T01:20:01-07:00',
  ],
  [
    'payload size not multiple of block size',
    'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm',
    '1985-10-26T01:20:01-07:00',
  ],
  [
    'payload padding error',
    'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==',
    '1985-10-26T01:20:01-07:00',
  ],
  [
    'far-future TS (unacceptable clock skew)',
    'gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==',
    '1985-10-26T01:20:01-07:00',
  ],
  [
    'expired TTL',
    'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==',
    '1985-10-26T01:21:31-07:00',
  ],
  [
    'incorrect IV (causes padding error)',
    'gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==',
    '1985-10-26T01:20:01-07:00',
  ],
];

/** Builds a correctly signed token from raw parts, to reach checks that sit behind the HMAC. */
function signedToken(secret: string, version: number, ciphertext: Buffer): string {
  const raw = decodeBase64Url(secret)!;
  const header = Buffer.alloc(25);
  header[0] = version;
  header.writeUInt32BE(NOW, 5);
  SPEC_IV.copy(header, 9);
  const mac = createHmac('sha256', raw.subarray(0, 16)).update(header).update(ciphertext).digest();
  return Buffer.concat([header, ciphertext, mac]).toString('base64url');
}

describe('fernet', () => {
  it('matches the spec generate vector', () => {
    assert.equal(encrypt(parseKey(SECRET), hello, NOW, SPEC_IV), SPEC_TOKEN);
  });

  it('matches the spec verify vector, with and without padding and with the TTL check', () => {
    const keys = [parseKey(SECRET)];
    for (const token of [SPEC_TOKEN, SPEC_TOKEN.replace(/=+$/, '')]) {
      const { plaintext, timestamp } = decrypt(keys, token, { nowSeconds: NOW + 1, ttlSeconds: 60 });
      assert.equal(Buffer.from(plaintext).toString(), 'hello');
      assert.equal(timestamp, NOW);
    }
  });

  for (const [desc, token, now] of INVALID_VECTORS) {
    it(`rejects the spec invalid vector: ${desc}`, () => {
      assert.throws(
        () => decrypt([parseKey(SECRET)], token, { nowSeconds: seconds(now), ttlSeconds: 60 }),
        InvalidToken,
      );
    });
  }

  it('round trips with generated keys and random IVs', () => {
    const key = parseKey(generateKey());
    for (const size of [0, 1, 15, 16, 17, 200]) {
      const plaintext = randomBytes(size);
      const token = encrypt(key, plaintext, 1_700_000_000);
      assert.deepEqual(decrypt([key], token), { plaintext, timestamp: 1_700_000_000 });
    }
    assert.notEqual(encrypt(key, hello, 1), encrypt(key, hello, 1));
  });

  it('tries each key in order and rejects tokens from unknown keys', () => {
    const [a, b, c] = [generateKey(), generateKey(), generateKey()].map(parseKey);
    const token = encrypt(b!, hello, 5);
    assert.equal(decrypt([a!, b!], token).plaintext.toString(), 'hello');
    assert.throws(() => decrypt([a!, c!], token), InvalidToken);
    assert.throws(() => decrypt([], token), InvalidToken);
  });

  it('rejects any tampered byte', () => {
    const key = parseKey(generateKey());
    const raw = decodeBase64Url(encrypt(key, hello, 99))!;
    for (let i = 0; i < raw.length; i++) {
      const tampered = Buffer.from(raw);
      tampered[i]! ^= 0x01;
      assert.throws(() => decrypt([key], tampered.toString('base64url')), InvalidToken, `byte ${i}`);
    }
  });

  it('rejects a bad version or bad padding even when the HMAC is valid', () => {
    const key = parseKey(SECRET);
    const raw = decodeBase64Url(SPEC_TOKEN)!;
    const ciphertext = raw.subarray(25, raw.length - 32);
    assert.equal(decrypt([key], signedToken(SECRET, 0x80, ciphertext)).plaintext.toString(), 'hello');
    assert.throws(() => decrypt([key], signedToken(SECRET, 0x81, ciphertext)), InvalidToken);
    const cipher = createCipheriv('aes-128-cbc', decodeBase64Url(SECRET)!.subarray(16), SPEC_IV);
    cipher.setAutoPadding(false);
    const unpadded = Buffer.concat([cipher.update(Buffer.alloc(16, 0x41)), cipher.final()]);
    assert.throws(() => decrypt([key], signedToken(SECRET, 0x80, unpadded)), InvalidToken);
  });

  it('rejects malformed base64 and non-strings', () => {
    const key = parseKey(SECRET);
    const body = SPEC_TOKEN.replace(/=+$/, '');
    for (const bad of ['', '=', `${body}=`, `${body}===`, `${body} `, body.replace('_', '/'), `${body}A`]) {
      assert.throws(() => decrypt([key], bad), InvalidToken, JSON.stringify(bad));
    }
    assert.throws(() => decrypt([key], 42 as unknown as string), InvalidToken);
  });

  it('generates 44-char padded urlsafe keys and rejects bad keys', () => {
    const key = generateKey();
    assert.match(key, /^[A-Za-z0-9_-]{43}=$/);
    assert.equal(parseKey(`${key}\n`).encoded, key);
    assert.doesNotThrow(() => parseKey(key.slice(0, 43)));
    assert.throws(() => parseKey('c2hvcnQ='), TypeError);
    assert.throws(() => parseKey(key.replace(/^./, '+')), TypeError);
  });
});
