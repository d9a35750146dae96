// Recognises database constraint errors across dialects, so services can answer 409 instead of 500.

/** True when err is a unique or primary-key violation (SQLite or PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  if (!e || typeof e !== 'object') return false;
  return (
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === '23505'
  );
}

/** Awaits `work`; a unique or primary-key violation becomes `conflict()` (the service's 409), anything else
 * is rethrown unchanged. The transaction has rolled back by then, so nothing was stored. */
export async function uniqueOr<T>(work: Promise<T>, conflict: () => Error): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict();
    throw err;
  }
}
