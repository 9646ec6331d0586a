import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataDocument, startDocumentServer, type DocumentServer } from './helpers/document-server.js';
import { authorizeThroughForms, createOAuthTestApp, FormBrowser, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

/** RFC 7523 private_key_jwt for clients whose metadata document publishes a jwks. */

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const REDIRECT = 'http://127.0.0.1:53682/callback';

let documents: DocumentServer;
let t: OAuthTestApp;
let key: CryptoKey;
let otherKey: CryptoKey;
let clientId: string;
let user: { email: string };

beforeAll(async () => {
  documents = await startDocumentServer();
  t = await createOAuthTestApp({
    env: { GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS: 'on', GATEHOUSE_CIMD_ALLOW_LOOPBACK: 'true' },
    metadataDocumentExtraCa: documents.caPem,
  });
  const pair = await generateKeyPair('ES256');
  key = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), alg: 'ES256', use: 'sig', kid: 'k1' };
  clientId = `${documents.origin}/pkjwt/client.json`;
  documents.route('/pkjwt/client.json', {
    body: metadataDocument(clientId, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] }, redirect_uris: [REDIRECT] }),
    headers: { 'cache-control': 'max-age=3600' },
  });
  user = await t.createUser();
});
afterAll(async () => {
  await t.close();
  await documents.close();
});

async function assertion(overrides: { key?: CryptoKey; aud?: string; sub?: string; iss?: string; exp?: number; jti?: string } = {}): Promise<string> {
  const now = Math.floor(t.clock.now() / 1000);
  return new SignJWT({ jti: overrides.jti ?? randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(overrides.iss ?? clientId)
    .setSubject(overrides.sub ?? clientId)
    .setAudience(overrides.aud ?? `${t.issuer}/oauth/token`)
    .setIssuedAt(now)
    .setExpirationTime(overrides.exp ?? now + 60)
    .sign(overrides.key ?? key);
}

async function token(body: Record<string, string>) {
  const response = await fetch(`${t.issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function code(): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkcePair();
  const callback = await authorizeThroughForms(
    new FormBrowser(t.issuer),
    `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: challenge, code_challenge_method: 'S256' })}`,
    { email: user.email, password: 'correct horse battery staple' },
  );
  return { code: callback.searchParams.get('code')!, verifier };
}

describe('private_key_jwt for metadata-document clients', () => {
  it('is advertised when metadata documents are on', async () => {
    const metadata = (await (await fetch(`${t.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, any>;
    expect(metadata.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).toContain('ES256');
  });

  it('exchanges a code and refreshes with client assertions', async () => {
    const grant = await code();
    const issued = await token({
      grant_type: 'authorization_code',
      code: grant.code,
      redirect_uri: REDIRECT,
      code_verifier: grant.verifier,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion(),
    });
    expect(issued.status).toBe(200);
    expect(issued.body.refresh_token).toBeTruthy();
    // client_id in the body too, naming the same client, is accepted; the issuer as aud too.
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: issued.body.refresh_token,
      client_id: clientId,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion({ aud: t.issuer }),
    });
    expect(refreshed.status).toBe(200);
  });

  it.each([
    ['signed by another key', { key: 'other' }, 'client_assertion_invalid'],
    ['for another audience', { aud: 'https://elsewhere.example/token' }, 'client_assertion_invalid'],
    ['issued by someone else', { iss: 'https://evil.example/client.json' }, 'client_assertion_invalid'],
    ['expired', { exp: -60 }, 'client_assertion_invalid'],
    ['valid for too long', { exp: 3600 }, 'client_assertion_lifetime_too_long'],
  ] as const)('refuses an assertion %s', async (_name, change, reason) => {
    const now = Math.floor(t.clock.now() / 1000);
    const signed = await assertion({
      ...('key' in change ? { key: otherKey } : {}),
      ...('aud' in change ? { aud: change.aud } : {}),
      ...('iss' in change ? { iss: change.iss } : {}),
      ...('exp' in change ? { exp: now + change.exp } : {}),
    });
    const response = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_assertion_type: ASSERTION_TYPE, client_assertion: signed });
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
    await t.services.audit.flush();
    const events = await t.services.stores.audit.list({ limit: 1000 });
    expect(events.some((event) => event.type === 'client.authentication' && event.reason === reason)).toBe(true);
  });

  it('refuses a replayed assertion', async () => {
    const signed = await assertion();
    const first = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_assertion_type: ASSERTION_TYPE, client_assertion: signed });
    // Authenticated, then the refresh token is refused: not invalid_client.
    expect(first.body.error).toBe('invalid_grant');
    const again = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_assertion_type: ASSERTION_TYPE, client_assertion: signed });
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid_client');
  });

  it('refuses the client without its assertion, and an assertion with another client_id in the body', async () => {
    const bare = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId });
    expect(bare.status).toBe(401);
    expect(bare.body.error_description).toContain('private_key_jwt');
    const mismatch = await token({
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_id: `${documents.origin}/pkjwt/other.json`,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion(),
    });
    expect(mismatch.status).toBe(401);
    const wrongType = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_assertion_type: 'urn:other', client_assertion: await assertion() });
    expect(wrongType.status).toBe(401);
  });
});

describe('interoperability: oauth4webapi as a metadata-document client', () => {
  const insecure = { [oauth.allowInsecureRequests]: true } as const;

  it('runs the code flow with PKCE and private_key_jwt as the library does it, then refreshes', async () => {
    t.clock.set(Date.now());
    const issuer = new URL(t.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
    expect(as.client_id_metadata_document_supported).toBe(true);
    const c: oauth.Client = { client_id: clientId, token_endpoint_auth_method: 'private_key_jwt' };
    const clientAuth = oauth.PrivateKeyJwt({ key, kid: 'k1' });
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const authorizationUrl = new URL(as.authorization_endpoint!);
    for (const [name, value] of Object.entries({
      client_id: c.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid profile',
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })) {
      authorizationUrl.searchParams.set(name, value);
    }
    const callback = await authorizeThroughForms(new FormBrowser(t.issuer), authorizationUrl.href, { email: user.email, password: 'correct horse battery staple' });
    const params = oauth.validateAuthResponse(as, c, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, c, clientAuth, params, REDIRECT, codeVerifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, c, response, { expectedNonce: nonce, requireIdToken: true });
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ aud: clientId });
    const refreshed = await oauth.processRefreshTokenResponse(as, c, await oauth.refreshTokenGrantRequest(as, c, clientAuth, tokens.refresh_token!, insecure));
    expect(refreshed.access_token).toBeTruthy();
  });
});
