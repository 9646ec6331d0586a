/**
 * Interoperability: real OAuth 2.0 / OpenID Connect client libraries (oauth4webapi, openid-client) drive
 * Gatehouse over real HTTP, used as their documentation shows. The only concession is their
 * allowInsecureRequests option, because the issuer is http on loopback. jose verifies every token against the
 * served JWKS. The person in the browser is played by FormBrowser, which submits the real login and consent forms.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { authorizeThroughForms, createOAuthTestApp, FormBrowser, type OAuthTestApp } from './helpers/oauth.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT_URI = 'https://app.example/callback';

/** OpenID Connect Core 3.1.3.6: the left half of the hash of the access token (SHA-512 for Ed25519). */
function expectedAtHash(accessToken: string, alg: string): string {
  const hash = alg === 'EdDSA' ? 'sha512' : `sha${alg.slice(2)}`;
  const digest = createHash(hash).update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

describe.each(dialects)('interoperability with client libraries (%s)', (dialect) => {
  let t: OAuthTestApp;
  let issuer: URL;
  let user: { id: string; email: string; name: string };
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  beforeAll(async () => {
    t = await createOAuthTestApp({ dialect });
    issuer = new URL(t.issuer);
    user = await t.createUser({ name: 'Katherine Johnson' });
    jwks = createRemoteJWKSet(new URL(`${t.issuer}/.well-known/jwks.json`));
  });
  afterAll(() => t?.close());

  /** RFC 9068 checks with jose: signature against the JWKS, typ at+jwt, iss, aud. */
  async function verifyAccessToken(token: string, audience = t.issuer): Promise<JWTPayload> {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: t.issuer, audience, typ: 'at+jwt' });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ iss: t.issuer, aud: audience, jti: expect.any(String), exp: expect.any(Number), iat: expect.any(Number) });
    return payload;
  }

  /** The ID token with jose: signature, iss, aud = client_id, nonce, and at_hash for the access token. */
  async function verifyIdToken(idToken: string, clientId: string, nonce: string | undefined, accessToken: string): Promise<JWTPayload> {
    const { payload, protectedHeader } = await jwtVerify(idToken, jwks, { issuer: t.issuer, audience: clientId });
    expect(payload).toMatchObject({ sub: user.id, auth_time: expect.any(Number) });
    expect(payload.nonce).toBe(nonce);
    expect(payload.at_hash).toBe(expectedAtHash(accessToken, protectedHeader.alg));
    return payload;
  }

  describe('oauth4webapi', () => {
    const insecure = { [oauth.allowInsecureRequests]: true } as const;
    let as: oauth.AuthorizationServer;

    beforeAll(async () => {
      as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
    });

    it('discovers the OpenID Connect metadata', () => {
      expect(as.issuer).toBe(t.issuer);
      expect(as).toMatchObject({
        authorization_endpoint: `${t.issuer}/oauth/authorize`,
        token_endpoint: `${t.issuer}/oauth/token`,
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      });
    });

    it('client_credentials with client_secret_basic and with client_secret_post', async () => {
      for (const [method, auth] of [
        ['client_secret_basic', oauth.ClientSecretBasic],
        ['client_secret_post', oauth.ClientSecretPost],
      ] as const) {
        const registered = await t.createClient({
          grantTypes: ['client_credentials'],
          redirectUris: [],
          scopes: ['read', 'write'],
          audiences: ['https://api.example'],
          tokenEndpointAuthMethod: method,
        });
        const c: oauth.Client = { client_id: registered.clientId };
        const response = await oauth.clientCredentialsGrantRequest(as, c, auth(registered.clientSecret), { scope: 'read' }, insecure);
        const tokens = await oauth.processClientCredentialsResponse(as, c, response);
        expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 900, scope: 'read' });
        expect(tokens.refresh_token).toBeUndefined();
        const claims = await verifyAccessToken(tokens.access_token, 'https://api.example');
        expect(claims).toMatchObject({ sub: registered.clientId, client_id: registered.clientId, scope: 'read' });
        // The resource server's side of RFC 9068, as oauth4webapi implements it.
        const resourceRequest = new Request('https://api.example/orders', { headers: { authorization: `Bearer ${tokens.access_token}` } });
        expect(await oauth.validateJwtAccessToken(as, resourceRequest, 'https://api.example', insecure)).toMatchObject({
          iss: t.issuer,
          client_id: registered.clientId,
          scope: 'read',
        });
        await expect(oauth.validateJwtAccessToken(as, resourceRequest, 'https://other.example', insecure)).rejects.toThrow(/aud/);
      }
    });

    it('authorization code with PKCE, state and nonce through the forms; userinfo; introspection; refresh rotation; revocation', async () => {
      const registered = await t.createClient({ name: 'oauth4webapi app' });
      const c: oauth.Client = { client_id: registered.clientId };
      const clientAuth = oauth.ClientSecretBasic(registered.clientSecret);
      const browser = new FormBrowser(t.issuer);

      /** One authorization, as the oauth4webapi README does it, ending with the validated token response. */
      const authorize = async () => {
        const codeVerifier = oauth.generateRandomCodeVerifier();
        const state = oauth.generateRandomState();
        const nonce = oauth.generateRandomNonce();
        const authorizationUrl = new URL(as.authorization_endpoint!);
        authorizationUrl.searchParams.set('client_id', c.client_id);
        authorizationUrl.searchParams.set('redirect_uri', REDIRECT_URI);
        authorizationUrl.searchParams.set('response_type', 'code');
        authorizationUrl.searchParams.set('scope', 'openid profile email read');
        authorizationUrl.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
        authorizationUrl.searchParams.set('code_challenge_method', 'S256');
        authorizationUrl.searchParams.set('state', state);
        authorizationUrl.searchParams.set('nonce', nonce);

        const callback = await authorizeThroughForms(browser, authorizationUrl.href, { email: user.email, password: PASSWORD });
        // RFC 9207: the library refuses a response whose iss is missing or is another issuer's.
        const withoutIss = new URL(callback);
        withoutIss.searchParams.delete('iss');
        expect(() => oauth.validateAuthResponse(as, c, withoutIss, state)).toThrow(/iss/);
        const otherIss = new URL(callback);
        otherIss.searchParams.set('iss', 'https://evil.example');
        expect(() => oauth.validateAuthResponse(as, c, otherIss, state)).toThrow(/iss/);
        expect(() => oauth.validateAuthResponse(as, c, callback, oauth.generateRandomState())).toThrow(/state/);

        const params = oauth.validateAuthResponse(as, c, callback, state);
        const response = await oauth.authorizationCodeGrantRequest(as, c, clientAuth, params, REDIRECT_URI, codeVerifier, insecure);
        const tokens = await oauth.processAuthorizationCodeResponse(as, c, response, { expectedNonce: nonce, requireIdToken: true });
        await verifyIdToken(tokens.id_token!, c.client_id, nonce, tokens.access_token);
        expect(await verifyAccessToken(tokens.access_token)).toMatchObject({ sub: user.id, client_id: c.client_id, scope: 'openid profile email read' });
        return { tokens, nonce };
      };

      const first = await authorize();
      expect(first.tokens).toMatchObject({ token_type: 'bearer', expires_in: 900, scope: 'openid profile email read' });
      const idClaims = oauth.getValidatedIdTokenClaims(first.tokens)!;
      expect(idClaims).toMatchObject({ iss: t.issuer, aud: c.client_id, sub: user.id, nonce: first.nonce, name: 'Katherine Johnson', email: user.email });

      const userinfo = await oauth.processUserInfoResponse(as, c, user.id, await oauth.userInfoRequest(as, c, first.tokens.access_token, insecure));
      expect(userinfo).toStrictEqual({ sub: user.id, name: 'Katherine Johnson', email: user.email });

      const introspected = await oauth.processIntrospectionResponse(
        as,
        c,
        await oauth.introspectionRequest(as, c, clientAuth, first.tokens.access_token, insecure),
      );
      expect(introspected).toMatchObject({
        active: true,
        token_type: 'Bearer',
        client_id: c.client_id,
        sub: user.id,
        scope: 'openid profile email read',
        iss: t.issuer,
        aud: t.issuer,
        exp: expect.any(Number),
        iat: expect.any(Number),
        jti: expect.any(String),
      });

      // Refresh rotates the refresh token; the old one then fails (and, being reused, revokes the grant).
      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        c,
        await oauth.refreshTokenGrantRequest(as, c, clientAuth, first.tokens.refresh_token!, insecure),
      );
      expect(refreshed.refresh_token).toBeTruthy();
      expect(refreshed.refresh_token).not.toBe(first.tokens.refresh_token);
      await verifyAccessToken(refreshed.access_token);
      // OpenID Connect Core 12.2: the ID token on refresh is about the same user and carries no nonce.
      expect(oauth.getValidatedIdTokenClaims(refreshed)).toMatchObject({ sub: user.id, auth_time: idClaims.auth_time });
      await verifyIdToken(refreshed.id_token!, c.client_id, undefined, refreshed.access_token);
      const reused = oauth.processRefreshTokenResponse(as, c, await oauth.refreshTokenGrantRequest(as, c, clientAuth, first.tokens.refresh_token!, insecure));
      await expect(reused).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
      const afterReuse = await oauth.processIntrospectionResponse(as, c, await oauth.introspectionRequest(as, c, clientAuth, refreshed.refresh_token!, insecure));
      expect(afterReuse).toStrictEqual({ active: false });

      // A second authorization is immediate (session and consent remembered); then revoke its refresh token.
      const second = await authorize();
      const { access_token: accessToken, refresh_token: refreshToken } = second.tokens;
      const live = await oauth.processIntrospectionResponse(as, c, await oauth.introspectionRequest(as, c, clientAuth, refreshToken!, insecure));
      expect(live).toMatchObject({ active: true, client_id: c.client_id, sub: user.id });
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, c, clientAuth, refreshToken!, insecure));
      for (const token of [refreshToken!, accessToken]) {
        const response = await oauth.processIntrospectionResponse(as, c, await oauth.introspectionRequest(as, c, clientAuth, token, insecure));
        expect(response).toStrictEqual({ active: false });
      }
      const refused = oauth.processUserInfoResponse(as, c, user.id, await oauth.userInfoRequest(as, c, accessToken, insecure));
      await expect(refused).rejects.toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
      await expect(refused).rejects.toMatchObject({ status: 401 });
    });

    it('a public client (token_endpoint_auth_method none) runs the code flow with PKCE', async () => {
      const registered = await t.createClient({ name: 'Native app', tokenEndpointAuthMethod: 'none', redirectUris: ['http://127.0.0.1/callback'] });
      expect(registered.clientSecret).toBeUndefined();
      const c: oauth.Client = { client_id: registered.clientId, token_endpoint_auth_method: 'none' };
      const redirectUri = 'http://127.0.0.1:53682/callback'; // RFC 8252 7.3: any port on loopback
      const codeVerifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const authorizationUrl = new URL(as.authorization_endpoint!);
      for (const [name, value] of Object.entries({
        client_id: c.client_id,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: 'openid email',
        code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      })) {
        authorizationUrl.searchParams.set(name, value);
      }
      const callback = await authorizeThroughForms(new FormBrowser(t.issuer), authorizationUrl.href, { email: user.email, password: PASSWORD });
      expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
      const params = oauth.validateAuthResponse(as, c, callback, state);
      const response = await oauth.authorizationCodeGrantRequest(as, c, oauth.None(), params, redirectUri, codeVerifier, insecure);
      const tokens = await oauth.processAuthorizationCodeResponse(as, c, response, { expectedNonce: nonce, requireIdToken: true });
      expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ sub: user.id, aud: c.client_id, email: user.email });
      await verifyIdToken(tokens.id_token!, c.client_id, nonce, tokens.access_token);
      expect(await verifyAccessToken(tokens.access_token)).toMatchObject({ sub: user.id, client_id: c.client_id, scope: 'openid email' });
    });
  });

  describe('openid-client', () => {
    const options = { execute: [client.allowInsecureRequests] };

    it('discovery, then client_credentials with client_secret_basic and with client_secret_post', async () => {
      for (const [method, auth] of [
        ['client_secret_basic', client.ClientSecretBasic],
        ['client_secret_post', client.ClientSecretPost],
      ] as const) {
        const registered = await t.createClient({
          grantTypes: ['client_credentials'],
          redirectUris: [],
          scopes: ['read', 'write'],
          audiences: ['https://api.example'],
          tokenEndpointAuthMethod: method,
        });
        const config = await client.discovery(issuer, registered.clientId, registered.clientSecret, auth(), options);
        expect(config.serverMetadata()).toMatchObject({ issuer: t.issuer, authorization_response_iss_parameter_supported: true });
        const tokens = await client.clientCredentialsGrant(config, { scope: 'read write' });
        expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 900, scope: 'read write' });
        expect(tokens.refresh_token).toBeUndefined();
        const claims = await verifyAccessToken(tokens.access_token, 'https://api.example');
        expect(claims).toMatchObject({ sub: registered.clientId, client_id: registered.clientId, scope: 'read write' });
      }
    });

    it('its default (the secret in the body) against a client_secret_basic client: invalid_client saying which method to use', async () => {
      const registered = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], audiences: ['https://api.example'] });
      // No client authentication method given: openid-client sends client_secret_post.
      const config = await client.discovery(issuer, registered.clientId, registered.clientSecret, undefined, options);
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['token', () => client.clientCredentialsGrant(config, { scope: 'read' })],
        ['introspect', () => client.tokenIntrospection(config, 'any-token')],
        ['revoke', () => client.tokenRevocation(config, 'any-token')],
      ];
      /** What openid-client reports: a 401 with WWW-Authenticate is a challenge error holding the response. */
      const failure = async (attempt: () => Promise<unknown>) => {
        const error = await attempt().then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(client.WWWAuthenticateChallengeError);
        const { response } = error as client.WWWAuthenticateChallengeError;
        return { status: response.status, body: await response.json() };
      };
      for (const [endpoint, attempt] of attempts) {
        expect(await failure(attempt), endpoint).toEqual({
          status: 401,
          body: {
            error: 'invalid_client',
            error_description:
              'The client authenticated with client_secret_post; it is registered to use client_secret_basic: its client_id and client_secret in an HTTP Basic Authorization header.',
            request_id: expect.any(String),
          },
        });
      }
      // A wrong secret by the right method stays the bare answer: nothing about the secret is told.
      const wrong = await client.discovery(issuer, registered.clientId, 'cs_wrong', client.ClientSecretBasic(), options);
      expect((await failure(() => client.clientCredentialsGrant(wrong, { scope: 'read' }))).body).toMatchObject({
        error: 'invalid_client',
        error_description: 'Client authentication failed.',
      });
    });

    it('"Login with Gatehouse": code flow with PKCE, state and nonce; userinfo; introspection; refresh rotation; revocation', async () => {
      const registered = await t.createClient({ name: 'openid-client app' });
      const config = await client.discovery(issuer, registered.clientId, registered.clientSecret, client.ClientSecretBasic(), options);
      const browser = new FormBrowser(t.issuer);

      /** One login, as the openid-client README does it. */
      const login = async () => {
        const codeVerifier = client.randomPKCECodeVerifier();
        const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
        const state = client.randomState();
        const nonce = client.randomNonce();
        const redirectTo = client.buildAuthorizationUrl(config, {
          redirect_uri: REDIRECT_URI,
          scope: 'openid profile email',
          code_challenge: codeChallenge,
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        const callback = await authorizeThroughForms(browser, redirectTo.href, { email: user.email, password: PASSWORD });
        // RFC 9207: a callback claiming another issuer is refused before any code is redeemed.
        const forged = new URL(callback);
        forged.searchParams.set('iss', 'https://evil.example');
        await expect(client.authorizationCodeGrant(config, forged, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce })).rejects.toMatchObject({
          message: 'invalid response encountered',
          cause: { message: 'unexpected "iss" (issuer) response parameter value' },
        });
        const tokens = await client.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: codeVerifier,
          expectedState: state,
          expectedNonce: nonce,
          idTokenExpected: true,
        });
        await verifyIdToken(tokens.id_token!, registered.clientId, nonce, tokens.access_token);
        expect(await verifyAccessToken(tokens.access_token)).toMatchObject({ sub: user.id, client_id: registered.clientId, scope: 'openid profile email' });
        return { tokens, nonce };
      };

      const first = await login();
      const claims = first.tokens.claims()!;
      expect(claims).toMatchObject({ iss: t.issuer, aud: registered.clientId, sub: user.id, nonce: first.nonce, email: user.email, name: 'Katherine Johnson' });

      expect(await client.fetchUserInfo(config, first.tokens.access_token, claims.sub)).toStrictEqual({
        sub: user.id,
        name: 'Katherine Johnson',
        email: user.email,
      });
      await expect(client.fetchUserInfo(config, first.tokens.access_token, 'usr_someone_else')).rejects.toMatchObject({
        cause: { message: expect.stringContaining('"sub"') },
      });

      expect(await client.tokenIntrospection(config, first.tokens.access_token)).toMatchObject({
        active: true,
        token_type: 'Bearer',
        client_id: registered.clientId,
        sub: user.id,
        scope: 'openid profile email',
        iss: t.issuer,
        aud: t.issuer,
        exp: expect.any(Number),
        iat: expect.any(Number),
        jti: expect.any(String),
      });

      const refreshed = await client.refreshTokenGrant(config, first.tokens.refresh_token!);
      expect(refreshed.refresh_token).toBeTruthy();
      expect(refreshed.refresh_token).not.toBe(first.tokens.refresh_token);
      await verifyAccessToken(refreshed.access_token);
      expect(refreshed.claims()).toMatchObject({ sub: user.id, auth_time: claims.auth_time });
      await verifyIdToken(refreshed.id_token!, registered.clientId, undefined, refreshed.access_token);
      await expect(client.refreshTokenGrant(config, first.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });

      const second = await login();
      const { access_token: accessToken, refresh_token: refreshToken } = second.tokens;
      expect(await client.tokenIntrospection(config, refreshToken!)).toMatchObject({ active: true, sub: user.id });
      await client.tokenRevocation(config, refreshToken!);
      expect(await client.tokenIntrospection(config, refreshToken!)).toStrictEqual({ active: false });
      expect(await client.tokenIntrospection(config, accessToken)).toStrictEqual({ active: false });
      await expect(client.fetchUserInfo(config, accessToken, user.id)).rejects.toMatchObject({ status: 401 });
      await expect(client.refreshTokenGrant(config, refreshToken!)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    it('ID tokens: RS256 by default (OIDC Discovery 3), verified by openid-client against the JWKS; a client registered with EdDSA gets EdDSA; access tokens stay EdDSA', async () => {
      const config0 = await client.discovery(issuer, 'unused', undefined, client.None(), options);
      expect(config0.serverMetadata().id_token_signing_alg_values_supported).toStrictEqual(['RS256', 'EdDSA']);

      const login = async (idTokenAlg: 'RS256' | 'EdDSA' | undefined) => {
        const registered = await t.createClient({ name: `openid-client ${idTokenAlg ?? 'default'}`, ...(idTokenAlg ? { idTokenSignedResponseAlg: idTokenAlg } : {}) });
        expect(registered.idTokenSignedResponseAlg).toBe(idTokenAlg ?? 'RS256');
        // As a stack that knows only what it was told: the client's algorithm (default RS256), and the
        // signature checked against the JWKS (openid-client's non-repudiation checks).
        const config = await client.discovery(
          issuer,
          registered.clientId,
          { client_secret: registered.clientSecret, ...(idTokenAlg ? { id_token_signed_response_alg: idTokenAlg } : {}) },
          client.ClientSecretBasic(),
          { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
        );
        const codeVerifier = client.randomPKCECodeVerifier();
        const nonce = client.randomNonce();
        const state = client.randomState();
        const redirectTo = client.buildAuthorizationUrl(config, {
          redirect_uri: REDIRECT_URI,
          scope: 'openid profile',
          code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        const callback = await authorizeThroughForms(new FormBrowser(t.issuer), redirectTo.href, { email: user.email, password: PASSWORD });
        const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
        const idHeader = (await jwtVerify(tokens.id_token!, jwks, { issuer: t.issuer, audience: registered.clientId, algorithms: [idTokenAlg ?? 'RS256'] })).protectedHeader;
        await verifyIdToken(tokens.id_token!, registered.clientId, nonce, tokens.access_token);
        const accessHeader = (await jwtVerify(tokens.access_token, jwks, { issuer: t.issuer, typ: 'at+jwt', algorithms: ['EdDSA'] })).protectedHeader;
        // The refreshed ID token keeps the client's algorithm too.
        const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
        const refreshedHeader = (await jwtVerify(refreshed.id_token!, jwks, { issuer: t.issuer, audience: registered.clientId })).protectedHeader;
        return { idHeader, accessHeader, refreshedHeader, claims: tokens.claims()! };
      };

      const byDefault = await login(undefined);
      expect(byDefault.idHeader).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: t.services.signingKeys.idTokenKey('RS256').kid });
      expect(byDefault.refreshedHeader.alg).toBe('RS256');
      expect(byDefault.accessHeader).toMatchObject({ alg: 'EdDSA', kid: t.services.signingKeys.current().kid });
      expect(byDefault.idHeader.kid).not.toBe(byDefault.accessHeader.kid);
      expect(byDefault.claims).toMatchObject({ sub: user.id, name: 'Katherine Johnson' });

      const eddsa = await login('EdDSA');
      expect(eddsa.idHeader).toMatchObject({ alg: 'EdDSA', kid: t.services.signingKeys.current().kid });
      expect(eddsa.refreshedHeader.alg).toBe('EdDSA');
      expect(eddsa.accessHeader.alg).toBe('EdDSA');

      const explicit = await login('RS256');
      expect(explicit.idHeader.alg).toBe('RS256');
    });

    it('client_secret_post at every endpoint; revoking an access token (token_type_hint) leaves the refresh token alive', async () => {
      const registered = await t.createClient({ name: 'post app', tokenEndpointAuthMethod: 'client_secret_post' });
      const config = await client.discovery(issuer, registered.clientId, registered.clientSecret, client.ClientSecretPost(), options);
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const redirectTo = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid read',
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      const callback = await authorizeThroughForms(new FormBrowser(t.issuer), redirectTo.href, { email: user.email, password: PASSWORD });
      const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce });
      await verifyIdToken(tokens.id_token!, registered.clientId, nonce, tokens.access_token);
      await verifyAccessToken(tokens.access_token);

      await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
      expect(await client.tokenIntrospection(config, tokens.access_token)).toStrictEqual({ active: false });
      await expect(client.fetchUserInfo(config, tokens.access_token, user.id)).rejects.toMatchObject({ status: 401 });
      expect(await client.tokenIntrospection(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' })).toMatchObject({ active: true });
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(await client.fetchUserInfo(config, refreshed.access_token, user.id)).toStrictEqual({ sub: user.id });
    });
  });
});
