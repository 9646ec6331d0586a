import { endpointReceives } from '../src/core/webhooks/webhook-dispatcher.js';
import { createHash, createHmac, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from './helpers/env.js';
import { signJwsInput } from '../src/core/tokens/sign-jwt.js';
import { INVALID_UTF8, jsonWithBytes } from '../../sdk/test/helpers/protocol-cases.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { authorizeThroughForms, basicAuth, createOAuthTestApp, FormBrowser, hiddenFields, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

const REDIRECT = 'https://app.example/callback';
const PASSWORD = 'correct horse battery staple';

interface Fixture {
  client: any;
  user: any;
}

function form(body: Record<string, string>): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) };
}

describe('OAuth attacks named by RFC 6749, 7636, 9700 and 8725', () => {
  let t: OAuthTestApp;
  let f: Fixture;

  async function post(path: string, body: Record<string, string>, auth?: string) {
    const init = form(body);
    if (auth) (init.headers as Record<string, string>).authorization = auth;
    const response = await fetch(`${t.issuer}${path}`, init);
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, headers: response.headers, body: json };
  }

  const clientAuth = () => basicAuth(f.client.clientId, f.client.clientSecret);

  function authorizeUrl(params: Record<string, string>, challenge = pkcePair().challenge): string {
    return `/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: f.client.clientId,
      redirect_uri: REDIRECT,
      scope: 'openid read',
      state: 's1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...params,
    })}`;
  }

  /** A fresh code (and its verifier) for the fixture user and client. */
  async function newCode(browser = new FormBrowser(t.issuer)): Promise<{ code: string; verifier: string; browser: FormBrowser }> {
    const { verifier, challenge } = pkcePair();
    const callback = await authorizeThroughForms(browser, authorizeUrl({}, challenge), { email: f.user.email, password: PASSWORD });
    return { code: callback.searchParams.get('code')!, verifier, browser };
  }

  async function redeem(code: string, verifier: string | undefined, extra: Record<string, string> = {}) {
    return post('/oauth/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...(verifier ? { code_verifier: verifier } : {}), ...extra }, clientAuth());
  }

  async function introspect(token: string) {
    return (await post('/oauth/introspect', { token }, clientAuth())).body;
  }

  beforeAll(async () => {
    t = await createOAuthTestApp();
    f = { client: await t.createClient(), user: await t.createUser() };
  });
  afterAll(() => t.close());

  describe('authorization codes', () => {
    it('a code is single-use: replaying it fails and revokes every token issued from it', async () => {
      const { code, verifier } = await newCode();
      const first = await redeem(code, verifier);
      expect(first.status).toBe(200);
      expect((await introspect(first.body.access_token)).active).toBe(true);

      const replay = await redeem(code, verifier);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');
      expect(await introspect(first.body.access_token)).toStrictEqual({ active: false });
      expect(await introspect(first.body.refresh_token)).toStrictEqual({ active: false });
      const refresh = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, clientAuth());
      expect(refresh.body.error).toBe('invalid_grant');
      const userinfo = await fetch(`${t.issuer}/oauth/userinfo`, { headers: { authorization: `Bearer ${first.body.access_token}` } });
      expect(userinfo.status).toBe(401);

      await t.services.audit.flush();
      const reuse = await t.services.stores.audit.list({ type: 'token.reuse_detected', limit: 10 });
      expect(reuse.some((e) => e.reason === 'CODE_REPLAY')).toBe(true);
    });

    it('ten concurrent redemptions of one code: exactly one succeeds', async () => {
      const { code, verifier } = await newCode();
      const results = await Promise.all(Array.from({ length: 10 }, () => redeem(code, verifier)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(9);
    });

    it('a code expires after 60 seconds', async () => {
      const { code, verifier } = await newCode();
      t.clock.advance(61_000);
      const late = await redeem(code, verifier);
      expect(late.body.error).toBe('invalid_grant');
    });

    it('a code is bound to its client and redirect URI', async () => {
      const other = await t.createClient({ name: 'Other' });
      const { code, verifier } = await newCode();
      const stolen = await post(
        '/oauth/token',
        { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
        basicAuth(other.clientId, other.clientSecret),
      );
      expect(stolen.body.error).toBe('invalid_grant');
      const wrongRedirect = await redeem(code, verifier, { redirect_uri: 'https://app.example/callback/' });
      expect(wrongRedirect.body.error).toBe('invalid_grant');
      // Neither failed attempt used the code up.
      expect((await redeem(code, verifier)).status).toBe(200);
    });
  });

  describe('PKCE (S256 only, required for every client)', () => {
    it('refuses an authorization request without a challenge, or with plain, by redirecting an error', async () => {
      const browser = new FormBrowser(t.issuer);
      for (const params of [
        { code_challenge: '', code_challenge_method: '' },
        { code_challenge_method: 'plain' },
        { code_challenge: 'too-short' },
      ] as Array<Record<string, string>>) {
        const response = await browser.get(authorizeUrl(params));
        expect(response.status).toBe(303);
        const location = new URL(response.headers.get('location')!);
        expect(location.searchParams.get('error')).toBe('invalid_request');
        expect(location.searchParams.get('state')).toBe('s1');
        expect(location.searchParams.get('iss')).toBe(t.issuer);
        expect(location.searchParams.get('code')).toBeNull();
      }
    });

    it('a token request without the verifier, or with a wrong one, fails (no downgrade)', async () => {
      const { code, verifier } = await newCode();
      expect((await redeem(code, undefined)).body.error).toBe('invalid_grant');
      expect((await redeem(code, pkcePair().verifier)).body.error).toBe('invalid_grant');
      // A "plain" verifier equal to the challenge text is not accepted either.
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      expect((await redeem(code, challenge)).body.error).toBe('invalid_grant');
      expect((await redeem(code, verifier)).status).toBe(200);
    });

    it('a code_challenge is single-use per client (RFC 9700 2.1.1): a second code for it is refused, audited and alerted', async () => {
      const { verifier, challenge } = pkcePair();
      const browser = new FormBrowser(t.issuer);
      const first = await authorizeThroughForms(browser, authorizeUrl({}, challenge), { email: f.user.email, password: PASSWORD });
      const code = first.searchParams.get('code')!;
      expect(code).toBeTruthy();
      // The same request again (a reload of the authorization URL; the user is signed in and has consented), and
      // from another browser after signing in: no second code; the error goes back to the client, which starts
      // over with a fresh verifier.
      for (const attempt of [browser, new FormBrowser(t.issuer)]) {
        const again = await authorizeThroughForms(attempt, authorizeUrl({ state: 's2' }, challenge), { email: f.user.email, password: PASSWORD });
        expect(again.origin + again.pathname).toBe(REDIRECT);
        expect(again.searchParams.get('code')).toBeNull();
        expect(again.searchParams.get('error')).toBe('invalid_request');
        expect(again.searchParams.get('error_description')).toMatch(/code_challenge was already used/);
        expect(again.searchParams.get('state')).toBe('s2');
        expect(again.searchParams.get('iss')).toBe(t.issuer);
      }
      // The first code is unaffected, and a fresh challenge works at once.
      expect((await redeem(code, verifier)).status).toBe(200);
      expect((await newCode(browser)).code).toBeTruthy();
      // Another client may happen to use the same value.
      const other = await t.createClient({ name: 'Other PKCE' });
      const otherUrl = `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: other.clientId, redirect_uri: REDIRECT, scope: 'read', state: 's3', code_challenge: challenge, code_challenge_method: 'S256' })}`;
      expect((await authorizeThroughForms(browser, otherUrl, { email: f.user.email, password: PASSWORD })).searchParams.get('code')).toBeTruthy();

      await t.services.audit.flush();
      await t.services.detection.settled();
      const refused = await t.services.stores.audit.list({ type: 'oauth.authorization', limit: 50 });
      const reused = refused.filter((e) => e.reason === 'code_challenge_reused');
      expect(reused).toHaveLength(2);
      expect(reused[0]).toMatchObject({ outcome: 'failure', details: { clientId: f.client.clientId, userId: f.user.id } });
      const alerts = await t.services.stores.audit.list({ type: 'alert.pkce_challenge_reused', limit: 10 });
      // Aggregated per client and window: the first occurrence is an alert at once.
      expect(alerts.length).toBeGreaterThanOrEqual(1);
      expect(alerts[0]).toMatchObject({ reason: 'code_challenge_reused', details: { clientId: f.client.clientId } });
      expect(JSON.stringify(alerts)).not.toContain(verifier);
    });
  });

  describe('redirect URIs (no open redirect)', () => {
    const variations = [
      'https://app.example/callback/',
      'https://APP.example/callback',
      'https://app.example/callback?x=1',
      'https://app.example/callback/../callback',
      'https://app.example/callbackx',
      'https://app.example.evil.com/callback',
      'https://app.example@evil.com/callback',
      'https://evil.com/?https://app.example/callback',
      'http://app.example/callback',
      'https://app.example:444/callback',
      'https://app.example/Callback',
      'https://app.example/%63allback',
      'javascript:alert(1)',
    ];

    it('shows an error page, and never redirects, for an unregistered redirect URI or an unknown client', async () => {
      const browser = new FormBrowser(t.issuer);
      for (const redirect_uri of variations) {
        const response = await browser.get(authorizeUrl({ redirect_uri }));
        expect(response.status, redirect_uri).toBe(400);
        expect(response.headers.get('location'), redirect_uri).toBeNull();
        expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      }
      const unknown = await browser.get(authorizeUrl({ client_id: 'cli_doesnotexist', redirect_uri: 'https://evil.com/cb' }));
      expect(unknown.status).toBe(400);
      expect(unknown.headers.get('location')).toBeNull();
      const repeated = await browser.get(`${authorizeUrl({})}&redirect_uri=${encodeURIComponent('https://evil.com/cb')}`);
      expect(repeated.status).toBe(400);
      expect(repeated.headers.get('location')).toBeNull();
    });
  });

  describe('refresh tokens', () => {
    async function tokens() {
      const { code, verifier } = await newCode();
      const response = await redeem(code, verifier);
      expect(response.status).toBe(200);
      return response.body;
    }
    const refresh = (token: string, extra: Record<string, string> = {}) =>
      post('/oauth/token', { grant_type: 'refresh_token', refresh_token: token, ...extra }, clientAuth());

    it('presenting a rotated refresh token revokes the whole grant', async () => {
      const first = await tokens();
      const second = (await refresh(first.refresh_token)).body;
      expect(second.refresh_token).toBeDefined();
      const reuse = await refresh(first.refresh_token);
      expect(reuse.body.error).toBe('invalid_grant');
      // The legitimate-looking successor dies with it, and so do the access tokens of the grant.
      expect((await refresh(second.refresh_token)).body.error).toBe('invalid_grant');
      expect(await introspect(first.access_token)).toStrictEqual({ active: false });
      expect(await introspect(second.access_token)).toStrictEqual({ active: false });
    });

    it('writes token.reuse_detected with the revocation of the grant, in one transaction, into the webhook outbox', async () => {
      const endpoint = await t.api('POST', '/v1/webhook-endpoints', {
        body: { url: 'https://hooks.example.com/in', events: ['token.reuse_detected', 'grant.revoked'] },
      });
      expect(endpoint.status).toBe(201);
      const first = await tokens();
      await refresh(first.refresh_token);
      expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant');
      // Written at once (no write-behind flush), beside the grant.revoked of the same transaction.
      const [reuse] = await t.services.stores.audit.list({ type: 'token.reuse_detected', limit: 10 });
      expect(reuse).toMatchObject({ reason: 'REFRESH_TOKEN_REUSE' });
      // Fanned out (not delivered: no request leaves the machine) into deliveries for the endpoint.
      await t.services.stores.webhooks.fanOut({
        now: t.clock.now(),
        limit: 100,
        receives: endpointReceives,
        newDeliveryId: () => `whd_${Math.random().toString(36).slice(2)}`,
        retryWindowMs: 1000,
      });
      const deliveries = await t.services.stores.webhooks.listDeliveries({ endpointId: endpoint.body.id, limit: 100 });
      expect(new Set(deliveries.map((d) => d.eventType))).toEqual(new Set(['grant.revoked', 'token.reuse_detected']));
      expect(deliveries.map((d) => d.eventId)).toContain(reuse!.id);
    });

    it('ten concurrent refreshes of one token: one success, and never two live chains', async () => {
      const first = await tokens();
      const results = await Promise.all(Array.from({ length: 10 }, () => refresh(first.refresh_token)));
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      // The others were reuse: the grant is revoked, so no chain at all stays alive.
      expect((await refresh(winners[0]!.body.refresh_token)).body.error).toBe('invalid_grant');
    });

    it('a refresh can narrow the scope, never widen it', async () => {
      const first = await tokens();
      const wider = await refresh(first.refresh_token, { scope: 'openid read write' });
      expect(wider.body.error).toBe('invalid_scope');
      const narrower = await refresh(first.refresh_token, { scope: 'read' });
      expect(narrower.body.scope).toBe('read');
      // The new refresh token keeps the grant's scope (RFC 6749 section 6).
      expect((await refresh(narrower.body.refresh_token)).body.scope).toBe('openid read');
    });

    it('expires when idle for 7 days and absolutely after 30 days', async () => {
      const idle = await tokens();
      t.clock.advance(7 * 86_400_000 + 1000);
      expect((await refresh(idle.refresh_token)).body.error).toBe('invalid_grant');

      let current = (await tokens()).refresh_token;
      for (let day = 0; day < 30; day += 6) {
        t.clock.advance(6 * 86_400_000);
        const next = await refresh(current);
        if (day + 6 >= 30) expect(next.body.error).toBe('invalid_grant');
        else current = next.body.refresh_token;
      }
    });

    it('a refresh token of one client is useless to another', async () => {
      const first = await tokens();
      const other = await t.createClient({ name: 'Other 2' });
      const response = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token }, basicAuth(other.clientId, other.clientSecret));
      expect(response.body.error).toBe('invalid_grant');
      // And it did not count as reuse: the rightful client can still refresh.
      expect((await refresh(first.refresh_token)).status).toBe(200);
    });
  });

  describe('forged and altered access tokens (RFC 8725)', () => {
    async function genuine(): Promise<string> {
      const { code, verifier } = await newCode();
      return (await redeem(code, verifier)).body.access_token;
    }
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    it('introspection and userinfo refuse alg none, HS256 with the public key, tampering, unknown kid, wrong typ', async () => {
      const token = await genuine();
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const decodedHeader = JSON.parse(Buffer.from(header, 'base64url').toString());
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const jwks = (await (await fetch(`${t.issuer}/.well-known/jwks.json`)).json()) as any;
      const publicPem = createPublicKey({ key: jwks.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      const hsInput = `${b64({ ...decodedHeader, alg: 'HS256' })}.${payload}`;
      const forgeries = {
        none: `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`,
        hs256WithPublicKey: `${hsInput}.${createHmac('sha256', publicPem).update(hsInput).digest('base64url')}`,
        tamperedPayload: `${header}.${b64({ ...claims, scope: 'openid read write admin' })}.${signature}`,
        tamperedSignature: `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
        unknownKid: `${b64({ ...decodedHeader, kid: 'nope' })}.${payload}.${signature}`,
        wrongTyp: `${b64({ ...decodedHeader, typ: 'JWT' })}.${payload}.${signature}`,
      };
      for (const [name, forged] of Object.entries(forgeries)) {
        expect(await introspect(forged), name).toStrictEqual({ active: false });
        const userinfo = await fetch(`${t.issuer}/oauth/userinfo`, { headers: { authorization: `Bearer ${forged}` } });
        expect(userinfo.status, name).toBe(401);
      }
      expect((await introspect(token)).active).toBe(true);
    });

    it('introspection and userinfo refuse tokens signed with the real key whose header or payload is not valid UTF-8', async () => {
      const token = await genuine();
      const [header, payload] = token.split('.') as [string, string];
      const decodedHeader = JSON.parse(Buffer.from(header, 'base64url').toString());
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const key = t.services.signingKeys.current();
      const signed = async (h: Uint8Array | string, p: Uint8Array | string) => {
        const input = `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}`;
        return `${input}.${(await signJwsInput(key, Buffer.from(input))).toString('base64url')}`;
      };
      const userinfo = async (bearer: string) => (await fetch(`${t.issuer}/oauth/userinfo`, { headers: { authorization: `Bearer ${bearer}` } })).status;
      // The baseline: the same parts, well-formed and re-signed, are a good token.
      const wellFormed = await signed(JSON.stringify(decodedHeader), JSON.stringify({ ...claims, note: 'x' }));
      expect((await introspect(wellFormed)).active).toBe(true);
      expect(await userinfo(wellFormed)).toBe(200);
      for (const [name, bytes] of INVALID_UTF8) {
        for (const forged of [
          await signed(JSON.stringify(decodedHeader), jsonWithBytes(claims, 'note', bytes)),
          await signed(jsonWithBytes(decodedHeader, 'note', bytes), JSON.stringify(claims)),
        ]) {
          expect(await introspect(forged), name).toStrictEqual({ active: false });
          expect(await userinfo(forged), name).toBe(401);
        }
      }
    });
  });

  describe('client authentication and error responses (RFC 6749 section 5.2)', () => {
    it('answers invalid_client with 401 and a WWW-Authenticate challenge, no-store, and audits the reason', async () => {
      for (const auth of [basicAuth(f.client.clientId, 'cs_wrong'), basicAuth('cli_unknown', 'x'), undefined]) {
        const response = await post('/oauth/token', { grant_type: 'client_credentials' }, auth);
        expect(response.status).toBe(401);
        expect(response.body.error).toBe('invalid_client');
        expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
        expect(response.headers.get('cache-control')).toBe('no-store');
      }
      await t.services.audit.flush();
      const failures = await t.services.stores.audit.list({ type: 'client.authentication', limit: 20 });
      expect(failures.map((e) => e.reason)).toEqual(expect.arrayContaining(['wrong_secret', 'unknown_client']));
    });

    it('uses the RFC 6749 codes for bad token requests', async () => {
      const cases: Array<[Record<string, string>, string]> = [
        [{}, 'invalid_request'],
        [{ grant_type: 'password', username: 'a', password: 'b' }, 'unsupported_grant_type'],
        [{ grant_type: 'implicit' }, 'unsupported_grant_type'],
        [{ grant_type: 'client_credentials' }, 'unauthorized_client'],
        [{ grant_type: 'authorization_code', redirect_uri: REDIRECT, code_verifier: pkcePair().verifier }, 'invalid_request'],
        [{ grant_type: 'authorization_code', code: 'nope', redirect_uri: REDIRECT, code_verifier: pkcePair().verifier }, 'invalid_grant'],
        [{ grant_type: 'refresh_token', refresh_token: 'ghr_nope' }, 'invalid_grant'],
      ];
      for (const [body, error] of cases) {
        const response = await post('/oauth/token', body, clientAuth());
        expect(response.body.error, JSON.stringify(body)).toBe(error);
        expect(response.status).toBe(400);
        expect(response.headers.get('cache-control')).toBe('no-store');
      }
      const repeated = await fetch(`${t.issuer}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: clientAuth() },
        body: 'grant_type=client_credentials&grant_type=authorization_code',
      });
      expect(((await repeated.json()) as any).error).toBe('invalid_request');
      const json = await fetch(`${t.issuer}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: clientAuth() },
        body: JSON.stringify({ grant_type: 'client_credentials' }),
      });
      expect(json.status).toBe(400);
      expect(((await json.json()) as any).error).toBe('invalid_request');
    });

    it('introspection answers exactly {active:false} for tokens that are not the caller\'s', async () => {
      const { code, verifier } = await newCode();
      const tokens = (await redeem(code, verifier)).body;
      const other = await t.createClient({ name: 'Nosy' });
      for (const token of [tokens.access_token, tokens.refresh_token, 'garbage', '']) {
        const response = await post('/oauth/introspect', { token: token || 'x' }, basicAuth(other.clientId, other.clientSecret));
        expect(response.body).toStrictEqual({ active: false });
      }
      // An admin key with tokens:introspect sees it; one without gets 403.
      const introspector = await t.createKey({ scopes: ['tokens:introspect'] });
      const viaKey = await post('/oauth/introspect', { token: tokens.access_token }, `Bearer ${introspector.key}`);
      expect(viaKey.body).toMatchObject({ active: true, client_id: f.client.clientId, sub: f.user.id });
      const reader = await t.createKey({ scopes: ['keys:read'] });
      expect((await post('/oauth/introspect', { token: tokens.access_token }, `Bearer ${reader.key}`)).status).toBe(403);
    });
  });

  describe('secrets at rest and in logs', () => {
    it('no code, refresh token, access token, client secret or password reaches the logs, the audit events or the database file', async () => {
      const { code, verifier } = await newCode();
      const tokens = (await redeem(code, verifier)).body;
      const rotated = (await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, clientAuth())).body;
      await t.services.audit.flush();
      await t.services.usage.flush();
      const secrets = {
        code,
        verifier,
        refresh: tokens.refresh_token,
        rotatedRefresh: rotated.refresh_token,
        access: tokens.access_token,
        idToken: tokens.id_token,
        clientSecret: f.client.clientSecret,
        password: PASSWORD,
      };
      const audit = JSON.stringify(await t.services.stores.audit.list({ limit: 1000 }));
      const logs = t.logs.join('\n');
      const { readFileSync, readdirSync } = await import('node:fs');
      const dbBytes = readdirSync(t.dataDir)
        .filter((name) => name.startsWith('gatehouse.db'))
        .map((name) => readFileSync(`${t.dataDir}/${name}`).toString('latin1'))
        .join('');
      expect(dbBytes.length).toBeGreaterThan(0);
      for (const [name, secret] of Object.entries(secrets)) {
        expect(secret, name).toBeTruthy();
        expect(logs.includes(secret), `${name} in logs`).toBe(false);
        expect(audit.includes(secret), `${name} in audit events`).toBe(false);
        expect(dbBytes.includes(secret), `${name} in the database file`).toBe(false);
      }
    });
  });

  describe('login and consent pages', () => {
    it('forbid framing, carry a strict CSP, and refuse a consent submitted without the CSRF token', async () => {
      const browser = new FormBrowser(t.issuer);
      const login = await browser.get(authorizeUrl({ prompt: 'consent' }));
      expect(login.status).toBe(200);
      expect(login.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
      expect(login.headers.get('x-frame-options')).toBe('DENY');
      const fields = hiddenFields(await login.text());
      const noCsrf = await browser.submit('/oauth/authorize/login', { request: fields.request!, email: f.user.email, password: PASSWORD });
      expect(noCsrf.status).toBe(403);
      const loggedIn = await browser.submit('/oauth/authorize/login', { ...fields, email: f.user.email, password: PASSWORD });
      const consentPage = await loggedIn.text();
      expect(consentPage).toContain('name="decision"');
      const { csrf_token: _token, ...withoutToken } = hiddenFields(consentPage);
      const forged = await browser.submit('/oauth/authorize/consent', { ...withoutToken, decision: 'allow' });
      expect(forged.status).toBe(403);
      expect(forged.headers.get('location')).toBeNull();
      // The login form's token does not work on the consent form.
      const crossed = await browser.submit('/oauth/authorize/consent', { ...withoutToken, csrf_token: fields.csrf_token!, decision: 'allow' });
      expect(crossed.status).toBe(403);
    });

    it('audits a failed login with the IP and a hash of the email, never the password, and says nothing specific', async () => {
      const browser = new FormBrowser(t.issuer);
      const login = await browser.get(authorizeUrl({}));
      const fields = hiddenFields(await login.text());
      for (const [email, password] of [[f.user.email, 'Wrong-Password-123'], ['nobody@example.com', 'Wrong-Password-123']] as const) {
        const response = await browser.submit('/oauth/authorize/login', { ...fields, email, password });
        expect(response.status).toBe(400);
        const page = await response.text();
        expect(page).toContain('Wrong email or password.');
        expect(page).not.toContain('Wrong-Password-123');
      }
      await t.services.audit.flush();
      const events = (await t.services.stores.audit.list({ type: 'oauth.login', limit: 20 })).filter((e) => e.outcome === 'failure');
      expect(events.map((e) => e.reason).sort()).toEqual(expect.arrayContaining(['unknown_email', 'wrong_password']));
      for (const event of events) {
        expect(event.ip).toBe('127.0.0.1');
        expect(event.details?.emailHash).toMatch(/^[0-9a-f]{16}$/);
        expect(JSON.stringify(event)).not.toContain('Wrong-Password-123');
        expect(JSON.stringify(event)).not.toContain(f.user.email);
      }
      expect(t.logs.join('')).not.toContain('Wrong-Password-123');
    });

    it('prompt=none without a session redirects login_required; prompt=login asks again; deny gives access_denied', async () => {
      const fresh = new FormBrowser(t.issuer);
      const none = await fresh.get(authorizeUrl({ prompt: 'none' }));
      expect(none.status).toBe(303);
      const location = new URL(none.headers.get('location')!);
      expect(location.searchParams.get('error')).toBe('login_required');
      expect(location.searchParams.get('iss')).toBe(t.issuer);

      const { browser } = await newCode();
      const silent = await browser.get(authorizeUrl({ prompt: 'none' }));
      expect(new URL(silent.headers.get('location')!).searchParams.get('code')).toBeTruthy();
      const again = await browser.get(authorizeUrl({ prompt: 'login' }));
      expect(again.status).toBe(200);
      expect(await again.text()).toContain('name="password"');
      const consent = await browser.get(authorizeUrl({ prompt: 'consent' }));
      expect(await consent.text()).toContain('name="decision"');
      const wider = await browser.get(authorizeUrl({ prompt: 'none', scope: 'openid read write' }));
      expect(new URL(wider.headers.get('location')!).searchParams.get('error')).toBe('consent_required');

      const denied = await authorizeThroughForms(new FormBrowser(t.issuer), authorizeUrl({ scope: 'write' }), { email: f.user.email, password: PASSWORD }, 'deny');
      expect(denied.searchParams.get('error')).toBe('access_denied');
      expect(denied.searchParams.get('state')).toBe('s1');
    });
  });
});

describe.skipIf(!testDatabaseUrl)('OAuth during a storage outage (PostgreSQL behind a proxy that is cut)', () => {
  it('answers 503 temporarily_unavailable at the token endpoint, never invalid_grant, and recovers', async () => {
    const upstream = new URL(testDatabaseUrl!);
    const proxy = await startTcpProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    const proxied = new URL(testDatabaseUrl!);
    proxied.port = String(proxy.port);
    const t = await createOAuthTestApp({ dialect: 'postgres', env: { GATEHOUSE_DATABASE_URL: proxied.toString() } });
    try {
      const client = await t.createClient();
      const user = await t.createUser();
      const { verifier, challenge } = pkcePair();
      const callback = await authorizeThroughForms(
        new FormBrowser(t.issuer),
        `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: REDIRECT, scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' })}`,
        { email: user.email, password: PASSWORD },
      );
      const body = { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier };
      const redeem = () =>
        fetch(`${t.issuer}/oauth/token`, { ...form(body), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client.clientId, client.clientSecret) } });

      await proxy.cut();
      const during = await redeem();
      expect(during.status).toBe(503);
      expect(((await during.json()) as any).error).toBe('temporarily_unavailable');
      expect(during.headers.get('cache-control')).toBe('no-store');

      await proxy.restore();
      const after = await redeem();
      expect(after.status).toBe(200);
    } finally {
      await t.close();
      await proxy.close();
    }
  });
});

describe('grant.revoked belongs to the tenant of the grants, whoever revoked them (tenant webhook endpoints hear of it)', () => {
  let t: OAuthTestApp;
  afterAll(() => t?.close());

  it('for a client revoking its refresh token, and for an administrator of no tenant revoking the client’s grants', async () => {
    t = await createOAuthTestApp();
    const client = await t.createClient({ tenantId: 'acme' });
    const user = await t.createUser({ tenantId: 'acme' });
    const endpoint = await t.api('POST', '/v1/webhook-endpoints', { body: { url: 'https://hooks.example.com/in', events: ['grant.revoked'], tenantId: 'acme' } });
    expect(endpoint.status).toBe(201);
    const auth = basicAuth(client.clientId, client.clientSecret);
    const tokens = async () => {
      const { verifier, challenge } = pkcePair();
      const authorize = `/oauth/authorize?${new URLSearchParams({
        response_type: 'code', client_id: client.clientId, redirect_uri: REDIRECT, scope: 'openid read', state: 's', code_challenge: challenge, code_challenge_method: 'S256',
      })}`;
      const callback = await authorizeThroughForms(new FormBrowser(t.issuer), authorize, { email: user.email, password: PASSWORD });
      const init = form({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier });
      (init.headers as Record<string, string>).authorization = auth;
      const response = await fetch(`${t.issuer}/oauth/token`, init);
      expect(response.status).toBe(200);
      return (await response.json()) as { refresh_token: string };
    };

    const first = await tokens();
    const revoke = form({ token: first.refresh_token });
    (revoke.headers as Record<string, string>).authorization = auth;
    expect((await fetch(`${t.issuer}/oauth/revoke`, revoke)).status).toBe(200);
    await tokens();
    const byAdmin = await t.api('DELETE', `/v1/clients/${client.clientId}/grants`);
    expect(byAdmin.body).toEqual({ revokedGrants: 1 });

    const events = await t.services.stores.audit.list({ type: 'grant.revoked', limit: 10 });
    expect(events.map((e) => [e.reason, e.tenantId])).toEqual([
      ['revoked by an administrator', 'acme'],
      ['refresh token revoked by the client', 'acme'],
    ]);
    await t.services.stores.webhooks.fanOut({
      now: t.clock.now(),
      limit: 100,
      receives: endpointReceives,
      newDeliveryId: () => `whd_${Math.random().toString(36).slice(2)}`,
      retryWindowMs: 1000,
    });
    const deliveries = await t.services.stores.webhooks.listDeliveries({ endpointId: endpoint.body.id, limit: 100 });
    expect(deliveries.map((d) => d.eventId).sort()).toEqual(events.map((e) => e.id).sort());
  });
});
