import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('GET /metrics access', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('needs an admin key holding metrics:read (or admin), not bound to a tenant', async () => {
    const none = await t.api('GET', '/metrics', { key: null });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
    expect(none.body).toMatchObject({ error: 'invalid_token', request_id: expect.stringMatching(/^req_/) });

    const reader = (await t.createKey({ scopes: ['keys:read', 'audit:read'] })).key;
    const wrongScope = await t.api('GET', '/metrics', { key: reader });
    expect(wrongScope.status).toBe(403);
    expect(wrongScope.headers['www-authenticate']).toContain('scope="metrics:read"');

    // Metrics add up every tenant's traffic: a tenant's key does not read them.
    const tenantScraper = (await t.createKey({ scopes: ['metrics:read'], tenantId: 'acme' })).key;
    const tenant = await t.api('GET', '/metrics', { key: tenantScraper });
    expect(tenant.status).toBe(403);
    expect(tenant.body.error).toBe('insufficient_scope');

    const scraper = (await t.createKey({ scopes: ['metrics:read'] })).key;
    expect((await t.api('GET', '/metrics', { key: scraper })).status).toBe(200);
  });

  it('labels carry no key, key prefix, tenant, client, user, request id or address', async () => {
    const tenantAdmin = await t.createKey({ scopes: ['keys:write', 'keys:verify'], tenantId: 'tenant-secret-name' });
    const tenantKey = (await t.createKey({}, tenantAdmin.key)) as { key: string; displayPrefix: string };
    for (const key of [tenantKey.key, generateApiKey('live').key, 'sk_live_garbage']) {
      await t.api('POST', '/v1/keys/verify', { key: tenantAdmin.key, body: { key }, headers: { 'user-agent': 'agent-secret-name' } });
    }
    await t.api('GET', '/v1/keys', { key: generateApiKey('test').key });
    const text = (await t.api('GET', '/metrics')).body as string;
    for (const forbidden of ['tenant-secret-name', 'agent-secret-name', '"key_', 'sk_live', 'sk_test', tenantKey.displayPrefix, '"req_', '127.0.0.1', '"cli_', '"usr_']) {
      expect(text, forbidden).not.toContain(forbidden);
    }
    // Only names from fixed lists appear as label values.
    const values = new Set([...text.matchAll(/(method|outcome|reason|limit|grant_type|cache|result)="([^"]*)"/g)].map((m) => `${m[1]}=${m[2]}`));
    for (const value of values) {
      expect(value).toMatch(
        /^(method=(api_key|admin_key|oauth_client|login|authorization_code|refresh_token)|outcome=(success|failure)|reason=[a-z_]+|limit=(api_key|management)|grant_type=[a-z_]+|cache=(api_key|oauth_client)|result=(hit|miss))$/,
      );
    }
  });
});
