/**
 * An issuer with a path (GATEHOUSE_ISSUER=http://127.0.0.1:<port>/t1, as Keycloak's /realms/x or Gatehouse
 * mounted under a path by a reverse proxy), on a real `gatehouse start` process: the discovery documents where
 * RFC 8414 section 3.1 and OpenID Connect Discovery section 4 put them, every advertised endpoint answering,
 * oauth4webapi and openid-client as peers discovering from the path issuer, `iss` / `issuer` / JWKS agreeing,
 * the login and consent forms posting under the path. Other paths are 404s; a path over Gatehouse's own
 * routes is refused at start-up.
 */
import { createAuthenticator } from 'gatehouse-sdk';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { tempDir } from './helpers/databases.js';
import { sinkCredential } from './helpers/log-sink.js';
import { tlsRequest } from './helpers/mtls.js';
import { FormBrowser, formAction, hiddenFields } from './helpers/oauth.js';
import { api, killSpawned, runCli, spawnServer, withFreePorts, type SpawnedServer } from './helpers/spawn-server.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT_URI = 'https://app.example/callback';

afterAll(() => killSpawned());

describe('GATEHOUSE_ISSUER with a path', () => {
  const dir = tempDir('issuer-path');
  const rootKey = generateApiKey('live').key;
  let server: SpawnedServer;
  let origin: string;
  let issuer: string;
  let tlsUrl: string;

  beforeAll(async () => {
    // The issuer names the port, so the port is chosen before the start.
    server = await withFreePorts(1, async ([port]) => {
      origin = `http://127.0.0.1:${port}`;
      issuer = `${origin}/t1`;
      return spawnServer({
        env: {
          GATEHOUSE_DATA_DIR: dir.path,
          GATEHOUSE_PORT: String(port),
          GATEHOUSE_TLS_PORT: '0',
          GATEHOUSE_ISSUER: issuer,
          GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
          GATEHOUSE_PASSWORD_HASH_COST: '14',
          GATEHOUSE_LOG_LEVEL: 'warn',
        },
      });
    });
    tlsUrl = server.stdout().match(/mTLS listener on (https:\/\/\S+)/)![1]!;
  });
  afterAll(async () => {
    await server?.stop();
    dir.remove();
  });

  /** The management API, through the issuer's path (as behind a proxy that keeps the prefix). */
  const admin = (method: string, path: string, body?: unknown) => api(issuer, method, path, { key: rootKey, body });

  it('CORS preflights and public metadata answer under the issuer path too', async () => {
    const preflight = await fetch(`${issuer}/oauth/token`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST');
    for (const url of [`${origin}/.well-known/oauth-authorization-server/t1`, `${issuer}/.well-known/openid-configuration`, `${issuer}/.well-known/jwks.json`]) {
      const response = await fetch(url, { headers: { origin: 'https://app.example' } });
      expect(response.status, url).toBe(200);
      expect(response.headers.get('access-control-allow-origin'), url).toBe('*');
    }
  });

  it('serves the metadata at /.well-known/oauth-authorization-server/t1 and /t1/.well-known/openid-configuration, with the issuer byte for byte', async () => {
    for (const path of ['/.well-known/oauth-authorization-server/t1', '/t1/.well-known/openid-configuration', '/t1/.well-known/oauth-authorization-server']) {
      const response = await api(origin, 'GET', path);
      expect(response.status, path).toBe(200);
      expect(response.body).toMatchObject({
        issuer,
        authorization_endpoint: `${issuer}/oauth/authorize`,
        token_endpoint: `${issuer}/oauth/token`,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        userinfo_endpoint: `${issuer}/oauth/userinfo`,
        revocation_endpoint: `${issuer}/oauth/revoke`,
        introspection_endpoint: `${issuer}/oauth/introspect`,
        mtls_endpoint_aliases: {
          token_endpoint: `${tlsUrl}/t1/oauth/token`,
          revocation_endpoint: `${tlsUrl}/t1/oauth/revoke`,
          introspection_endpoint: `${tlsUrl}/t1/oauth/introspect`,
          userinfo_endpoint: `${tlsUrl}/t1/oauth/userinfo`,
        },
      });
    }
  });

  it('another path is not this issuer: 404', async () => {
    for (const [method, path] of [
      ['GET', '/.well-known/oauth-authorization-server/t2'],
      ['GET', '/.well-known/oauth-authorization-server/t1/x'],
      ['GET', '/t2/.well-known/openid-configuration'],
      ['POST', '/t2/oauth/token'],
      ['POST', '/t1x/oauth/token'],
      ['GET', '/t1/oauth/nothing'],
    ] as const) {
      const response = await api(origin, method, path);
      expect(response.status, `${method} ${path}`).toBe(404);
    }
  });

  it('every advertised endpoint answers, under the path and at the root (a proxy that strips the prefix)', async () => {
    const metadata = (await api(origin, 'GET', '/.well-known/oauth-authorization-server/t1')).body;
    const calls: Array<[string, string, number]> = [
      ['GET', metadata.authorization_endpoint, 400],
      ['POST', metadata.token_endpoint, 401],
      ['POST', metadata.revocation_endpoint, 401],
      ['POST', metadata.introspection_endpoint, 401],
      ['GET', metadata.userinfo_endpoint, 401],
      ['GET', metadata.jwks_uri, 200],
    ];
    for (const [method, url, status] of calls) {
      expect(url.startsWith(`${issuer}/`), url).toBe(true);
      const form = method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : undefined;
      for (const target of [url, origin + url.slice(issuer.length)]) {
        const response = await fetch(target, { method, headers: form, body: form ? '' : undefined, signal: AbortSignal.timeout(10_000) });
        await response.text();
        expect(response.status, `${method} ${target}`).toBe(status);
      }
    }
    // The mTLS aliases answer on the TLS listener (no client certificate: the client is not authenticated).
    const ca = await (await fetch(`${issuer}/v1/ca/certificates`)).text();
    const aliased = await tlsRequest(metadata.mtls_endpoint_aliases.introspection_endpoint, {
      ca,
      method: 'POST',
      path: new URL(metadata.mtls_endpoint_aliases.introspection_endpoint).pathname,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=x',
    });
    expect(aliased.status).toBe(401);
  });

  it('oauth4webapi discovers from the path issuer (RFC 8414) and gets a client_credentials token whose iss is the issuer, verified with the advertised JWKS', async () => {
    const insecure = { [oauth.allowInsecureRequests]: true } as const;
    const issuerUrl = new URL(issuer);
    const as = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, { algorithm: 'oauth2', ...insecure }));
    expect(as.issuer).toBe(issuer);
    const created = await admin('POST', '/v1/clients', {
      name: 'service',
      grantTypes: ['client_credentials'],
      redirectUris: [],
      scopes: ['read'],
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
    expect(created.status).toBe(201);
    const c: oauth.Client = { client_id: created.body.clientId };
    const response = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic(created.body.clientSecret), { scope: 'read' }, insecure);
    const tokens = await oauth.processClientCredentialsResponse(as, c, response);
    sinkCredential(tokens.access_token);
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(as.jwks_uri!)), { issuer, audience: issuer, typ: 'at+jwt' });
    expect(payload).toMatchObject({ iss: issuer, client_id: c.client_id, scope: 'read' });
    // Introspection, as the issuer's own endpoint sees the token.
    const introspected = await fetch(as.introspection_endpoint!, {
      method: 'POST',
      headers: { authorization: `Bearer ${rootKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    expect(await introspected.json()).toMatchObject({ active: true, iss: issuer });

    // Gatehouse's own SDK, given the path issuer: discovery, JWKS and /v1/keys/verify all under it.
    const verifier = await admin('POST', '/v1/keys', { name: 'verifier', scopes: ['keys:verify'] });
    const apiKey = await admin('POST', '/v1/keys', { name: 'caller', scopes: ['orders:read'] });
    expect([verifier.status, apiKey.status]).toEqual([201, 201]);
    const authenticator = createAuthenticator({ issuer, audience: issuer, verifierKey: verifier.body.key, revocationStream: false });
    try {
      expect(await authenticator.authenticate(`Bearer ${tokens.access_token}`)).toMatchObject({ ok: true, auth: { kind: 'jwt', clientId: c.client_id } });
      expect(await authenticator.authenticate(`Bearer ${apiKey.body.key}`)).toMatchObject({ ok: true, auth: { kind: 'api_key', keyId: apiKey.body.id } });
    } finally {
      authenticator.close();
    }
  });

  it('openid-client (OIDC discovery appends to the issuer): code flow through login and consent forms posting under the path', async () => {
    const user = { email: 'ada@example.com', password: PASSWORD, name: 'Ada Lovelace' };
    sinkCredential(PASSWORD);
    expect((await admin('POST', '/v1/users', user)).status).toBe(201);
    const created = await admin('POST', '/v1/clients', {
      name: 'web app',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code'],
      scopes: ['openid', 'email'],
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
    expect(created.status).toBe(201);
    const config = await client.discovery(new URL(issuer), created.body.clientId, created.body.clientSecret, client.ClientSecretBasic(), {
      execute: [client.allowInsecureRequests],
    });
    expect(config.serverMetadata().issuer).toBe(issuer);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizeUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    expect(authorizeUrl.href.startsWith(`${issuer}/oauth/authorize?`)).toBe(true);

    const browser = new FormBrowser(origin);
    const loginPage = await (await browser.get(authorizeUrl.href)).text();
    expect(formAction(loginPage)).toBe('/t1/oauth/authorize/login');
    const consent = await browser.submit(formAction(loginPage), { ...hiddenFields(loginPage), email: user.email, password: PASSWORD });
    const consentPage = await consent.text();
    expect(consent.status).toBe(200);
    expect(formAction(consentPage)).toBe('/t1/oauth/authorize/consent');
    const done = await browser.submit(formAction(consentPage), { ...hiddenFields(consentPage), decision: 'allow' });
    expect(done.status).toBe(303);
    const callback = new URL(done.headers.get('location')!);
    expect(callback.searchParams.get('iss')).toBe(issuer);
    sinkCredential(callback.searchParams.get('code')!);
    // The browser's cookies are this issuer's own (named for its path), so instances under other paths of one host keep theirs.
    expect([...browser.cookies.keys()].sort()).toEqual([expect.stringMatching(/^gh_csrf-[0-9a-f]{12}$/), expect.stringMatching(/^gh_session-[0-9a-f]{12}$/)]);

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    sinkCredential(tokens.access_token);
    expect(tokens.claims()).toMatchObject({ iss: issuer, aud: created.body.clientId, email: user.email });
    expect(await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).toMatchObject({ email: user.email });
  });
});

describe('GATEHOUSE_ISSUER whose path would hide Gatehouse routes', () => {
  const dir = tempDir('issuer-path-refused');
  afterAll(() => dir.remove());

  it('is refused at start-up with a clear message, before anything listens or a root key is created', async () => {
    for (const path of ['/v1', '/oauth/x']) {
      const result = await runCli(['start'], {
        env: { GATEHOUSE_DATA_DIR: dir.path, GATEHOUSE_PORT: '0', GATEHOUSE_ISSUER: `http://127.0.0.1:4999${path}` },
      });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`GATEHOUSE_ISSUER's path must not begin with /${path.split('/')[1]}`);
      expect(result.stdout).not.toMatch(/listening|Root admin key/);
    }
    // The refused starts generated no root key that nobody saw: the first real start still prints one.
    const started = await spawnServer({ env: { GATEHOUSE_DATA_DIR: dir.path, GATEHOUSE_ISSUER: 'http://127.0.0.1:4999/auth' } });
    expect(started.stdout()).toMatch(/Root admin key \(shown once[^\n]*\n\n {2}sk_live_/);
    expect((await started.stop()).code).toBe(0);
  });
});
