import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { consoleSignIn } from './helpers/console.js';
import { authorizeThroughForms, createOAuthTestApp, FormBrowser, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

const PASSWORD = 'correct horse battery staple';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The console signs in through Gatehouse's own OAuth flow, and its access tokens act on the admin API as its user. */
describe.each(dialects)('console sign-in and the admin API (%s)', (dialect) => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({ dialect });
  });
  afterAll(() => t.close());

  const adminUser = (body: Record<string, unknown> = {}) => t.createUser({ adminScopes: ['admin'], ...body });
  const call = (method: string, url: string, token: string, body?: unknown) =>
    t.app.inject({ method: method as 'GET', url, headers: { ...bearer(token), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });

  it('the console client exists on every start: public, PKCE, its redirect URIs under the issuer, no consent asked', async () => {
    const user = await adminUser();
    const browser = new FormBrowser(t.issuer);
    const { challenge } = pkcePair();
    const authorize = new URL(`${t.issuer}/oauth/authorize`);
    for (const [name, value] of Object.entries({
      response_type: 'code',
      client_id: 'cli_console',
      redirect_uri: `${t.issuer}/console/callback`,
      scope: 'openid offline_access gatehouse:admin',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 's',
    })) authorize.searchParams.set(name, value);
    // 'deny' would be chosen on a consent page; there is none, so the code comes back.
    const callback = await authorizeThroughForms(browser, authorize.href, { email: user.email, password: PASSWORD }, 'deny');
    expect(callback.origin + callback.pathname).toBe(`${t.issuer}/console/callback`);
    expect(callback.searchParams.get('code')).toBeTruthy();
    // Without PKCE, or to another redirect URI, it is refused like any client.
    authorize.searchParams.delete('code_challenge');
    expect((await browser.get(authorize.href)).headers.get('location')).toContain('error=invalid_request');
    authorize.searchParams.set('code_challenge', challenge);
    authorize.searchParams.set('redirect_uri', 'https://evil.example/console/callback');
    expect((await browser.get(authorize.href)).status).toBe(400);
    // Not a registered client: not listed, not readable, not changeable, not deletable through the admin API.
    const listed = await t.api('GET', '/v1/clients?limit=100');
    expect(listed.body.data.map((c: any) => c.clientId)).not.toContain('cli_console');
    for (const [method, url] of [['GET', '/v1/clients/cli_console'], ['PATCH', '/v1/clients/cli_console'], ['DELETE', '/v1/clients/cli_console']] as const) {
      const r = await t.api(method, url, method === 'PATCH' ? { body: { name: 'mine' } } : {});
      expect([400, 404]).toContain(r.status);
    }
  });

  it("an admin user's access token acts on the admin API like an admin key, audited as the user", async () => {
    const user = await adminUser({ name: 'Grace' });
    const session = await consoleSignIn(t.issuer, t.issuer, { email: user.email, password: PASSWORD });
    const claims = JSON.parse(Buffer.from(session.accessToken.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ client_id: 'cli_console', aud: `${t.issuer}/v1`, sub: user.id, scope: 'openid offline_access gatehouse:admin' });
    expect(claims.exp - claims.iat).toBe(300);

    const me = await call('GET', '/v1/me', session.accessToken);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ kind: 'user', id: user.id, name: 'Grace', email: user.email, tenantId: null, scopes: ['admin'] });

    const created = await call('POST', '/v1/keys', session.accessToken, { name: 'made in the console', scopes: ['orders:read'] });
    expect(created.statusCode).toBe(201);
    expect(created.headers['ratelimit-limit'] ?? created.headers['x-ratelimit-limit']).toBeDefined();
    await t.services.audit.flush();
    const events = await t.services.stores.audit.list({ type: 'key.created', limit: 100 });
    const event = events.find((e) => e.keyId === created.json().id)!;
    expect(event).toMatchObject({ actorKeyId: null, actorUserId: user.id });
    const listed = await t.api('GET', `/v1/audit-events?type=key.created&limit=100`);
    expect(listed.body.data.find((e: any) => e.keyId === created.json().id)).toMatchObject({ actorKeyId: null, actorUserId: user.id });
  });

  it('GET /v1/me names an admin key too', async () => {
    const key = await t.createKey({ name: 'reader', scopes: ['keys:read', 'orders:read'], tenantId: 'acme' });
    const me = await call('GET', '/v1/me', key.key);
    expect(me.json()).toEqual({ kind: 'key', id: key.id, name: 'reader', email: null, tenantId: 'acme', scopes: ['keys:read'] });
    const plain = await t.createKey({ scopes: ['orders:read'] });
    expect((await call('GET', '/v1/me', plain.key)).statusCode).toBe(403);
  });

  it('refresh tokens rotate; a replayed one ends the grant', async () => {
    const user = await adminUser();
    const session = await consoleSignIn(t.issuer, t.issuer, { email: user.email, password: PASSWORD });
    const refreshed = await client.refreshTokenGrant(session.config, session.refreshToken);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(session.refreshToken);
    expect((await call('GET', '/v1/me', refreshed.access_token)).statusCode).toBe(200);
    await expect(client.refreshTokenGrant(session.config, session.refreshToken)).rejects.toThrow();
    // The replay revoked the family: the rotated refresh token and the access tokens stop too.
    await expect(client.refreshTokenGrant(session.config, refreshed.refresh_token!)).rejects.toThrow();
    expect((await call('GET', '/v1/me', refreshed.access_token)).statusCode).toBe(401);
  });

  it("sign-out ends the session and the console's grant: its access and refresh tokens stop at once", async () => {
    const user = await adminUser();
    const session = await consoleSignIn(t.issuer, t.issuer, { email: user.email, password: PASSWORD });
    expect((await call('GET', '/v1/me', session.accessToken)).statusCode).toBe(200);
    const url = client.buildEndSessionUrl(session.config, { id_token_hint: session.idToken, post_logout_redirect_uri: `${t.issuer}/console/` });
    const response = await session.browser.get(url.href);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`${t.issuer}/console/`);
    const refused = await call('GET', '/v1/me', session.accessToken);
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
    await expect(client.refreshTokenGrant(session.config, session.refreshToken)).rejects.toThrow();
    // The login session is over too: the next authorization asks for the password again.
    const again = await session.browser.get(client.buildAuthorizationUrl(session.config, {
      redirect_uri: `${t.issuer}/console/callback`, scope: 'openid gatehouse:admin', code_challenge: pkcePair().challenge, code_challenge_method: 'S256',
    }).href);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('name="password"');
  });
});
