import { createAuditEvent } from '../../audit/audit-event.js';
import { OAuthError } from '../../errors.js';
import { tokenTarget } from '../audience.js';
import { allParams, param } from '../request-params.js';
import { revokeGrants } from '../revoke-grants.js';
import { formatScope, parseScope, scopesOutside } from '../scopes.js';
import { hashToken, mintAccessToken, mintIdToken, newRefreshToken, wantsIdToken, type TokenResponse } from '../token-minter.js';
import type { GrantHandler } from '../token-request.js';

const INVALID_GRANT = (reason: string) => new OAuthError('invalid_grant', undefined, { reason });

/**
 * RFC 6749 section 6 with rotation (RFC 9700 section 4.14.2): every use returns a new refresh token and ends
 * the old one; presenting an ended one again means two parties hold it, so the whole grant is revoked. A
 * refresh may narrow the access token's scope, never widen it; the new refresh token keeps the grant's.
 */
export const refreshTokenGrant: GrantHandler = {
  grantType: 'refresh_token',
  async handle(deps, { client, params, origin, certificateThumbprint }) {
    const presented = param(params, 'refresh_token');
    if (presented === undefined) throw new OAuthError('invalid_request', 'The refresh_token parameter is required.');
    const now = deps.clock.now();
    const oldHash = hashToken(presented);
    const found = await deps.grants.findRefreshToken(oldHash);
    if (!found || found.grant.clientId !== client.id) throw INVALID_GRANT(found ? 'refresh token of another client' : 'unknown refresh token');
    const { token, grant } = found;
    if (token.usedAt !== null) {
      await reused(grant.id);
      throw INVALID_GRANT('refresh token reused');
    }
    if (grant.revokedAt !== null) throw INVALID_GRANT('grant revoked');
    if (grant.certificateThumbprint !== null && grant.certificateThumbprint !== certificateThumbprint) {
      throw INVALID_GRANT(certificateThumbprint === undefined ? 'bound refresh token without its certificate' : 'bound refresh token with another certificate');
    }
    if (token.expiresAt <= now || grant.expiresAt <= now) throw INVALID_GRANT('refresh token expired');

    const requested = parseScope(param(params, 'scope'));
    if (requested === undefined) throw new OAuthError('invalid_scope', 'The scope parameter is malformed.');
    const scopes = requested.length > 0 ? requested : token.scopes;
    if (scopesOutside(scopes, token.scopes).length > 0) throw new OAuthError('invalid_scope', 'A refresh cannot widen the scope.');
    // A token per resource: `resource` narrows this token's audience and scope; the refresh token keeps them all.
    const target = await tokenTarget(client, { audience: grant.audience, scopes }, allParams(params, 'resource'), deps);
    const user = grant.userId === null ? undefined : await deps.findUser(grant.userId);
    if (grant.userId !== null && !user) throw INVALID_GRANT('the user no longer exists');

    const key = deps.signingKey();
    const access = await mintAccessToken(deps, key, {
      client,
      subject: grant.userId ?? client.id,
      scopes: target.scopes,
      audience: target.audience,
      tenantId: grant.tenantId,
      authTime: grant.authTime,
      certificateThumbprint,
      maxTtlSeconds: target.maxTtlSeconds,
    });
    const next = newRefreshToken();
    const outcome = await deps.grants.rotateRefreshToken({
      oldHash,
      now,
      next: {
        hash: hashToken(next),
        grantId: grant.id,
        scopes: token.scopes,
        createdAt: now,
        expiresAt: Math.min(now + deps.policy.refreshTokenIdleSeconds * 1000, grant.expiresAt),
        usedAt: null,
      },
      accessToken: { jti: access.jti, grantId: grant.id, expiresAt: access.expiresAt },
      events: [
        createAuditEvent(
          now,
          { type: 'oauth.token', outcome: 'success', tenantId: grant.tenantId, details: { grantType: 'refresh_token', clientId: client.id, userId: grant.userId, grantId: grant.id, jti: access.jti } },
          origin,
        ),
      ],
    });
    if (outcome.outcome === 'reused') {
      // Lost a race with another use of the same token: exactly one request may win, and the grant cannot
      // tell which holder is legitimate, so it ends (no two live token chains).
      await reused(grant.id);
      throw INVALID_GRANT('refresh token reused');
    }
    if (outcome.outcome === 'not_active') throw INVALID_GRANT('refresh token no longer active');

    const response: TokenResponse = { access_token: access.token, token_type: 'Bearer', expires_in: access.ttlSeconds, scope: formatScope(target.scopes), refresh_token: next };
    if (user && grant.authTime !== null && wantsIdToken(scopes)) {
      response.id_token = await mintIdToken(deps, { client, user, scopes, nonce: null, authTime: grant.authTime, accessToken: access.token });
    }
    return response;

    /** Written with the revocation of the grant (one transaction): a webhook event, never lost or invented. */
    async function reused(grantId: string): Promise<void> {
      const detection = createAuditEvent(
        deps.clock.now(),
        { type: 'token.reuse_detected', outcome: 'failure', reason: 'REFRESH_TOKEN_REUSE', tenantId: grant.tenantId, details: { clientId: client.id, grantId } },
        origin,
      );
      await revokeGrants(deps, { grantId }, { reason: 'refresh token reused', tenantId: detection.tenantId, origin, detection });
    }
  },
};
