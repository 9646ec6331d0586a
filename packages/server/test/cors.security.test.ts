/**
 * CORS (http/plugins/cors.ts): which endpoints a page on another origin may call, through app.inject with the
 * Origin header a browser sends. Every browser endpoint × {the client's registered origin, another client's,
 * an unregistered one, no Origin}, the preflights, and the routes that must send no CORS header at all.
 * The real browser's side is packages/sdk/test/browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCredentialFailure } from '../src/core/detection/failed-auth-tracker.js';
import { authorizeThroughForms, basicAuth, createOAuthTestApp, FormBrowser, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

const APP = 'https://app.example'; // registered on client A
const OTHER = 'https://other-client.example'; // registered on client B only
const UNREGISTERED = 'https://evil.example';
const ORIGINS = { registered: APP, 'another client': OTHER, unregistered: UNREGISTERED, none: undefined } as const;
const REDIRECT = 'https://app.example/callback';
const PASSWORD = 'correct horse battery staple';

type Headers = Record<string, string | string[] | number | undefined>;
const noCorsHeaders = (headers: Headers) => Object.keys(headers).filter((name) => name.startsWith('access-control-'));

describe('CORS', () => {
  let t: OAuthTestApp;
  let clientA: any;
  let clientB: any;
  let user: any;
  let browser: FormBrowser;

  beforeAll(async () => {
    t = await createOAuthTestApp();
    clientA = await t.createClient({ name: 'SPA', tokenEndpointAuthMethod: 'none', redirectUris: [REDIRECT], allowedOrigins: [APP, 'http://127.0.0.1:5173'] });
    clientB = await t.createClient({ name: 'Other', redirectUris: [REDIRECT], allowedOrigins: [OTHER] });
    user = await t.createUser();
    browser = new FormBrowser(t.issuer);
  });
  afterAll(() => t?.close());

  /** A fresh authorization code (and its verifier) for a client, through the real login and consent forms. */
  async function code(clientId: string): Promise<{ code: string; verifier: string }> {
    const { verifier, challenge } = pkcePair();
    const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: 'openid profile', state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
    const callback = await authorizeThroughForms(browser, `/oauth/authorize?${query}`, { email: user.email, password: PASSWORD });
    return { code: callback.searchParams.get('code')!, verifier };
  }

  const post = (url: string, form: Record<string, string>, headers: Record<string, string | undefined> = {}) =>
    t.app.inject({
      method: 'POST',
      url,
      payload: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) },
    });
  const redeem = (c: { code: string; verifier: string }, origin?: string) =>
    post('/oauth/token', { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: REDIRECT, client_id: clientA.clientId }, { origin });

  async function tokensOfA(): Promise<{ access_token: string; refresh_token: string }> {
    const response = await redeem(await code(clientA.clientId));
    expect(response.statusCode).toBe(200);
    return response.json();
  }

  describe('token endpoint (client A, public, allowedOrigins [https://app.example])', () => {
    it.each(Object.entries(ORIGINS))('Origin %s', async (kind, origin) => {
      const c = await code(clientA.clientId);
      const response = await redeem(c, origin);
      expect(response.headers.vary).toBe('Origin');
      expect(response.headers).not.toHaveProperty('access-control-allow-credentials');
      if (kind === 'registered') {
        expect(response.statusCode).toBe(200);
        expect(response.headers['access-control-allow-origin']).toBe(APP);
        expect(response.json().access_token).toEqual(expect.any(String));
        return;
      }
      if (kind === 'none') {
        expect(response.statusCode).toBe(200);
        expect(noCorsHeaders(response.headers)).toStrictEqual([]);
        return;
      }
      // Refused before anything happened: no CORS approval, and the code was not spent.
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toBe('unauthorized_client');
      expect(noCorsHeaders(response.headers)).toStrictEqual([]);
      expect((await redeem(c, APP)).statusCode).toBe(200);
    });

    it('a refused origin is audited (client.authentication, origin_not_allowed), and not counted as a guessed credential', async () => {
      const c = await code(clientA.clientId);
      expect((await redeem(c, UNREGISTERED)).statusCode).toBe(400);
      await t.services.audit.flush();
      const events = await t.services.stores.audit.list({ type: 'client.authentication', limit: 50 });
      const refused = events.filter((event) => event.reason === 'origin_not_allowed');
      const event = refused.find((e) => (e.details as Record<string, unknown> | null)?.origin === UNREGISTERED);
      expect(event).toMatchObject({ outcome: 'failure', details: { clientId: clientA.clientId, origin: UNREGISTERED } });
      expect(isCredentialFailure(event!)).toBe(false);
    });

    it("a confidential client's registered origin works with Basic authentication; A's origin does not", async () => {
      const c = await code(clientB.clientId);
      const form = { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: REDIRECT };
      const auth = basicAuth(clientB.clientId, clientB.clientSecret);
      const refused = await post('/oauth/token', form, { origin: APP, authorization: auth });
      expect(refused.statusCode).toBe(400);
      expect(noCorsHeaders(refused.headers)).toStrictEqual([]);
      const allowed = await post('/oauth/token', form, { origin: OTHER, authorization: auth });
      expect(allowed.statusCode).toBe(200);
      expect(allowed.headers['access-control-allow-origin']).toBe(OTHER);
    });

    it('an error for a known client is readable from its origin; a failed client authentication from no origin', async () => {
      const wrong = await post('/oauth/token', { grant_type: 'authorization_code', code: 'nope', code_verifier: 'x'.repeat(43), redirect_uri: REDIRECT, client_id: clientA.clientId }, { origin: APP });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json().error).toBe('invalid_grant');
      expect(wrong.headers['access-control-allow-origin']).toBe(APP);
      const unknown = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'cli_0000000000000000000000' }, { origin: APP });
      expect(unknown.statusCode).toBe(401);
      expect(noCorsHeaders(unknown.headers)).toStrictEqual([]);
    });

    it('refresh_token from the registered origin', async () => {
      const tokens = await tokensOfA();
      const refreshed = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientA.clientId }, { origin: APP });
      expect(refreshed.statusCode).toBe(200);
      expect(refreshed.headers['access-control-allow-origin']).toBe(APP);
    });
  });

  describe('requests without an Origin (servers), and Gatehouse\'s own origins', () => {
    it('a failed client authentication without an Origin still says Vary: Origin and approves no origin', async () => {
      const response = await post('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(clientB.clientId, 'not-the-secret') });
      expect(response.statusCode).toBe(401);
      expect(response.json().error).toBe('invalid_client');
      expect(response.headers.vary).toBe('Origin');
      expect(noCorsHeaders(response.headers)).toStrictEqual([]);
    });

    it('follow the issuer when it changes (it is set once the listener knows its port)', async () => {
      const revoke = (origin: string) => post('/oauth/revoke', { token: 'not-a-token', client_id: clientA.clientId }, { origin });
      const config = t.services.config as { issuer: string };
      const issuer = config.issuer;
      const moved = 'https://moved.example';
      // Gatehouse's own origin: not cross-origin, so not refused (client A never registered it).
      const own = await revoke(new URL(issuer).origin);
      expect(own.statusCode).toBe(200);
      expect(noCorsHeaders(own.headers)).toStrictEqual([]);
      expect((await revoke(moved)).statusCode).toBe(400);
      config.issuer = `${moved}/`;
      try {
        const now = await revoke(moved);
        expect(now.statusCode).toBe(200);
        expect(noCorsHeaders(now.headers)).toStrictEqual([]);
        const before = await revoke(new URL(issuer).origin);
        expect(before.statusCode).toBe(400);
        expect(before.json().error).toBe('unauthorized_client');
      } finally {
        config.issuer = issuer;
      }
      expect((await revoke(new URL(issuer).origin)).statusCode).toBe(200);
    });
  });

  describe('revocation endpoint', () => {
    it.each(Object.entries(ORIGINS))('Origin %s', async (kind, origin) => {
      const tokens = await tokensOfA();
      const response = await post('/oauth/revoke', { token: tokens.refresh_token, client_id: clientA.clientId }, { origin });
      expect(response.headers.vary).toBe('Origin');
      expect(response.headers).not.toHaveProperty('access-control-allow-credentials');
      const refresh = () => post('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientA.clientId });
      if (kind === 'registered' || kind === 'none') {
        expect(response.statusCode).toBe(200);
        expect(response.headers['access-control-allow-origin']).toBe(kind === 'registered' ? APP : undefined);
        expect((await refresh()).statusCode).toBe(400); // revoked
        return;
      }
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toBe('unauthorized_client');
      expect(noCorsHeaders(response.headers)).toStrictEqual([]);
      expect((await refresh()).statusCode).toBe(200); // nothing was revoked
    });
  });

  describe('userinfo: the origins of the client the token was issued to', () => {
    it.each(Object.entries(ORIGINS))('Origin %s, GET and POST', async (kind, origin) => {
      const { access_token } = await tokensOfA();
      for (const method of ['GET', 'POST'] as const) {
        const response = await t.app.inject({ method, url: '/oauth/userinfo', headers: { authorization: `Bearer ${access_token}`, ...(origin ? { origin } : {}) } });
        expect(response.statusCode).toBe(200);
        expect(response.json().sub).toBe(user.id);
        expect(response.headers.vary).toBe('Origin');
        if (kind === 'registered') expect(response.headers['access-control-allow-origin']).toBe(APP);
        else expect(noCorsHeaders(response.headers)).toStrictEqual([]);
      }
    });

    it("client B's token is readable from B's origin, not A's", async () => {
      const c = await code(clientB.clientId);
      const form = { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: REDIRECT };
      const { access_token } = (await post('/oauth/token', form, { authorization: basicAuth(clientB.clientId, clientB.clientSecret) })).json();
      const read = (origin: string) => t.app.inject({ method: 'GET', url: '/oauth/userinfo', headers: { authorization: `Bearer ${access_token}`, origin } });
      expect((await read(OTHER)).headers['access-control-allow-origin']).toBe(OTHER);
      expect((await read(APP)).headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('preflights', () => {
    const preflight = (url: string, origin: string, method = 'POST') =>
      t.app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type, dpop' } });

    it.each(['/oauth/token', '/oauth/revoke', '/oauth/userinfo'])('%s: 204 for any registrable origin (the actual request decides)', async (url) => {
      for (const origin of [APP, OTHER, UNREGISTERED, 'http://127.0.0.1:5173']) {
        const response = await preflight(url, origin);
        expect(response.statusCode).toBe(204);
        expect(response.headers['access-control-allow-origin']).toBe(origin);
        expect(response.headers['access-control-allow-methods']).toBe(url === '/oauth/userinfo' ? 'GET, POST' : 'POST');
        expect(response.headers['access-control-allow-headers']).toBe('authorization, content-type, dpop');
        expect(response.headers['access-control-max-age']).toBe('600');
        expect(response.headers.vary).toBe('Origin');
        expect(response.headers).not.toHaveProperty('access-control-allow-credentials');
      }
      for (const origin of ['null', 'http://evil.example']) {
        const response = await preflight(url, origin);
        expect(response.statusCode).toBe(204);
        expect(noCorsHeaders(response.headers)).toStrictEqual([]);
      }
    });

    it.each(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/.well-known/jwks.json'])(
      '%s: public, any origin, *, no credentials',
      async (url) => {
        const pre = await preflight(url, UNREGISTERED, 'GET');
        expect(pre.statusCode).toBe(204);
        expect(pre.headers['access-control-allow-origin']).toBe('*');
        expect(pre.headers['access-control-allow-methods']).toBe('GET');
        for (const origin of [APP, UNREGISTERED, undefined]) {
          const response = await t.app.inject({ method: 'GET', url, headers: origin ? { origin } : {} });
          expect(response.statusCode).toBe(200);
          expect(response.headers['access-control-allow-origin']).toBe('*');
          expect(response.headers).not.toHaveProperty('access-control-allow-credentials');
          expect(response.headers.vary).toBeUndefined();
        }
      },
    );
  });

  describe('routes that are not for browser apps send no CORS header, and their preflight is not approved', () => {
    it.each([
      ['GET', '/v1/keys'],
      ['POST', '/v1/clients'],
      ['GET', '/oauth/authorize'],
      ['POST', '/oauth/authorize/login'],
      ['POST', '/oauth/authorize/consent'],
      ['POST', '/oauth/introspect'],
    ])('%s %s', async (method, url) => {
      const pre = await t.app.inject({ method: 'OPTIONS', url, headers: { origin: APP, 'access-control-request-method': method } });
      expect(pre.statusCode).toBe(404);
      expect(noCorsHeaders(pre.headers)).toStrictEqual([]);
      const actual = await t.app.inject({ method: method as 'GET' | 'POST', url, headers: { origin: APP, authorization: `Bearer ${t.rootKey}` } });
      expect(noCorsHeaders(actual.headers)).toStrictEqual([]);
    });

    it('introspection with a client that registered the origin still sends none', async () => {
      const { access_token } = await tokensOfA();
      const response = await post('/oauth/introspect', { token: access_token }, { origin: OTHER, authorization: basicAuth(clientB.clientId, clientB.clientSecret) });
      expect(response.statusCode).toBe(200);
      expect(noCorsHeaders(response.headers)).toStrictEqual([]);
    });
  });

  describe('registering allowedOrigins (admin API)', () => {
    it('create, read, update; stored on the client record', async () => {
      const created = await t.createClient({ allowedOrigins: ['https://a.example', 'https://a.example', 'http://[::1]:8080'] });
      expect(created.allowedOrigins).toStrictEqual(['https://a.example', 'http://[::1]:8080']);
      expect((await t.api('GET', `/v1/clients/${created.clientId}`)).body.allowedOrigins).toStrictEqual(['https://a.example', 'http://[::1]:8080']);
      const updated = await t.api('PATCH', `/v1/clients/${created.clientId}`, { body: { allowedOrigins: ['https://b.example'] } });
      expect(updated.status).toBe(200);
      expect(updated.body.allowedOrigins).toStrictEqual(['https://b.example']);
      expect((await t.services.clients.lookup(created.clientId))?.allowedOrigins).toStrictEqual(['https://b.example']);
      expect((await t.createClient()).allowedOrigins).toStrictEqual([]);
    });

    it.each(['https://a.example/', 'https://a.example/cb', 'http://a.example', 'http://LOCALHOST:3000', 'https://*.example', 'null', '*'])('refuses %j', async (origin) => {
      const response = await t.api('POST', '/v1/clients', {
        body: { name: 'x', redirectUris: [REDIRECT], grantTypes: ['authorization_code'], tokenEndpointAuthMethod: 'none', allowedOrigins: [origin] },
      });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
      expect(response.body.error_description).toMatch(/^allowedOrigins: /);
    });

    it('an origin registered later is allowed at once; removed, refused at once', async () => {
      const c = await code(clientB.clientId);
      const form = { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: REDIRECT };
      const auth = basicAuth(clientB.clientId, clientB.clientSecret);
      const NEW = 'https://new.example';
      expect((await post('/oauth/token', form, { origin: NEW, authorization: auth })).statusCode).toBe(400);
      expect((await t.api('PATCH', `/v1/clients/${clientB.clientId}`, { body: { allowedOrigins: [OTHER, NEW] } })).status).toBe(200);
      const allowed = await post('/oauth/token', form, { origin: NEW, authorization: auth });
      expect(allowed.statusCode).toBe(200);
      expect(allowed.headers['access-control-allow-origin']).toBe(NEW);
      expect((await t.api('PATCH', `/v1/clients/${clientB.clientId}`, { body: { allowedOrigins: [OTHER] } })).status).toBe(200);
      const again = await code(clientB.clientId);
      const refused = await post('/oauth/token', { ...form, code: again.code, code_verifier: again.verifier }, { origin: NEW, authorization: auth });
      expect(refused.statusCode).toBe(400);
    });
  });
});
