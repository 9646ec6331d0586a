import type { UserRecord } from '../../storage/stores.js';
import { CONSOLE_ADMIN_SCOPE, CONSOLE_CLIENT_ID } from '../oauth/console-client.js';
import type { AccessTokenClaims } from '../tokens/access-token.js';
import type { Privilege } from './credential-policy.js';

/** Why a console access token was refused on the admin API (audited as the `admin.authentication` reason). */
export type ConsoleTokenRefusal =
  /** Not a valid Gatehouse access token: signature, typ (an ID token is `JWT`), iss, exp/nbf/iat. */
  | 'INVALID_TOKEN'
  /** Issued to another client than the console: a third party's token never reaches the admin API. */
  | 'WRONG_CLIENT'
  /** Not issued for the admin API's audience (`<issuer>/v1`). */
  | 'WRONG_AUDIENCE'
  /** Without the gatehouse:admin scope. */
  | 'SCOPE_MISSING'
  /** Its grant was revoked (sign-out, an administrator, a disabled or deleted user). */
  | 'TOKEN_REVOKED'
  /** Its user no longer exists, is being deleted, or is disabled. */
  | 'USER_INACTIVE';

export type ConsoleTokenCheck = { ok: true; userId: string } | { ok: false; reason: ConsoleTokenRefusal };

/**
 * Whether verified access-token claims (undefined: the token did not verify) may act on the admin API: issued to
 * the console client, for `audience`, with the gatehouse:admin scope, and not revoked. Pure; what the user may do
 * is not in the token (see consolePrivilege).
 */
export function checkConsoleToken(
  claims: AccessTokenClaims | undefined,
  expected: { audience: string; isDenied(jti: string): boolean },
): ConsoleTokenCheck {
  if (!claims) return { ok: false, reason: 'INVALID_TOKEN' };
  if (claims.client_id !== CONSOLE_CLIENT_ID) return { ok: false, reason: 'WRONG_CLIENT' };
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!audiences.includes(expected.audience)) return { ok: false, reason: 'WRONG_AUDIENCE' };
  if (!claims.scope.split(' ').includes(CONSOLE_ADMIN_SCOPE)) return { ok: false, reason: 'SCOPE_MISSING' };
  if (expected.isDenied(claims.jti)) return { ok: false, reason: 'TOKEN_REVOKED' };
  return { ok: true, userId: claims.sub };
}

/**
 * What the user of a console token may do, read from the user as it is now (never from the token's claims): the
 * management scopes of its admin roles, within its tenant. A user without roles holds none (every admin route
 * answers 403); a user gone, being deleted or disabled holds nothing at all.
 */
export function consolePrivilege(user: UserRecord | undefined): { ok: true; privilege: Privilege } | { ok: false; reason: 'USER_INACTIVE' } {
  if (!user || user.deletedAt !== null || user.disabledAt !== null) return { ok: false, reason: 'USER_INACTIVE' };
  return { ok: true, privilege: { tenantId: user.tenantId, scopes: user.adminScopes } };
}
