// Fernet symmetric token encryption (https://github.com/fernet/spec) built on node:crypto.

import type { KeyObject } from 'node:crypto';
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { InvalidToken } from './errors.ts';

export { InvalidToken } from './errors.ts';

/** A decoded Fernet key: 16-byte HMAC-SHA256 signing key and 16-byte AES-128-CBC key. */
export interface FernetKey {
  /** The key as given (urlsafe base64 of 32 bytes). Secret: never log it. */
  readonly encoded: string;
  readonly signingKey: KeyObject;
  readonly encryptionKey: KeyObject;
}

/** Options for the spec's optional TTL check on decrypt. */
export interface FernetTtl {
  nowSeconds: number;
  ttlSeconds: number;
}

const VERSION = 0x80;
const HEADER_BYTES = 1 + 8 + 16;
const HMAC_BYTES = 32;
const BLOCK_BYTES = 16;
const MIN_TOKEN_BYTES = HEADER_BYTES + BLOCK_BYTES + HMAC_BYTES;
const MAX_CLOCK_SKEW_SECONDS = 60;
const URLSAFE_ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Strictly decodes urlsafe base64, with or without '=' padding; undefined if not canonical. */
export function decodeBase64Url(text: string): Buffer | undefined {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
  const pad = text.length - end;
  const body = pad === 0 ? text : text.slice(0, end);
  if (pad > 2 || !URLSAFE_ALPHABET.test(body)) return undefined;
  const rem = body.length % 4;
  if (rem === 1 || (pad !== 0 && rem + pad !== 4)) return undefined;
  const bytes = Buffer.from(body, 'base64url');
  // Reject non-zero trailing bits so every byte string has exactly one accepted spelling.
  return bytes.toString('base64url') === body ? bytes : undefined;
}

function encodeBase64UrlPadded(bytes: Uint8Array): string {
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  return body + '=='.slice(0, (4 - (body.length % 4)) % 4);
}

/** Parses a urlsafe-base64 Fernet key of 32 bytes (padding optional, surrounding whitespace ignored). */
export function parseKey(encoded: string): FernetKey {
  const text = encoded.trim();
  const raw = decodeBase64Url(text);
  if (raw === undefined || raw.length !== 32) {
    throw new TypeError('a Fernet key must be 32 bytes encoded as urlsafe base64');
  }
  return {
    encoded: text,
    signingKey: createSecretKey(raw.subarray(0, 16)),
    encryptionKey: createSecretKey(raw.subarray(16, 32)),
  };
}

/** Generates a new random key, urlsafe base64 with padding (44 chars), as Python's Fernet.generate_key(). */
export function generateKey(): string {
  return encodeBase64UrlPadded(randomBytes(32));
}

/** Encrypts plaintext into a spec-form Fernet token (with '=' padding). The IV is random unless given. */
export function encrypt(
  key: FernetKey,
  plaintext: Uint8Array,
  nowSeconds: number,
  iv: Uint8Array = randomBytes(16),
): string {
  const timestamp = Math.floor(nowSeconds);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('invalid Fernet timestamp');
  if (iv.length !== 16) throw new RangeError('the Fernet IV must be 16 bytes');
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = VERSION;
  header.writeUInt32BE(Math.floor(timestamp / 2 ** 32), 1);
  header.writeUInt32BE(timestamp % 2 ** 32, 5);
  header.set(iv, 9);
  const cipher = createCipheriv('aes-128-cbc', key.encryptionKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = createHmac('sha256', key.signingKey).update(header).update(ciphertext).digest();
  return encodeBase64UrlPadded(Buffer.concat([header, ciphertext, mac]));
}

function tryDecrypt(key: FernetKey, data: Buffer): Buffer | undefined {
  const signedEnd = data.length - HMAC_BYTES;
  const expected = createHmac('sha256', key.signingKey).update(data.subarray(0, signedEnd)).digest();
  if (!timingSafeEqual(expected, data.subarray(signedEnd))) return undefined;
  try {
    const decipher = createDecipheriv('aes-128-cbc', key.encryptionKey, data.subarray(9, HEADER_BYTES));
    return Buffer.concat([decipher.update(data.subarray(HEADER_BYTES, signedEnd)), decipher.final()]);
  } catch {
    return undefined; // bad PKCS#7 padding
  }
}

/**
 * Verifies and decrypts a token, trying each key in order (primary first). Accepts tokens with or
 * without base64 '=' padding. Throws InvalidToken on any failure, including the optional TTL check.
 */
export function decrypt(
  keys: readonly FernetKey[],
  token: string,
  ttl?: FernetTtl,
): { plaintext: Buffer; timestamp: number } {
  const data = typeof token === 'string' ? decodeBase64Url(token) : undefined;
  if (data === undefined) throw new InvalidToken('token is not urlsafe base64');
  if (data.length < MIN_TOKEN_BYTES || (data.length - HEADER_BYTES - HMAC_BYTES) % BLOCK_BYTES !== 0) {
    throw new InvalidToken('token has an invalid length');
  }
  if (data[0] !== VERSION) throw new InvalidToken('unknown Fernet version');
  const timestamp = data.readUInt32BE(1) * 2 ** 32 + data.readUInt32BE(5);
  if (ttl !== undefined) {
    if (timestamp + ttl.ttlSeconds < ttl.nowSeconds) throw new InvalidToken('token TTL has passed');
    if (timestamp > ttl.nowSeconds + MAX_CLOCK_SKEW_SECONDS)
      throw new InvalidToken('token is from the future');
  }
  for (const key of keys) {
    const plaintext = tryDecrypt(key, data);
    if (plaintext !== undefined) return { plaintext, timestamp };
  }
  throw new InvalidToken('token signature or padding is invalid');
}
