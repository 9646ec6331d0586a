import { describe, expect, it } from 'vitest';
import { checkConsoleToken, consolePrivilege } from '../src/core/authorization/console-token.js';
import { nextAuthorizationStep } from '../src/core/oauth/authorize.js';
import type { AuthorizationRequest } from '../src/core/oauth/authorization-request.js';
import { consoleAudience, consoleClient } from '../src/core/oauth/console-client.js';
import type { AccessTokenClaims } from '../src/core/tokens/access-token.js';
import type { UserRecord } from '../src/storage/stores.js';

const ISSUER = 'https://auth.example.com';
const AUDIENCE = consoleAudience(ISSUER);
const claims = (overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  iss: ISSUER,
  sub: 'usr_1',
  aud: AUDIENCE,
  exp: 2_000_000_000,
  iat: 1_999_999_700,
  jti: 'jti_1',
  client_id: 'cli_console',
  scope: 'openid offline_access gatehouse:admin',
  ...overrides,
});
const check = (c: AccessTokenClaims | undefined, denied: string[] = []) => checkConsoleToken(c, { audience: AUDIENCE, isDenied: (jti) => denied.includes(jti) });

describe('checkConsoleToken (pure)', () => {
  it.each([
    ['a token that did not verify', undefined, 'INVALID_TOKEN'],
    ["another client's", claims({ client_id: 'cli_0123456789012345678901' }), 'WRONG_CLIENT'],
    ['for another audience', claims({ aud: 'https://api.example.com' }), 'WRONG_AUDIENCE'],
    ['the issuer as audience', claims({ aud: ISSUER }), 'WRONG_AUDIENCE'],
    ['without gatehouse:admin', claims({ scope: 'openid offline_access' }), 'SCOPE_MISSING'],
    ['a scope merely starting with it', claims({ scope: 'gatehouse:administrator' }), 'SCOPE_MISSING'],
  ] as const)('refuses %s', (_name, input, reason) => {
    expect(check(input)).toEqual({ ok: false, reason });
  });

  it('refuses a denied token, and accepts the same token otherwise (audience in a list too)', () => {
    expect(check(claims(), ['jti_1'])).toEqual({ ok: false, reason: 'TOKEN_REVOKED' });
    expect(check(claims())).toEqual({ ok: true, userId: 'usr_1' });
    expect(check(claims({ aud: ['https://api.example.com', AUDIENCE] }))).toEqual({ ok: true, userId: 'usr_1' });
  });

  it("the audience follows the issuer, with or without a trailing slash", () => {
    expect(consoleAudience('https://auth.example.com/')).toBe('https://auth.example.com/v1');
    expect(consoleAudience('https://example.com/auth')).toBe('https://example.com/auth/v1');
  });
});

describe('consolePrivilege (pure): from the user as it is now, never from the token', () => {
  const user = (overrides: Partial<UserRecord> = {}): UserRecord => ({
    id: 'usr_1', email: 'a@example.com', passwordHash: 'x', name: null, tenantId: null, createdAt: 0, updatedAt: 0,
    deletedAt: null, disabledAt: null, adminScopes: ['keys:read'], ...overrides,
  });
  it('the roles and tenant of a live user; nothing for one gone, being deleted or disabled', () => {
    expect(consolePrivilege(user({ tenantId: 'acme' }))).toEqual({ ok: true, privilege: { tenantId: 'acme', scopes: ['keys:read'] } });
    expect(consolePrivilege(user({ adminScopes: [] }))).toEqual({ ok: true, privilege: { tenantId: null, scopes: [] } });
    expect(consolePrivilege(undefined)).toEqual({ ok: false, reason: 'USER_INACTIVE' });
    expect(consolePrivilege(user({ deletedAt: 1 }))).toEqual({ ok: false, reason: 'USER_INACTIVE' });
    expect(consolePrivilege(user({ disabledAt: 1 }))).toEqual({ ok: false, reason: 'USER_INACTIVE' });
  });
});

describe('the console asks no consent (pure)', () => {
  const request = (clientId: string, prompt: { consent?: boolean } = {}): AuthorizationRequest => ({
    client: { ...consoleClient(ISSUER), id: clientId },
    redirectUri: `${ISSUER}/console/callback`,
    state: undefined,
    scopes: ['openid', 'gatehouse:admin'],
    audience: [consoleAudience(ISSUER)],
    codeChallenge: 'challenge',
    nonce: null,
    prompt: { none: false, login: false, consent: prompt.consent ?? false },
    maxAgeSeconds: null,
    raw: '',
  });
  const session = { user: { id: 'usr_1', email: 'a@example.com', name: null, tenantId: null }, authTime: 0 };
  it('first party: no consent; any other client: consent; prompt=consent: consent for the console too; login always', () => {
    expect(nextAuthorizationStep(request('cli_console'), session, null, 1, false)).toEqual({ step: 'issue_code' });
    expect(nextAuthorizationStep(request('cli_0123456789012345678901'), session, null, 1, false)).toEqual({ step: 'consent' });
    expect(nextAuthorizationStep(request('cli_console', { consent: true }), session, null, 1, false)).toEqual({ step: 'consent' });
    expect(nextAuthorizationStep(request('cli_console'), null, null, 1, false)).toEqual({ step: 'login' });
  });
});
