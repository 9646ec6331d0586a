/**
 * Dynamic Client Registration (RFC 7591) and its management protocol (RFC 7592): the paths that succeed, over
 * real HTTP, with oauth4webapi as a real peer client.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, tempDir } from './helpers/databases.js';
import { sinkCredential } from './helpers/log-sink.js';
import { manage, register } from './helpers/registration.js';
import { killSpawned, spawnServer, withFreePorts } from './helpers/spawn-server.js';
import { authorizeThroughForms, createOAuthTestApp, FormBrowser, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

async function token(t: OAuthTestApp, body: Record<string, string>) {
  const response = await fetch(`${t.issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const PASSWORD = 'correct horse battery staple';

describe.each(dialects)('Dynamic Client Registration, open mode (%s)', (dialect) => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({ dialect, env: { GATEHOUSE_CLIENT_REGISTRATION: 'open' } });
  });
  afterAll(() => t.close());

  it('advertises registration_endpoint in both metadata documents', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = (await (await fetch(`${t.issuer}${path}`)).json()) as any;
      expect(metadata.registration_endpoint).toBe(`${t.issuer}/oauth/register`);
    }
  });

  it('registers a public client: 201 per RFC 7591 3.2.1, stored as dynamic, audited with the address', async () => {
    const response = await register(t, {
      redirect_uris: ['http://127.0.0.1:7777/callback', 'https://app.example/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'Editor plugin',
      client_uri: 'https://app.example',
      logo_uri: 'https://app.example/logo.png',
      scope: 'openid read',
      contacts: ['ops@app.example'],
      tos_uri: 'https://app.example/tos',
      policy_uri: 'https://app.example/privacy',
      software_id: 'editor-plugin',
      software_version: '1.2.3',
      jwks_uri: 'https://app.example/jwks.json',
      some_extension: { ignored: true },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = response.body;
    expect(body.client_id).toMatch(/^cli_[0-9A-Za-z]{22}$/);
    expect(body).toStrictEqual({
      client_id: body.client_id,
      client_id_issued_at: Math.floor(t.clock.now() / 1000),
      registration_access_token: expect.stringMatching(/^rat_[0-9A-Za-z]{43}$/),
      registration_client_uri: `${t.issuer}/oauth/register/${body.client_id}`,
      redirect_uris: ['http://127.0.0.1:7777/callback', 'https://app.example/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'Editor plugin',
      client_uri: 'https://app.example',
      logo_uri: 'https://app.example/logo.png',
      scope: 'openid read',
      contacts: ['ops@app.example'],
      tos_uri: 'https://app.example/tos',
      policy_uri: 'https://app.example/privacy',
      software_id: 'editor-plugin',
      software_version: '1.2.3',
    });
    const stored = await t.services.stores.clients.findById(body.client_id);
    expect(stored).toMatchObject({ registration: 'dynamic', audiences: [], scopes: ['openid', 'read'], tenantId: null, registeredAddress: '127.0.0.1', secretHash: null });
    // Only the hash of the registration access token is kept.
    expect(stored!.registrationAccessTokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(body.registration_access_token);
    // The admin API shows how it came to be, and filters by it.
    const viewed = (await t.api('GET', `/v1/clients/${body.client_id}`)).body;
    expect(viewed).toMatchObject({ registration: 'dynamic', registeredAddress: '127.0.0.1', lastUsedAt: null, name: 'Editor plugin' });
    const admin = await t.createClient();
    expect(admin.registration).toBe('admin');
    const dynamicIds = (await t.api('GET', '/v1/clients?registration=dynamic&limit=100')).body.data.map((c: any) => c.clientId);
    expect(dynamicIds).toContain(body.client_id);
    expect(dynamicIds).not.toContain(admin.clientId);
    const adminIds = (await t.api('GET', '/v1/clients?registration=admin&limit=100')).body.data.map((c: any) => c.clientId);
    expect(adminIds).toContain(admin.clientId);
    expect(adminIds).not.toContain(body.client_id);
    expect((await t.api('GET', '/v1/clients?registration=metadata_document')).status).toBe(400);
    await t.services.audit.flush();
    const events = await t.services.stores.audit.list({ limit: 100, type: 'client.registered' });
    const event = events.find((e) => e.details?.clientId === body.client_id);
    expect(event).toMatchObject({ outcome: 'success', ip: '127.0.0.1', details: { mode: 'open', registeredAddress: '127.0.0.1' } });
  });

  it('defaults per RFC 7591: token_endpoint_auth_method none in open mode, grant authorization_code, response code', async () => {
    const response = await register(t, { redirect_uris: ['https://app.example/cb'] });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      client_name: 'Unnamed client',
    });
    expect(response.body.scope).toBeUndefined();
    expect(response.body.client_secret).toBeUndefined();
  });

  it('a registered public client completes authorization code + PKCE and refreshes', async () => {
    const registered = (await register(t, { redirect_uris: ['https://app.example/cb'], grant_types: ['authorization_code', 'refresh_token'], scope: 'openid', client_name: 'MCP client' })).body;
    const user = await t.createUser();
    const { verifier, challenge } = pkcePair();
    const authorize = `/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: registered.client_id,
      redirect_uri: 'https://app.example/cb',
      scope: 'openid',
      state: 's1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;
    const callback = await authorizeThroughForms(new FormBrowser(t.issuer), authorize, { email: user.email, password: PASSWORD });
    const code = callback.searchParams.get('code')!;
    const tokens = await token(t, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/cb', code_verifier: verifier, client_id: registered.client_id });
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', scope: 'openid' });
    sinkCredential(tokens.body.refresh_token);
    const refreshed = await token(t, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: registered.client_id });
    expect(refreshed.status).toBe(200);
    sinkCredential(refreshed.body.refresh_token);
  });

  it('RFC 7592: reads, replaces and deletes the client with its registration access token; deletion ends its grants', async () => {
    const registered = (await register(t, { redirect_uris: ['https://app.example/cb'], grant_types: ['authorization_code', 'refresh_token'], scope: 'openid read', client_name: 'v1', contacts: ['a@app.example'] })).body;
    const uri = registered.registration_client_uri;
    const rat = registered.registration_access_token;

    const read = await manage(uri, 'GET', rat);
    expect(read.status).toBe(200);
    expect(read.headers.get('cache-control')).toBe('no-store');
    const { registration_access_token: _omitted, ...rest } = registered;
    expect(read.body).toStrictEqual(rest);

    const updated = await manage(uri, 'PUT', rat, {
      client_id: registered.client_id,
      redirect_uris: ['https://app.example/cb2'],
      grant_types: ['authorization_code', 'refresh_token'],
      client_name: 'v2',
      scope: 'openid',
      logo_uri: 'https://app.example/v2.png',
    });
    expect(updated.status).toBe(200);
    // A full replacement: contacts, absent from the request, are gone.
    expect(updated.body).toStrictEqual({
      client_id: registered.client_id,
      client_id_issued_at: registered.client_id_issued_at,
      registration_client_uri: uri,
      redirect_uris: ['https://app.example/cb2'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'v2',
      scope: 'openid',
      logo_uri: 'https://app.example/v2.png',
    });
    expect((await manage(uri, 'GET', rat)).body).toStrictEqual(updated.body);
    // The change reaches client lookup at once (the cache is invalidated).
    expect((await t.services.clients.lookup(registered.client_id))?.redirectUris).toStrictEqual(['https://app.example/cb2']);

    // A grant, to see it end with the client.
    const user = await t.createUser();
    const { verifier, challenge } = pkcePair();
    const callback = await authorizeThroughForms(
      new FormBrowser(t.issuer),
      `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: registered.client_id, redirect_uri: 'https://app.example/cb2', scope: 'openid', state: 's', code_challenge: challenge, code_challenge_method: 'S256' })}`,
      { email: user.email, password: PASSWORD },
    );
    const tokens = await token(t, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: 'https://app.example/cb2', code_verifier: verifier, client_id: registered.client_id });
    expect(tokens.status).toBe(200);
    sinkCredential(tokens.body.refresh_token);

    const deleted = await manage(uri, 'DELETE', rat);
    expect(deleted.status).toBe(204);
    expect((await t.services.stores.clients.findById(registered.client_id))?.deletedAt).not.toBeNull();
    expect(await t.services.oauth.findClient(registered.client_id)).toBeUndefined();
    const refresh = await token(t, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: registered.client_id });
    expect(refresh.status).toBe(401);
    const grants = await t.services.stores.grants.findRefreshToken((await import('../src/core/oauth/token-minter.js')).hashToken(tokens.body.refresh_token));
    expect(grants?.grant.revokedAt).not.toBeNull();
    // Gone: the token no longer reads it.
    expect((await manage(uri, 'GET', rat)).status).toBe(401);
  });

  it("oauth4webapi's dynamicClientRegistrationRequest registers a client that then runs the code flow", async () => {
    const insecure = { [oauth.allowInsecureRequests]: true } as const;
    const issuer = new URL(t.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    expect(as.registration_endpoint).toBe(`${t.issuer}/oauth/register`);
    const response = await oauth.dynamicClientRegistrationRequest(
      as,
      { redirect_uris: ['http://127.0.0.1:8123/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], scope: 'openid', client_name: 'oauth4webapi DCR' },
      insecure,
    );
    const client = await oauth.processDynamicClientRegistrationResponse(response);
    sinkCredential(client.registration_access_token as string);
    expect(client.client_id).toMatch(/^cli_/);
    expect(client.token_endpoint_auth_method).toBe('none');

    const user = await t.createUser();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: 'http://127.0.0.1:8123/cb',
      response_type: 'code',
      scope: 'openid',
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    }).toString();
    const callback = await authorizeThroughForms(new FormBrowser(t.issuer), url.href, { email: user.email, password: PASSWORD });
    const params = oauth.validateAuthResponse(as, client, callback, oauth.expectNoState);
    const tokenResponse = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, 'http://127.0.0.1:8123/cb', codeVerifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse, { expectedNonce: oauth.expectNoNonce, requireIdToken: false });
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.scope).toBe('openid');
  });
});

describe('Dynamic Client Registration under an issuer with a path (a real `gatehouse start`)', () => {
  const dir = tempDir('dcr-issuer-path');
  let issuer: string;
  afterAll(async () => {
    await killSpawned();
    dir.remove();
  });

  it('advertises, registers and manages under the path', async () => {
    await withFreePorts(1, async ([port]) => {
      issuer = `http://127.0.0.1:${port}/t1`;
      return spawnServer({
        env: {
          GATEHOUSE_DATA_DIR: dir.path,
          GATEHOUSE_PORT: String(port),
          GATEHOUSE_ISSUER: issuer,
          GATEHOUSE_CLIENT_REGISTRATION: 'open',
          GATEHOUSE_LOG_LEVEL: 'warn',
        },
      });
    });
    const origin = new URL(issuer).origin;
    const metadata = (await (await fetch(`${origin}/.well-known/oauth-authorization-server/t1`)).json()) as any;
    expect(metadata.registration_endpoint).toBe(`${issuer}/oauth/register`);
    const registered = await register({ issuer }, { redirect_uris: ['https://app.example/cb'], client_name: 'under a path' });
    expect(registered.status).toBe(201);
    expect(registered.body.registration_client_uri).toBe(`${issuer}/oauth/register/${registered.body.client_id}`);
    const read = await manage(registered.body.registration_client_uri, 'GET', registered.body.registration_access_token);
    expect(read.status).toBe(200);
    expect(read.body.client_name).toBe('under a path');
  });
});
