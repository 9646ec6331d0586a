import { insufficientScopeError, invalidTokenError, missingCredentialsError } from '../errors.js';
import type { OAuthDeps } from './oauth-deps.js';
import { userClaims } from './token-minter.js';

/** The certificate thumbprint a token is bound to (RFC 8705 section 3.1 `cnf.x5t#S256`), if any. */
export function boundCertificate(claims: Record<string, unknown>): unknown {
  const cnf = claims.cnf;
  return typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
}

/**
 * OpenID Connect Core 5.3: the claims about the user that the access token's scopes release. A certificate-bound
 * token (RFC 8705 section 3) is accepted only with the certificate it is bound to (`certificateThumbprint`: the
 * x5t#S256 of the request's verified client certificate). Also returns the client the token was issued to (its
 * registered web origins decide CORS).
 */
export async function userinfo(
  deps: OAuthDeps,
  accessToken: string | undefined,
  certificateThumbprint?: string,
): Promise<{ claims: Record<string, unknown>; clientId: string }> {
  if (accessToken === undefined) {
    throw missingCredentialsError();
  }
  const claims = deps.verifyAccessToken(accessToken);
  if (!claims || deps.denylist.isDenied(claims.jti)) throw invalidTokenError();
  const bound = boundCertificate(claims);
  if (bound !== undefined && bound !== certificateThumbprint) throw invalidTokenError();
  const scopes = claims.scope.split(' ');
  if (!scopes.includes('openid')) {
    throw insufficientScopeError('openid', 'The access token lacks the openid scope.');
  }
  const user = await deps.findUser(claims.sub);
  if (!user) throw invalidTokenError();
  return {
    claims: { sub: user.id, ...userClaims(user, scopes), ...(user.tenantId !== null ? { tenant_id: user.tenantId } : {}) },
    clientId: claims.client_id,
  };
}
