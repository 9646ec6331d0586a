import { createAuditEvent } from '../../audit/audit-event.js';
import { OAuthError } from '../../errors.js';
import { newId } from '../../random.js';
import { tokenTarget } from '../audience.js';
import { verifyPkce } from '../pkce.js';
import { param, allParams } from '../request-params.js';
import { revokeGrants } from '../revoke-grants.js';
import { formatScope } from '../scopes.js';
import { hashToken, mintAccessToken, mintIdToken, newRefreshToken, wantsIdToken, type TokenResponse } from '../token-minter.js';
import type { GrantHandler } from '../token-request.js';

const INVALID_GRANT = (reason: string) => new OAuthError('invalid_grant', undefined, { reason });

/**
 * RFC 6749 section 4.1.3 with PKCE (RFC 7636) and the Security BCP (RFC 9700 section 2.1.1, 4.5): the code
 * is single-use, short-lived, bound to the client, the redirect URI and the S256 challenge. Redeeming a code
 * twice revokes every token issued from it.
 */
export const authorizationCodeGrant: GrantHandler = {
  grantType: 'authorization_code',
  async handle(deps, { client, params, origin, certificateThumbprint }) {
    const code = param(params, 'code');
    if (code === undefined) throw new OAuthError('invalid_request', 'The code parameter is required.');
    const redirectUri = param(params, 'redirect_uri');
    if (redirectUri === undefined) throw new OAuthError('invalid_request', 'The redirect_uri parameter is required.');
    const verifier = param(params, 'code_verifier');

    const now = deps.clock.now();
    const codeHash = hashToken(code);
    const record = await deps.grants.findCode(codeHash);
    if (!record || record.clientId !== client.id) throw INVALID_GRANT(record ? 'code issued to another client' : 'unknown code');
    if (record.redeemedAt !== null) {
      await replayed(record.grantId);
      throw INVALID_GRANT('code replayed');
    }
    if (record.expiresAt <= now) throw INVALID_GRANT('code expired');
    if (record.redirectUri !== redirectUri) throw INVALID_GRANT('redirect_uri differs from the authorization request');
    // Every code carries an S256 challenge; a token request without a verifier, or with a wrong one, fails
    // (and so does a "downgrade" that sends a verifier for a code that has no challenge: there is none).
    if (verifier === undefined) throw new OAuthError('invalid_grant', 'The code_verifier parameter is required.', { reason: 'no code_verifier' });
    if (!verifyPkce(record.codeChallenge, verifier)) throw INVALID_GRANT('PKCE verification failed');

    const user = await deps.findUser(record.userId);
    if (!user) throw INVALID_GRANT('the user no longer exists');
    // A token per resource: `resource` narrows this token's audience and scope; the grant keeps them all.
    const target = await tokenTarget(client, record, allParams(params, 'resource'), deps);
    const tenantId = client.tenantId ?? user.tenantId;

    const key = deps.signingKey();
    const access = await mintAccessToken(deps, key, {
      client,
      subject: user.id,
      scopes: target.scopes,
      audience: target.audience,
      tenantId,
      authTime: record.authTime,
      certificateThumbprint,
      maxTtlSeconds: target.maxTtlSeconds,
    });
    const grantId = newId('grt');
    const refreshToken = client.grantTypes.includes('refresh_token') ? newRefreshToken() : null;
    const grantExpiresAt = now + deps.policy.refreshTokenAbsoluteSeconds * 1000;
    const outcome = await deps.grants.redeemCode({
      codeHash,
      now,
      grant: {
        id: grantId,
        clientId: client.id,
        userId: user.id,
        tenantId,
        scopes: record.scopes,
        audience: record.audience,
        authTime: record.authTime,
        createdAt: now,
        expiresAt: grantExpiresAt,
        revokedAt: null,
        revokedReason: null,
        // RFC 8705 section 4: a public client's refresh tokens are bound to the certificate it used (a confidential
        // client's are bound to its authentication already).
        certificateThumbprint: client.tokenEndpointAuthMethod === 'none' ? (certificateThumbprint ?? null) : null,
      },
      refreshToken: refreshToken === null ? null : {
        hash: hashToken(refreshToken),
        grantId,
        scopes: record.scopes,
        createdAt: now,
        expiresAt: Math.min(now + deps.policy.refreshTokenIdleSeconds * 1000, grantExpiresAt),
        usedAt: null,
      },
      accessToken: { jti: access.jti, grantId, expiresAt: access.expiresAt },
      events: [
        createAuditEvent(
          now,
          { type: 'oauth.token', outcome: 'success', tenantId, details: { grantType: 'authorization_code', clientId: client.id, userId: user.id, grantId, jti: access.jti } },
          origin,
        ),
      ],
    });
    if (outcome.outcome === 'already_redeemed') {
      // Lost a race with another redemption of the same code: that is a replay too.
      await replayed(outcome.grantId);
      throw INVALID_GRANT('code replayed');
    }
    if (outcome.outcome === 'not_redeemable') throw INVALID_GRANT('code expired');

    const response: TokenResponse = { access_token: access.token, token_type: 'Bearer', expires_in: access.ttlSeconds, scope: formatScope(target.scopes) };
    if (refreshToken) response.refresh_token = refreshToken;
    if (wantsIdToken(record.scopes)) {
      response.id_token = await mintIdToken(deps, { client, user, scopes: record.scopes, nonce: record.nonce, authTime: record.authTime, accessToken: access.token });
    }
    return response;

    /** Written with the revocation of the grant issued from the code (one transaction). */
    async function replayed(grantId: string | null): Promise<void> {
      const input = { type: 'token.reuse_detected', outcome: 'failure', reason: 'CODE_REPLAY', tenantId: client.tenantId, details: { clientId: client.id, grantId } } as const;
      // A redeemed code always names its grant; without one there is nothing to revoke, and only the audit log hears of it.
      if (!grantId) return deps.audit(input, origin);
      const detection = createAuditEvent(deps.clock.now(), input, origin);
      await revokeGrants(deps, { grantId }, { reason: 'authorization code replayed', tenantId: client.tenantId, origin, detection });
    }
  },
};
