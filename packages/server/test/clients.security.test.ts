import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { authenticateClient, type ClientLookup } from '../src/core/oauth/client-auth.js';
import { hashClientSecret } from '../src/core/oauth/client-secret.js';
import type { OAuthClient } from '../src/core/oauth/client-service.js';
import { checkRedirectUriRegistration, matchRedirectUri } from '../src/core/oauth/redirect-uri.js';
import { newId } from '../src/core/random.js';
import { loadConfig } from '../src/config/load-config.js';
import { createServices } from '../src/main.js';
import { createPgSchema, tempDir } from './helpers/databases.js';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
/** RFC 6749 2.3.1: form-urlencode id and secret, join with a colon, then base64. */
const basic = (id: string, secret: string) => `Basic ${b64(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

describe('redirect URI registration (RFC 6749 3.1.2, RFC 8252 7-8, RFC 9700 4.1)', () => {
  it.each([
    'https://app.example.com/callback',
    'https://app.example.com/callback?tenant=acme',
    'https://app.example.com:8443/cb',
    'https://app.example.com',
    'http://127.0.0.1/cb',
    'http://127.0.0.1:8080/cb',
    'http://127.0.0.1',
    'http://[::1]/cb',
    'http://[::1]:5000/oauth?x=1',
    'com.example.app:/oauth2redirect',
    'com.example.app://callback',
    'io.github.user.tool:/cb',
  ])('accepts %s', (uri) => {
    expect(checkRedirectUriRegistration(uri)).toStrictEqual({ ok: true });
  });

  it.each([
    ['javascript:alert(1)', /javascript/],
    ['JavaScript:alert(1)', /javascript/],
    ['data:text/html,<script>alert(1)</script>', /data|spaces/],
    ['data:text/html;base64,PHNjcmlwdD4=', /data/],
    ['vbscript:msgbox(1)', /vbscript/],
    ['file:///etc/passwd', /file/],
    ['https://app.example.com/cb#frag', /fragment/],
    ['https://app.example.com/cb#', /fragment/],
    ['http://app.example.com/cb', /loopback/],
    ['http://10.0.0.1/cb', /loopback/],
    ['http://127.0.0.2/cb', /loopback/],
    ['http://127.0.0.1.evil.com/cb', /loopback/],
    ['http://localhost/cb', /only for public clients/],
    ['http://localhost:3000/cb', /only for public clients/],
    ['http://LOCALHOST:3000/cb', /only for public clients/],
    ['https://*.example.com/cb', /wildcard/],
    ['https://app.example.com/*', /wildcard/],
    ['https://good.example.com@evil.example.com/cb', /user info/],
    ['https://user:pass@app.example.com/cb', /user info/],
    ['https://app.example.com/a/../cb', /dot segments/],
    ['https://app.example.com/a/%2e%2e/cb', /dot segments/],
    ['https://app.example.com\\@evil.com/cb', /backslash/],
    ['https://app.example.com/c b', /spaces/],
    ['https://app.example.com/cb\n', /control/],
    ['https://exämple.com/cb', /non-ASCII/],
    ['/relative/cb', /absolute/],
    ['app.example.com/cb', /absolute|scheme/],
    ['HTTPS://app.example.com/cb', /lowercase/],
    ['https:app.example.com', /host/],
    ['https:///cb', /host/],
    ['myapp:/cb', /reverse-domain/],
    ['ftp://files.example.com/cb', /scheme must be/],
    ['http://127.0.0.1:0/cb', /port/],
    ['http://127.0.0.1:65536/cb', /port/],
    ['', /empty/],
    [`https://app.example.com/${'a'.repeat(2000)}`, /longer/],
  ])('refuses %j', (uri, reason) => {
    const result = checkRedirectUriRegistration(uri);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  // RFC 8252 7.3 and 8.3: a public (native or browser) client may use http://localhost, any port; a
  // confidential client keeps to the loopback IP literals (the default, publicClient: false, above).
  it.each(['http://localhost/cb', 'http://localhost:3000/cb', 'http://localhost:5173/', 'http://localhost', 'http://localhost:8080/cb?x=1'])(
    'accepts %s for a public client',
    (uri) => {
      expect(checkRedirectUriRegistration(uri, { publicClient: true })).toStrictEqual({ ok: true });
    },
  );

  it.each([
    ['http://LOCALHOST:3000/cb', /lowercase/],
    ['http://Localhost/cb', /lowercase/],
    ['http://localhost:0/cb', /port/],
    ['http://localhost:65536/cb', /port/],
    ['http://localhost.evil.example/cb', /loopback/],
    ['http://localhostevil.example/cb', /loopback/],
    ['http://user@localhost/cb', /user info/],
    ['http://localhost/cb#x', /fragment/],
    ['http://app.example.com/cb', /loopback/],
  ])('refuses %j even for a public client', (uri, reason) => {
    const result = checkRedirectUriRegistration(uri, { publicClient: true });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });
});

describe('redirect URI matching', () => {
  const registered = ['https://app.example.com/callback', 'https://app.example.com/q?x=1', 'http://127.0.0.1/cb', 'http://[::1]/native', 'com.example.app:/cb'];

  it.each([
    'https://app.example.com/callback',
    'https://app.example.com/q?x=1',
    'http://127.0.0.1/cb',
    'http://127.0.0.1:51234/cb', // RFC 8252 7.3: any port on loopback
    'http://127.0.0.1:1/cb',
    'http://[::1]:8080/native',
    'http://[::1]/native',
    'com.example.app:/cb',
  ])('matches %s', (uri) => {
    expect(matchRedirectUri(registered, uri)).toBe(true);
  });

  it.each([
    ['case of the host', 'https://APP.example.com/callback'],
    ['case of the scheme', 'HTTPS://app.example.com/callback'],
    ['case of the path', 'https://app.example.com/Callback'],
    ['a trailing slash', 'https://app.example.com/callback/'],
    ['a missing path', 'https://app.example.com'],
    ['an extra query', 'https://app.example.com/callback?next=/admin'],
    ['a changed query', 'https://app.example.com/q?x=2'],
    ['an extra query parameter', 'https://app.example.com/q?x=1&y=2'],
    ['an empty query', 'https://app.example.com/callback?'],
    ['a path suffix', 'https://app.example.com/callback/evil'],
    ['a path suffix without a slash', 'https://app.example.com/callbackevil'],
    ['a dot segment', 'https://app.example.com/x/../callback'],
    ['userinfo', 'https://app.example.com@evil.example.com/callback'],
    ['userinfo in front', 'https://good@app.example.com/callback'],
    ['an encoded character', 'https://app.example.com/%63allback'],
    ['an encoded slash', 'https://app.example.com%2Fcallback'],
    ['a fragment', 'https://app.example.com/callback#x'],
    ['an explicit default port', 'https://app.example.com:443/callback'],
    ['a port on a non-loopback host', 'https://app.example.com:8443/callback'],
    ['a subdomain', 'https://evil.app.example.com/callback'],
    ['a different scheme', 'http://app.example.com/callback'],
    ['whitespace', ' https://app.example.com/callback'],
    ['loopback with a different path', 'http://127.0.0.1:5000/cb2'],
    ['loopback with an extra query', 'http://127.0.0.1:5000/cb?x=1'],
    ['loopback with a fragment', 'http://127.0.0.1:5000/cb#x'],
    ['loopback on the other IP version', 'http://[::1]:5000/cb'],
    ['loopback by name', 'http://localhost:5000/cb'],
    ['loopback over https with a port', 'https://127.0.0.1:5000/cb'],
    ['loopback with port 0', 'http://127.0.0.1:0/cb'],
    ['loopback with an out-of-range port', 'http://127.0.0.1:70000/cb'],
    ['loopback with a leading-zero port', 'http://127.0.0.1:080/cb'],
    ['loopback with userinfo', 'http://evil@127.0.0.1:5000/cb'],
    ['a custom scheme with another path', 'com.example.app:/cb/x'],
    ['the empty string', ''],
  ])('does not match %s', (_label, uri) => {
    expect(matchRedirectUri(registered, uri)).toBe(false);
  });

  it('a registered http://localhost matches on any port, and only localhost (RFC 8252 7.3, RFC 9700 2.1)', () => {
    const local = ['http://localhost:3000/cb'];
    for (const uri of ['http://localhost:3000/cb', 'http://localhost/cb', 'http://localhost:51234/cb']) expect(matchRedirectUri(local, uri)).toBe(true);
    for (const uri of [
      'http://127.0.0.1:3000/cb',
      'http://[::1]:3000/cb',
      'http://LOCALHOST:3000/cb',
      'http://localhost:3000/cb2',
      'http://localhost:3000/cb?x=1',
      'https://localhost:3000/cb',
      'http://localhost.evil.example:3000/cb',
      'http://localhost:0/cb',
    ]) {
      expect(matchRedirectUri(local, uri)).toBe(false);
    }
  });

  it('the loopback exception needs a loopback registration', () => {
    expect(matchRedirectUri(['https://app.example.com/cb'], 'http://127.0.0.1:5000/cb')).toBe(false);
    expect(matchRedirectUri([], 'http://127.0.0.1/cb')).toBe(false);
  });
});

describe('authenticateClient', () => {
  let t: TestApp;
  let basicClient: { clientId: string; clientSecret: string };
  let postClient: { clientId: string; clientSecret: string };
  let publicClient: { clientId: string };
  beforeAll(async () => {
    t = await createTestApp();
    const create = async (body: Record<string, unknown>) => (await t.api('POST', '/v1/clients', { body })).body;
    basicClient = await create({ name: 'b', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic' });
    postClient = await create({ name: 'p', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_post' });
    publicClient = await create({ name: 'n', grantTypes: ['authorization_code'], redirectUris: ['http://127.0.0.1/cb'], tokenEndpointAuthMethod: 'none' });
  });
  afterAll(() => t.close());

  const auth = (authorization: string | undefined, body: Record<string, unknown> = {}) =>
    authenticateClient({ authorization, body }, { clients: t.services.clients, clock: t.clock });

  it('accepts each method for the client registered with it', async () => {
    expect(await auth(basic(basicClient.clientId, basicClient.clientSecret), { grant_type: 'client_credentials' })).toMatchObject({
      ok: true,
      method: 'client_secret_basic',
      client: { id: basicClient.clientId },
    });
    // The Basic scheme name is case-insensitive; a matching client_id in the body is tolerated.
    const lower = `basic ${b64(`${basicClient.clientId}:${basicClient.clientSecret}`)}`;
    expect(await auth(lower, { client_id: basicClient.clientId })).toMatchObject({ ok: true });
    expect(await auth(undefined, { client_id: postClient.clientId, client_secret: postClient.clientSecret })).toMatchObject({
      ok: true,
      method: 'client_secret_post',
    });
    expect(await auth(undefined, { client_id: publicClient.clientId })).toMatchObject({ ok: true, method: 'none' });
  });

  it('decodes form-urlencoded Basic credentials (RFC 6749 2.3.1)', async () => {
    // Every character percent-encoded: still the same credentials once decoded.
    const encodeAll = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');
    const header = `Basic ${b64(`${encodeAll(basicClient.clientId)}:${encodeAll(basicClient.clientSecret)}`)}`;
    expect(await auth(header)).toMatchObject({ ok: true, method: 'client_secret_basic' });
    // A percent-encoded colon belongs to the id: the split happens on the raw colon only.
    const colonInId = await auth(`Basic ${b64(`${basicClient.clientId}%3Ax:${basicClient.clientSecret}`)}`);
    expect(colonInId).toMatchObject({ ok: false, error: 'invalid_client', reason: 'unknown_client' });
  });

  it('a percent-encoded colon and plus in the secret decode to themselves; a raw plus is a space', async () => {
    const secret = 'a:b+c d%';
    const client: OAuthClient = {
      ...(await t.services.stores.clients.findById(basicClient.clientId))!,
      secretHash: hashClientSecret(secret),
    };
    const lookup: ClientLookup = { lookup: async (id) => (id === client.id ? client : undefined) };
    const run = (authorization: string) => authenticateClient({ authorization, body: {} }, { clients: lookup, clock: t.clock });
    expect(await run(basic(client.id, secret))).toMatchObject({ ok: true });
    expect(await run(`Basic ${b64(`${client.id}:a%3Ab%2Bc+d%25`)}`)).toMatchObject({ ok: true });
    // Without form-urlencoding the "%" is malformed, so it cannot be decoded.
    expect(await run(`Basic ${b64(`${client.id}:${secret}`)}`)).toMatchObject({ ok: false, error: 'invalid_client' });
  });

  it.each<[string, () => [string | undefined, Record<string, unknown>], 'invalid_client' | 'invalid_request', string]>([
    ['no credentials at all', () => [undefined, {}], 'invalid_client', 'no_client_authentication'],
    ['Basic and client_secret in the body', () => [basic(basicClient.clientId, basicClient.clientSecret), { client_secret: basicClient.clientSecret }], 'invalid_request', 'multiple_client_auth_methods'],
    ['Basic and a different client_id in the body', () => [basic(basicClient.clientId, basicClient.clientSecret), { client_id: postClient.clientId }], 'invalid_request', 'client_id_mismatch'],
    ['a secret without client_id', () => [undefined, { client_secret: postClient.clientSecret }], 'invalid_request', 'client_secret_without_client_id'],
    ['a repeated client_id', () => [undefined, { client_id: [publicClient.clientId, publicClient.clientId] }], 'invalid_request', 'repeated_or_invalid_client_parameter'],
    ['a non-string client_secret', () => [undefined, { client_id: postClient.clientId, client_secret: 5 }], 'invalid_request', 'repeated_or_invalid_client_parameter'],
    ['a Bearer header', () => ['Bearer abc', {}], 'invalid_client', 'unsupported_authorization_scheme'],
    ['Basic without a colon', () => [`Basic ${b64(basicClient.clientId)}`, {}], 'invalid_client', 'malformed_basic_credentials'],
    ['Basic that is not base64', () => ['Basic !!!', {}], 'invalid_client', 'malformed_basic_credentials'],
    ['Basic with an empty id', () => [`Basic ${b64(':secret')}`, {}], 'invalid_client', 'malformed_basic_credentials'],
    ['Basic with invalid UTF-8', () => [`Basic ${Buffer.from([0xff, 0x3a, 0x61]).toString('base64')}`, {}], 'invalid_client', 'malformed_basic_credentials'],
    ['Basic with a broken percent-escape', () => [`Basic ${b64(`${basicClient.clientId}:%zz`)}`, {}], 'invalid_client', 'malformed_basic_credentials'],
    ['an unknown client over Basic', () => [basic(newId('cli'), basicClient.clientSecret), {}], 'invalid_client', 'unknown_client'],
    ['an unknown client id of another shape', () => [undefined, { client_id: 'not-a-client' }], 'invalid_client', 'unknown_client'],
    ['a wrong secret over Basic', () => [basic(basicClient.clientId, postClient.clientSecret), {}], 'invalid_client', 'wrong_secret'],
    ['an empty secret over Basic', () => [basic(basicClient.clientId, ''), {}], 'invalid_client', 'wrong_secret'],
    ['a wrong secret in the body', () => [undefined, { client_id: postClient.clientId, client_secret: basicClient.clientSecret }], 'invalid_client', 'wrong_secret'],
    ['the secret of another client', () => [basic(postClient.clientId, basicClient.clientSecret), {}], 'invalid_client', 'auth_method_mismatch:client_secret_basic'],
    ['a basic client using post', () => [undefined, { client_id: basicClient.clientId, client_secret: basicClient.clientSecret }], 'invalid_client', 'auth_method_mismatch:client_secret_post'],
    ['a confidential client sending only client_id', () => [undefined, { client_id: basicClient.clientId }], 'invalid_client', 'auth_method_mismatch:none'],
    ['a public client sending a secret', () => [undefined, { client_id: publicClient.clientId, client_secret: 'x' }], 'invalid_client', 'auth_method_mismatch:client_secret_post'],
    ['a public client over Basic', () => [basic(publicClient.clientId, ''), {}], 'invalid_client', 'auth_method_mismatch:client_secret_basic'],
  ])('%s', async (_label, input, error, reason) => {
    const [authorization, body] = input();
    const result = await auth(authorization, body);
    expect(result).toMatchObject({ ok: false, error, reason });
  });

  it('a deleted client is invalid_client, even with its right secret and a warm cache', async () => {
    const created = (await t.api('POST', '/v1/clients', { body: { name: 'd', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic' } })).body;
    expect(await auth(basic(created.clientId, created.clientSecret))).toMatchObject({ ok: true });
    await t.api('DELETE', `/v1/clients/${created.clientId}`);
    expect(await auth(basic(created.clientId, created.clientSecret))).toMatchObject({ ok: false, error: 'invalid_client', reason: 'deleted_client' });
  });

  it('answers known clients from the in-process cache: no database read per request', async () => {
    const header = basic(basicClient.clientId, basicClient.clientSecret);
    await auth(header);
    const store = t.services.stores.clients;
    const original = store.findById.bind(store);
    let reads = 0;
    store.findById = async (id) => (reads++, original(id));
    try {
      for (let i = 0; i < 20; i++) expect(await auth(header)).toMatchObject({ ok: true });
      expect(reads).toBe(0);
    } finally {
      store.findById = original;
    }
  });

  it('a storage failure throws; it is never reported as invalid_client', async () => {
    const failing: ClientLookup = { lookup: () => Promise.reject(new Error('database unreachable')) };
    await expect(
      authenticateClient({ authorization: basic(basicClient.clientId, basicClient.clientSecret), body: {} }, { clients: failing, clock: new ManualClock() }),
    ).rejects.toThrow('database unreachable');
  });
});

describe('tenant isolation of clients', () => {
  let t: TestApp;
  let acmeAdmin: string;
  let globexClientId: string;
  beforeAll(async () => {
    t = await createTestApp();
    acmeAdmin = (await t.createKey({ tenantId: 'acme', scopes: ['clients:read', 'clients:write'] })).key;
    globexClientId = (
      await t.api('POST', '/v1/clients', {
        body: { name: 'g', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic', tenantId: 'globex' },
      })
    ).body.clientId;
  });
  afterAll(() => t.close());

  it("a tenant's admin key registers clients only in its own tenant", async () => {
    const body = { name: 'a', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic' };
    const own = await t.api('POST', '/v1/clients', { key: acmeAdmin, body });
    expect(own.status).toBe(201);
    expect(own.body.tenantId).toBe('acme');
    expect((await t.api('POST', '/v1/clients', { key: acmeAdmin, body: { ...body, tenantId: 'globex' } })).status).toBe(403);
  });

  it("another tenant's clients are invisible (404) and untouchable", async () => {
    for (const [method, url, body] of [
      ['GET', `/v1/clients/${globexClientId}`, undefined],
      ['PATCH', `/v1/clients/${globexClientId}`, { name: 'pwned' }],
      ['POST', `/v1/clients/${globexClientId}/secret/rotate`, {}],
      ['DELETE', `/v1/clients/${globexClientId}`, undefined],
    ] as const) {
      const r = await t.api(method, url, { key: acmeAdmin, body });
      expect(r.status, `${method} ${url}`).toBe(404);
    }
    const listed = await t.api('GET', '/v1/clients?limit=100', { key: acmeAdmin });
    expect(listed.body.data.length).toBeGreaterThan(0);
    expect(listed.body.data.every((c: any) => c.tenantId === 'acme')).toBe(true);
    expect((await t.api('GET', '/v1/clients?tenantId=globex', { key: acmeAdmin })).body.data).toEqual([]);
    const globex = await t.api('GET', `/v1/clients/${globexClientId}`);
    expect(globex.body).toMatchObject({ name: 'g', tenantId: 'globex' });
    expect((await t.services.stores.clients.findById(globexClientId))!.deletedAt).toBeNull();
  });
});

describe('client secrets at rest and in logs', () => {
  it('no plaintext secret reaches logs, audit events or the database file; no hash reaches logs or audit events', async () => {
    const t = await createTestApp();
    try {
      const secrets: string[] = [];
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const created = await t.api('POST', '/v1/clients', {
          body: { name: `c${i}`, grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_post' },
        });
        secrets.push(created.body.clientSecret);
        ids.push(created.body.clientId);
      }
      const rotated = await t.api('POST', `/v1/clients/${ids[0]}/secret/rotate`, { body: { gracePeriodSeconds: 60 } });
      secrets.push(rotated.body.clientSecret);
      // Secrets sent where they must not be, and a failing request, to provoke logging.
      await t.api('GET', `/v1/clients?client_secret=${secrets[1]}`);
      await t.api('POST', '/v1/clients', { body: { name: 'x', clientSecret: secrets[2], grantTypes: [], tokenEndpointAuthMethod: 'none' } });
      await t.api('POST', '/v1/clients', { body: '{"name":' });
      for (const [i, id] of ids.entries()) {
        await authenticateClient({ body: { client_id: id, client_secret: secrets[i] } }, { clients: t.services.clients, clock: t.clock });
      }
      await t.services.audit.flush();
      const hashes = secrets.map(hashClientSecret);

      const logs = t.logs.join('\n');
      expect(logs.length).toBeGreaterThan(0);
      const audit = JSON.stringify(await t.services.stores.audit.list({ limit: 10_000 }));
      expect(audit).toContain('client.secret_rotated');
      const files = readdirSync(t.dataDir).filter((f) => f.startsWith('gatehouse.db'));
      const database = Buffer.concat(files.map((f) => readFileSync(join(t.dataDir, f))));
      expect(database.includes(Buffer.from(hashes[1]!))).toBe(true); // proves the file read is the right one
      for (const secret of secrets) {
        expect(logs).not.toContain(secret);
        expect(audit).not.toContain(secret);
        expect(database.includes(Buffer.from(secret))).toBe(false);
      }
      for (const hash of hashes) {
        expect(logs).not.toContain(hash);
        expect(audit).not.toContain(hash);
      }
    } finally {
      await t.close();
    }
  });
});

describe.skipIf(!testDatabaseUrl || !testRedisUrl)('client cache invalidation across processes (PostgreSQL + Redis)', () => {
  it('a change on one process reaches the cache of another at once', async () => {
    const pg = await createPgSchema();
    const dir = tempDir('clients-cluster');
    const clock = new ManualClock(Date.UTC(2026, 10, 22));
    const config = loadConfig({
      GATEHOUSE_DATA_DIR: dir.path,
      GATEHOUSE_DATABASE_URL: pg.url,
      GATEHOUSE_REDIS_URL: testRedisUrl!,
      GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    const a = await createServices(config, { clock, databaseSchema: pg.schema, onBackgroundError: () => {} });
    const b = await createServices(config, { clock, databaseSchema: pg.schema, onBackgroundError: () => {} });
    try {
      const actor = { keyId: 'key_test', keyPrefix: 'sk_live_x', userId: null, tenantId: null, scopes: ['admin'], origin: { ip: null, userAgent: null, route: null, requestId: null } };
      const { client, clientSecret } = await a.clients.create(actor, { name: 'c', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic' });
      const authOn = (services: typeof a, secret: string) =>
        authenticateClient({ authorization: basic(client.id, secret), body: {} }, { clients: services.clients, clock });
      expect(await authOn(b, clientSecret!)).toMatchObject({ ok: true }); // now cached on b

      const { clientSecret: next } = await a.clients.rotateSecret(actor, client.id, { gracePeriodSeconds: 0 });
      await expect.poll(async () => (await authOn(b, clientSecret!)).ok).toBe(false);
      expect(await authOn(b, next)).toMatchObject({ ok: true });

      await a.clients.delete(actor, client.id);
      await expect.poll(async () => (await authOn(b, next)).ok).toBe(false);
      expect(await authOn(b, next)).toMatchObject({ reason: 'deleted_client' });
    } finally {
      await a.close();
      await b.close();
      await pg.drop();
      dir.remove();
    }
  });
});
