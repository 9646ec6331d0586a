/**
 * Dynamic Client Registration (RFC 7591 / 7592): every refusal of a request, with RFC 7591 section 3.2.2's codes,
 * the deployment's policy (off, open, rate limit, per-address maximum), and RFC 7592 update refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthTestApp, type OAuthTestApp } from './helpers/oauth.js';
import { manage, register } from './helpers/registration.js';

const GOOD = { redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none', client_name: 'ok' };

describe('registration off (the default)', () => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp();
  });
  afterAll(() => t.close());

  it('has no registration endpoint: 404, and no registration_endpoint in either metadata document', async () => {
    expect((await register(t, GOOD)).status).toBe(404);
    expect((await manage(`${t.issuer}/oauth/register/cli_${'a'.repeat(22)}`, 'GET', 'rat_x')).status).toBe(404);
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = (await (await fetch(`${t.issuer}${path}`)).json()) as any;
      expect(metadata).not.toHaveProperty('registration_endpoint');
    }
  });

  it('the admin API still issues initial access tokens (for when token mode is turned on)', async () => {
    expect((await t.api('POST', '/v1/registration-tokens', { body: { name: 'later' } })).status).toBe(201);
  });
});

describe('registration open: request validation', () => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({ env: { GATEHOUSE_CLIENT_REGISTRATION: 'open', GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT: '1000/60' } });
  });
  afterAll(() => t.close());

  const cases: Array<[string, unknown, 'invalid_redirect_uri' | 'invalid_client_metadata']> = [
    ['a body that is not an object', ['https://app.example/cb'], 'invalid_client_metadata'],
    ['redirect_uris not an array', { ...GOOD, redirect_uris: 'https://app.example/cb' }, 'invalid_redirect_uri'],
    ['redirect_uris of non-strings', { ...GOOD, redirect_uris: [42] }, 'invalid_redirect_uri'],
    ['no redirect URI for authorization_code', { token_endpoint_auth_method: 'none' }, 'invalid_redirect_uri'],
    ['a redirect URI with a fragment', { ...GOOD, redirect_uris: ['https://app.example/cb#x'] }, 'invalid_redirect_uri'],
    ['a javascript: redirect URI', { ...GOOD, redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
    ['an http redirect URI on a non-loopback host', { ...GOOD, redirect_uris: ['http://app.example/cb'] }, 'invalid_redirect_uri'],
    ['a wildcard redirect URI', { ...GOOD, redirect_uris: ['https://*.example/cb'] }, 'invalid_redirect_uri'],
    ['a confidential client (open registration is for public clients)', { ...GOOD, token_endpoint_auth_method: 'client_secret_basic' }, 'invalid_client_metadata'],
    ['an authentication method that is not offered', { ...GOOD, token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
    ['token_endpoint_auth_method not a string', { ...GOOD, token_endpoint_auth_method: ['none'] }, 'invalid_client_metadata'],
    ['an unknown grant type', { ...GOOD, grant_types: ['implicit'] }, 'invalid_client_metadata'],
    ['client_credentials (not allowed by the default policy)', { ...GOOD, grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
    ['refresh_token without authorization_code', { ...GOOD, grant_types: ['refresh_token'] }, 'invalid_client_metadata'],
    ['grant_types not an array', { ...GOOD, grant_types: 'authorization_code' }, 'invalid_client_metadata'],
    ['an empty grant_types', { ...GOOD, grant_types: [] }, 'invalid_client_metadata'],
    ['response_types token', { ...GOOD, response_types: ['token'] }, 'invalid_client_metadata'],
    ['response_types empty with authorization_code', { ...GOOD, response_types: [] }, 'invalid_client_metadata'],
    ['client_name not a string', { ...GOOD, client_name: 42 }, 'invalid_client_metadata'],
    ['client_name too long', { ...GOOD, client_name: 'x'.repeat(201) }, 'invalid_client_metadata'],
    ['client_name with control characters', { ...GOOD, client_name: 'a\u0000b' }, 'invalid_client_metadata'],
    ['scope not a string', { ...GOOD, scope: ['openid'] }, 'invalid_client_metadata'],
    ['a scope with a quote', { ...GOOD, scope: 'openid "x' }, 'invalid_client_metadata'],
    ['contacts not an array', { ...GOOD, contacts: 'ops@app.example' }, 'invalid_client_metadata'],
    ['too many contacts', { ...GOOD, contacts: Array.from({ length: 11 }, (_, i) => `c${i}@app.example`) }, 'invalid_client_metadata'],
    ['a javascript: client_uri', { ...GOOD, client_uri: 'javascript:alert(1)' }, 'invalid_client_metadata'],
    ['an http logo_uri', { ...GOOD, logo_uri: 'http://app.example/logo.png' }, 'invalid_client_metadata'],
    ['a tos_uri with user info', { ...GOOD, tos_uri: 'https://user@app.example/tos' }, 'invalid_client_metadata'],
    ['policy_uri not a string', { ...GOOD, policy_uri: 7 }, 'invalid_client_metadata'],
    ['software_id not a string', { ...GOOD, software_id: { id: 1 } }, 'invalid_client_metadata'],
    ['software_version empty', { ...GOOD, software_version: '' }, 'invalid_client_metadata'],
  ];

  it.each(cases)('refuses %s: 400 %s', async (_name, body, code) => {
    const response = await register(t, body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: code, error_description: expect.any(String) });
    expect(response.body.client_id).toBeUndefined();
  });

  it('stored nothing for any refused request, and audited each refusal with the address', async () => {
    expect(await t.services.stores.clients.list({ limit: 100, registration: 'dynamic' })).toStrictEqual([]);
    await t.services.audit.flush();
    const refused = (await t.services.stores.audit.list({ limit: 200, type: 'client.registered' })).filter((e) => e.outcome === 'failure');
    expect(refused).toHaveLength(cases.length);
    expect(refused.every((e) => e.ip === '127.0.0.1' && typeof e.reason === 'string')).toBe(true);
  });

  it('a body that is not JSON: 400 invalid_json; another media type: 415', async () => {
    const notJson = await fetch(`${t.issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"redirect_uris":' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as any).error).toBe('invalid_json');
    const form = await fetch(`${t.issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'redirect_uris=x' });
    expect(form.status).toBe(415);
  });

  it('RFC 7592 PUT refuses another client_id, a wrong client_secret, a confidential method, a bad redirect URI; nothing changes', async () => {
    const registered = (await register(t, { ...GOOD, scope: 'openid' })).body;
    const uri = registered.registration_client_uri;
    const rat = registered.registration_access_token;
    const put = (body: Record<string, unknown>) => manage(uri, 'PUT', rat, { client_id: registered.client_id, ...GOOD, ...body });
    for (const [body, code] of [
      [{ client_id: `cli_${'b'.repeat(22)}` }, 'invalid_client_metadata'],
      [{ client_id: undefined }, 'invalid_client_metadata'],
      [{ client_secret: 'cs_guess' }, 'invalid_client_metadata'],
      [{ token_endpoint_auth_method: 'client_secret_post' }, 'invalid_client_metadata'],
      [{ redirect_uris: ['https://app.example/cb#frag'] }, 'invalid_redirect_uri'],
      [{ grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
    ] as const) {
      const response = await put(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error).toBe(code);
    }
    const read = await manage(uri, 'GET', rat);
    expect(read.body).toMatchObject({ client_name: 'ok', redirect_uris: ['https://app.example/cb'], scope: 'openid' });
  });
});

describe('registration open: rate limit and per-address maximum', () => {
  let t: OAuthTestApp;
  afterAll(() => t?.close());

  it('past GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT an address is answered 429 with Retry-After, until the window passes', async () => {
    t = await createOAuthTestApp({ env: { GATEHOUSE_CLIENT_REGISTRATION: 'open', GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT: '3/3600' } });
    for (let i = 0; i < 3; i++) expect((await register(t, GOOD)).status).toBe(201);
    const limited = await register(t, GOOD);
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // A refused (invalid) request counts too: the limit is on attempts.
    t.clock.advance(3600_000);
    expect((await register(t, GOOD)).status).toBe(201);
    await t.close();
  });

  it('past GATEHOUSE_CLIENT_REGISTRATION_MAX_PER_ADDRESS live clients: 400 invalid_client_metadata; deleting one frees a place', async () => {
    t = await createOAuthTestApp({
      env: { GATEHOUSE_CLIENT_REGISTRATION: 'open', GATEHOUSE_CLIENT_REGISTRATION_MAX_PER_ADDRESS: '2', GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT: '1000/60' },
    });
    const first = (await register(t, GOOD)).body;
    expect((await register(t, GOOD)).status).toBe(201);
    const third = await register(t, GOOD);
    expect(third.status).toBe(400);
    expect(third.body.error).toBe('invalid_client_metadata');
    expect(third.body.error_description).toMatch(/as many clients/);
    expect((await manage(first.registration_client_uri, 'DELETE', first.registration_access_token)).status).toBe(204);
    expect((await register(t, GOOD)).status).toBe(201);
    // Admin-created clients do not count.
    await t.createClient();
    expect((await t.services.stores.clients.countDynamicByAddress('127.0.0.1'))).toBe(2);
  });
});
