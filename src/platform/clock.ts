// Injectable clock and id sources, so tests can fix time and seed ids.
import { randomUUID } from 'node:crypto';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

export interface IdSource {
  /** A new 32-character lowercase hex id, as OpenStack's uuid4().hex. */
  hexId(): string;
  /** A new dashed UUID. */
  uuid(): string;
}

export const randomIds: IdSource = Object.freeze({
  hexId: () => randomUUID().replaceAll('-', ''),
  uuid: () => randomUUID(),
});

/** ISO-8601 with microseconds and a Z, as OpenStack prints timestamps ("2026-11-21T06:27:59.000000Z"). */
export function isoMicro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** ISO-8601 without fraction, as Keystone prints created_at/expires_at on some resources. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
