import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { loggerOptions } from '../src/http/logger-options.js';
import { tempDir } from './helpers/databases.js';
import { credentialEncodings } from './helpers/log-sink.js';
import { authorizeThroughForms, basicAuth, FormBrowser, hiddenFields, pkcePair } from './helpers/oauth.js';
import { api, killSpawned, spawnServer, waitFor, type SpawnedServer } from './helpers/spawn-server.js';
import { startReceiver } from './helpers/webhook-receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('log redaction', () => {
  it('censors credential fields at the top of a line and up to two levels down', () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) });
    const app = Fastify({ logger: { ...loggerOptions('trace'), stream } });
    const secret = (n: number) => `secret-value-${n}-${randomBytes(6).toString('hex')}`;
    const secrets = Array.from({ length: 15 }, (_, i) => secret(i));
    app.log.info({ authorization: secrets[0], password: secrets[1], token: secrets[2], client_secret: secrets[3] }, 'top level');
    app.log.info({ body: { clientSecret: secrets[4], refresh_token: secrets[5], access_token: secrets[6], code_verifier: secrets[7] } }, 'one down');
    app.log.info({ input: { form: { password: secrets[8], key: secrets[9], secret: secrets[10], id_token: secrets[11] } } }, 'two down');
    app.log.info({ headers: { authorization: `Bearer ${secrets[12]}`, cookie: `gh_session=${secrets[13]}` } }, 'headers');
    app.log.info({ user: { passwordHash: secrets[14] } }, 'hash');
    const output = lines.join('');
    expect(lines).toHaveLength(5);
    for (const value of secrets) expect(output).not.toContain(value);
    expect(output.split('[REDACTED]').length - 1).toBe(15);
  });
});

describe('request ids in the logs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('every line a request writes is JSON and carries its request id, the one in X-Request-Id', async () => {
    const ids: string[] = [];
    for (const [method, url, key] of [
      ['GET', '/v1/keys', t.rootKey],
      ['GET', '/v1/keys', 'sk_live_wrong'],
      ['POST', '/v1/keys/verify', t.rootKey],
      ['GET', '/nowhere', null],
    ] as const) {
      const before = t.logs.length;
      const response = await t.api(method, url, { key, ...(method === 'POST' ? { body: { key: 'x' } } : {}) });
      const id = response.headers['x-request-id'] as string;
      expect(id).toMatch(/^req_[0-9A-Za-z]{20}$/);
      ids.push(id);
      const lines = t.logs.slice(before).map((line) => JSON.parse(line));
      expect(lines.length, `${method} ${url}`).toBeGreaterThanOrEqual(2); // incoming request, request completed
      for (const line of lines) expect(line.reqId, JSON.stringify(line)).toBe(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

/**
 * ARCHITECTURE rule 5, end to end: a real `gatehouse start` process at the most verbose log level runs a
 * session that creates and presents every kind of credential Gatehouse knows, good and bad; then its whole
 * output (stdout and stderr) and every file of its SQLite data dir (database, WAL) are searched for each
 * credential, as it is and as base64, base64url, URL-encoded and hex text. The logs are also searched for
 * each credential's SHA-256 (what the database stores: it must not be in logs either).
 *
 * New kinds of credential join the session in CREDENTIAL_STEPS below.
 */
interface Session {
  server: SpawnedServer;
  rootKey: string;
  /** Notes a credential the scan must not find. */
  remember(kind: string, value: string): void;
}
type CredentialStep = (session: Session) => Promise<void>;

const REDIRECT_URI = 'https://app.example/callback';

async function call(session: Session, method: string, path: string, body?: unknown, key = session.rootKey) {
  return api(session.server.url, method, path, { key, ...(body !== undefined ? { body } : {}) });
}

async function form(session: Session, path: string, fields: Record<string, string>, authorization?: string) {
  const response = await fetch(session.server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    body: new URLSearchParams(fields),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as any };
}

const CREDENTIAL_STEPS: Array<[string, CredentialStep]> = [
  [
    'API keys: created, rotated, verified (valid, revoked, unknown, malformed, rate limited), revoked, sent in a query string',
    async (s) => {
      const a = await call(s, 'POST', '/v1/keys', { name: 'a', scopes: ['read'], rateLimit: { limit: 2, windowSeconds: 60 } });
      const b = await call(s, 'POST', '/v1/keys', { name: 'b', environment: 'test' });
      expect([a.status, b.status]).toEqual([201, 201]);
      s.remember('api key', a.body.key);
      s.remember('test api key', b.body.key);
      const rotated = await call(s, 'POST', `/v1/keys/${a.body.id}/rotate`, { gracePeriodSeconds: 3600 });
      expect(rotated.status).toBe(200);
      s.remember('rotated api key', rotated.body.key);
      const unknown = generateApiKey('live').key;
      s.remember('unknown api key', unknown);
      const malformed = `sk_live_${randomBytes(24).toString('hex')}`;
      s.remember('malformed api key', malformed);
      expect((await call(s, 'POST', `/v1/keys/${b.body.id}/revoke`)).status).toBe(200);
      for (const key of [a.body.key, rotated.body.key, rotated.body.key, rotated.body.key, b.body.key, unknown, malformed]) {
        expect((await call(s, 'POST', '/v1/keys/verify', { key, scopes: ['read'] })).status).toBe(200);
      }
      // Bodies the route rejects, with the key inside.
      expect((await call(s, 'POST', '/v1/keys/verify', { key: a.body.key, extra: true })).status).toBe(400);
      expect((await api(s.server.url, 'GET', `/v1/keys?api_key=${a.body.key}`, { key: s.rootKey })).status).toBe(400);
    },
  ],
  [
    'admin keys: a tenant admin key, and failed admin authentications',
    async (s) => {
      const tenantAdmin = await call(s, 'POST', '/v1/keys', { name: 'tenant admin', tenantId: 'acme', scopes: ['keys:write', 'keys:verify'] });
      s.remember('tenant admin key', tenantAdmin.body.key);
      const tenantKey = await call(s, 'POST', '/v1/keys', { name: 'tenant key' }, tenantAdmin.body.key);
      s.remember('tenant api key', tenantKey.body.key);
      expect((await call(s, 'POST', '/v1/keys/verify', { key: tenantKey.body.key }, tenantAdmin.body.key)).status).toBe(200);
      const wrong = generateApiKey('live').key;
      s.remember('wrong admin key', wrong);
      expect((await call(s, 'GET', '/v1/keys', undefined, wrong)).status).toBe(401);
      const response = await fetch(`${s.server.url}/v1/keys`, { headers: { authorization: `Token ${wrong}x` } });
      expect(response.status).toBe(401);
    },
  ],
  [
    'OAuth clients: secrets created and rotated, client_secret_basic and _post, wrong secrets, client_credentials tokens, introspection',
    async (s) => {
      const client = await call(s, 'POST', '/v1/clients', {
        name: 'machine',
        redirectUris: [],
        grantTypes: ['client_credentials'],
        scopes: ['read'],
        tokenEndpointAuthMethod: 'client_secret_post',
      });
      expect(client.status).toBe(201);
      s.remember('client secret', client.body.clientSecret);
      const rotated = await call(s, 'POST', `/v1/clients/${client.body.clientId}/secret/rotate`, { gracePeriodSeconds: 60 });
      expect(rotated.status).toBe(200);
      s.remember('rotated client secret', rotated.body.clientSecret);
      const id = client.body.clientId;
      const issued = await form(s, '/oauth/token', { grant_type: 'client_credentials', client_id: id, client_secret: rotated.body.clientSecret });
      expect(issued.status).toBe(200);
      s.remember('client credentials access token', issued.body.access_token);
      const wrong = `cs_${randomBytes(24).toString('hex')}`;
      s.remember('wrong client secret', wrong);
      expect((await form(s, '/oauth/token', { grant_type: 'client_credentials', client_id: id, client_secret: wrong })).status).toBe(401);
      const basic = basicAuth(id, rotated.body.clientSecret);
      s.remember('client basic credentials', basic.slice('Basic '.length));
      // Basic for a client registered for client_secret_post: refused, with the secret in the header.
      expect((await form(s, '/oauth/token', { grant_type: 'client_credentials' }, basic)).status).toBe(401);
      const introspected = await form(s, '/oauth/introspect', { token: issued.body.access_token, client_id: id, client_secret: rotated.body.clientSecret });
      expect(introspected.body.active).toBe(true);
    },
  ],
  [
    'users and the authorization code flow: passwords (wrong and right), session cookies, codes, PKCE verifiers, access, refresh and ID tokens, reuse, revocation',
    async (s) => {
      const password = `pw-${randomBytes(12).toString('base64url')}`;
      s.remember('password', password);
      const user = await call(s, 'POST', '/v1/users', { email: 'grace@example.com', password, name: 'Grace' });
      expect(user.status).toBe(201);
      const client = await call(s, 'POST', '/v1/clients', {
        name: 'web',
        redirectUris: [REDIRECT_URI],
        grantTypes: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'email', 'read'],
        tokenEndpointAuthMethod: 'client_secret_basic',
      });
      s.remember('web client secret', client.body.clientSecret);
      const auth = basicAuth(client.body.clientId, client.body.clientSecret);
      s.remember('web client basic credentials', auth.slice('Basic '.length));

      const browser = new FormBrowser(s.server.url);
      const { verifier, challenge } = pkcePair();
      s.remember('PKCE verifier', verifier);
      const authorize = `/oauth/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: client.body.clientId,
        redirect_uri: REDIRECT_URI,
        scope: 'openid email read',
        state: 'state-1',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })}`;
      const wrongPassword = `wrong-${randomBytes(12).toString('base64url')}`;
      s.remember('wrong password', wrongPassword);
      const loginPage = await (await browser.get(authorize)).text();
      const refused = await browser.submit('/oauth/authorize/login', { ...hiddenFields(loginPage), email: 'grace@example.com', password: wrongPassword });
      expect(refused.status).toBe(400);
      await refused.text();
      const callback = await authorizeThroughForms(browser, authorize, { email: 'grace@example.com', password });
      for (const [name, value] of browser.cookies) s.remember(`cookie ${name}`, value);
      const code = callback.searchParams.get('code')!;
      s.remember('authorization code', code);

      const tokens = await form(s, '/oauth/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }, auth);
      expect(tokens.status).toBe(200);
      s.remember('access token', tokens.body.access_token);
      s.remember('refresh token', tokens.body.refresh_token);
      s.remember('id token', tokens.body.id_token);
      // The code again: replay, refused, and the grant revoked.
      expect((await form(s, '/oauth/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }, auth)).status).toBe(400);

      // A second grant to refresh, reuse and revoke.
      const second = pkcePair();
      s.remember('second PKCE verifier', second.verifier);
      const again = await browser.get(authorize.replace(challenge, second.challenge));
      const code2 = new URL(again.headers.get('location')!).searchParams.get('code')!;
      s.remember('second authorization code', code2);
      const grant = await form(s, '/oauth/token', { grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT_URI, code_verifier: second.verifier }, auth);
      expect(grant.status).toBe(200);
      s.remember('second access token', grant.body.access_token);
      s.remember('second refresh token', grant.body.refresh_token);
      s.remember('second id token', grant.body.id_token);
      const userinfo = await fetch(`${s.server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${grant.body.access_token}` } });
      expect(userinfo.status).toBe(200);
      const refreshed = await form(s, '/oauth/token', { grant_type: 'refresh_token', refresh_token: grant.body.refresh_token }, auth);
      expect(refreshed.status).toBe(200);
      s.remember('refreshed access token', refreshed.body.access_token);
      s.remember('rotated refresh token', refreshed.body.refresh_token);
      expect((await form(s, '/oauth/revoke', { token: refreshed.body.refresh_token }, auth)).status).toBe(200);
      // Reuse of the first refresh token: refused (and the grant ends).
      expect((await form(s, '/oauth/token', { grant_type: 'refresh_token', refresh_token: grant.body.refresh_token }, auth)).status).toBe(400);
      const unknownRefresh = `gatehouse_rt_${randomBytes(32).toString('base64url')}`;
      s.remember('unknown refresh token', unknownRefresh);
      expect((await form(s, '/oauth/token', { grant_type: 'refresh_token', refresh_token: unknownRefresh }, auth)).status).toBe(400);
      const forged = `${tokens.body.access_token.slice(0, -4)}AAAA`;
      s.remember('forged access token', forged);
      expect((await fetch(`${s.server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    },
  ],
  [
    'webhook signing secrets: created, used to sign deliveries, rotated (both signing during the grace period)',
    async (s) => {
      const receiver = await startReceiver();
      try {
        const endpoint = await call(s, 'POST', '/v1/webhook-endpoints', { url: receiver.url, events: ['key.created'] });
        expect(endpoint.status).toBe(201);
        s.remember('webhook secret', endpoint.body.secret);
        expect((await call(s, 'POST', '/v1/keys', { name: 'webhook trigger 1' })).status).toBe(201);
        await waitFor('the first delivery', async () => (receiver.received.length >= 1 ? true : undefined));
        const rotated = await call(s, 'POST', `/v1/webhook-endpoints/${endpoint.body.id}/secret/rotate`, { gracePeriodSeconds: 3600 });
        expect(rotated.status).toBe(200);
        s.remember('rotated webhook secret', rotated.body.secret);
        expect((await call(s, 'POST', '/v1/keys', { name: 'webhook trigger 2' })).status).toBe(201);
        await waitFor('the second delivery', async () => (receiver.received.length >= 2 ? true : undefined));
        expect(receiver.received[1]!.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
      } finally {
        await receiver.close();
      }
    },
  ],
];

describe('no credential in the logs or the database file of a real server (a scripted session, every kind of credential)', () => {
  const dir = tempDir('leaks');
  const rootKey = generateApiKey('live').key;
  const masterKey = randomBytes(32).toString('base64');
  const remembered = new Map<string, string>([
    ['root admin key', rootKey],
    ['master key', masterKey],
  ]);
  let server: SpawnedServer;
  afterAll(async () => {
    await killSpawned();
    dir.remove();
  });

  it('runs the session at trace level, stops the server, and finds none of them', { timeout: 60_000 }, async () => {
    server = await spawnServer({
      env: {
        GATEHOUSE_DATA_DIR: dir.path,
        GATEHOUSE_LOG_LEVEL: 'trace',
        GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
        GATEHOUSE_MASTER_KEY: masterKey,
        GATEHOUSE_PASSWORD_HASH_COST: '14',
        // Deliveries go to a loopback receiver over http.
        GATEHOUSE_WEBHOOKS_ALLOW_INSECURE: 'true',
      },
    });
    const session: Session = {
      server,
      rootKey,
      remember(kind, value) {
        expect(value, kind).toBeTypeOf('string');
        expect(value.length, kind).toBeGreaterThanOrEqual(16);
        remembered.set(kind, value);
      },
    };
    for (const [what, step] of CREDENTIAL_STEPS) {
      try {
        await step(session);
      } catch (error) {
        throw new Error(`session step failed: ${what}`, { cause: error });
      }
    }
    expect(await server.stop()).toEqual({ code: 0, signal: null });

    // The logs: complete (the process has exited), JSON apart from the start-up line, and a request id on
    // every line a request wrote.
    const stdout = server.stdout();
    const stderr = server.stderr();
    expect(stderr).toBe('');
    const lines = stdout.split('\n').filter((line) => line !== '' && !line.startsWith('Gatehouse listening on '));
    expect(lines.length).toBeGreaterThan(60);
    let requestLines = 0;
    const messages = new Set<string>();
    for (const line of lines) {
      const entry = JSON.parse(line);
      messages.add(`${entry.level <= 20 ? 'debug' : 'info'}: ${entry.msg}`);
      if (entry.req || entry.res || entry.reqId) {
        requestLines++;
        expect(entry.reqId, line).toMatch(/^req_/);
      }
    }
    expect(requestLines).toBeGreaterThan(60);
    // Request logging was on, and so were the debug lines (each refusal with its internal reason).
    expect([...messages]).toEqual(expect.arrayContaining(['info: incoming request', 'info: request completed', 'debug: request rejected']));

    // The data dir: the SQLite database and its WAL (master.key holds the master key by design, and is not searched for it).
    const files = readdirSync(dir.path).filter((name) => name !== 'master.key');
    expect(files).toContain('gatehouse.db');
    const data = files.map((name) => ({ name, bytes: readFileSync(join(dir.path, name)) }));
    expect(data.find((file) => file.name === 'gatehouse.db')!.bytes.length).toBeGreaterThan(0);

    const kinds = [...remembered.keys()];
    for (const kind of ['api key', 'rotated api key', 'webhook secret', 'client secret', 'password', 'authorization code', 'refresh token', 'access token', 'cookie gh_session']) {
      expect(kinds, 'the session covered every kind').toContain(kind);
    }
    const logs = stdout + stderr;
    const found: string[] = [];
    for (const [kind, value] of remembered) {
      for (const form of credentialEncodings(value)) {
        if (logs.includes(form)) found.push(`${kind} in the logs (${form === value ? 'plain' : 'encoded'})`);
        for (const file of data) if (file.bytes.includes(form)) found.push(`${kind} in ${file.name} (${form === value ? 'plain' : 'encoded'})`);
      }
      if (kind === 'master key') {
        const raw = Buffer.from(value, 'base64');
        for (const file of data) if (file.bytes.includes(raw)) found.push(`master key bytes in ${file.name}`);
      }
      const hash = createHash('sha256').update(value).digest('hex');
      if (logs.includes(hash)) found.push(`${kind} (its SHA-256) in the logs`);
    }
    expect(found).toEqual([]);
  });
});
