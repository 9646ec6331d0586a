import { refreshTokenGrant } from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAccessToken } from '../src/core/tokens/access-token.js';
import { dialects } from './helpers/databases.js';
import { consoleSignIn } from './helpers/console.js';
import { createOAuthTestApp, type OAuthTestApp } from './helpers/oauth.js';

const PASSWORD = 'correct horse battery staple';

/**
 * Console access tokens on the admin API: only the console's, only for the admin API, only while the grant, the
 * user and its roles last; what the caller may do comes from the user's roles now, never from the token.
 */
describe.each(dialects)('console tokens on the admin API (%s)', (dialect) => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({ dialect });
  });
  afterAll(() => t.close());

  const call = async (method: string, url: string, token: string, body?: unknown) => {
    const r = await t.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: r.statusCode, body: r.json(), challenge: r.headers['www-authenticate'] as string | undefined };
  };
  const signedIn = async (adminScopes: string[], extra: Record<string, unknown> = {}) => {
    const user = await t.createUser({ adminScopes, ...extra });
    const session = await consoleSignIn(t.issuer, t.issuer, { email: user.email, password: PASSWORD });
    return { user, ...session };
  };
  const refusals = async (userId: string | null = null) => {
    await t.services.audit.flush();
    const events = await t.services.stores.audit.list({ type: 'admin.authentication', limit: 200 });
    return events.filter((e) => e.outcome === 'failure' && (userId === null || e.actorUserId === userId)).map((e) => e.reason);
  };

  it('a disabled user is refused at once, and stays refused when enabled again (its grants ended)', async () => {
    const { user, accessToken } = await signedIn(['admin']);
    expect((await call('GET', '/v1/keys', accessToken)).status).toBe(200);
    expect((await t.api('PATCH', `/v1/users/${user.id}`, { body: { disabled: true } })).status).toBe(200);
    const refused = await call('GET', '/v1/keys', accessToken);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_token');
    expect(refused.challenge).toContain('error="invalid_token"');
    expect((await t.api('PATCH', `/v1/users/${user.id}`, { body: { disabled: false } })).status).toBe(200);
    expect((await call('GET', '/v1/keys', accessToken)).status).toBe(401);
    expect(await refusals(null)).toContain('TOKEN_REVOKED');
  });

  it('a role removed or narrowed takes effect at the next request', async () => {
    const { user, accessToken } = await signedIn(['admin']);
    expect((await call('POST', '/v1/keys', accessToken, { name: 'k' })).status).toBe(201);
    expect((await t.api('PATCH', `/v1/users/${user.id}`, { body: { adminScopes: ['keys:read'] } })).status).toBe(200);
    expect((await call('GET', '/v1/keys', accessToken)).status).toBe(200);
    const narrowed = await call('POST', '/v1/keys', accessToken, { name: 'k' });
    expect(narrowed.status).toBe(403);
    expect(narrowed.challenge).toContain('error="insufficient_scope"');
    expect((await call('GET', '/v1/me', accessToken)).body.scopes).toEqual(['keys:read']);
    expect((await t.api('PATCH', `/v1/users/${user.id}`, { body: { adminScopes: [] } })).status).toBe(200);
    expect((await call('GET', '/v1/keys', accessToken)).status).toBe(403);
    expect((await call('GET', '/v1/me', accessToken)).status).toBe(403);
    expect(await refusals(user.id)).toContain('INSUFFICIENT_SCOPE');
  });

  it("a revoked grant and a deleted user are refused", async () => {
    const one = await signedIn(['admin']);
    expect((await t.api('DELETE', `/v1/users/${one.user.id}/grants`)).status).toBe(200);
    expect((await call('GET', '/v1/keys', one.accessToken)).status).toBe(401);
    const two = await signedIn(['admin']);
    expect((await t.api('DELETE', `/v1/users/${two.user.id}`)).status).toBe(204);
    expect((await call('GET', '/v1/keys', two.accessToken)).status).toBe(401);
  });

  it("an administrator ending the user's sessions ends its console access too; its other grants stay", async () => {
    const { user, accessToken, refreshToken, config } = await signedIn(['admin']);
    expect((await t.api('DELETE', `/v1/users/${user.id}/sessions`)).status).toBe(204);
    expect((await call('GET', '/v1/keys', accessToken)).status).toBe(401);
    await expect(refreshTokenGrant(config, refreshToken)).rejects.toThrow();
  });

  it('an expired token is refused (past its 300 s and the 60 s of clock skew every verifier allows)', async () => {
    const { accessToken } = await signedIn(['admin']);
    t.clock.advance(300_000);
    expect((await call('GET', '/v1/keys', accessToken)).status).toBe(200);
    t.clock.advance(61_000);
    try {
      const r = await call('GET', '/v1/keys', accessToken);
      expect(r.status).toBe(401);
      expect(r.challenge).toContain('error="invalid_token"');
    } finally {
      // Later tests sign in with openid-client, which judges times by the real clock.
      t.clock.set(Math.max(Date.now(), t.clock.now() - 361_000));
    }
  });

  it("another client's token is refused, even for an admin user, with the admin API's audience and gatehouse:admin", async () => {
    const user = await t.createUser({ adminScopes: ['admin'] });
    const thirdParty = await t.createClient({
      tokenEndpointAuthMethod: 'none',
      redirectUris: ['https://app.example/callback'],
      scopes: ['openid', 'offline_access', 'gatehouse:admin'],
      audiences: [`${t.issuer}/v1`],
    });
    const session = await consoleSignIn(t.issuer, t.issuer, { email: user.email, password: PASSWORD }, {
      clientId: thirdParty.clientId,
      redirectUri: 'https://app.example/callback',
    });
    const claims = JSON.parse(Buffer.from(session.accessToken.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ aud: `${t.issuer}/v1`, scope: 'openid offline_access gatehouse:admin', sub: user.id });
    const r = await call('GET', '/v1/keys', session.accessToken);
    expect(r.status).toBe(401);
    expect(await refusals()).toContain('WRONG_CLIENT');
  });

  it('scopes come from the roles: a token signed by Gatehouse claiming admin gets nothing for a user without roles', async () => {
    const user = await t.createUser();
    const forged = await issueAccessToken(t.services.signingKeys.current(), {
      issuer: t.issuer,
      subject: user.id,
      audience: `${t.issuer}/v1`,
      clientId: 'cli_console',
      scope: 'gatehouse:admin admin keys:write',
      ttlSeconds: 300,
      now: t.clock.now(),
    });
    const r = await call('GET', '/v1/keys', forged.token);
    expect(r.status).toBe(403);
    expect((await call('POST', '/v1/keys', forged.token, { name: 'x', scopes: ['admin'] })).status).toBe(403);
  });

  it('a token whose scope claim was edited is refused (its signature no longer verifies)', async () => {
    const { accessToken } = await signedIn(['keys:read']);
    const [header, payload, signature] = accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const edited = Buffer.from(JSON.stringify({ ...claims, scope: `${claims.scope} admin` })).toString('base64url');
    expect((await call('GET', '/v1/keys', `${header}.${edited}.${signature}`)).status).toBe(401);
    expect((await call('GET', '/v1/keys', accessToken)).status).toBe(200);
  });

  it('the ID token is not an access token; a token without gatehouse:admin is refused', async () => {
    const { idToken } = await signedIn(['admin']);
    expect((await call('GET', '/v1/keys', idToken)).status).toBe(401);
    const user = await t.createUser({ adminScopes: ['admin'] });
    const plain = await consoleSignIn(t.issuer, t.issuer, { email: user.email, password: PASSWORD }, { scope: 'openid offline_access' });
    expect((await call('GET', '/v1/keys', plain.accessToken)).status).toBe(401);
    expect(await refusals()).toEqual(expect.arrayContaining(['INVALID_TOKEN', 'SCOPE_MISSING']));
  });

  it('no admin role beyond the caller own, and no change to a user who holds more', async () => {
    const usersWriter = await t.createKey({ scopes: ['users:write', 'users:read'] });
    const asWriter = (method: string, url: string, body?: unknown) => t.api(method, url, { key: usersWriter.key, ...(body !== undefined ? { body } : {}) });
    const fresh = () => ({ email: `u${Math.random().toString(36).slice(2)}@example.com`, password: PASSWORD });
    // Confers what it holds, nothing more.
    expect((await asWriter('POST', '/v1/users', { ...fresh(), adminScopes: ['users:read'] })).status).toBe(201);
    const refused = await asWriter('POST', '/v1/users', { ...fresh(), adminScopes: ['admin'] });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('insufficient_scope');
    const plain = await t.createUser();
    expect((await asWriter('PATCH', `/v1/users/${plain.id}`, { adminScopes: ['keys:write'] })).status).toBe(403);
    // An administrator above it: no password reset (a takeover), no disabling, no deletion, no demotion.
    const admin = await t.createUser({ adminScopes: ['admin'] });
    for (const [method, body] of [['PATCH', { password: 'a whole new password' }], ['PATCH', { disabled: true }], ['PATCH', { adminScopes: [] }], ['DELETE', undefined]] as const) {
      expect((await asWriter(method, `/v1/users/${admin.id}`, body)).status, `${method} ${JSON.stringify(body)}`).toBe(403);
    }
    expect((await t.api('GET', `/v1/users/${admin.id}`)).body).toMatchObject({ disabled: false, adminScopes: ['admin'] });
    // A tenant's admin makes admins of its tenant only.
    const tenantAdmin = await t.createKey({ scopes: ['admin'], tenantId: 'acme' });
    const made = await t.api('POST', '/v1/users', { key: tenantAdmin.key, body: { ...fresh(), adminScopes: ['admin'] } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ tenantId: 'acme', adminScopes: ['admin'] });
    expect((await t.api('POST', '/v1/users', { key: tenantAdmin.key, body: { ...fresh(), adminScopes: ['admin'], tenantId: 'other' } })).status).toBe(403);
    // Only management scopes are roles.
    const unknown = await t.api('POST', '/v1/users', { body: { ...fresh(), adminScopes: ['orders:read'] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_request');
    // The refusals are audited with the action.
    await t.services.audit.flush();
    const denied = (await t.services.stores.audit.list({ type: 'admin.authorization', limit: 100 })).filter((e) => e.actorKeyId === usersWriter.id);
    expect(denied.map((e) => e.details?.action).sort()).toEqual(['user.create', 'user.delete', 'user.update', 'user.update', 'user.update', 'user.update']);
  });

  it('an admin user cannot raise its own roles', async () => {
    const { user, accessToken } = await signedIn(['users:write', 'users:read']);
    expect((await call('PATCH', `/v1/users/${user.id}`, accessToken, { adminScopes: ['admin'] })).status).toBe(403);
    expect((await call('PATCH', `/v1/users/${user.id}`, accessToken, { adminScopes: ['users:read', 'users:write', 'keys:write'] })).status).toBe(403);
    expect((await call('PATCH', `/v1/users/${user.id}`, accessToken, { adminScopes: ['users:read'] })).status).toBe(200);
  });
});

describe('the management rate limit applies per admin user', () => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({ env: { GATEHOUSE_MANAGEMENT_RATE_LIMIT: '3/60' } });
  });
  afterAll(() => t.close());

  it('one user exhausting it does not stop another', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 2; i++) {
      const user = await t.createUser({ adminScopes: ['keys:read'] });
      tokens.push((await consoleSignIn(t.issuer, t.issuer, { email: user.email, password: PASSWORD })).accessToken);
    }
    const get = (token: string) => t.app.inject({ method: 'GET', url: '/v1/keys', headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 3; i++) expect((await get(tokens[0]!)).statusCode).toBe(200);
    const limited = await get(tokens[0]!);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toBe('rate_limited');
    expect((await get(tokens[1]!)).statusCode).toBe(200);
  });
});
