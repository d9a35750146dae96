// The guest's encrypted password, kept in system_metadata as password_0…password_3 (255 characters each), as
// Nova's metadata password handler stores it; the guest may set it once.
import type { ComputeContext } from '../context.ts';

export const PASSWORD_CHUNKS = 4;
export const PASSWORD_CHUNK_LENGTH = 255;
/** The largest password a guest may post, in bytes. */
export const PASSWORD_MAX_SIZE = PASSWORD_CHUNKS * PASSWORD_CHUNK_LENGTH;

/** The password_N chunks joined in key order; null when none is set (or all are empty). */
export function extractPassword(sysMeta: Record<string, unknown>): string | null {
  const keys = Object.keys(sysMeta)
    .filter((k) => k.startsWith('password_'))
    .sort();
  const out = keys.map((k) => String(sysMeta[k] ?? '')).join('');
  return out === '' ? null : out;
}

/** The system_metadata items that store `password` (always all four chunks). */
export function passwordChunks(password: string): Record<string, string> {
  const chars = [...password];
  const out: Record<string, string> = {};
  for (let i = 0; i < PASSWORD_CHUNKS; i++) {
    out[`password_${i}`] = chars.slice(i * PASSWORD_CHUNK_LENGTH, (i + 1) * PASSWORD_CHUNK_LENGTH).join('');
  }
  return out;
}

export type SetPasswordResult = 'set' | 'conflict' | 'gone';

/**
 * Stores the password unless one is already set (checked in the same transaction, so two guests' posts cannot
 * both win). 'gone' when the server no longer exists.
 */
export async function setPassword(
  cx: ComputeContext,
  serverId: string,
  password: string,
): Promise<SetPasswordResult> {
  return cx.write(async (trx, record) => {
    const row = await trx
      .selectFrom('compute_servers')
      .select(['system_metadata', 'project_id'])
      .where('id', '=', serverId)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    if (!row) return 'gone';
    let meta: Record<string, unknown> = {};
    try {
      meta = JSON.parse(row.system_metadata) as Record<string, unknown>;
    } catch {
      meta = {};
    }
    if (extractPassword(meta) !== null) return 'conflict';
    Object.assign(meta, passwordChunks(password));
    await trx
      .updateTable('compute_servers')
      .set({ system_metadata: JSON.stringify(meta), updated_at: cx.nowMicro() })
      .where('id', '=', serverId)
      .execute();
    record({ kind: 'server', id: serverId, action: 'update', projectId: row.project_id });
    return 'set';
  });
}
