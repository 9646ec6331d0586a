import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizeThroughForms,
  basicAuth,
  createOAuthTestApp,
  FormBrowser,
  type OAuthTestApp,
} from '../../server/test/helpers/oauth.js';
import {
  buildAuthorizationUrl,
  ClientCredentialsClient,
  createPkcePair,
  exchangeAuthorizationCode,
  parseAuthorizationResponse,
  randomToken,
  RefreshingTokenClient,
  TokenRequestError,
  TokenStorageError,
  type RefreshTokenStorage,
} from '../src/index.js';

const REDIRECT = 'https://app.example/callback';
const PASSWORD = 'correct horse battery staple';
const FAST_RETRY = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
const readBody = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/**
 * A real HTTP proxy in front of Gatehouse: counts token requests and can answer the next N of them with a
 * 5xx itself (a failing load balancer), forwarding everything else unchanged.
 */
async function startProxy(target: string) {
  const state = { tokenRequests: 0, failNext: 0, failStatus: 503 };
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    if (request.url === '/oauth/token') {
      state.tokenRequests++;
      if (state.failNext > 0) {
        state.failNext--;
        response.writeHead(state.failStatus, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
        return;
      }
    }
    const upstream = httpRequest(new URL(request.url!, target), { method: request.method, headers: { ...request.headers, host: new URL(target).host } }, (answer) => {
      response.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(response);
    });
    upstream.end(body);
  });
  const url = await listen(server);
  return { url, state, close: () => close(server) };
}

/** A tiny API protected by Gatehouse's introspection endpoint: 401 unless the bearer token is active. */
async function startProtectedApi(issuer: string, adminKey: string) {
  const seen: { authorization: string | undefined; body: string; status: number }[] = [];
  const server = createServer(async (request, response) => {
    const body = (await readBody(request)).toString();
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    let active = false;
    if (token && request.url !== '/always-401') {
      const introspection = await fetch(`${issuer}/oauth/introspect`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
      });
      active = ((await introspection.json()) as { active: boolean }).active;
    }
    const status = active ? 200 : 401;
    seen.push({ authorization: request.headers.authorization, body, status });
    if (!active) {
      response.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body }));
  });
  const url = await listen(server);
  return { url, seen, close: () => close(server) };
}

/** Tokens Gatehouse issued to the client (successful grants are counted per client and minute, not audited one by one). */
async function tokensIssued(t: OAuthTestApp, clientId: string): Promise<number> {
  const response = await t.api('GET', `/v1/clients/${clientId}/usage?granularity=day`);
  expect(response.status).toBe(200);
  return (response.body.data as { byOutcome: Record<string, number> }[]).reduce((sum, point) => sum + (point.byOutcome.TOKEN_ISSUED ?? 0), 0);
}

describe('SDK token clients against a real Gatehouse', () => {
  let t: OAuthTestApp;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let api: Awaited<ReturnType<typeof startProtectedApi>>;

  beforeAll(async () => {
    t = await createOAuthTestApp();
    proxy = await startProxy(t.issuer);
    api = await startProtectedApi(t.issuer, t.rootKey);
  });
  afterAll(async () => {
    await api?.close();
    await proxy?.close();
    await t?.close();
  });

  const serviceClient = (body: Record<string, unknown> = {}) =>
    t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read', 'write'], ...body });

  describe('ClientCredentialsClient', () => {
    it('discovers the token endpoint and shares one token request among concurrent callers', async () => {
      const registered = await serviceClient();
      let discoveries = 0;
      const countingFetch: typeof fetch = (input, init) => {
        if (String(input instanceof Request ? input.url : input).endsWith('/.well-known/openid-configuration')) discoveries++;
        return fetch(input, init);
      };
      const client = new ClientCredentialsClient({ issuer: t.issuer, clientId: registered.clientId, clientSecret: registered.clientSecret, scope: 'read', fetch: countingFetch });
      const tokens = await Promise.all(Array.from({ length: 20 }, () => client.getToken()));
      expect(new Set(tokens).size).toBe(1);
      expect(await client.getToken()).toBe(tokens[0]);
      expect(discoveries).toBe(1);
      expect(await tokensIssued(t, registered.clientId)).toBe(1);
      const introspection = await fetch(`${t.issuer}/oauth/introspect`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.rootKey}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens[0]! }),
      });
      expect(await introspection.json()).toMatchObject({ active: true, client_id: registered.clientId, scope: 'read' });
    });

    it('counts one token request through a proxy too, and supports client_secret_post and resource', async () => {
      const registered = await serviceClient({ tokenEndpointAuthMethod: 'client_secret_post', audiences: ['https://api.example'] });
      const before = proxy.state.tokenRequests;
      const client = new ClientCredentialsClient({
        issuer: t.issuer,
        tokenEndpoint: `${proxy.url}/oauth/token`,
        clientId: registered.clientId,
        clientSecret: registered.clientSecret,
        authMethod: 'client_secret_post',
        resource: 'https://api.example',
      });
      const sets = await Promise.all(Array.from({ length: 10 }, () => client.getTokenSet()));
      expect(proxy.state.tokenRequests - before).toBe(1);
      expect(sets[0]).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, scope: 'read write' });
      const [, payload] = sets[0]!.accessToken.split('.');
      expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toMatchObject({ aud: 'https://api.example', client_id: registered.clientId });
    });

    it('refreshes proactively 60 s before expiry, by its own clock', async () => {
      const registered = await serviceClient({ accessTokenTtlSeconds: 300 });
      let now = Date.now();
      const before = proxy.state.tokenRequests;
      const client = new ClientCredentialsClient({
        issuer: t.issuer,
        tokenEndpoint: `${proxy.url}/oauth/token`,
        clientId: registered.clientId,
        clientSecret: registered.clientSecret,
        now: () => now,
      });
      const first = await client.getToken();
      now += 239_000; // 61 s left: still cached
      expect(await client.getToken()).toBe(first);
      expect(proxy.state.tokenRequests - before).toBe(1);
      now += 2_000; // 59 s left: due
      const [second, again] = await Promise.all([client.getToken(), client.getToken()]);
      expect(second).not.toBe(first);
      expect(again).toBe(second);
      expect(proxy.state.tokenRequests - before).toBe(2);
    });

    it('keeps using a still-valid token when a proactive refresh fails with a 5xx', async () => {
      const registered = await serviceClient({ accessTokenTtlSeconds: 300 });
      let now = Date.now();
      const client = new ClientCredentialsClient({
        issuer: t.issuer,
        tokenEndpoint: `${proxy.url}/oauth/token`,
        clientId: registered.clientId,
        clientSecret: registered.clientSecret,
        now: () => now,
        retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      });
      const first = await client.getToken();
      now += 250_000;
      proxy.state.failNext = 2;
      expect(await client.getToken()).toBe(first);
      now += 60_000; // expired now: the failure surfaces
      proxy.state.failNext = 2;
      await expect(client.getToken()).rejects.toMatchObject({ name: 'TokenRequestError', code: 'http_503', status: 503, attempts: 2 });
      expect(await client.getToken()).not.toBe(first);
    });

    it('retries 5xx answers of the token endpoint with backoff, a bounded number of times', async () => {
      const registered = await serviceClient();
      const options = { issuer: t.issuer, tokenEndpoint: `${proxy.url}/oauth/token`, clientId: registered.clientId, clientSecret: registered.clientSecret, retry: FAST_RETRY };

      let before = proxy.state.tokenRequests;
      proxy.state.failNext = 3;
      const tokens = await Promise.all([new ClientCredentialsClient(options)].flatMap((client) => [client.getToken(), client.getToken()]));
      expect(tokens[0]).toBe(tokens[1]);
      expect(proxy.state.tokenRequests - before).toBe(4);

      before = proxy.state.tokenRequests;
      proxy.state.failNext = 10;
      proxy.state.failStatus = 502;
      const error = await new ClientCredentialsClient(options).getToken().catch((e: unknown) => e);
      proxy.state.failNext = 0;
      proxy.state.failStatus = 503;
      expect(error).toBeInstanceOf(TokenRequestError);
      expect(error).toMatchObject({ code: 'http_502', status: 502, attempts: 4, retryable: true });
      expect(proxy.state.tokenRequests - before).toBe(4);
    });

    it('retries network errors, then reports network_error', async () => {
      const dead = createServer();
      const deadUrl = await listen(dead);
      await close(dead);
      const client = new ClientCredentialsClient({ issuer: t.issuer, tokenEndpoint: `${deadUrl}/oauth/token`, clientId: 'cli_x', clientSecret: 's', retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
      await expect(client.getToken()).rejects.toMatchObject({ code: 'network_error', attempts: 3, status: undefined });
    });

    it('never retries invalid_client', async () => {
      const registered = await serviceClient();
      const before = proxy.state.tokenRequests;
      const client = new ClientCredentialsClient({ issuer: t.issuer, tokenEndpoint: `${proxy.url}/oauth/token`, clientId: registered.clientId, clientSecret: 'wrong-secret', retry: FAST_RETRY });
      const error = await client.getToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenRequestError);
      expect(error).toMatchObject({ code: 'invalid_client', status: 401, attempts: 1, retryable: false });
      expect(proxy.state.tokenRequests - before).toBe(1);
      // A scope the client does not hold is final too.
      const scoped = new ClientCredentialsClient({ issuer: t.issuer, tokenEndpoint: `${proxy.url}/oauth/token`, clientId: registered.clientId, clientSecret: registered.clientSecret, scope: 'admin', retry: FAST_RETRY });
      await expect(scoped.getToken()).rejects.toMatchObject({ code: 'invalid_scope', status: 400, attempts: 1 });
    });

    it('fetch() sends the bearer token and retries once with a fresh token after a 401', async () => {
      const registered = await serviceClient();
      const client = new ClientCredentialsClient({ issuer: t.issuer, clientId: registered.clientId, clientSecret: registered.clientSecret });
      const ok = await client.fetch(`${api.url}/things`, { method: 'POST', body: 'first', headers: { 'content-type': 'text/plain' } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toStrictEqual({ echo: 'first' });
      const revoked = await client.getToken();

      // The client itself revokes its token (RFC 7009): the API now answers 401 to it.
      const revocation = await fetch(`${t.issuer}/oauth/revoke`, {
        method: 'POST',
        headers: { authorization: basicAuth(registered.clientId, registered.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: revoked }),
      });
      expect(revocation.status).toBe(200);

      const seenBefore = api.seen.length;
      const retried = await client.fetch(`${api.url}/things`, { method: 'POST', body: new URLSearchParams({ a: 'b' }) });
      expect(retried.status).toBe(200);
      expect(await retried.json()).toStrictEqual({ echo: 'a=b' });
      const calls = api.seen.slice(seenBefore);
      expect(calls.map((call) => call.status)).toStrictEqual([401, 200]);
      expect(calls[0]!.authorization).toBe(`Bearer ${revoked}`);
      expect(calls[1]!.authorization).not.toBe(`Bearer ${revoked}`);
      expect(calls[1]!.body).toBe('a=b');
      expect(await client.getToken()).not.toBe(revoked);
    });

    it('fetch() retries only once, and never replays a stream body', async () => {
      const registered = await serviceClient();
      const client = new ClientCredentialsClient({ issuer: t.issuer, clientId: registered.clientId, clientSecret: registered.clientSecret });
      let seenBefore = api.seen.length;
      const twice = await client.fetch(new URL(`${api.url}/always-401`), { method: 'PUT', body: new TextEncoder().encode('bytes') });
      expect(twice.status).toBe(401);
      expect(api.seen.slice(seenBefore).map((call) => call.body)).toStrictEqual(['bytes', 'bytes']);

      seenBefore = api.seen.length;
      const stream = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('streamed'));
          controller.close();
        },
      });
      const once = await client.fetch(`${api.url}/always-401`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
      expect(once.status).toBe(401);
      expect(api.seen.slice(seenBefore).map((call) => call.body)).toStrictEqual(['streamed']);

      // A Request object without a body is replayed, with its own headers kept.
      seenBefore = api.seen.length;
      const viaRequest = await client.fetch(new Request(`${api.url}/always-401`, { headers: { 'x-trace': '1' } }));
      expect(viaRequest.status).toBe(401);
      expect(api.seen.length - seenBefore).toBe(2);
    });

    it('rejects bad options at construction', () => {
      expect(() => new ClientCredentialsClient({ issuer: 'not a url', clientId: 'c', clientSecret: 's' })).toThrow(TypeError);
      expect(() => new ClientCredentialsClient({ issuer: t.issuer, clientId: '', clientSecret: 's' })).toThrow(/clientId/);
      expect(() => new ClientCredentialsClient({ issuer: t.issuer, clientId: 'c', clientSecret: '' })).toThrow(/clientSecret/);
      expect(() => new ClientCredentialsClient({ issuer: t.issuer, clientId: 'c', clientSecret: 's', retry: { attempts: 0 } })).toThrow(/attempts/);
      expect(() => new RefreshingTokenClient({ issuer: t.issuer, clientId: 'c' })).toThrow(/refreshToken or storage/);
    });

    it('reports a discovery failure for a wrong issuer', async () => {
      const client = new ClientCredentialsClient({ issuer: `${proxy.url}`, clientId: 'c', clientSecret: 's' });
      await expect(client.getToken()).rejects.toMatchObject({ name: 'DiscoveryError', code: 'issuer_mismatch' });
    });
  });

  describe('PKCE and the authorization code flow', () => {
    it('creates RFC 7636 pairs with Web Crypto', async () => {
      const pairs = await Promise.all(Array.from({ length: 20 }, () => createPkcePair()));
      for (const { verifier, challenge, method } of pairs) {
        expect(method).toBe('S256');
        expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
      }
      expect(new Set(pairs.map((pair) => pair.verifier)).size).toBe(20);
    });

    it('builds an authorization URL from a given endpoint', async () => {
      const { challenge } = await createPkcePair();
      const url = await buildAuthorizationUrl({
        authorizationEndpoint: 'https://id.example/authorize?tenant=acme',
        clientId: 'cli_1',
        redirectUri: REDIRECT,
        scope: ['openid', 'read'],
        state: 'st',
        nonce: 'no',
        codeChallenge: challenge,
        resource: ['https://a.example', 'https://b.example'],
      });
      expect(url.origin + url.pathname).toBe('https://id.example/authorize');
      expect(Object.fromEntries(url.searchParams)).toMatchObject({
        tenant: 'acme',
        response_type: 'code',
        client_id: 'cli_1',
        redirect_uri: REDIRECT,
        scope: 'openid read',
        state: 'st',
        nonce: 'no',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      expect(url.searchParams.getAll('resource')).toStrictEqual(['https://a.example', 'https://b.example']);
      await expect(buildAuthorizationUrl({ authorizationEndpoint: 'https://id.example/a', clientId: 'c', redirectUri: REDIRECT, scope: 'x', codeChallenge: 'plain' })).rejects.toThrow(TypeError);
    });

    it('a PKCE pair verifies at the real token endpoint through the login and consent forms', async () => {
      const registered = await t.createClient();
      const user = await t.createUser();
      const pkce = await createPkcePair();
      const state = randomToken();
      const url = await buildAuthorizationUrl({ issuer: t.issuer, clientId: registered.clientId, redirectUri: REDIRECT, scope: 'openid read', state, nonce: randomToken(), codeChallenge: pkce.challenge });
      expect(url.href.startsWith(`${t.issuer}/oauth/authorize?`)).toBe(true);
      const callback = await authorizeThroughForms(new FormBrowser(t.issuer), url.pathname + url.search, { email: user.email, password: PASSWORD });
      expect(() => parseAuthorizationResponse(callback, { state: 'other', issuer: t.issuer })).toThrow(expect.objectContaining({ code: 'state_mismatch' }));
      const code = parseAuthorizationResponse(callback, { state, issuer: t.issuer });

      // A wrong verifier is refused, and (a code being single-use) a fresh flow is needed afterwards.
      const wrong = await exchangeAuthorizationCode({ issuer: t.issuer, clientId: registered.clientId, clientSecret: registered.clientSecret, code, redirectUri: REDIRECT, codeVerifier: (await createPkcePair()).verifier }).catch((e: unknown) => e);
      expect(wrong).toMatchObject({ name: 'TokenRequestError', code: 'invalid_grant', status: 400 });

      const pkce2 = await createPkcePair();
      const url2 = await buildAuthorizationUrl({ issuer: t.issuer, clientId: registered.clientId, redirectUri: REDIRECT, scope: 'openid read', state, codeChallenge: pkce2.challenge });
      const callback2 = await authorizeThroughForms(new FormBrowser(t.issuer), url2.pathname + url2.search, { email: user.email, password: PASSWORD });
      const tokens = await exchangeAuthorizationCode({
        issuer: t.issuer,
        clientId: registered.clientId,
        clientSecret: registered.clientSecret,
        code: parseAuthorizationResponse(callback2, { state, issuer: t.issuer }),
        redirectUri: REDIRECT,
        codeVerifier: pkce2.verifier,
      });
      expect(tokens).toMatchObject({ tokenType: 'Bearer', scope: 'openid read', expiresIn: 900 });
      expect(tokens.refreshToken).toMatch(/^gatehouse_rt_/);
      expect(tokens.idToken).toBeTypeOf('string');
    });

    it('turns an error redirect into an AuthorizationResponseError', async () => {
      const registered = await t.createClient();
      const user = await t.createUser();
      const pkce = await createPkcePair();
      const url = await buildAuthorizationUrl({ issuer: t.issuer, clientId: registered.clientId, redirectUri: REDIRECT, scope: 'read', state: 's1', codeChallenge: pkce.challenge });
      const callback = await authorizeThroughForms(new FormBrowser(t.issuer), url.pathname + url.search, { email: user.email, password: PASSWORD }, 'deny');
      expect(() => parseAuthorizationResponse(callback, { state: 's1', issuer: t.issuer })).toThrow(expect.objectContaining({ name: 'AuthorizationResponseError', code: 'access_denied' }));
    });
  });

  describe('RefreshingTokenClient', () => {
    /** Signs a fresh user in through the forms and returns the client and its first token set. */
    async function userGrant() {
      const registered = await t.createClient();
      const user = await t.createUser();
      const pkce = await createPkcePair();
      const url = await buildAuthorizationUrl({ issuer: t.issuer, clientId: registered.clientId, redirectUri: REDIRECT, scope: 'read write', codeChallenge: pkce.challenge });
      const callback = await authorizeThroughForms(new FormBrowser(t.issuer), url.pathname + url.search, { email: user.email, password: PASSWORD });
      const tokens = await exchangeAuthorizationCode({ issuer: t.issuer, clientId: registered.clientId, clientSecret: registered.clientSecret, code: callback.searchParams.get('code')!, redirectUri: REDIRECT, codeVerifier: pkce.verifier });
      return { registered, tokens };
    }

    const refreshDirectly = (registered: { clientId: string; clientSecret: string }, refreshToken: string) =>
      fetch(`${t.issuer}/oauth/token`, {
        method: 'POST',
        headers: { authorization: basicAuth(registered.clientId, registered.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });

    it('rotates refresh tokens through storage, one refresh at a time, and never reuses one', async () => {
      const { registered, tokens } = await userGrant();
      const saved: string[] = [];
      let saving = false;
      const storage: RefreshTokenStorage = {
        async load() {
          return saved.at(-1);
        },
        async save(token) {
          saving = true;
          await new Promise((resolve) => setTimeout(resolve, 20)); // a slow disk: callers must wait for it
          saved.push(token);
          saving = false;
        },
      };
      let now = Date.now();
      const before = proxy.state.tokenRequests;
      const client = new RefreshingTokenClient({
        issuer: t.issuer,
        tokenEndpoint: `${proxy.url}/oauth/token`,
        clientId: registered.clientId,
        clientSecret: registered.clientSecret,
        refreshToken: tokens.refreshToken!,
        storage,
        now: () => now,
      });
      const first = await Promise.all(Array.from({ length: 10 }, () => client.getToken()));
      expect(saving).toBe(false);
      expect(new Set(first).size).toBe(1);
      expect(proxy.state.tokenRequests - before).toBe(1);
      expect(saved).toHaveLength(1);
      expect(saved[0]).toMatch(/^gatehouse_rt_/);
      expect(saved[0]).not.toBe(tokens.refreshToken);
      expect(client.refreshToken).toBe(saved[0]);

      // Three more rotations (each access token due): each works, which it could not after a reuse.
      for (let i = 0; i < 3; i++) {
        now += 900_000;
        const again = await Promise.all([client.getToken(), client.getToken(), client.fetch(`${api.url}/me`)]);
        expect(again[0]).toBe(again[1]);
        expect(again[2].status).toBe(200);
      }
      expect(proxy.state.tokenRequests - before).toBe(4);
      expect(new Set(saved).size).toBe(4);

      // An app restart: a new client takes the latest refresh token from storage.
      const restarted = new RefreshingTokenClient({ issuer: t.issuer, clientId: registered.clientId, clientSecret: registered.clientSecret, storage });
      expect((await restarted.fetch(`${api.url}/me`)).status).toBe(200);
      expect(saved).toHaveLength(5);

      const reuse = await t.api('GET', '/v1/audit-events?type=token.reuse_detected&limit=200');
      expect(reuse.body.data.filter((event: any) => JSON.stringify(event).includes(registered.clientId))).toHaveLength(0);

      // The old refresh tokens are spent: presenting one is refused (and, being reuse, revokes the grant).
      const old = await refreshDirectly(registered, saved[2]!);
      expect(old.status).toBe(400);
      expect(((await old.json()) as { error: string }).error).toBe('invalid_grant');
      restarted.invalidate();
      await expect(restarted.getToken()).rejects.toMatchObject({ name: 'TokenRequestError', code: 'invalid_grant', attempts: 1 });
    });

    it('surfaces a failed save and keeps the rotated refresh token in memory', async () => {
      const { registered, tokens } = await userGrant();
      let fail = true;
      const saved: string[] = [];
      const client = new RefreshingTokenClient({
        issuer: t.issuer,
        clientId: registered.clientId,
        clientSecret: registered.clientSecret,
        refreshToken: tokens.refreshToken!,
        storage: {
          load: async () => undefined,
          save: async (token) => {
            if (fail) throw new Error('disk full');
            saved.push(token);
          },
        },
      });
      const error = await client.getToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenStorageError);
      expect(error).toMatchObject({ code: 'storage_failed', cause: { message: 'disk full' } });
      const unsaved = client.refreshToken;
      expect(unsaved).not.toBe(tokens.refreshToken);

      fail = false;
      const token = await client.getToken();
      expect(token).toBeTypeOf('string');
      expect(saved).toHaveLength(1);
      expect(saved[0]).not.toBe(unsaved);
      // The unsaved one was spent by the second rotation, the grant still alive: no reuse happened.
      expect((await client.fetch(`${api.url}/me`)).status).toBe(200);
    });

    it('a public client refreshes with client_id in the body', async () => {
      const registered = await t.createClient({ tokenEndpointAuthMethod: 'none' });
      const user = await t.createUser();
      const pkce = await createPkcePair();
      const url = await buildAuthorizationUrl({ issuer: t.issuer, clientId: registered.clientId, redirectUri: REDIRECT, scope: 'read', codeChallenge: pkce.challenge });
      const callback = await authorizeThroughForms(new FormBrowser(t.issuer), url.pathname + url.search, { email: user.email, password: PASSWORD });
      const tokens = await exchangeAuthorizationCode({ issuer: t.issuer, clientId: registered.clientId, code: callback.searchParams.get('code')!, redirectUri: REDIRECT, codeVerifier: pkce.verifier });
      const client = new RefreshingTokenClient({ issuer: t.issuer, clientId: registered.clientId, refreshToken: tokens.refreshToken! });
      expect(await client.getToken()).not.toBe(tokens.accessToken);
      expect(client.refreshToken).not.toBe(tokens.refreshToken);
    });
  });

  it('client modules are browser-safe: no node: imports, nothing from the server', () => {
    const dir = new URL('../src/client/', import.meta.url);
    for (const file of readdirSync(dir)) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((match) => match[1]!);
      for (const name of imports) expect(name === 'jose' || name.startsWith('./'), `${file} imports ${name}`).toBe(true);
    }
  });
});
