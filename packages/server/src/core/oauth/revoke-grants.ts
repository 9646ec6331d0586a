import { actorFields, createAuditEvent, type AuditEvent, type RequestOrigin } from '../audit/audit-event.js';
import type { OAuthDeps } from './oauth-deps.js';

/** One grant, a user's grants (of one client, when `clientId` is given too), or a client's grants. */
export type GrantFilter = { grantId: string } | { userId: string; clientId?: string } | { clientId: string };

/**
 * Revokes grants and everything issued from them: their refresh tokens stop working, and their live access
 * tokens go on the denylist here at once and, through pub/sub, on every other process. `detection` (the
 * token.reuse_detected event that caused the revocation) is written in the same transaction, even when the
 * grant was already revoked. The grant.revoked event carries `tenantId`, the tenant of the user, client or grant
 * whose grants end (so that tenant's webhook endpoints hear of it), whoever revoked them.
 */
export async function revokeGrants(
  deps: Pick<OAuthDeps, 'grants' | 'denylist' | 'clock'>,
  filter: GrantFilter,
  revocation: {
    reason: string;
    tenantId: string | null;
    origin: RequestOrigin | null;
    actor?: { keyId: string | null; userId: string | null } | null;
    detection?: AuditEvent | null;
  },
): Promise<string[]> {
  const { reason, tenantId, origin, actor = null, detection = null } = revocation;
  const now = deps.clock.now();
  const event = createAuditEvent(
    now,
    { type: 'grant.revoked', outcome: 'success', reason, ...actorFields(actor), tenantId, details: { ...filter } },
    origin,
  );
  // The store writes the event with the revocation, and only when something was revoked.
  const { grantIds, deniedTokens } = await deps.grants.revokeGrants(filter, now, reason, [event], detection ? [detection] : []);
  await deps.denylist.announce(deniedTokens);
  return grantIds;
}

