import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/core/api-keys/api-key-service.js';
import { ManualClock } from '../src/core/clock.js';
import { loadConfig } from '../src/config/load-config.js';
import { createServices } from '../src/main.js';
import { createPgSchema, tempDir } from './helpers/databases.js';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('resources: who may manage them', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it("a tenant admin registers only in its own tenant; another tenant's resources are invisible (404) and untouchable", async () => {
    const acme = await t.createKey({ scopes: ['admin'], tenantId: 'acme' });
    const globex = await t.createKey({ scopes: ['admin'], tenantId: 'globex' });
    const elsewhere = await t.api('POST', '/v1/resources', { key: acme.key, body: { identifier: 'https://x.example.com', name: 'x', tenantId: 'globex' } });
    expect(elsewhere.status).toBe(403);
    const mine = (await t.api('POST', '/v1/resources', { key: acme.key, body: { identifier: 'https://acme.example.com', name: 'acme' } })).body;
    for (const [method, body] of [['GET', undefined], ['PATCH', { name: 'taken' }], ['DELETE', undefined]] as const) {
      const r = await t.api(method, `/v1/resources/${mine.id}`, { key: globex.key, ...(body ? { body } : {}) });
      expect(r.status, method).toBe(404);
    }
    expect((await t.api('GET', '/v1/resources?tenantId=acme', { key: globex.key })).body.data).toEqual([]);
    expect((await t.api('GET', `/v1/resources/${mine.id}`)).body.name).toBe('acme');
  });

  it('resources:write cannot register or change a resource whose scopes are management scopes it lacks', async () => {
    const writer = await t.createKey({ scopes: ['resources:write', 'resources:read'] });
    const r = await t.api('POST', '/v1/resources', { key: writer.key, body: { identifier: 'https://admin.example.com', name: 'a', scopes: ['keys:write'] } });
    expect(r.status).toBe(403);
    expect(r.body.error).toBe('insufficient_scope');
    const plain = (await t.api('POST', '/v1/resources', { key: writer.key, body: { identifier: 'https://plain.example.com', name: 'p', scopes: ['orders:read'] } })).body;
    expect((await t.api('PATCH', `/v1/resources/${plain.id}`, { key: writer.key, body: { scopes: ['users:write'] } })).status).toBe(403);
    const privileged = (await t.api('POST', '/v1/resources', { body: { identifier: 'https://priv.example.com', name: 'p', scopes: ['audit:read'] } })).body;
    expect((await t.api('DELETE', `/v1/resources/${privileged.id}`, { key: writer.key })).status).toBe(403);
    const refusals = (await t.api('GET', '/v1/audit-events?type=admin.authorization&limit=50')).body.data.filter((e: any) => e.actorKeyId === writer.id);
    expect(refusals.map((e: any) => e.details.action).sort()).toEqual(['resource.create', 'resource.delete', 'resource.update']);
  });

  it('a key without resources scopes is refused (403); a read-only key cannot write', async () => {
    const keysOnly = await t.createKey({ scopes: ['keys:read', 'clients:write'] });
    expect((await t.api('GET', '/v1/resources', { key: keysOnly.key })).status).toBe(403);
    const reader = await t.createKey({ scopes: ['resources:read'] });
    expect((await t.api('GET', '/v1/resources', { key: reader.key })).status).toBe(200);
    expect((await t.api('POST', '/v1/resources', { key: reader.key, body: { identifier: 'https://r.example.com', name: 'r' } })).status).toBe(403);
  });
});

describe.skipIf(!testDatabaseUrl || !testRedisUrl)('resource cache invalidation across processes (PostgreSQL + Redis)', () => {
  it('a registration, change or deletion on one process reaches the lookup of another at once', async () => {
    const pg = await createPgSchema();
    const dir = tempDir('resources-cluster');
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
      const actor: Actor = { keyId: 'key_test', keyPrefix: 'sk_live_x', userId: null, tenantId: null, scopes: ['admin'], origin: { ip: null, userAgent: null, route: null, requestId: null } };
      const identifier = 'https://mcp.example.com/mcp';
      // "None registered" is cached on b first.
      expect(await b.oauth.findResource(identifier)).toBeUndefined();
      const resource = await a.resources.create(actor, { identifier, name: 'mcp', scopes: ['tools:call'], dynamicClients: true });
      await expect.poll(async () => (await b.oauth.findResource(identifier))?.scopes).toEqual(['tools:call']);
      await a.resources.update(actor, resource.id, { scopes: ['tools:call', 'tools:list'] });
      await expect.poll(async () => (await b.oauth.findResource(identifier))?.scopes).toEqual(['tools:call', 'tools:list']);
      await a.resources.update(actor, resource.id, { identifier: 'https://mcp.example.com/v2' });
      await expect.poll(async () => await b.oauth.findResource(identifier)).toBeUndefined();
      expect(await b.oauth.findResource('https://mcp.example.com/v2')).toMatchObject({ name: 'mcp' });
      await a.resources.delete(actor, resource.id);
      await expect.poll(async () => await b.oauth.findResource('https://mcp.example.com/v2')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
      await pg.drop();
      dir.remove();
    }
  });
});
