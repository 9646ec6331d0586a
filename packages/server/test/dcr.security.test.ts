/**
 * Dynamic Client Registration (RFC 7591 / 7592), the security side: initial access tokens (missing, unknown,
 * expired, used up, revoked, raced for), registration access tokens (never telling whether a client exists),
 * fields a registration must not be able to set, and idle expiry by the retention sweep with a frozen clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { sinkCredential } from './helpers/log-sink.js';
import { authorizeThroughForms, basicAuth, createOAuthTestApp, FormBrowser, pkcePair, type OAuthTestApp } from './helpers/oauth.js';
import { manage, register } from './helpers/registration.js';

const PUBLIC = { redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none', scope: 'openid read', grant_types: ['authorization_code', 'refresh_token'] };
const DAY = 86_400_000;

async function issueToken(t: OAuthTestApp, body: Record<string, unknown> = {}) {
  const response = await t.api('POST', '/v1/registration-tokens', { body: { name: 'onboarding', ...body } });
  expect(response.status).toBe(201);
  sinkCredential(response.body.token);
  return response.body as { id: string; token: string; prefix: string };
}

async function tokenRequest(t: OAuthTestApp, body: Record<string, string>, auth?: string) {
  const response = await fetch(`${t.issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
    body: new URLSearchParams(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** Runs the code flow for a registered public client; returns the token response. */
async function codeFlow(t: OAuthTestApp, clientId: string, scope = 'openid') {
  const user = await t.createUser();
  const { verifier, challenge } = pkcePair();
  const callback = await authorizeThroughForms(
    new FormBrowser(t.issuer),
    `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: 'https://app.example/cb', scope, state: 's', code_challenge: challenge, code_challenge_method: 'S256' })}`,
    { email: user.email, password: 'correct horse battery staple' },
  );
  const response = await tokenRequest(t, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: 'https://app.example/cb', code_verifier: verifier, client_id: clientId });
  if (response.body.refresh_token) sinkCredential(response.body.refresh_token);
  return response;
}

describe.each(dialects)('registration with initial access tokens (%s)', (dialect) => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({
      dialect,
      env: {
        GATEHOUSE_CLIENT_REGISTRATION: 'token',
        GATEHOUSE_CLIENT_REGISTRATION_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
        GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT: '1000/60',
        GATEHOUSE_CLIENT_REGISTRATION_MAX_PER_ADDRESS: '0',
      },
    });
  });
  afterAll(() => t.close());

  it('without a token: 401 invalid_token with a Bearer challenge; an unknown or malformed one: 401 error="invalid_token"', async () => {
    const none = await register(t, PUBLIC);
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_token');
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse"');
    for (const auth of [`Bearer iat_${'x'.repeat(43)}`, 'Basic Zm9vOmJhcg==', 'Bearer']) {
      const response = await fetch(`${t.issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(PUBLIC) });
      expect(response.status, auth).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    }
    expect(await t.services.stores.clients.list({ limit: 10, registration: 'dynamic' })).toStrictEqual([]);
  });

  it("a confidential client with client_credentials: its secret once (never expiring), the token's tenant, and a working grant", async () => {
    const initial = await issueToken(t, { tenantId: 'acme', maxUses: 5 });
    const response = await register(t, { token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], scope: 'reports:read', client_name: 'm2m' }, initial.token);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ client_secret: expect.stringMatching(/^cs_/), client_secret_expires_at: 0, grant_types: ['client_credentials'], response_types: [] });
    const stored = await t.services.stores.clients.findById(response.body.client_id);
    expect(stored).toMatchObject({ tenantId: 'acme', registration: 'dynamic', createdBy: initial.id });
    const grant = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'reports:read' }, basicAuth(response.body.client_id, response.body.client_secret));
    expect(grant.status).toBe(200);
    // Reading it back never shows the secret again.
    const read = await manage(response.body.registration_client_uri, 'GET', response.body.registration_access_token);
    expect(read.body.client_secret).toBeUndefined();
    expect(read.body.client_secret_expires_at).toBe(0);
    // The use is counted.
    const listed = (await t.api('GET', '/v1/registration-tokens?tenantId=acme')).body.data.find((x: any) => x.id === initial.id);
    expect(listed).toMatchObject({ uses: 1, maxUses: 5, status: 'active', tenantId: 'acme' });
    expect(JSON.stringify(listed)).not.toContain(initial.token);
  });

  it('a token admits maxUses registrations; a refused request does not use one up', async () => {
    const initial = await issueToken(t, { maxUses: 1 });
    expect((await register(t, { ...PUBLIC, redirect_uris: ['javascript:x'] }, initial.token)).status).toBe(400);
    expect((await register(t, PUBLIC, initial.token)).status).toBe(201);
    const again = await register(t, PUBLIC, initial.token);
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid_token');
    expect((await t.api('GET', '/v1/registration-tokens')).body.data.find((x: any) => x.id === initial.id).status).toBe('used_up');
  });

  it('an expired token and a revoked token are refused', async () => {
    const expiring = await issueToken(t, { expiresInSeconds: 60 });
    const revoked = await issueToken(t);
    expect((await register(t, PUBLIC, expiring.token)).status).toBe(201);
    t.clock.advance(60_000);
    expect((await register(t, PUBLIC, expiring.token)).status).toBe(401);
    expect((await t.api('DELETE', `/v1/registration-tokens/${revoked.id}`)).body.status).toBe('revoked');
    expect((await register(t, PUBLIC, revoked.token)).status).toBe(401);
    // Revoking again is harmless; another tenant's admin key cannot see it.
    expect((await t.api('DELETE', `/v1/registration-tokens/${revoked.id}`)).status).toBe(200);
    const otherTenant = await t.createKey({ scopes: ['admin'], tenantId: 'other' });
    expect((await t.api('DELETE', `/v1/registration-tokens/${revoked.id}`, { key: otherTenant.key })).status).toBe(404);
    await t.services.audit.flush();
    const types = (await t.services.stores.audit.list({ limit: 500, typePrefix: 'registration_token.' })).map((e) => e.type);
    expect(types).toContain('registration_token.created');
    expect(types.filter((x) => x === 'registration_token.revoked')).toHaveLength(1);
  });

  it('of 10 registrations racing for the last 3 uses of a token exactly 3 succeed', async () => {
    const initial = await issueToken(t, { maxUses: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, () => register(t, PUBLIC, initial.token)));
    expect(results.map((r) => r.status).sort()).toStrictEqual([201, 201, 201, 401, 401, 401, 401, 401, 401, 401]);
    expect((await t.services.stores.registrationTokens.findById(initial.id))?.uses).toBe(3);
  });

  it('a tenant-bound admin key issues tokens of its own tenant only', async () => {
    const tenantAdmin = await t.createKey({ scopes: ['clients:write'], tenantId: 't9' });
    expect((await t.api('POST', '/v1/registration-tokens', { key: tenantAdmin.key, body: { name: 'x', tenantId: 't8' } })).status).toBe(403);
    const own = await t.api('POST', '/v1/registration-tokens', { key: tenantAdmin.key, body: { name: 'x' } });
    expect(own.status).toBe(201);
    sinkCredential(own.body.token);
    expect(own.body.tenantId).toBe('t9');
  });
});

describe.each(dialects)('registration access tokens and what a registration cannot set (%s)', (dialect) => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({ dialect, env: { GATEHOUSE_CLIENT_REGISTRATION: 'open', GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT: '1000/60', GATEHOUSE_CLIENT_REGISTRATION_MAX_PER_ADDRESS: '0' } });
  });
  afterAll(() => t.close());

  it('a wrong token, another client\'s token, an unknown, admin-created or deleted client: the same 401 for all', async () => {
    const a = (await register(t, PUBLIC)).body;
    const b = (await register(t, PUBLIC)).body;
    const admin = await t.createClient();
    const gone = (await register(t, PUBLIC)).body;
    expect((await manage(gone.registration_client_uri, 'DELETE', gone.registration_access_token)).status).toBe(204);
    const base = `${t.issuer}/oauth/register`;
    const refusals: Array<[string, string | undefined]> = [
      [a.registration_client_uri, `rat_${'x'.repeat(43)}`],
      [a.registration_client_uri, b.registration_access_token],
      [`${base}/cli_${'z'.repeat(22)}`, a.registration_access_token],
      [`${base}/not-a-client-id`, a.registration_access_token],
      [`${base}/${admin.clientId}`, a.registration_access_token],
      [gone.registration_client_uri, gone.registration_access_token],
    ];
    const bodies = new Set<string>();
    for (const [uri, token] of refusals) {
      for (const method of ['GET', 'PUT', 'DELETE'] as const) {
        const response = await manage(uri, method, token, method === 'PUT' ? { client_id: uri.split('/').at(-1), ...PUBLIC } : undefined);
        expect(response.status, `${method} ${uri}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse", error="invalid_token"');
        const { request_id: _id, ...rest } = response.body;
        bodies.add(JSON.stringify(rest));
      }
    }
    expect(bodies.size).toBe(1);
    const missing = await manage(a.registration_client_uri, 'GET', undefined);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse"');
    // Nothing changed: a and b still read and work; the admin client is untouched.
    expect((await manage(a.registration_client_uri, 'GET', a.registration_access_token)).status).toBe(200);
    expect((await t.services.stores.clients.findById(admin.clientId))?.deletedAt).toBeNull();
    await t.services.audit.flush();
    const failures = (await t.services.stores.audit.list({ limit: 500, type: 'client.authentication' })).filter((e) => e.reason === 'registration_access_token');
    expect(failures.length).toBeGreaterThanOrEqual(refusals.length * 3);
  });

  it('ignores fields a registration must not set: audiences, tenant, registration, lifetimes, secrets', async () => {
    const response = await register(t, {
      ...PUBLIC,
      audiences: ['https://api.example'],
      audience: 'https://api.example',
      tenant_id: 'acme',
      tenantId: 'acme',
      registration: 'admin',
      access_token_ttl_seconds: 86400,
      client_id: `cli_${'c'.repeat(22)}`,
      client_secret: 'cs_chosen',
      allowed_origins: ['https://evil.example'],
      id_token_signed_response_alg: 'none',
    });
    expect(response.status).toBe(201);
    expect(response.body.client_id).not.toBe(`cli_${'c'.repeat(22)}`);
    expect(response.body.client_secret).toBeUndefined();
    const stored = await t.services.stores.clients.findById(response.body.client_id);
    expect(stored).toMatchObject({ audiences: [], defaultAudience: null, tenantId: null, registration: 'dynamic', accessTokenTtlSeconds: null, allowedOrigins: [], secretHash: null, idTokenSignedResponseAlg: 'RS256' });
  });

  it("a self-registered client's token never opens the admin API, even with the console's scope", async () => {
    const registered = (await register(t, { ...PUBLIC, scope: 'openid gatehouse:admin' })).body;
    const tokens = await codeFlow(t, registered.client_id, 'openid gatehouse:admin');
    if (tokens.status === 200) {
      const me = await fetch(`${t.issuer}/v1/me`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } });
      expect(me.status).toBe(401);
    } else {
      expect(tokens.status).toBe(400);
    }
  });
});

describe.each(dialects)('idle expiry of dynamic clients (%s)', (dialect) => {
  let t: OAuthTestApp;
  afterAll(() => t?.close());

  it('the retention sweep deletes dynamic clients unused for GATEHOUSE_DYNAMIC_CLIENT_IDLE_DAYS, ending their grants; used ones and admin ones stay', async () => {
    t = await createOAuthTestApp({ dialect, env: { GATEHOUSE_CLIENT_REGISTRATION: 'open', GATEHOUSE_DYNAMIC_CLIENT_IDLE_DAYS: '30', GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT: '1000/60' } });
    const idle = (await register(t, PUBLIC)).body;
    const used = (await register(t, PUBLIC)).body;
    const idleWithGrant = (await register(t, PUBLIC)).body;
    const admin = await t.createClient();
    const oldGrant = await codeFlow(t, idleWithGrant.client_id);
    expect(oldGrant.status).toBe(200);
    t.clock.advance(20 * DAY);
    expect((await codeFlow(t, used.client_id)).status).toBe(200);
    t.clock.advance(15 * DAY);
    const runs = await t.services.retention.run();
    expect(runs.get('dynamic_clients')).toBe(2);
    for (const gone of [idle, idleWithGrant]) {
      expect((await t.services.stores.clients.findById(gone.client_id))?.deletedAt).toBe(t.clock.now());
      expect(await t.services.oauth.findClient(gone.client_id)).toBeUndefined();
      expect((await manage(gone.registration_client_uri, 'GET', gone.registration_access_token)).status).toBe(401);
    }
    expect((await t.services.stores.clients.findById(used.client_id))?.deletedAt).toBeNull();
    expect((await t.services.stores.clients.findById(admin.clientId))?.deletedAt).toBeNull();
    // The expired client's refresh token no longer works.
    expect((await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: oldGrant.body.refresh_token, client_id: idleWithGrant.client_id })).status).not.toBe(200);
    const events = await t.services.stores.audit.list({ limit: 100, type: 'client.expired' });
    expect(events.map((e) => e.details?.clientId).sort()).toStrictEqual([idle.client_id, idleWithGrant.client_id].sort());
    expect(events[0]!.details).toMatchObject({ idleDays: 30 });
    // A second sweep finds nothing more.
    expect((await t.services.retention.run()).get('dynamic_clients')).toBe(0);
    await t.close();
    t = undefined as unknown as OAuthTestApp;
  });

  it('GATEHOUSE_DYNAMIC_CLIENT_IDLE_DAYS=0 keeps them for ever', async () => {
    t = await createOAuthTestApp({ dialect, env: { GATEHOUSE_CLIENT_REGISTRATION: 'open', GATEHOUSE_DYNAMIC_CLIENT_IDLE_DAYS: '0' } });
    const registered = (await register(t, PUBLIC)).body;
    t.clock.advance(3650 * DAY);
    expect((await t.services.retention.run()).has('dynamic_clients')).toBe(false);
    expect((await t.services.stores.clients.findById(registered.client_id))?.deletedAt).toBeNull();
  });
});
