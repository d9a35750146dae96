// Trust lookups and writes shared by the trust API, token issue/validation, and user/project deletion.
import type { IdentityContext, IdentityDb, IdentityTrx } from '../context.ts';
import type { TrustRow } from './tables.ts';

/**
 * A trust Keystone's get_trust would return: not deleted, not expired, uses left. Anything else is as if it
 * did not exist (404 on the API, 401 when scoping a token).
 */
export async function findLiveTrust(
  db: IdentityDb,
  id: string,
  nowMs: number,
): Promise<TrustRow | undefined> {
  const t = await db.selectFrom('identity_trusts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!t || t.deleted_at !== null) return undefined;
  if (t.expires_at !== null && Date.parse(t.expires_at) <= nowMs) return undefined;
  if (t.remaining_uses !== null && t.remaining_uses <= 0) return undefined;
  return t;
}

export async function trustRoleIds(db: IdentityDb, trustId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('identity_trust_roles')
    .select('role_id')
    .where('trust_id', '=', trustId)
    .execute();
  return rows.map((r) => r.role_id);
}

/**
 * Takes one use of a limited trust, atomically; false when none was left (or the trust went away meanwhile).
 * Unlimited trusts are not written to.
 */
export async function consumeTrustUse(ix: IdentityContext, trust: TrustRow): Promise<boolean> {
  if (trust.remaining_uses === null) return true;
  return ix.write(async (trx, record) => {
    const res = await trx
      .updateTable('identity_trusts')
      .set((eb) => ({ remaining_uses: eb('remaining_uses', '-', 1) }))
      .where('id', '=', trust.id)
      .where('deleted_at', 'is', null)
      .where('remaining_uses', '>', 0)
      .executeTakeFirst();
    const ok = Number(res.numUpdatedRows) === 1;
    if (ok) record({ kind: 'trust', id: trust.id, action: 'update', data: { consumed: true } });
    return ok;
  });
}

/** Removes every trust a deleted user or project was part of (their tokens fail validation on their own). */
export async function deleteTrustRows(
  trx: IdentityTrx,
  of: { userId: string } | { projectIds: string[] },
): Promise<void> {
  let q = trx.selectFrom('identity_trusts').select('id');
  if ('userId' in of) {
    const u = of.userId;
    q = q.where((eb) => eb.or([eb('trustor_user_id', '=', u), eb('trustee_user_id', '=', u)]));
  } else {
    if (of.projectIds.length === 0) return;
    q = q.where('project_id', 'in', of.projectIds);
  }
  const ids = (await q.execute()).map((r) => r.id);
  if (ids.length === 0) return;
  await trx.deleteFrom('identity_trust_roles').where('trust_id', 'in', ids).execute();
  await trx.deleteFrom('identity_trusts').where('id', 'in', ids).execute();
}
