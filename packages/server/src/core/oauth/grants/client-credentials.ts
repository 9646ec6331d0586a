import { OAuthError } from '../../errors.js';
import { resolveAudience, resourceTtlCap } from '../audience.js';
import { OPENID_SCOPES, formatScope, parseScope, scopesOutside } from '../scopes.js';
import { mintAccessToken } from '../token-minter.js';
import { allParams, param } from '../request-params.js';
import type { GrantHandler } from '../token-request.js';

const OIDC = new Set<string>(OPENID_SCOPES);

/**
 * RFC 6749 section 4.4: a confidential client asks for a token for itself. Scopes are limited to the client's
 * allowed scopes (all of them, less the OpenID Connect ones, `offline_access` included, when none are asked
 * for); no refresh token.
 * Touches no storage: the hot path of machine-to-machine traffic (counted per client and minute; audited when sampled).
 */
export const clientCredentialsGrant: GrantHandler = {
  grantType: 'client_credentials',
  async handle(deps, { client, params, origin, certificateThumbprint }) {
    const started = performance.now();
    if (client.tokenEndpointAuthMethod === 'none') throw new OAuthError('unauthorized_client', 'Public clients cannot use client_credentials.');
    const requested = parseScope(param(params, 'scope'));
    if (requested === undefined) throw new OAuthError('invalid_scope', 'The scope parameter is malformed.');
    const scopes = requested.length > 0 ? requested : client.scopes.filter((scope) => !OIDC.has(scope));
    const outside = scopesOutside(scopes, client.scopes);
    if (outside.length > 0 || scopes.some((scope) => OIDC.has(scope))) {
      throw new OAuthError('invalid_scope', undefined, { reason: `not allowed: ${formatScope(outside).slice(0, 200)}` });
    }
    const { audience, resources } = await resolveAudience(client, allParams(params, 'resource'), deps);
    const access = await mintAccessToken(deps, deps.signingKey(), {
      client,
      subject: client.id,
      scopes,
      audience,
      tenantId: client.tenantId,
      certificateThumbprint,
      maxTtlSeconds: resourceTtlCap(resources),
    });
    deps.recordSuccess(
      { type: 'oauth.token', outcome: 'success', tenantId: client.tenantId, details: { grantType: 'client_credentials', clientId: client.id, jti: access.jti } },
      origin,
      { clientId: client.id, outcome: 'TOKEN_ISSUED', latencyUs: Math.round((performance.now() - started) * 1000) },
    );
    return { access_token: access.token, token_type: 'Bearer', expires_in: access.ttlSeconds, scope: formatScope(scopes) };
  },
};
