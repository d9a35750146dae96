// Typed errors raised when a token is malformed, undecryptable or expired.

/** The token cannot be decoded, authenticated, decrypted or unpacked. */
export class InvalidToken extends Error {
  override readonly name = 'InvalidToken';

  constructor(message = 'invalid token', options?: ErrorOptions) {
    super(message, options);
  }
}

/** The token is authentic but its expiry time has passed. */
export class TokenExpired extends Error {
  override readonly name = 'TokenExpired';
  readonly expiresAt: number;

  constructor(expiresAt: number) {
    super(`token expired at ${new Date(expiresAt).toISOString()}`);
    this.expiresAt = expiresAt;
  }
}
