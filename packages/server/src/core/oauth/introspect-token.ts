import type { OAuthDeps } from './oauth-deps.js';
import { hashToken, isRefreshTokenShaped } from './token-minter.js';
import { formatScope } from './scopes.js';

/** Who asks: a client sees only its own tokens; an admin key sees its tenant's (or all, without a tenant). */
export type IntrospectionCaller = { kind: 'client'; clientId: string } | { kind: 'admin'; tenantId: string | null };

export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

const INACTIVE: IntrospectionResponse = Object.freeze({ active: false });

function visible(caller: IntrospectionCaller, clientId: string, tenantId: string | null): boolean {
  return caller.kind === 'client' ? caller.clientId === clientId : caller.tenantId === null || caller.tenantId === tenantId;
}

/**
 * Whether Gatehouse never issued `token`: a refresh token it has no record of, or anything that is not an access
 * token signed by one of its keys for its issuer, expired or not (forged, malformed, random). Expired, revoked
 * and other clients' tokens are known. What the introspection and revocation endpoints count per caller.
 */
export function isUnknownAccessToken(deps: Pick<OAuthDeps, 'verifyAccessToken'>, token: string): boolean {
  return deps.verifyAccessToken(token, { anyTime: true }) === undefined;
}

/**
 * RFC 7662. Anything invalid, expired, revoked, unknown or not the caller's to see is exactly
 * `{"active": false}`: nothing distinguishes one reason from another. `unknown` (not in the response) says
 * whether Gatehouse never issued the token (see isUnknownAccessToken), for the per-caller unknown-token limit.
 */
export async function introspectToken(deps: OAuthDeps, caller: IntrospectionCaller, token: string): Promise<{ response: IntrospectionResponse; unknown: boolean }> {
  const inactive = { response: INACTIVE, unknown: false };
  const now = deps.clock.now();
  if (isRefreshTokenShaped(token)) {
    const found = await deps.grants.findRefreshToken(hashToken(token));
    if (!found) return { response: INACTIVE, unknown: true };
    const { token: record, grant } = found;
    const live = record.usedAt === null && grant.revokedAt === null && record.expiresAt > now && grant.expiresAt > now;
    if (!live || !visible(caller, grant.clientId, grant.tenantId)) return inactive;
    const response: IntrospectionResponse = {
      active: true,
      token_use: 'refresh_token',
      client_id: grant.clientId,
      ...(grant.userId !== null ? { sub: grant.userId } : {}),
      scope: formatScope(record.scopes),
      iss: deps.issuer(),
      iat: Math.floor(record.createdAt / 1000),
      exp: Math.floor(record.expiresAt / 1000),
      ...(grant.tenantId !== null ? { tenant_id: grant.tenantId } : {}),
      ...(grant.certificateThumbprint !== null ? { cnf: { 'x5t#S256': grant.certificateThumbprint } } : {}),
    };
    return { response, unknown: false };
  }
  const claims = deps.verifyAccessToken(token);
  if (!claims) return { response: INACTIVE, unknown: isUnknownAccessToken(deps, token) };
  if (deps.denylist.isDenied(claims.jti)) return inactive;
  if (!visible(caller, claims.client_id, claims.tenant_id ?? null)) return inactive;
  return { response: { ...claims, active: true, token_type: 'Bearer', token_use: 'access_token' }, unknown: false };
}
