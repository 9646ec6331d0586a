import { createHash } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, decodeProtectedHeader, base64url } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { printableUrl, unreachable } from '../src/unavailable-error.js';
import { createOAuthTestApp, basicAuth, type OAuthTestApp } from '../../server/test/helpers/oauth.js';
import { waitFor } from '../../server/test/helpers/spawn-server.js';
import { apiKeyChecksum, createAuthenticator, DENIAL_CODES, type Authenticator, type AuthenticatorOptions, type AuthResult } from '../src/index.js';
import { signJwsInput } from '../../server/src/core/tokens/sign-jwt.js';
import { INVALID_UTF8, jsonWithBytes } from './helpers/protocol-cases.js';
import { closedPortUrl, startFakeIssuer, startGatehouseFront, type GatehouseFront } from './helpers/gatehouse-front.js';

const AUDIENCE = 'https://api.example';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const bearer = (token: string) => `Bearer ${token}`;

let t: OAuthTestApp;
let front: GatehouseFront;
let verifierKey: string;
let sdkNow: number;
const open: Authenticator[] = [];

/** An authenticator against the real server (API calls through the counting front), on a test clock. */
function authenticator(options: Partial<AuthenticatorOptions> = {}): Authenticator {
  const a = createAuthenticator({
    issuer: t.issuer,
    audience: AUDIENCE,
    gatehouseUrl: front.url,
    verifierKey,
    revocationStream: false,
    now: () => sdkNow,
    ...options,
  });
  open.push(a);
  return a;
}

async function clientToken(body: Record<string, string> = {}, client?: { clientId: string; clientSecret: string }): Promise<string> {
  const c = client ?? (await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read', 'write'], audiences: [AUDIENCE] }));
  const response = await fetch(`${t.issuer}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(c.clientId, c.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read', ...body }).toString(),
  });
  const json = (await response.json()) as { access_token: string };
  if (response.status !== 200) throw new Error(`token: ${response.status} ${JSON.stringify(json)}`);
  return json.access_token;
}

function expectDenied(result: AuthResult, code: string, status: number) {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect({ code: result.code, status: result.status }).toEqual({ code, status });
  expect(DENIAL_CODES).toContain(result.code);
  // Vague bodies: the code never reaches the client.
  expect(['invalid_token', 'insufficient_scope', 'rate_limited', 'temporarily_unavailable']).toContain(result.error.error);
  if (status === 401 || status === 403) expect(result.headers['WWW-Authenticate']).toBe(result.wwwAuthenticate);
}

beforeAll(async () => {
  // The test moves the server's clock back and forth; keep the management limit out of the way.
  t = await createOAuthTestApp({ env: { GATEHOUSE_MANAGEMENT_RATE_LIMIT: '1000000/1' } });
  front = await startGatehouseFront(t.issuer);
  verifierKey = (await t.createKey({ name: 'verifier', scopes: ['keys:verify'] })).key;
});

afterAll(async () => {
  await front?.close();
  await t?.close();
});

afterEach(() => {
  for (const a of open.splice(0)) a.close();
  front.streamStatus = undefined;
  front.deniedTokens = [];
  sdkNow = Date.now();
});
sdkNow = Date.now();

describe('options', () => {
  it('throws a TypeError at setup on misuse', () => {
    const base = { issuer: 'https://auth.example', audience: AUDIENCE };
    const key = 'sk_live_' + 'a'.repeat(43);
    const goodKey = key + apiKeyChecksum(key);
    for (const bad of [
      {},
      { ...base, issuer: 'not a url' },
      { ...base, issuer: 'ftp://auth.example' },
      { ...base, audience: '' },
      { ...base, audience: [] },
      { ...base, algorithms: ['none'] },
      { ...base, algorithms: ['HS256'] },
      { ...base, algorithms: ['EdDSA', 'HS512'] },
      { ...base, algorithms: [] },
      { ...base, verifierKey: 'sk_live_nope' },
      { ...base, revocationStream: true },
      { ...base, cacheTtlSeconds: -1 },
      { ...base, clockToleranceSeconds: Number.NaN },
      { ...base, fetch: 'fetch' },
      { ...base, gatehouseUrl: 'https://auth.example/?x=1' },
    ]) {
      expect(() => createAuthenticator(bad as unknown as AuthenticatorOptions), JSON.stringify(bad)).toThrow(TypeError);
    }
    const ok = createAuthenticator({ ...base, verifierKey: goodKey, revocationStream: false, algorithms: ['ES256'] });
    expect(ok.status()).toEqual({
      revocationStream: 'off',
      streamConnections: 0,
      cachedKeys: 0,
      deniedTokens: 0,
      usageReports: { counted: 0, reported: 0, pending: 0, dropped: 0, failedReports: 0, ignoredEntries: 0 },
    });
    ok.close();
  });
});

describe('requests that never reach the network', () => {
  it('missing, malformed and non-credential values are denied offline', async () => {
    const a = authenticator();
    const before = front.verifyCalls;
    const missing = await a.authenticate(undefined);
    expectDenied(missing, 'missing_credentials', 401);
    expect(!missing.ok && missing.wwwAuthenticate).toBe(`Bearer realm="${AUDIENCE}"`);
    expectDenied(await a.authenticate(''), 'missing_credentials', 401);
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer a b', 'bearer\ttoken', `Bearer ${'a'.repeat(9000)}`]) {
      const result = await a.authenticate(header);
      expectDenied(result, 'malformed_authorization', 401);
      expect(!result.ok && result.wwwAuthenticate).toBe(`Bearer realm="${AUDIENCE}", error="invalid_token"`);
    }
    expectDenied(await a.authenticate(['Bearer a', 'Bearer b']), 'malformed_authorization', 401);
    const wellFormed = 'sk_live_' + 'Q'.repeat(43);
    for (const token of ['random-string', 'sk_live_short', wellFormed + 'AAAAAA', 'a.b', 'sk_test_' + 'x'.repeat(49)]) {
      expectDenied(await a.authenticate(bearer(token)), 'invalid_token', 401);
    }
    expect(front.verifyCalls).toBe(before);
  });

  it('without a verifierKey, API keys are not accepted', async () => {
    const a = authenticator({ verifierKey: undefined });
    const { key } = await t.createKey({ name: 'k' });
    const before = front.verifyCalls;
    expectDenied(await a.authenticate(bearer(key)), 'invalid_token', 401);
    expect(front.verifyCalls).toBe(before);
  });
});

describe('API keys', () => {
  it('a valid key: who it is, its scopes, its tenant', async () => {
    const created = await t.createKey({ name: 'svc', scopes: ['orders:read', 'orders:write'], tenantId: 'acme' });
    const a = authenticator();
    const result = await a.authenticate(bearer(created.key), { scopes: ['orders:read'], tenantId: 'acme' });
    expect(result).toEqual({
      ok: true,
      auth: { kind: 'api_key', subject: created.id, keyId: created.id, tenantId: 'acme', scopes: ['orders:read', 'orders:write'] },
      headers: {},
    });
  });

  it('scopes and tenants are checked, from the cache too', async () => {
    const created = await t.createKey({ name: 'svc', scopes: ['orders:read'], tenantId: 'acme' });
    const untenanted = await t.createKey({ name: 'global', scopes: ['orders:read'] });
    for (const warm of [false, true]) {
      const a = authenticator();
      if (warm) expect((await a.authenticate(bearer(created.key))).ok).toBe(true);
      const scope = await a.authenticate(bearer(created.key), { scopes: ['orders:read', 'orders:delete'] });
      expectDenied(scope, 'insufficient_scope', 403);
      expect(!scope.ok && scope.wwwAuthenticate).toBe(`Bearer realm="${AUDIENCE}", error="insufficient_scope", scope="orders:read orders:delete"`);
      expect(!scope.ok && scope.error.error).toBe('insufficient_scope');
      const tenant = await a.authenticate(bearer(created.key), { scopes: ['orders:read'], tenantId: 'globex' });
      expectDenied(tenant, 'wrong_tenant', 403);
      expect(!tenant.ok && tenant.wwwAuthenticate).toBe(`Bearer realm="${AUDIENCE}", error="insufficient_scope"`);
      expectDenied(await a.authenticate(bearer(untenanted.key), { tenantId: 'acme' }), 'wrong_tenant', 403);
      expect((await a.authenticate(bearer(untenanted.key), { scopes: ['orders:read'] })).ok).toBe(true);
    }
  });

  it('unknown, revoked and expired keys', async () => {
    const a = authenticator({ cacheTtlSeconds: 0 });
    const body = 'sk_live_' + 'Z9'.repeat(21) + 'z';
    expectDenied(await a.authenticate(bearer(body + apiKeyChecksum(body))), 'invalid_token', 401);

    const revoked = await t.createKey({ name: 'gone' });
    expect((await t.api('POST', `/v1/keys/${revoked.id}/revoke`)).status).toBe(200);
    expectDenied(await a.authenticate(bearer(revoked.key)), 'revoked_token', 401);

    const expiring = await t.createKey({ name: 'brief', expiresAt: new Date(t.clock.now() + 60_000).toISOString() });
    expect((await a.authenticate(bearer(expiring.key))).ok).toBe(true);
    const saved = t.clock.now();
    t.clock.advance(120_000);
    try {
      expectDenied(await a.authenticate(bearer(expiring.key)), 'expired_token', 401);
    } finally {
      t.clock.set(saved);
    }
  });

  it('a cached key is not used past its expiresAt', async () => {
    const expiring = await t.createKey({ name: 'brief', expiresAt: new Date(sdkNow + 3_000).toISOString() });
    const a = authenticator({ cacheTtlSeconds: 600 });
    expect((await a.authenticate(bearer(expiring.key))).ok).toBe(true);
    const calls = front.verifyCalls;
    expect((await a.authenticate(bearer(expiring.key))).ok).toBe(true);
    expect(front.verifyCalls).toBe(calls);
    sdkNow += 4_000;
    await a.authenticate(bearer(expiring.key));
    expect(front.verifyCalls).toBe(calls + 1);
  });

  it('caches valid keys for cacheTtlSeconds and shares concurrent lookups (single flight)', async () => {
    const { key } = await t.createKey({ name: 'hot', scopes: ['read'] });
    const a = authenticator({ cacheTtlSeconds: 10 });
    const before = front.verifyCalls;
    const results = await Promise.all(Array.from({ length: 25 }, () => a.authenticate(bearer(key), { scopes: ['read'] })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(front.verifyCalls).toBe(before + 1);
    for (let i = 0; i < 100; i++) expect((await a.authenticate(bearer(key))).ok).toBe(true);
    expect(front.verifyCalls).toBe(before + 1);
    expect(a.status().cachedKeys).toBe(1);
    sdkNow += 9_000;
    await a.authenticate(bearer(key));
    expect(front.verifyCalls).toBe(before + 1);
    sdkNow += 1_001;
    expect((await a.authenticate(bearer(key))).ok).toBe(true);
    expect(front.verifyCalls).toBe(before + 2);
  });

  it('authenticateMaybeSync answers a cached key and a bad header synchronously, anything needing I/O as a promise', async () => {
    const { key } = await t.createKey({ name: 'sync', scopes: ['read'] });
    const a = authenticator({ cacheTtlSeconds: 10 });
    const first = a.authenticateMaybeSync(bearer(key), { scopes: ['read'] });
    expect(first).toBeInstanceOf(Promise);
    expect((await first).ok).toBe(true);
    const cached = a.authenticateMaybeSync(bearer(key), { scopes: ['read'] });
    expect(cached).not.toBeInstanceOf(Promise);
    expect(cached).toEqual(await a.authenticate(bearer(key), { scopes: ['read'] }));
    const denied = a.authenticateMaybeSync(bearer(key), { scopes: ['write'] });
    expect(denied).toMatchObject({ ok: false, code: 'insufficient_scope', status: 403 });
    expect(a.authenticateMaybeSync(undefined)).toMatchObject({ ok: false, code: 'missing_credentials' });
    expect(a.authenticateMaybeSync('Basic abc')).toMatchObject({ ok: false, code: 'malformed_authorization' });
    expect(a.authenticateMaybeSync('Bearer a.b.c')).toBeInstanceOf(Promise);
  });

  it('rate-limited keys are verified (and counted) on every use, with X-RateLimit headers; 429 when exhausted', async () => {
    const { key } = await t.createKey({ name: 'metered', rateLimit: { limit: 3, windowSeconds: 3600 } });
    const a = authenticator({ cacheTtlSeconds: 600 });
    const before = front.verifyCalls;
    const first = await a.authenticate(bearer(key));
    expect(first.ok && first.auth.rateLimit).toMatchObject({ limit: 3, remaining: 2 });
    expect(first.ok && first.headers).toMatchObject({ 'X-RateLimit-Limit': '3', 'X-RateLimit-Remaining': '2' });
    expect(Number(first.ok && first.headers['X-RateLimit-Reset'])).toBeGreaterThan(t.clock.now() / 1000);
    // Two at once share nothing: both are counted.
    const pair = await Promise.all([a.authenticate(bearer(key)), a.authenticate(bearer(key))]);
    expect(pair.map((r) => r.ok)).toEqual([true, true]);
    expect(front.verifyCalls).toBe(before + 3);
    const limited = await a.authenticate(bearer(key));
    expectDenied(limited, 'rate_limited', 429);
    expect(!limited.ok && limited.headers).toMatchObject({ 'X-RateLimit-Limit': '3', 'X-RateLimit-Remaining': '0' });
    // 3 per hour: the next request is allowed in 20 minutes (the whole limit is back in an hour).
    expect(!limited.ok && limited.headers['Retry-After']).toBe('1200');
    expect(a.status().cachedKeys).toBe(0);
  });
});

describe('Gatehouse unreachable or refusing the verifier: 503 unavailable, never 401', () => {
  it('API keys', async () => {
    const { key } = await t.createKey({ name: 'k' });
    const errors: Error[] = [];
    const closed = await closedPortUrl();
    const down = authenticator({ gatehouseUrl: closed, onError: (e) => errors.push(e) });
    const result = await down.authenticate(bearer(key));
    expectDenied(result, 'unavailable', 503);
    expect(!result.ok && result.headers['Retry-After']).toBe('1');
    expect(errors.length).toBe(1);
    // Not undici's bare "fetch failed": which URL, and why.
    const { host } = new URL(closed);
    expect(errors[0]!.message).toBe(`key verification: http://${host}/v1/keys/verify unreachable: fetch failed: connect ECONNREFUSED ${host}`);
    const stranger = 'sk_live_' + 'S'.repeat(43);
    const refused = authenticator({ verifierKey: stranger + apiKeyChecksum(stranger) });
    expectDenied(await refused.authenticate(bearer(key)), 'unavailable', 503);
  });

  it('JWTs when the issuer metadata or JWKS cannot be fetched', async () => {
    const token = await clientToken();
    const issuer = await closedPortUrl();
    const errors: Error[] = [];
    const down = authenticator({ issuer, onError: (e) => errors.push(e) });
    expectDenied(await down.authenticate(bearer(token)), 'unavailable', 503);
    const { host } = new URL(issuer);
    expect(errors.map((e) => e.message)).toContain(
      `JWKS or issuer metadata: http://${host}/.well-known/openid-configuration unreachable: fetch failed: connect ECONNREFUSED ${host}`,
    );
  });

  it('the URL in an unreachable error carries no credentials, query or fragment', () => {
    expect(printableUrl('https://user:secret@gatehouse.example:8443/v1/keys/verify?token=abc#x')).toBe('https://gatehouse.example:8443/v1/keys/verify');
    expect(printableUrl('not a url')).toBe('(an invalid URL)');
    const nested = new TypeError('fetch failed', { cause: new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:4000'), { code: 'ECONNREFUSED' })]) });
    expect(unreachable('key verification', 'http://localhost:4000/v1/keys/verify', nested).message).toBe(
      'key verification: http://localhost:4000/v1/keys/verify unreachable: fetch failed: connect ECONNREFUSED ::1:4000',
    );
  });
});

describe('JWT access tokens', () => {
  it('a real client_credentials token: subject, client, scopes, claims', async () => {
    const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read', 'write'], audiences: [AUDIENCE] });
    const token = await clientToken({ scope: 'read write' }, client);
    const a = authenticator();
    const result = await a.authenticate(bearer(token), { scopes: ['read'] });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.auth).toMatchObject({ kind: 'jwt', subject: client.clientId, clientId: client.clientId, tenantId: null, scopes: ['read', 'write'] });
    expect(result.auth.claims).toMatchObject({ iss: t.issuer, aud: AUDIENCE, client_id: client.clientId });
    expectDenied(await a.authenticate(bearer(token), { scopes: ['admin'] }), 'insufficient_scope', 403);
    expectDenied(await a.authenticate(bearer(token), { tenantId: 'acme' }), 'wrong_tenant', 403);
    // Another API's audience
    const other = authenticator({ audience: 'https://billing.example' });
    expectDenied(await other.authenticate(bearer(token)), 'invalid_token', 401);
  });

  it('tenant-bound clients: tenant_id is the tenant', async () => {
    const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], audiences: [AUDIENCE], tenantId: 'acme' });
    const token = await clientToken({}, client);
    const a = authenticator();
    const result = await a.authenticate(bearer(token), { tenantId: 'acme' });
    expect(result.ok && result.auth.tenantId).toBe('acme');
    expectDenied(await a.authenticate(bearer(token), { tenantId: 'globex' }), 'wrong_tenant', 403);
  });

  it('an expired token is expired_token (within the clock tolerance it still passes)', async () => {
    const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], audiences: [AUDIENCE] });
    const saved = t.clock.now();
    t.clock.set(saved - 2 * 3600_000);
    const token = await clientToken({}, client);
    t.clock.set(saved);
    const exp = JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!))).exp as number;
    const a = authenticator({ clockToleranceSeconds: 5 });
    sdkNow = exp * 1000 + 4_000;
    expect((await a.authenticate(bearer(token))).ok).toBe(true);
    sdkNow = exp * 1000 + 6_000;
    expectDenied(await a.authenticate(bearer(token)), 'expired_token', 401);
  });

  it('the default clock tolerance is the server\'s 60 s, for exp, nbf and iat alike (frozen clock)', async () => {
    const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], audiences: [AUDIENCE] });
    const token = await clientToken({}, client);
    const { iat, exp } = JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!))) as { iat: number; exp: number };
    const a = authenticator();
    sdkNow = (exp + 59) * 1000;
    expect((await a.authenticate(bearer(token))).ok).toBe(true);
    sdkNow = (exp + 60) * 1000;
    expectDenied(await a.authenticate(bearer(token)), 'expired_token', 401);
    // Minted by a server whose clock runs ahead: iat (and nbf) up to 60 s in the future pass, 61 s do not.
    sdkNow = (iat - 60) * 1000;
    expect((await a.authenticate(bearer(token))).ok).toBe(true);
    sdkNow = (iat - 61) * 1000;
    expectDenied(await a.authenticate(bearer(token)), 'invalid_token', 401);
  });

  it('tokens signed with the server\'s real key whose header or payload is not valid UTF-8 are invalid_token', async () => {
    const token = await clientToken();
    const [headerPart, payloadPart] = token.split('.') as [string, string];
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(headerPart)));
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(payloadPart)));
    const key = t.services.signingKeys.current();
    const signed = async (h: Uint8Array | string, p: Uint8Array | string) => {
      const input = `${base64url.encode(h)}.${base64url.encode(p)}`;
      return `${input}.${(await signJwsInput(key, Buffer.from(input))).toString('base64url')}`;
    };
    const a = authenticator();
    // The baseline: re-signed well-formed parts pass.
    expect((await a.authenticate(bearer(await signed(JSON.stringify(header), JSON.stringify({ ...payload, note: 'x' }))))).ok).toBe(true);
    for (const [name, bytes] of INVALID_UTF8) {
      expectDenied(await a.authenticate(bearer(await signed(JSON.stringify(header), jsonWithBytes(payload, 'note', bytes)))), 'invalid_token', 401);
      expectDenied(await a.authenticate(bearer(await signed(jsonWithBytes(header, 'note', bytes), JSON.stringify(payload)))), 'invalid_token', 401);
      void name;
    }
  });

  it('forged tokens: alg none, HS256 keyed with the public key, a tampered payload', async () => {
    const token = await clientToken();
    const [headerPart, payloadPart, signature] = token.split('.') as [string, string, string];
    const header = decodeProtectedHeader(token);
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(payloadPart)));
    const a = authenticator();
    expect((await a.authenticate(bearer(token))).ok).toBe(true);
    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));

    const none = `${encode({ ...header, alg: 'none' })}.${payloadPart}.`;
    expectDenied(await a.authenticate(bearer(none)), 'invalid_token', 401);

    const jwks = (await (await fetch(`${t.issuer}/.well-known/jwks.json`)).json()) as { keys: Record<string, string>[] };
    const publicJwk = jwks.keys.find((k) => k.kid === header.kid)!;
    for (const secret of [new TextEncoder().encode(JSON.stringify(publicJwk)), base64url.decode(publicJwk.x!)]) {
      const hs = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: header.kid! }).sign(secret);
      expectDenied(await a.authenticate(bearer(hs)), 'invalid_token', 401);
    }
    const tampered = `${headerPart}.${encode({ ...payload, scope: 'read write admin' })}.${signature}`;
    expectDenied(await a.authenticate(bearer(tampered)), 'invalid_token', 401);
  });

  it('signed by a trusted key but wrong: typ, aud, iss, nbf, algorithm, missing claims', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const issuer = await startFakeIssuer({ keys: [jwk] });
    try {
      const now = Math.floor(sdkNow / 1000);
      const claims = { sub: 'svc', client_id: 'cli_1', scope: 'read', jti: 'jti-1', aud: AUDIENCE, iss: issuer.issuer };
      const sign = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
        new SignJWT({ ...claims, ...overrides })
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', ...header })
          .setIssuedAt(now)
          .setExpirationTime(now + 300)
          .sign(privateKey);
      const a = authenticator({ issuer: issuer.issuer });
      expect((await a.authenticate(bearer(await sign()))).ok).toBe(true);
      expect((await a.authenticate(bearer(await sign({}, { typ: 'application/at+jwt' })))).ok).toBe(true);
      for (const [what, token] of [
        ['typ JWT', await sign({}, { typ: 'JWT' })],
        ['no typ', await sign({}, { typ: undefined })],
        ['aud', await sign({ aud: 'https://other.example' })],
        ['iss', await sign({ iss: 'https://evil.example' })],
        ['nbf (past the 60 s tolerance)', await sign({ nbf: now + 61 })],
        ['iat (past the 60 s tolerance)', await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }).setIssuedAt(now + 61).setExpirationTime(now + 300).sign(privateKey)],
        ['no jti', await sign({ jti: undefined })],
        ['no client_id', await sign({ client_id: undefined })],
        ['unknown kid', await sign({}, { kid: 'k2' })],
      ] as const) {
        expectDenied(await a.authenticate(bearer(token)), 'invalid_token', 401);
        void what;
      }
      const es256Only = authenticator({ issuer: issuer.issuer, algorithms: ['EdDSA'] });
      expectDenied(await es256Only.authenticate(bearer(await sign())), 'invalid_token', 401);
    } finally {
      await issuer.close();
    }
  });

  it('JWKS rotation while tokens are in flight: an unknown kid refetches at most once per 30 s', async () => {
    let jwksFetches = 0;
    const counting: typeof fetch = (input, init) => {
      if (String(input).endsWith('/jwks.json')) jwksFetches++;
      return fetch(input, init);
    };
    const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], audiences: [AUDIENCE] });
    const before = await clientToken({}, client);
    const a = authenticator({ fetch: counting });
    expect((await a.authenticate(bearer(before))).ok).toBe(true);
    expect(jwksFetches).toBe(1);

    const rotated = await t.api('POST', '/v1/signing-keys/rotate', { body: { activateAfterSeconds: 0 } });
    expect(rotated.status).toBe(200);
    const after = await clientToken({}, client);
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);

    sdkNow += 31_000;
    const results = await Promise.all([a.authenticate(bearer(after)), a.authenticate(bearer(after)), a.authenticate(bearer(before))]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(jwksFetches).toBe(2);

    // A forged kid right after: no refetch within the cooldown.
    const forgedKid = `${base64url.encode(JSON.stringify({ ...decodeProtectedHeader(after), kid: 'nope' }))}.${after.split('.').slice(1).join('.')}`;
    expectDenied(await a.authenticate(bearer(forgedKid)), 'invalid_token', 401);
    expect(jwksFetches).toBe(2);
  });

  it('within the cooldown a brand-new kid is refused; after it, one refetch lets it in', async () => {
    let jwksFetches = 0;
    const counting: typeof fetch = (input, init) => {
      if (String(input).endsWith('/jwks.json')) jwksFetches++;
      return fetch(input, init);
    };
    const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], audiences: [AUDIENCE] });
    const a = authenticator({ fetch: counting });
    expect((await a.authenticate(bearer(await clientToken({}, client))))).toMatchObject({ ok: true });
    await t.api('POST', '/v1/signing-keys/rotate', { body: { activateAfterSeconds: 0 } });
    const fresh = await clientToken({}, client);
    expectDenied(await a.authenticate(bearer(fresh)), 'invalid_token', 401);
    expect(jwksFetches).toBe(1);
    sdkNow += 30_000;
    expect((await a.authenticate(bearer(fresh))).ok).toBe(true);
    expect(jwksFetches).toBe(2);
  });
});

describe('revocation stream (a stream server in the fixed format, in front of the real Gatehouse)', () => {
  const streaming = async (options: Partial<AuthenticatorOptions> = {}) => {
    const a = authenticator({ revocationStream: undefined, cacheTtlSeconds: 600, ...options });
    const connections = front.streamConnections;
    await waitFor('the stream to connect', async () => (a.status().streamConnections > 0 ? true : undefined));
    expect(a.status().revocationStream).toBe('open');
    expect(front.streamConnections).toBe(connections + 1);
    return a;
  };

  it('is on by default with a verifierKey; a key event drops the cached key at once (10-minute TTL)', async () => {
    const { id, key } = await t.createKey({ name: 'cached' });
    const a = await streaming();
    expect((await a.authenticate(bearer(key))).ok).toBe(true);
    const calls = front.verifyCalls;
    expect((await t.api('POST', `/v1/keys/${id}/revoke`)).status).toBe(200);
    // Still cached: nothing told this process yet.
    expect((await a.authenticate(bearer(key))).ok).toBe(true);
    expect(front.verifyCalls).toBe(calls);
    front.push('key', { hash: sha256(key) });
    const denied = await waitFor('the revocation to apply', async () => {
      const result = await a.authenticate(bearer(key));
      return result.ok ? undefined : result;
    });
    expectDenied(denied, 'revoked_token', 401);
    expect(front.verifyCalls).toBe(calls + 1);
  });

  it('a key event during a verification in flight keeps its answer out of the cache', async () => {
    const { key } = await t.createKey({ name: 'racing' });
    const a = await streaming();
    let release!: () => void;
    front.holdVerify = new Promise((resolve) => (release = resolve));
    const calls = front.verifyCalls;
    const pending = a.authenticate(bearer(key));
    await waitFor('the verify request', async () => (front.verifyCalls > calls ? true : undefined));
    front.push('key', { hash: sha256(key) });
    // Events are handled in order: once this token event is seen, the key event was handled before it.
    front.push('token', { jti: 'marker', exp: Math.floor(Date.now() / 1000) + 600 });
    await waitFor('the events', async () => (a.status().deniedTokens > 0 ? true : undefined));
    front.holdVerify = undefined;
    release();
    expect((await pending).ok).toBe(true);
    expect(a.status().cachedKeys).toBe(0);
    expect((await a.authenticate(bearer(key))).ok).toBe(true);
    expect(front.verifyCalls).toBe(calls + 2);
    expect(a.status().cachedKeys).toBe(1);
  });

  it('token events and the ready denylist deny access tokens by jti', async () => {
    const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], audiences: [AUDIENCE] });
    const [first, second] = [await clientToken({}, client), await clientToken({}, client)];
    const claims = (token: string) => JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!)));
    front.deniedTokens = [{ jti: claims(first).jti, exp: claims(first).exp }];
    const a = await streaming();
    expectDenied(await a.authenticate(bearer(first)), 'revoked_token', 401);
    expect((await a.authenticate(bearer(second))).ok).toBe(true);
    front.push('token', { jti: claims(second).jti, exp: claims(second).exp });
    await waitFor('the token revocation', async () => ((await a.authenticate(bearer(second))).ok ? undefined : true));
    expectDenied(await a.authenticate(bearer(second)), 'revoked_token', 401);
    expect(a.status().deniedTokens).toBe(2);
  });

  it('reconnects after the stream drops, catches up from ready, and re-verifies cached keys', async () => {
    const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], audiences: [AUDIENCE] });
    const token = await clientToken({}, client);
    const { key } = await t.createKey({ name: 'survivor' });
    const a = await streaming();
    expect((await a.authenticate(bearer(key))).ok).toBe(true);
    expect((await a.authenticate(bearer(token))).ok).toBe(true);
    const calls = front.verifyCalls;
    const jti = decodeJti(token);
    front.deniedTokens = [{ jti, exp: Math.floor(Date.now() / 1000) + 3600 }];
    front.dropStreams();
    await waitFor('a reconnection', async () => (a.status().streamConnections >= 2 ? true : undefined));
    expectDenied(await a.authenticate(bearer(token)), 'revoked_token', 401);
    // Whatever happened while disconnected is unknown: the key is verified afresh.
    expect((await a.authenticate(bearer(key))).ok).toBe(true);
    expect(front.verifyCalls).toBe(calls + 1);
  });

  it('ignores comments and malformed events; keeps retrying while the stream is refused', async () => {
    const errors: Error[] = [];
    front.streamStatus = 401;
    const a = authenticator({ revocationStream: true, onError: (e) => errors.push(e) });
    await waitFor('two refused attempts', async () => (errors.length >= 2 ? true : undefined));
    expect(errors[0]!.message).toMatch(/HTTP 401/);
    expect(a.status().revocationStream).not.toBe('open');
    front.streamStatus = undefined;
    await waitFor('the stream to connect', async () => (a.status().streamConnections > 0 ? true : undefined), { timeoutMs: 10_000 });
    const { key } = await t.createKey({ name: 'k' });
    expect((await a.authenticate(bearer(key))).ok).toBe(true);
    front.write(': keep-alive\n\n');
    front.write('event: key\ndata: not json\n\n');
    front.write('event: key\ndata: {"hash":"xyz"}\n\n');
    front.write('event: unknown\ndata: {}\n\n');
    front.write(`event: key\r\ndata: {"hash":"${sha256(key)}"}\r\n\r\n`);
    await waitFor('the valid event', async () => (a.status().cachedKeys === 0 ? true : undefined));
    expect(errors.some((e) => /unparsable key event/.test(e.message))).toBe(true);
    expect(errors.some((e) => /malformed key event/.test(e.message))).toBe(true);
    a.close();
    expect(a.status().revocationStream).toBe('closed');
  });
});

function decodeJti(token: string): string {
  return JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!))).jti;
}
