import { createAuditEvent, type AuditEvent, type RequestOrigin } from '../audit/audit-event.js';
import type { OAuthDeps } from './oauth-deps.js';

export type GrantFilter = { grantId: string } | { userId: string } | { clientId: string };

/**
 * Revokes grants and everything issued from them: their refresh tokens stop working, and their live access
 * tokens go on the denylist here at once and, through pub/sub, on every other process. `detection` (the
 * token.reuse_detected event that caused the revocation) is written in the same transaction, even when the
 * grant was already revoked.
 */
export async function revokeGrants(
  deps: Pick<OAuthDeps, 'grants' | 'denylist' | 'clock'>,
  filter: GrantFilter,
  reason: string,
  origin: RequestOrigin | null,
  actor: { keyId: string; tenantId: string | null } | null = null,
  detection: AuditEvent | null = null,
): Promise<string[]> {
  const now = deps.clock.now();
  const event = createAuditEvent(
    now,
    {
      type: 'grant.revoked',
      outcome: 'success',
      reason,
      actorKeyId: actor?.keyId ?? null,
      tenantId: actor?.tenantId ?? detection?.tenantId ?? null,
      details: { ...filter },
    },
    origin,
  );
  // The store writes the event with the revocation, and only when something was revoked.
  const { grantIds, deniedTokens } = await deps.grants.revokeGrants(filter, now, reason, [event], detection ? [detection] : []);
  await deps.denylist.announce(deniedTokens);
  return grantIds;
}

