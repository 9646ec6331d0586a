import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_QUERY_NAMES, HARMLESS_QUERY_NAMES } from '../../sdk/test/helpers/protocol-cases.js';
import { hashApiKey } from '../src/core/api-keys/hash-key.js';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { testDatabaseUrl } from './helpers/env.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('authentication of the management API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { GATEHOUSE_MANAGEMENT_RATE_LIMIT: '1000/60' } });
  });
  afterAll(() => t.close());

  it('401 without credentials, with a bare RFC 6750 challenge', async () => {
    const r = await t.api('GET', '/v1/keys', { key: null });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
    expect(r.body.error).toBe('invalid_token');
  });

  it('401 invalid_token for unknown, malformed, revoked and expired keys, with the same vague text', async () => {
    const revoked = await t.createKey({ scopes: ['admin'] });
    await t.api('POST', `/v1/keys/${revoked.id}/revoke`);
    const expiring = await t.createKey({ scopes: ['admin'], expiresAt: new Date(t.clock.now() + 1000).toISOString() });
    t.clock.advance(1000);
    const descriptions = new Set<string>();
    for (const authorization of [
      `Bearer ${generateApiKey('live').key}`,
      'Bearer not-a-key',
      `Basic ${Buffer.from(`user:${t.rootKey}`).toString('base64')}`,
      `Bearer ${revoked.key}`,
      `Bearer ${expiring.key}`,
      `Bearer ${t.rootKey} extra`,
    ]) {
      const r = await t.api('GET', '/v1/keys', { key: null, headers: { authorization } });
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="gatehouse", error="invalid_token"');
      expect(r.body.error).toBe('invalid_token');
      descriptions.add(r.body.error_description);
    }
    expect(descriptions.size).toBe(1);
    // The audit log keeps the detail the client does not get.
    const events = await t.api('GET', '/v1/audit-events?type=admin.authentication&limit=50');
    const reasons = events.body.data.filter((e: any) => e.outcome === 'failure').map((e: any) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['NOT_FOUND', 'INVALID_FORMAT', 'MALFORMED_AUTHORIZATION_HEADER', 'REVOKED', 'EXPIRED']));
  });

  it('403 insufficient_scope for a valid key without the scope', async () => {
    const reader = await t.createKey({ scopes: ['keys:read'] });
    const r = await t.api('POST', '/v1/keys', { key: reader.key, body: { name: 'x' } });
    expect(r.status).toBe(403);
    expect(r.body.error).toBe('insufficient_scope');
    expect(r.headers['www-authenticate']).toBe('Bearer realm="gatehouse", error="insufficient_scope", scope="keys:write"');
    expect((await t.api('GET', '/v1/keys', { key: reader.key })).status).toBe(200);
    expect((await t.api('POST', '/v1/keys/verify', { key: reader.key, body: { key: reader.key } })).status).toBe(403);
    expect((await t.api('GET', '/v1/audit-events', { key: reader.key })).status).toBe(403);
    const appKey = await t.createKey({ scopes: ['orders:read'] });
    expect((await t.api('GET', '/v1/keys', { key: appKey.key })).status).toBe(403);
  });

  it('a key cannot grant management scopes it does not hold', async () => {
    const writer = await t.createKey({ scopes: ['keys:write'] });
    const escalate = await t.api('POST', '/v1/keys', { key: writer.key, body: { name: 'x', scopes: ['admin'] } });
    expect(escalate.status).toBe(403);
    expect((await t.api('POST', '/v1/keys', { key: writer.key, body: { name: 'x', scopes: ['keys:read'] } })).status).toBe(403);
    expect((await t.api('POST', '/v1/keys', { key: writer.key, body: { name: 'x', scopes: ['keys:write', 'orders:read'] } })).status).toBe(201);
    const target = await t.createKey({ scopes: [] });
    expect((await t.api('PATCH', `/v1/keys/${target.id}`, { key: writer.key, body: { scopes: ['audit:read'] } })).status).toBe(403);
  });

  it('refuses credentials in the query string, records it, and never logs the value', async () => {
    const leaked = await t.createKey();
    for (const param of ['api_key', 'access_token', 'apikey']) {
      const r = await t.api('GET', `/v1/keys?${param}=${leaked.key}`, { key: null });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('credentials_in_query');
    }
    // Refused even next to a valid Authorization header.
    expect((await t.api('GET', `/v1/keys?access_token=${leaked.key}`)).status).toBe(400);
    // The table the SDK's middleware is held to as well: any case, bracket (array/object) forms, - for _; the
    // audit reason is the list's name, never the name as sent.
    for (const [name, canonical] of CREDENTIAL_QUERY_NAMES) {
      const r = await t.api('GET', `/v1/keys?${encodeURIComponent(name)}=${leaked.key}`, { key: null });
      expect(r.status, name).toBe(400);
      expect(r.body.error).toBe('credentials_in_query');
      void canonical;
    }
    // Every route, the OAuth endpoints and pages included.
    for (const [method, path] of [['POST', '/oauth/token?Client_Secret=x'], ['POST', '/oauth/introspect?TOKEN[]=x'], ['GET', '/oauth/authorize?access-token=x']] as const) {
      expect((await t.api(method, path, { key: null })).status, path).toBe(400);
    }
    for (const name of HARMLESS_QUERY_NAMES) expect((await t.api('GET', `/healthz?${encodeURIComponent(name)}=x`, { key: null })).status, name).toBe(200);
    await t.services.audit.flush();
    const events = await t.api('GET', '/v1/audit-events?type=request.credentials_in_query&limit=100');
    const reasons = events.body.data.map((e: any) => e.reason);
    expect(new Set(reasons)).toStrictEqual(new Set(CREDENTIAL_QUERY_NAMES.map(([, canonical]) => canonical)));
    expect(t.logs.join('')).not.toContain(leaked.key);
    expect(JSON.stringify(events.body)).not.toContain(leaked.key);
  });

  it('security headers on every response, errors and 404s included', async () => {
    for (const [method, url, key] of [
      ['GET', '/healthz', null],
      ['GET', '/v1/keys', t.rootKey],
      ['GET', '/v1/keys', null],
      ['GET', '/nope', null],
    ] as const) {
      const r = await t.api(method, url, { key });
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['x-request-id']).toMatch(/^req_/);
      if (r.status >= 400) expect(r.body.request_id).toBe(r.headers['x-request-id']);
    }
  });
});

describe('management rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { GATEHOUSE_MANAGEMENT_RATE_LIMIT: '3/60' } });
  });
  afterAll(() => t.close());

  it('429 with Retry-After and rate-limit headers, never 401; verify is limited per verified key instead', async () => {
    const ok = await t.api('GET', '/v1/keys');
    expect(ok.status).toBe(200);
    const resetAt = Math.ceil(t.clock.now() / 1000) + 20;
    expect(ok.headers).toMatchObject({
      'x-ratelimit-limit': '3',
      'x-ratelimit-remaining': '2',
      'x-ratelimit-reset': String(resetAt),
      'ratelimit-policy': '"default";q=3;w=60',
      ratelimit: '"default";r=2;t=20',
    });
    await t.api('GET', '/v1/keys');
    await t.api('GET', '/v1/keys');
    const limited = await t.api('GET', '/v1/keys');
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe('rate_limited');
    expect(limited.headers['retry-after']).toBe('20');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    // The verify endpoint keeps working for the same caller.
    const verify = await t.api('POST', '/v1/keys/verify', { body: { key: t.rootKey } });
    expect(verify.status).toBe(200);
    expect(verify.body.valid).toBe(true);
    t.clock.advance(20_000);
    expect((await t.api('GET', '/v1/keys')).status).toBe(200);
  });

  it("an admin key's own rateLimit replaces the default policy", async () => {
    t.clock.advance(60_000);
    const key = await t.api('POST', '/v1/keys', { body: { name: 'limited admin', scopes: ['keys:read'], rateLimit: { limit: 1, windowSeconds: 10 } } });
    expect(key.status).toBe(201);
    expect((await t.api('GET', '/v1/keys', { key: key.body.key })).status).toBe(200);
    const limited = await t.api('GET', '/v1/keys', { key: key.body.key });
    expect(limited.status).toBe(429);
    expect(limited.headers['ratelimit-policy']).toBe('"default";q=1;w=10');
  });
});

describe('tenant isolation', () => {
  let t: TestApp;
  let acmeAdmin: string;
  let globexKey: { id: string; key: string };
  beforeAll(async () => {
    t = await createTestApp();
    acmeAdmin = (await t.createKey({ tenantId: 'acme', scopes: ['keys:read', 'keys:write', 'keys:verify', 'audit:read'] })).key;
    globexKey = await t.createKey({ tenantId: 'globex' });
  });
  afterAll(() => t.close());

  it("a tenant's admin key creates keys only in its tenant", async () => {
    const own = await t.api('POST', '/v1/keys', { key: acmeAdmin, body: { name: 'acme app' } });
    expect(own.status).toBe(201);
    expect(own.body.tenantId).toBe('acme');
    const other = await t.api('POST', '/v1/keys', { key: acmeAdmin, body: { name: 'x', tenantId: 'globex' } });
    expect(other.status).toBe(403);
  });

  it("another tenant's keys are invisible (404) and untouchable", async () => {
    for (const [method, url, body] of [
      ['GET', `/v1/keys/${globexKey.id}`, undefined],
      ['PATCH', `/v1/keys/${globexKey.id}`, { name: 'pwned' }],
      ['POST', `/v1/keys/${globexKey.id}/rotate`, {}],
      ['POST', `/v1/keys/${globexKey.id}/revoke`, undefined],
    ] as const) {
      const r = await t.api(method, url, { key: acmeAdmin, body });
      expect(r.status).toBe(404);
      expect(r.body.error).toBe('not_found');
    }
    expect((await t.api('POST', '/v1/keys/verify', { body: { key: globexKey.key } })).body.code).toBe('VALID');
    const listed = await t.api('GET', '/v1/keys?limit=100', { key: acmeAdmin });
    expect(listed.body.data.every((k: any) => k.tenantId === 'acme')).toBe(true);
    expect((await t.api('GET', '/v1/keys?tenantId=globex', { key: acmeAdmin })).body.data).toEqual([]);
    const verify = await t.api('POST', '/v1/keys/verify', { key: acmeAdmin, body: { key: globexKey.key } });
    expect(verify.body).toMatchObject({ valid: false, code: 'NOT_FOUND', keyId: null });
    const events = await t.api('GET', '/v1/audit-events?limit=200', { key: acmeAdmin });
    expect(events.body.data.length).toBeGreaterThan(0);
    expect(events.body.data.every((e: any) => e.tenantId === 'acme')).toBe(true);
  });
});

describe('secrets at rest and in logs', () => {
  it('no plaintext key reaches logs, audit events or the database file; no hash reaches logs or audit events', async () => {
    // Every success sampled, so successful verifications are audit events too, and scanned.
    const t = await createTestApp({ env: { GATEHOUSE_AUDIT_SUCCESS_SAMPLE: '1' } });
    try {
      const secrets: string[] = [t.rootKey];
      for (let i = 0; i < 5; i++) {
        const created = await t.createKey({ name: `k${i}`, scopes: ['a'] });
        secrets.push(created.key);
        await t.api('POST', '/v1/keys/verify', { body: { key: created.key } });
        await t.api('GET', '/v1/keys', { key: created.key });
        await t.api('GET', `/v1/keys?api_key=${created.key}`);
      }
      const rotated = await t.api('POST', `/v1/keys/${(await t.createKey()).id}/rotate`);
      secrets.push(rotated.body.key);
      // Provoke error logging too.
      await t.api('POST', '/v1/keys', { body: '{"name":', key: secrets[1] });
      await t.services.audit.flush();
      await t.services.usage.flush();
      const hashes = secrets.map(hashApiKey);

      const logs = t.logs.join('\n');
      expect(logs.length).toBeGreaterThan(0);
      const audit = JSON.stringify(await t.services.stores.audit.list({ limit: 10_000 }));
      expect(audit).toContain('key.verification');
      const files = readdirSync(t.dataDir).filter((f) => f.startsWith('gatehouse.db'));
      expect(files).toContain('gatehouse.db');
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

describe.skipIf(!testDatabaseUrl)('storage outage (PostgreSQL behind a proxy that is cut)', () => {
  it('answers 503 temporarily_unavailable, never "invalid credentials", and recovers', async () => {
    const upstream = new URL(testDatabaseUrl!);
    const proxy = await startTcpProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    const proxied = new URL(testDatabaseUrl!);
    proxied.port = String(proxy.port);
    const { createPgSchema } = await import('./helpers/databases.js');
    const schema = await createPgSchema();
    const { loadConfig } = await import('../src/config/load-config.js');
    const { createServices } = await import('../src/main.js');
    const { buildApp } = await import('../src/http/build-app.js');
    const { bootstrapRootKey } = await import('../src/core/api-keys/bootstrap-root-key.js');
    const { tempDir } = await import('./helpers/databases.js');
    const dir = tempDir('outage');
    const rootKey = generateApiKey('live').key;
    const config = loadConfig({
      GATEHOUSE_DATA_DIR: dir.path,
      GATEHOUSE_DATABASE_URL: proxied.toString(),
      GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
      GATEHOUSE_LOG_LEVEL: 'silent',
    });
    const services = await createServices(config, { databaseSchema: schema.schema, onBackgroundError: () => {} });
    await bootstrapRootKey({ store: services.stores.apiKeys, clock: services.clock }, rootKey);
    const app = await buildApp(services);
    const call = (method: 'GET' | 'POST', url: string, key: string, payload?: object) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload ? { payload } : {}) });
    try {
      const created = (await call('POST', '/v1/keys', rootKey, { name: 'uncached', scopes: ['keys:read'] })).json();
      await proxy.cut();

      // The root key is cached, the new key is not: verifying it needs the database.
      const verify = await call('POST', '/v1/keys/verify', rootKey, { key: created.key });
      expect(verify.statusCode).toBe(503);
      expect(verify.json().error).toBe('temporarily_unavailable');
      expect(verify.headers['retry-after']).toBeDefined();
      // An uncached admin credential during the outage: 503, not 401.
      const auth = await call('GET', '/v1/keys/key_x', created.key);
      expect(auth.statusCode).toBe(503);
      expect(auth.headers['www-authenticate']).toBeUndefined();
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.database).toBe('unavailable');
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

      await proxy.restore();
      const again = await call('POST', '/v1/keys/verify', rootKey, { key: created.key });
      expect(again.statusCode).toBe(200);
      expect(again.json().code).toBe('VALID');
      // The outage was not recorded as failed authentications.
      await services.audit.flush();
      const failures = await services.stores.audit.list({ type: 'admin.authentication', limit: 100 });
      expect(failures.filter((e) => e.outcome === 'failure')).toEqual([]);
      // Nor as a failed verification: no verification event at all (the success is counted, not audited).
      expect(await services.stores.audit.list({ type: 'key.verification', limit: 100 })).toEqual([]);
      await services.usage.flush();
      const counted = await services.stores.usage.totals({ resolution: 'minute', fromMinute: 0, toMinute: Math.ceil(Date.now() / 60_000) + 1, credentialId: created.id });
      expect(counted.map((row) => [row.outcome, row.count])).toEqual([[0, 1]]);
    } finally {
      await app.close();
      await services.close();
      await proxy.close();
      await schema.drop();
      dir.remove();
    }
  });
});
