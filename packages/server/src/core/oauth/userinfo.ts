import { insufficientScopeError, invalidTokenError, missingCredentialsError } from '../errors.js';
import type { OAuthDeps } from './oauth-deps.js';
import { userClaims } from './token-minter.js';

/** OpenID Connect Core 5.3: the claims about the user that the access token's scopes release. */
export async function userinfo(deps: OAuthDeps, accessToken: string | undefined): Promise<Record<string, unknown>> {
  if (accessToken === undefined) {
    throw missingCredentialsError();
  }
  const claims = deps.verifyAccessToken(accessToken);
  if (!claims || deps.denylist.isDenied(claims.jti)) throw invalidTokenError();
  const scopes = claims.scope.split(' ');
  if (!scopes.includes('openid')) {
    throw insufficientScopeError('openid', 'The access token lacks the openid scope.');
  }
  const user = await deps.findUser(claims.sub);
  if (!user) throw invalidTokenError();
  return { sub: user.id, ...userClaims(user, scopes), ...(user.tenantId !== null ? { tenant_id: user.tenantId } : {}) };
}
