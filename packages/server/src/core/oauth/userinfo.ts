import { GatehouseError } from '../errors.js';
import type { OAuthDeps } from './oauth-deps.js';
import { userClaims } from './token-minter.js';

const REALM = 'Bearer realm="gatehouse"';

/** OpenID Connect Core 5.3: the claims about the user that the access token's scopes release. */
export async function userinfo(deps: OAuthDeps, accessToken: string | undefined): Promise<Record<string, unknown>> {
  if (accessToken === undefined) {
    throw new GatehouseError('invalid_token', 'Authentication required.', { headers: { 'www-authenticate': REALM } });
  }
  const claims = deps.verifyAccessToken(accessToken);
  const invalid = () => new GatehouseError('invalid_token', undefined, { headers: { 'www-authenticate': `${REALM}, error="invalid_token"` } });
  if (!claims || deps.denylist.isDenied(claims.jti)) throw invalid();
  const scopes = claims.scope.split(' ');
  if (!scopes.includes('openid')) {
    throw new GatehouseError('insufficient_scope', 'The access token lacks the openid scope.', {
      headers: { 'www-authenticate': `${REALM}, error="insufficient_scope", scope="openid"` },
    });
  }
  const user = await deps.findUser(claims.sub);
  if (!user) throw invalid();
  return { sub: user.id, ...userClaims(user, scopes), ...(user.tenantId !== null ? { tenant_id: user.tenantId } : {}) };
}
