// Revocation events: the one place they are written. A token issued at or before `issued_before` that matches
// every field set in an event is invalid (see TokenService).
import type { IdentityContext, IdentityTrx } from '../context.ts';

export interface RevocationFilter {
  userId?: string;
  projectId?: string;
  domainId?: string;
  auditId?: string;
  auditChainId?: string;
  appCredId?: string;
  /** Tokens issued from this trust. */
  trustId?: string;
}

/** Records a revocation event in the caller's transaction. */
export async function recordRevocation(
  ix: IdentityContext,
  trx: IdentityTrx,
  f: RevocationFilter,
): Promise<void> {
  await trx
    .insertInto('identity_revocation_events')
    .values({
      user_id: f.userId ?? null,
      project_id: f.projectId ?? null,
      domain_id: f.domainId ?? null,
      role_id: null,
      audit_id: f.auditId ?? null,
      audit_chain_id: f.auditChainId ?? null,
      app_cred_id: f.appCredId ?? null,
      // Named only when set: trust_id is a later column (migration 0002).
      ...(f.trustId ? { trust_id: f.trustId } : {}),
      issued_before: ix.now(),
      revoked_at: ix.nowIso(),
    })
    .execute();
}
