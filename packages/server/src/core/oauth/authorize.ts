import { createHash, randomBytes } from 'node:crypto';
import type { RequestOrigin } from '../audit/audit-event.js';
import { OAuthError } from '../errors.js';
import { newId } from '../random.js';
import type { AuthorizationRequest } from './authorization-request.js';
import { isFirstPartyClient } from './console-client.js';
import type { OAuthDeps, OAuthUserView } from './oauth-deps.js';
import { scopesOutside } from './scopes.js';
import { hashToken, newAuthorizationCode } from './token-minter.js';
import type { SessionRecord } from '../../storage/stores.js';

/** A logged-in browser: the user and when they last proved who they are. */
export interface LoginSession {
  user: OAuthUserView;
  authTime: number;
}

export type NextStep = { step: 'login' } | { step: 'consent' } | { step: 'issue_code' } | { step: 'error'; error: OAuthError };

/**
 * What an authorization request needs next (OpenID Connect Core 3.1.2.1 for prompt and max_age), decided
 * purely. `justAuthenticated`: the user logged in within this very request, so prompt=login is satisfied.
 * Gatehouse's own clients (the console) ask no consent unless prompt=consent: the user signs in to Gatehouse itself.
 */
export function nextAuthorizationStep(
  request: AuthorizationRequest,
  session: LoginSession | null,
  consentedScopes: readonly string[] | null,
  now: number,
  justAuthenticated: boolean,
): NextStep {
  const tooOld = session !== null && request.maxAgeSeconds !== null && now - session.authTime > request.maxAgeSeconds * 1000;
  const needsLogin = session === null || (!justAuthenticated && (request.prompt.login || tooOld));
  if (needsLogin) return request.prompt.none ? { step: 'error', error: new OAuthError('login_required') } : { step: 'login' };
  const consented = isFirstPartyClient(request.client.id) || (consentedScopes !== null && scopesOutside(request.scopes, consentedScopes).length === 0);
  const needsConsent = request.prompt.consent || !consented;
  if (needsConsent) return request.prompt.none ? { step: 'error', error: new OAuthError('consent_required') } : { step: 'consent' };
  return { step: 'issue_code' };
}

/** A user may only authorise a client of their own tenant (clients without a tenant serve everyone). */
export function userMayUseClient(user: OAuthUserView, request: AuthorizationRequest): boolean {
  return request.client.tenantId === null || request.client.tenantId === user.tenantId;
}

/** What the reuse of a PKCE challenge is answered with (at the client's redirect URI). */
export const CHALLENGE_REUSED_DESCRIPTION = 'This code_challenge was already used: start a new authorization request with a new code_verifier.';

/**
 * Issues a single-use authorization code bound to the client, redirect URI, challenge and user; or, when the
 * client already has a code for this code_challenge (a challenge is single-use: RFC 9700 sections 2.1.1 and 4.8),
 * issues none and answers invalid_request, audited (`oauth.authorization`, reason `code_challenge_reused`) and
 * alerted (`alert.pkce_challenge_reused`). The store decides atomically, so this holds across processes.
 */
export async function issueAuthorizationCode(
  deps: Pick<OAuthDeps, 'grants' | 'clock' | 'policy' | 'audit' | 'alert'>,
  request: AuthorizationRequest,
  session: LoginSession,
  origin: RequestOrigin,
): Promise<{ ok: true; code: string } | { ok: false; error: OAuthError }> {
  const now = deps.clock.now();
  const code = newAuthorizationCode();
  const tenantId = request.client.tenantId ?? session.user.tenantId;
  const outcome = await deps.grants.insertCode({
    hash: hashToken(code),
    clientId: request.client.id,
    userId: session.user.id,
    tenantId: request.client.tenantId ?? session.user.tenantId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    scopes: request.scopes,
    audience: request.audience,
    nonce: request.nonce,
    authTime: session.authTime,
    createdAt: now,
    expiresAt: now + deps.policy.authorizationCodeSeconds * 1000,
    redeemedAt: null,
    grantId: null,
  });
  if (outcome === 'challenge_reused') {
    const details = { clientId: request.client.id, userId: session.user.id, redirectUri: request.redirectUri };
    deps.audit({ type: 'oauth.authorization', outcome: 'failure', reason: 'code_challenge_reused', tenantId, details }, origin);
    deps.alert({ type: 'alert.pkce_challenge_reused', cause: `client:${request.client.id}`, reason: 'code_challenge_reused', ip: origin.ip, tenantId, details });
    return { ok: false, error: new OAuthError('invalid_request', CHALLENGE_REUSED_DESCRIPTION) };
  }
  deps.audit(
    {
      type: 'oauth.authorization',
      outcome: 'success',
      tenantId: request.client.tenantId ?? session.user.tenantId,
      details: { clientId: request.client.id, userId: session.user.id, scopes: request.scopes },
    },
    origin,
  );
  return { ok: true, code };
}

/** Creates a login session; returns the cookie value (only its hash is stored). */
export async function createLoginSession(deps: Pick<OAuthDeps, 'sessions' | 'clock' | 'policy'>, user: OAuthUserView): Promise<{ cookieValue: string; session: SessionRecord }> {
  const now = deps.clock.now();
  const cookieValue = randomBytes(32).toString('base64url');
  const session: SessionRecord = {
    hash: hashToken(cookieValue),
    id: newId('ses'),
    userId: user.id,
    authTime: now,
    createdAt: now,
    expiresAt: now + deps.policy.sessionSeconds * 1000,
    revokedAt: null,
  };
  await deps.sessions.insert(session);
  return { cookieValue, session };
}

/** The session a cookie names, if it is live and its user still exists. */
export async function findLoginSession(deps: Pick<OAuthDeps, 'sessions' | 'clock' | 'findUser'>, cookieValue: string | undefined): Promise<LoginSession | null> {
  if (!cookieValue || cookieValue.length > 100) return null;
  const record = await deps.sessions.find(hashToken(cookieValue));
  if (!record || record.revokedAt !== null || record.expiresAt <= deps.clock.now()) return null;
  const user = await deps.findUser(record.userId);
  return user ? { user, authTime: record.authTime } : null;
}

/** The hash of an email for audit events about failed logins: recognisable, never the address itself. */
export function emailFingerprint(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 16);
}
