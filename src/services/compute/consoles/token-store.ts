// Console auth tokens as Nova keeps them: random, stored only as a sha256 hash, valid (and reusable) until expiry.
import { createHash, randomBytes } from 'node:crypto';
import type { Generated, Kysely, Selectable } from 'kysely';
import type { ConsoleKind } from '../../../agent/compute/hypervisor-driver.ts';
import type { Clock } from '../../../platform/clock.ts';

/** compute_console_auth_tokens (migration 0002); typed here so the service's table list stays as it is. */
export interface ConsoleTokenRow {
  id: number;
  token_hash: string;
  /** The API's console type: novnc or serial. */
  console_type: string;
  /** The driver's console the token opens. */
  kind: ConsoleKind;
  /** The compute host the guest ran on when the URL was made. */
  host: string;
  instance_uuid: string;
  /** The URL the access URL was built on (its scheme is what the origin check expects). */
  access_url_base: string;
  created_at: string;
  expires_at: string;
}

export interface ConsoleTokenTables {
  compute_console_auth_tokens: Omit<ConsoleTokenRow, 'id'> & { id: Generated<number> };
}

export interface NewConsoleToken {
  instanceUuid: string;
  consoleType: string;
  kind: ConsoleKind;
  host: string;
  accessUrlBase: string;
}

/** Nova's console_auth_tokens.token_hash: the hex sha256 of the token as given. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Fixed-width ISO timestamps, so expiry compares as text on both dialects. */
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class ConsoleTokenStore {
  readonly #db: Kysely<ConsoleTokenTables>;
  readonly #clock: Clock;
  readonly #ttlMs: number;

  /** `ttlSeconds` is Nova's [consoleauth] token_ttl (600 by default). */
  constructor(db: Kysely<ConsoleTokenTables>, clock: Clock, ttlSeconds = 600) {
    this.#db = db;
    this.#clock = clock;
    this.#ttlMs = ttlSeconds * 1000;
  }

  /** Stores a new authorisation and returns its token (192 random bits, URL-safe); expired rows go first. */
  async issue(t: NewConsoleToken): Promise<{ token: string; row: ConsoleTokenRow }> {
    await this.cleanExpired();
    const token = randomBytes(24).toString('base64url');
    const now = this.#clock.now();
    const values = {
      token_hash: hashToken(token),
      console_type: t.consoleType,
      kind: t.kind,
      host: t.host,
      instance_uuid: t.instanceUuid,
      access_url_base: t.accessUrlBase,
      created_at: iso(now),
      expires_at: iso(now + this.#ttlMs),
    };
    await this.#db.insertInto('compute_console_auth_tokens').values(values).execute();
    const row = await this.#db
      .selectFrom('compute_console_auth_tokens')
      .selectAll()
      .where('token_hash', '=', values.token_hash)
      .executeTakeFirstOrThrow();
    return { token, row: normalise(row) };
  }

  /** The authorisation a token stands for, while it has not expired (Nova's ConsoleAuthToken.validate). */
  async validate(token: string): Promise<ConsoleTokenRow | undefined> {
    if (!token) return undefined;
    const row = await this.#db
      .selectFrom('compute_console_auth_tokens')
      .selectAll()
      .where('token_hash', '=', hashToken(token))
      .where('expires_at', '>', iso(this.#clock.now()))
      .executeTakeFirst();
    return row ? normalise(row) : undefined;
  }

  /** Removes every authorisation for a server (Nova does this when it is deleted, moved or shelved). */
  async forgetServer(instanceUuid: string): Promise<number> {
    const r = await this.#db
      .deleteFrom('compute_console_auth_tokens')
      .where('instance_uuid', '=', instanceUuid)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Removes expired authorisations; returns how many. */
  async cleanExpired(): Promise<number> {
    const r = await this.#db
      .deleteFrom('compute_console_auth_tokens')
      .where('expires_at', '<=', iso(this.#clock.now()))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

/** PostgreSQL's bigserial comes back as a string. */
function normalise(row: Selectable<ConsoleTokenTables['compute_console_auth_tokens']>): ConsoleTokenRow {
  return { ...row, id: Number(row.id) };
}
