import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';
import type { Kysely } from 'kysely';
import { hashToken } from '../src/core/oauth/token-minter.js';
import { findSecrets } from '../src/core/secret-scanning/find-secrets.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { authorizeThroughForms, basicAuth, createOAuthTestApp, FormBrowser, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

async function token(t: OAuthTestApp, body: Record<string, string>, auth?: string) {
  const response = await fetch(`${t.issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
    body: new URLSearchParams(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

describe.each(dialects)('OAuth authorization server, happy paths (%s)', (dialect) => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({ dialect });
  });
  afterAll(() => t.close());

  it('publishes RFC 8414 / OpenID Connect metadata with the exact issuer', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const response = await fetch(`${t.issuer}${path}`);
      expect(response.status).toBe(200);
      const metadata = (await response.json()) as any;
      expect(metadata.issuer).toBe(t.issuer);
      expect(metadata.code_challenge_methods_supported).toStrictEqual(['S256']);
      expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
      expect(metadata.response_types_supported).toStrictEqual(['code']);
      expect(metadata.grant_types_supported).not.toContain('implicit');
      expect(metadata.grant_types_supported).not.toContain('password');
      expect(metadata.token_endpoint).toBe(`${t.issuer}/oauth/token`);
      // OpenID Connect Discovery 1.0 section 3: RS256 is required; the access-token algorithm is offered too.
      expect(metadata.id_token_signing_alg_values_supported).toStrictEqual(['RS256', 'EdDSA']);
    }
  });

  it('runs the authorization code flow with PKCE through the login and consent forms', async () => {
    const client = await t.createClient();
    const user = await t.createUser({ name: 'Grace Hopper' });
    const browser = new FormBrowser(t.issuer);
    const { verifier, challenge } = pkcePair();
    const authorize = `/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: 'https://app.example/callback',
      scope: 'openid profile email read',
      state: 'xyz state/with?odd&chars',
      nonce: 'n-0S6_WzA2Mj',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;
    const callback = await authorizeThroughForms(browser, authorize, { email: user.email, password: 'correct horse battery staple' });
    expect(`${callback.origin}${callback.pathname}`).toBe('https://app.example/callback');
    expect(callback.searchParams.get('state')).toBe('xyz state/with?odd&chars');
    expect(callback.searchParams.get('iss')).toBe(t.issuer);
    const code = callback.searchParams.get('code')!;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const response = await token(
      t,
      { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/callback', code_verifier: verifier },
      basicAuth(client.clientId, client.clientSecret),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'openid profile email read' });
    // Gatehouse's own prefix (ghr_ is GitHub's), which the scanner reports as a Gatehouse refresh token.
    expect(response.body.refresh_token).toMatch(/^gatehouse_rt_[0-9A-Za-z_-]{43}$/);
    expect(findSecrets(response.body.refresh_token, { allFormats: true }).map((m) => m.kind)).toEqual(['gatehouse_refresh_token']);

    const jwks = createRemoteJWKSet(new URL(`${t.issuer}/.well-known/jwks.json`));
    const access = await jwtVerify(response.body.access_token, jwks, { issuer: t.issuer, typ: 'at+jwt', algorithms: ['EdDSA'] });
    expect(access.payload).toMatchObject({ sub: user.id, client_id: client.clientId, scope: 'openid profile email read', aud: t.issuer });
    // The ID token is RS256 (the default of id_token_signed_response_alg), signed by the RS256 key of the set.
    const id = await jwtVerify(response.body.id_token, jwks, { issuer: t.issuer, audience: client.clientId, algorithms: ['RS256'] });
    expect(id.protectedHeader.kid).toBe(t.services.signingKeys.idTokenKey('RS256').kid);
    expect(id.payload).toMatchObject({ sub: user.id, nonce: 'n-0S6_WzA2Mj', name: 'Grace Hopper', email: user.email });
    expect(id.payload.auth_time).toBeTypeOf('number');
    expect(id.payload.at_hash).toBeTypeOf('string');

    const userinfo = await fetch(`${t.issuer}/oauth/userinfo`, { headers: { authorization: `Bearer ${response.body.access_token}` } });
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toStrictEqual({ sub: user.id, name: 'Grace Hopper', email: user.email });

    // The consent is remembered: a second authorization (with a fresh challenge: each is single-use) goes
    // straight back with a code.
    const again = await browser.get(authorize.replace(challenge, pkcePair().challenge));
    expect(again.status).toBe(303);
    expect(new URL(again.headers.get('location')!).searchParams.get('code')).toBeTruthy();

    // Refresh rotates; the old refresh token then fails and revokes the grant.
    const refreshed = await token(t, { grant_type: 'refresh_token', refresh_token: response.body.refresh_token, scope: 'read' }, basicAuth(client.clientId, client.clientSecret));
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.scope).toBe('read');
    expect(refreshed.body.refresh_token).not.toBe(response.body.refresh_token);
    const local = createLocalJWKSet((await (await fetch(`${t.issuer}/.well-known/jwks.json`)).json()) as any);
    expect((await jwtVerify(refreshed.body.access_token, local)).payload.scope).toBe('read');
  });

  it('a public client registered with http://localhost:3000/cb completes the code flow on another port (RFC 8252 7.3)', async () => {
    const client = await t.createClient({ tokenEndpointAuthMethod: 'none', redirectUris: ['http://localhost:3000/cb'], scopes: ['openid', 'read'] });
    expect(client.redirectUris).toStrictEqual(['http://localhost:3000/cb']);
    const user = await t.createUser();
    const { verifier, challenge } = pkcePair();
    const redirectUri = 'http://localhost:51234/cb';
    const params = { response_type: 'code', client_id: client.clientId, scope: 'openid read', state: 's', code_challenge: challenge, code_challenge_method: 'S256' };
    // 127.0.0.1 is another host: no match, an error page rather than a redirect.
    const other = await fetch(`${t.issuer}/oauth/authorize?${new URLSearchParams({ ...params, redirect_uri: 'http://127.0.0.1:3000/cb' })}`, { redirect: 'manual' });
    expect(other.status).toBe(400);
    const callback = await authorizeThroughForms(new FormBrowser(t.issuer), `/oauth/authorize?${new URLSearchParams({ ...params, redirect_uri: redirectUri })}`, {
      email: user.email,
      password: 'correct horse battery staple',
    });
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    const response = await token(t, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, client_id: client.clientId, code_verifier: verifier });
    expect(response.status).toBe(200);
    expect(response.body.access_token).toBeTypeOf('string');
  });

  it('issues client-credentials tokens limited to the client scopes, with no refresh token', async () => {
    const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read', 'write'], audiences: ['https://api.example'] });
    const response = await token(t, { grant_type: 'client_credentials', scope: 'read' }, basicAuth(client.clientId, client.clientSecret));
    expect(response.status).toBe(200);
    expect(response.body.refresh_token).toBeUndefined();
    const jwks = createRemoteJWKSet(new URL(`${t.issuer}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(response.body.access_token, jwks, { issuer: t.issuer, audience: 'https://api.example', typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: client.clientId, client_id: client.clientId, scope: 'read' });
  });

  it('client credentials with no scope grant the client scopes less every OpenID Connect one, offline_access included', async () => {
    const client = await t.createClient({
      grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
      scopes: ['read', 'openid', 'profile', 'email', 'offline_access'],
      audiences: ['https://api.example'],
    });
    const auth = basicAuth(client.clientId, client.clientSecret);
    const byDefault = await token(t, { grant_type: 'client_credentials' }, auth);
    expect(byDefault.status).toBe(200);
    expect(byDefault.body.scope).toBe('read');
    const jwks = createRemoteJWKSet(new URL(`${t.issuer}/.well-known/jwks.json`));
    expect((await jwtVerify(byDefault.body.access_token, jwks)).payload.scope).toBe('read');
    const asked = await token(t, { grant_type: 'client_credentials', scope: 'read offline_access' }, auth);
    expect(asked.status).toBe(400);
    expect(asked.body.error).toBe('invalid_scope');
  });

  it('takes the audience from RFC 8707 resource (only registered ones) and stamps tenant_id', async () => {
    const client = await t.createClient({
      grantTypes: ['client_credentials'],
      redirectUris: [],
      scopes: ['read'],
      audiences: ['https://api.example', 'https://billing.example'],
      tenantId: 'acme',
    });
    const auth = basicAuth(client.clientId, client.clientSecret);
    const jwks = createRemoteJWKSet(new URL(`${t.issuer}/.well-known/jwks.json`));
    const byDefault = await token(t, { grant_type: 'client_credentials' }, auth);
    expect((await jwtVerify(byDefault.body.access_token, jwks)).payload).toMatchObject({ aud: 'https://api.example', tenant_id: 'acme' });
    const billing = await token(t, { grant_type: 'client_credentials', resource: 'https://billing.example' }, auth);
    expect((await jwtVerify(billing.body.access_token, jwks, { audience: 'https://billing.example' })).payload.aud).toBe('https://billing.example');
    const unregistered = await token(t, { grant_type: 'client_credentials', resource: 'https://evil.example' }, auth);
    expect(unregistered.status).toBe(400);
    expect(unregistered.body.error).toBe('invalid_target');
    const withFragment = await token(t, { grant_type: 'client_credentials', resource: 'https://api.example#x' }, auth);
    expect(withFragment.body.error).toBe('invalid_target');
  });

  it('lets only users of its tenant authorise a tenant-bound client', async () => {
    const client = await t.createClient({ tenantId: 'acme' });
    const insider = await t.createUser({ tenantId: 'acme' });
    const outsider = await t.createUser({ tenantId: 'globex' });
    const authorize = (challenge: string) =>
      `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: 'https://app.example/callback', scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' })}`;
    await expect(authorizeThroughForms(new FormBrowser(t.issuer), authorize(pkcePair().challenge), { email: outsider.email, password: 'correct horse battery staple' })).rejects.toThrow(/expected a redirect, got 400/);
    const { verifier, challenge } = pkcePair();
    const callback = await authorizeThroughForms(new FormBrowser(t.issuer), authorize(challenge), { email: insider.email, password: 'correct horse battery staple' });
    const response = await token(
      t,
      { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: 'https://app.example/callback', code_verifier: verifier },
      basicAuth(client.clientId, client.clientSecret),
    );
    const jwks = createRemoteJWKSet(new URL(`${t.issuer}/.well-known/jwks.json`));
    expect((await jwtVerify(response.body.access_token, jwks)).payload).toMatchObject({ sub: insider.id, tenant_id: 'acme' });
  });

  it('keeps honouring refresh tokens issued with the earlier ghr_ prefix: introspection, refresh and revocation', async () => {
    const client = await t.createClient();
    const user = await t.createUser();
    const { verifier, challenge } = pkcePair();
    const callback = await authorizeThroughForms(
      new FormBrowser(t.issuer),
      `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: 'https://app.example/callback', scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' })}`,
      { email: user.email, password: 'correct horse battery staple' },
    );
    const auth = basicAuth(client.clientId, client.clientSecret);
    const issued = await token(t, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: 'https://app.example/callback', code_verifier: verifier }, auth);
    // Stored as an earlier version stored it: the hash of a ghr_ token (only hashes are stored).
    const legacy = `ghr_${issued.body.refresh_token.slice('gatehouse_rt_'.length)}`;
    const db = (t.services.stores.grants as unknown as { db: Kysely<any> }).db;
    await db.updateTable('oauth_refresh_tokens').set({ hash: hashToken(legacy) }).where('hash', '=', hashToken(issued.body.refresh_token)).execute();
    const introspect = async (tokenValue: string) =>
      (await fetch(`${t.issuer}/oauth/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
        body: new URLSearchParams({ token: tokenValue }),
      }).then((r) => r.json())) as any;
    expect(await introspect(legacy)).toMatchObject({ active: true, token_use: 'refresh_token', client_id: client.clientId });
    const refreshed = await token(t, { grant_type: 'refresh_token', refresh_token: legacy }, auth);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toMatch(/^gatehouse_rt_/);
    expect(await introspect(legacy)).toEqual({ active: false });
    const revoked = await fetch(`${t.issuer}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: new URLSearchParams({ token: refreshed.body.refresh_token }),
    });
    expect(revoked.status).toBe(200);
    expect(await introspect(refreshed.body.refresh_token)).toEqual({ active: false });
  });

  it('admin endpoints revoke all grants of a user or of a client', async () => {
    const client = await t.createClient();
    const user = await t.createUser();
    const grant = async () => {
      const { verifier, challenge } = pkcePair();
      const callback = await authorizeThroughForms(
        new FormBrowser(t.issuer),
        `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: 'https://app.example/callback', scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' })}`,
        { email: user.email, password: 'correct horse battery staple' },
      );
      return (
        await token(
          t,
          { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: 'https://app.example/callback', code_verifier: verifier },
          basicAuth(client.clientId, client.clientSecret),
        )
      ).body;
    };
    const refreshFails = async (refresh: string) =>
      (await token(t, { grant_type: 'refresh_token', refresh_token: refresh }, basicAuth(client.clientId, client.clientSecret))).body.error === 'invalid_grant';

    const first = [await grant(), await grant()];
    const byUser = await t.api('DELETE', `/v1/users/${user.id}/grants`);
    expect(byUser.status).toBe(200);
    expect(byUser.body).toStrictEqual({ revokedGrants: 2 });
    for (const tokens of first) expect(await refreshFails(tokens.refresh_token)).toBe(true);

    const second = await grant();
    const byClient = await t.api('DELETE', `/v1/clients/${client.clientId}/grants`);
    expect(byClient.body).toStrictEqual({ revokedGrants: 1 });
    expect(await refreshFails(second.refresh_token)).toBe(true);
    const introspected = await fetch(`${t.issuer}/oauth/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client.clientId, client.clientSecret) },
      body: new URLSearchParams({ token: second.access_token }),
    });
    expect(await introspected.json()).toStrictEqual({ active: false });
    expect((await t.api('DELETE', '/v1/users/usr_unknown/grants')).status).toBe(404);
  });
});
