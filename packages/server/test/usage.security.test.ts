import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('usage: tenant isolation', () => {
  let t: TestApp;
  let acmeAdmin: string;
  let acmeVerifier: string;
  let acmeKey: { id: string; key: string };
  let globexKey: { id: string; key: string };
  beforeAll(async () => {
    t = await createTestApp();
    acmeAdmin = (await t.createKey({ scopes: ['admin'], tenantId: 'acme' })).key;
    acmeVerifier = (await t.createKey({ scopes: ['keys:verify'], tenantId: 'acme' })).key;
    acmeKey = await t.createKey({ name: 'acme service', tenantId: 'acme' });
    globexKey = await t.createKey({ name: 'globex service', tenantId: 'globex' });
  });
  afterAll(() => t.close());

  it("a tenant's verifier reports only its tenant's keys: others and unknown ones are ignored, and counted in the answer", async () => {
    const minute = iso(Math.floor(t.clock.now() / MINUTE) * MINUTE);
    const response = await t.api('POST', '/v1/usage/reports', {
      key: acmeVerifier,
      body: {
        entries: [
          { keyId: acmeKey.id, minute, count: 5 },
          { keyId: globexKey.id, minute, count: 1_000 },
          { keyId: 'key_neverissued', minute, count: 7 },
        ],
      },
    });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ accepted: 1, ignored: 2 });
    expect((await t.api('GET', `/v1/keys/${acmeKey.id}/usage`)).body.data.map((p: any) => p.total)).toEqual([5]);
    expect((await t.api('GET', `/v1/keys/${globexKey.id}/usage`)).body.data).toEqual([]);
    const globex = await t.services.stores.apiKeys.findById(globexKey.id);
    expect(globex?.lastUsedAt).toBeNull();
    // A key without keys:verify may not report at all.
    const reader = (await t.createKey({ scopes: ['keys:read'] })).key;
    expect((await t.api('POST', '/v1/usage/reports', { key: reader, body: { entries: [{ keyId: acmeKey.id, minute, count: 1 }] } })).status).toBe(403);
  });

  it("a tenant's admin sees its own tenant's usage, and no other", async () => {
    await t.api('POST', '/v1/keys/verify', { body: { key: globexKey.key } });
    await t.api('POST', '/v1/keys/verify', { body: { key: acmeKey.key } });
    const own = await t.api('GET', '/v1/usage', { key: acmeAdmin });
    expect(own.status).toBe(200);
    expect(own.body.topKeys.byVolume.map((k: any) => k.keyId)).toEqual([acmeKey.id]);
    expect(JSON.stringify(own.body)).not.toContain(globexKey.id);
    const forbidden = await t.api('GET', '/v1/usage?tenantId=globex', { key: acmeAdmin });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toBe('insufficient_scope');
    expect((await t.api('GET', `/v1/keys/${globexKey.id}/usage`, { key: acmeAdmin })).status).toBe(404);
    // The refusal is audited with its detail.
    await t.services.audit.flush();
    const refusals = await t.services.stores.audit.list({ type: 'admin.authorization', limit: 10 });
    expect(refusals.some((e) => e.reason === 'OUTSIDE_TENANT' && (e.details as { action?: string }).action === 'usage.read')).toBe(true);
    // Unrestricted: the whole deployment.
    const all = await t.api('GET', '/v1/usage');
    expect(all.body.topKeys.byVolume.map((k: any) => k.keyId).sort()).toEqual([acmeKey.id, globexKey.id].sort());
  });
});
