import { createAuditEvent, type RequestOrigin } from '../audit/audit-event.js';
import { OAuthError } from '../errors.js';
import type { OAuthClientView, OAuthDeps } from './oauth-deps.js';
import { param, type RequestParams } from './request-params.js';
import { revokeGrants } from './revoke-grants.js';
import { isUnknownAccessToken } from './introspect-token.js';
import { hashToken, isRefreshTokenShaped } from './token-minter.js';

/**
 * RFC 7009: revokes a refresh token (and with it its whole grant: every refresh and access token issued from
 * it) or an access token (by jti, on the denylist until it expires). A token that is invalid, unknown, or
 * another client's is answered like a revoked one (section 2.2) and left alone, so the endpoint tells
 * nothing about tokens the caller does not hold. Resolves to whether Gatehouse never issued the token
 * (isUnknownAccessToken, or a refresh token it has no record of), for the per-client unknown-token limit.
 */
export async function revokeToken(deps: OAuthDeps, client: OAuthClientView, params: RequestParams, origin: RequestOrigin): Promise<{ unknown: boolean }> {
  const token = param(params, 'token');
  if (token === undefined) throw new OAuthError('invalid_request', 'The token parameter is required.');
  if (isRefreshTokenShaped(token)) {
    const found = await deps.grants.findRefreshToken(hashToken(token));
    if (found && found.grant.clientId === client.id) {
      await revokeGrants(deps, { grantId: found.grant.id }, { reason: 'refresh token revoked by the client', tenantId: found.grant.tenantId, origin });
    }
    return { unknown: !found };
  }
  const claims = deps.verifyAccessToken(token);
  if (!claims) return { unknown: isUnknownAccessToken(deps, token) };
  if (claims.client_id !== client.id) return { unknown: false };
  const now = deps.clock.now();
  const denied = { jti: claims.jti, expiresAt: claims.exp * 1000 };
  await deps.grants.denyToken(denied, now, [
    createAuditEvent(now, { type: 'oauth.revocation', outcome: 'success', tenantId: claims.tenant_id ?? null, details: { clientId: client.id, jti: claims.jti } }, origin),
  ]);
  await deps.denylist.announce([denied]);
  return { unknown: false };
}
