// Issues and validates Fernet tokens carrying packed claims, like keystone's fernet token provider.
import { randomBytes } from 'node:crypto';
import { InvalidToken, TokenExpired } from './errors.ts';
import type { FernetKey } from './fernet.ts';
import { decrypt, encrypt } from './fernet.ts';
import type { KeyRepository } from './key-repository.ts';
import type { TokenClaims } from './payload.ts';
import { packClaims, unpackClaims } from './payload.ts';

export { InvalidToken, TokenExpired } from './errors.ts';
export type { TokenClaims, TokenScope } from './payload.ts';

/** Where keys come from: an in-memory list (primary first) or a key repository on disk. */
export type KeySource = (() => readonly FernetKey[]) | KeyRepository;

export interface TokenProviderOptions {
  /** Validated tokens remembered to skip decryption (0 disables); cleared by reload(). Default 8192. */
  cacheSize?: number;
}

/** Longer strings are rejected before decoding; keystone tokens are under 255 chars. */
const MAX_TOKEN_LENGTH = 4096;

/** A new audit id: 22-char urlsafe base64 of 16 random bytes. */
export function newAuditId(): string {
  return randomBytes(16).toString('base64url');
}

function freezeClaims(claims: TokenClaims): TokenClaims {
  Object.freeze(claims.methods);
  Object.freeze(claims.auditIds);
  Object.freeze(claims.scope);
  return Object.freeze(claims);
}

export class FernetTokenProvider {
  readonly #source: KeySource;
  readonly #clock: () => number;
  readonly #cacheSize: number;
  readonly #cache = new Map<string, TokenClaims>();
  #keys: readonly FernetKey[] = [];

  /**
   * `clock` returns epoch milliseconds. A function key source is read now and on each reload();
   * a KeyRepository is only read by reload(), which must be awaited before use (see create()).
   */
  constructor(keys: KeySource, clock: () => number = Date.now, options: TokenProviderOptions = {}) {
    this.#source = keys;
    this.#clock = clock;
    this.#cacheSize = Math.max(0, Math.floor(options.cacheSize ?? 8192));
    if (typeof keys === 'function') this.#keys = [...keys()];
  }

  /** Constructs a provider and loads its keys. */
  static async create(
    keys: KeySource,
    clock: () => number = Date.now,
    options: TokenProviderOptions = {},
  ): Promise<FernetTokenProvider> {
    const provider = new FernetTokenProvider(keys, clock, options);
    await provider.reload();
    return provider;
  }

  /** Re-reads the keys (call after a rotation) and forgets cached validations. */
  async reload(): Promise<void> {
    const source = this.#source;
    const keys = typeof source === 'function' ? [...source()] : await source.load();
    if (keys.length === 0) throw new Error('no Fernet keys available');
    this.#keys = keys;
    this.#cache.clear();
  }

  /** Issues a token encrypted with the primary key, '=' padding stripped as keystone does. */
  issue(claims: TokenClaims): string {
    const token = encrypt(this.#primaryKey(), packClaims(claims), Math.floor(this.#clock() / 1000));
    return token.replace(/=+$/, '');
  }

  /** Returns the token's claims (frozen); throws InvalidToken or TokenExpired (expiresAt <= now). */
  validate(token: string): TokenClaims {
    let claims = this.#cache.get(token);
    if (claims === undefined) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new InvalidToken();
      this.#primaryKey();
      claims = freezeClaims(unpackClaims(decrypt(this.#keys, token).plaintext));
      this.#remember(token, claims);
    }
    if (claims.expiresAt <= this.#clock()) {
      this.#cache.delete(token);
      throw new TokenExpired(claims.expiresAt);
    }
    return claims;
  }

  #primaryKey(): FernetKey {
    const key = this.#keys[0];
    if (key === undefined) throw new Error('no Fernet keys loaded; await reload() first');
    return key;
  }

  #remember(token: string, claims: TokenClaims): void {
    if (this.#cacheSize === 0) return;
    if (this.#cache.size >= this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    this.#cache.set(token, claims);
  }
}
