import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKey } from '../src/core/api-keys/key-format.js';
import { dialects } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const HOUR = 3_600_000;

describe.each(dialects)('API key lifecycle over HTTP (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ dialect });
  });
  afterAll(() => t.close());

  const verify = (key: string, scopes?: string[]) =>
    t.api('POST', '/v1/keys/verify', { body: scopes ? { key, scopes } : { key } }).then((r) => {
      expect(r.status).toBe(200);
      return r.body;
    });

  it('creates a key, shows the plaintext once, and never again', async () => {
    const created = await t.api('POST', '/v1/keys', {
      body: {
        name: 'billing worker',
        scopes: ['invoices:read', 'invoices:write'],
        environment: 'test',
        metadata: { team: 'billing', tier: 2, beta: true },
        rateLimit: { limit: 100, windowSeconds: 60 },
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const body = created.body;
    expect(body.key).toMatch(/^sk_test_[0-9A-Za-z]{49}$/);
    expect(parseApiKey(body.key).ok).toBe(true);
    expect(body).toMatchObject({
      object: 'api_key',
      name: 'billing worker',
      environment: 'test',
      scopes: ['invoices:read', 'invoices:write'],
      tenantId: null,
      metadata: { team: 'billing', tier: 2, beta: true },
      rateLimit: { limit: 100, windowSeconds: 60 },
      status: 'active',
      createdAt: new Date(t.clock.now()).toISOString(),
      expiresAt: null,
      lastUsedAt: null,
    });
    expect(body.id).toMatch(/^key_[0-9A-Za-z]{22}$/);
    expect(body.key.startsWith(body.prefix)).toBe(true);
    expect(body.prefix).toHaveLength('sk_test_'.length + 6);

    const fetched = await t.api('GET', `/v1/keys/${body.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.key).toBeUndefined();
    expect(JSON.stringify(fetched.body)).not.toContain(body.key);
    expect(fetched.body.prefix).toBe(body.prefix);
  });

  it('verifies: VALID with the key details, NOT_FOUND, INVALID_FORMAT, INSUFFICIENT_SCOPE', async () => {
    const created = await t.createKey({ scopes: ['a', 'b'], metadata: { plan: 'pro' }, tenantId: 'acme' });
    expect(await verify(created.key)).toEqual({
      valid: true,
      code: 'VALID',
      keyId: created.id,
      tenantId: 'acme',
      environment: 'live',
      name: 'test key',
      scopes: ['a', 'b'],
      metadata: { plan: 'pro' },
      expiresAt: null,
      rateLimit: null,
    });
    expect(await verify(created.key, ['a', 'b'])).toMatchObject({ valid: true, code: 'VALID' });
    expect(await verify(created.key, ['a', 'c'])).toMatchObject({ valid: false, code: 'INSUFFICIENT_SCOPE', keyId: created.id });

    // A well-formed key with a valid checksum that was never issued.
    const { generateApiKey } = await import('../src/core/api-keys/key-format.js');
    expect(await verify(generateApiKey('live').key)).toMatchObject({ valid: false, code: 'NOT_FOUND', keyId: null, scopes: [] });
    // One character changed: the checksum fails, so there is no lookup at all.
    const typo = created.key.slice(0, 20) + (created.key[20] === 'a' ? 'b' : 'a') + created.key.slice(21);
    expect(await verify(typo)).toMatchObject({ valid: false, code: 'INVALID_FORMAT' });
    expect(await verify('hello')).toMatchObject({ valid: false, code: 'INVALID_FORMAT' });
  });

  it('records lastUsedAt, to the minute, from the usage counters (written behind) for verified keys', async () => {
    const created = await t.createKey();
    t.clock.advance(25_000);
    await verify(created.key);
    const minute = Math.floor(t.clock.now() / 60_000) * 60_000;
    expect(minute).toBeLessThan(t.clock.now());
    expect((await t.api('GET', `/v1/keys/${created.id}`)).body.lastUsedAt).toBe(new Date(minute).toISOString());
    await t.services.usage.flush();
    const stored = await t.services.stores.apiKeys.findById(created.id);
    expect(stored?.lastUsedAt).toBe(minute);
    expect((await t.api('GET', `/v1/keys/${created.id}`)).body.lastUsedAt).toBe(new Date(minute).toISOString());
  });

  it('enforces a per-key rate limit (GCRA) with limit, remaining and reset', async () => {
    const created = await t.createKey({ rateLimit: { limit: 3, windowSeconds: 60 } });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await verify(created.key));
    expect(results.map((r) => r.code)).toEqual(['VALID', 'VALID', 'VALID', 'RATE_LIMITED']);
    expect(results.map((r) => r.rateLimit.remaining)).toEqual([2, 1, 0, 0]);
    const nowSeconds = Math.ceil(t.clock.now() / 1000);
    expect(results[0].rateLimit).toEqual({ limit: 3, remaining: 2, reset: nowSeconds + 20, retryAfter: 0 });
    expect(results[3].valid).toBe(false);
    // The next one is allowed in one emission interval (20 s); the whole limit is back in a minute.
    expect(results[3].rateLimit).toEqual({ limit: 3, remaining: 0, reset: nowSeconds + 60, retryAfter: 20 });
    // One emission interval (20 s) later exactly one more is allowed.
    t.clock.advance(20_000);
    expect((await verify(created.key)).code).toBe('VALID');
    expect((await verify(created.key)).code).toBe('RATE_LIMITED');
  });

  it('expires keys at expiresAt', async () => {
    const expiresAt = new Date(t.clock.now() + HOUR).toISOString();
    const created = await t.createKey({ expiresAt });
    expect(created.expiresAt).toBe(expiresAt);
    expect((await verify(created.key)).code).toBe('VALID');
    t.clock.advance(HOUR);
    expect((await verify(created.key)).code).toBe('EXPIRED');
    expect((await t.api('GET', `/v1/keys/${created.id}`)).body.status).toBe('expired');
  });

  it('updates name, scopes, rate limit, metadata and expiry; the cache follows at once', async () => {
    const created = await t.createKey({ scopes: ['read'] });
    expect((await verify(created.key, ['write'])).code).toBe('INSUFFICIENT_SCOPE');
    const patched = await t.api('PATCH', `/v1/keys/${created.id}`, {
      body: { name: 'renamed', scopes: ['read', 'write'], metadata: { owner: 'ops' }, rateLimit: { limit: 10, windowSeconds: 1 } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'renamed', scopes: ['read', 'write'], metadata: { owner: 'ops' }, rateLimit: { limit: 10, windowSeconds: 1 } });
    expect((await verify(created.key, ['write'])).code).toBe('VALID');

    const cleared = await t.api('PATCH', `/v1/keys/${created.id}`, { body: { rateLimit: null, expiresAt: null } });
    expect(cleared.body).toMatchObject({ rateLimit: null, expiresAt: null, name: 'renamed' });
    expect((await verify(created.key)).rateLimit).toBeNull();
  });

  it('rotates with a grace period: both keys work, then the old one is EXPIRED', async () => {
    const old = await t.createKey({ scopes: ['s1'], tenantId: 'rot', metadata: { m: 1 }, rateLimit: { limit: 50, windowSeconds: 10 } });
    expect((await verify(old.key)).code).toBe('VALID');
    const rotated = await t.api('POST', `/v1/keys/${old.id}/rotate`, { body: { gracePeriodSeconds: 3600 } });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body;
    expect(fresh.key).not.toBe(old.key);
    expect(fresh).toMatchObject({ scopes: ['s1'], tenantId: 'rot', metadata: { m: 1 }, rateLimit: { limit: 50, windowSeconds: 10 }, rotatedFromId: old.id });
    expect(fresh.previous).toMatchObject({ id: old.id, rotatedToId: fresh.id, expiresAt: new Date(t.clock.now() + HOUR).toISOString() });

    expect((await verify(old.key)).code).toBe('VALID');
    expect((await verify(fresh.key)).code).toBe('VALID');
    t.clock.advance(HOUR - 1);
    expect((await verify(old.key)).code).toBe('VALID');
    t.clock.advance(1);
    expect((await verify(old.key)).code).toBe('EXPIRED');
    expect((await verify(fresh.key)).code).toBe('VALID');

    // A rotated key cannot be rotated again; its successor can.
    const again = await t.api('POST', `/v1/keys/${old.id}/rotate`, { body: {} });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('key_already_rotated');
  });

  it('rotates with the default grace period of 24 hours', async () => {
    const old = await t.createKey();
    const rotated = await t.api('POST', `/v1/keys/${old.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.previous.expiresAt).toBe(new Date(t.clock.now() + 24 * HOUR).toISOString());
  });

  it('rotates with gracePeriodSeconds 0: the old key is revoked at once', async () => {
    const old = await t.createKey();
    expect((await verify(old.key)).code).toBe('VALID'); // cached now
    const rotated = await t.api('POST', `/v1/keys/${old.id}/rotate`, { body: { gracePeriodSeconds: 0 } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.previous.status).toBe('revoked');
    expect((await verify(old.key)).code).toBe('REVOKED');
    expect((await verify(rotated.body.key)).code).toBe('VALID');
  });

  it('allows exactly one of two concurrent rotations', async () => {
    const old = await t.createKey();
    const results = await Promise.all([1, 2, 3].map(() => t.api('POST', `/v1/keys/${old.id}/rotate`, { body: {} })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error === 'key_already_rotated')).toBe(true);
  });

  it('revokes instantly, even while the key is cached, and idempotently', async () => {
    const created = await t.createKey();
    expect((await verify(created.key)).code).toBe('VALID');
    const revoked = await t.api('POST', `/v1/keys/${created.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', revokedAt: new Date(t.clock.now()).toISOString() });
    expect((await verify(created.key)).code).toBe('REVOKED');
    const again = await t.api('POST', `/v1/keys/${created.id}/revoke`);
    expect(again.status).toBe(200);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    const patch = await t.api('PATCH', `/v1/keys/${created.id}`, { body: { name: 'x' } });
    expect(patch.status).toBe(409);
    expect(patch.body.error).toBe('key_not_active');
  });

  it('lists keys newest first with cursor pagination and filters', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      made.push(await t.createKey({ name: `page-${i}`, tenantId: 'pager', environment: i % 2 ? 'test' : 'live' }));
    }
    await t.api('POST', `/v1/keys/${made[0].id}/revoke`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await t.api('GET', `/v1/keys?tenantId=pager&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((k: any) => k.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(made.map((k) => k.id).reverse());

    const testOnly = await t.api('GET', '/v1/keys?tenantId=pager&environment=test');
    expect(testOnly.body.data.map((k: any) => k.name)).toEqual(['page-3', 'page-1']);
    const revoked = await t.api('GET', '/v1/keys?tenantId=pager&status=revoked');
    expect(revoked.body.data.map((k: any) => k.id)).toEqual([made[0].id]);
    const active = await t.api('GET', '/v1/keys?tenantId=pager&status=active');
    expect(active.body.data).toHaveLength(4);
    for (const key of active.body.data) expect(key.key).toBeUndefined();
  });

  it('lists keys by name (case-insensitive substring, wildcards literal) and by display prefix', async () => {
    const billing = await t.createKey({ name: 'Billing worker 100%', tenantId: 'searcher' });
    const other = await t.createKey({ name: 'billing_cron', tenantId: 'searcher' });
    await t.createKey({ name: 'billingXcron', tenantId: 'searcher' });
    const names = async (query: string) => {
      const response = await t.api('GET', `/v1/keys?tenantId=searcher&${query}`);
      expect(response.status).toBe(200);
      return response.body.data.map((k: any) => k.name).sort();
    };
    expect(await names('name=BILLING')).toEqual(['Billing worker 100%', 'billingXcron', 'billing_cron']);
    expect(await names(`name=${encodeURIComponent('100%')}`)).toEqual(['Billing worker 100%']);
    expect(await names('name=g_c')).toEqual(['billing_cron']);
    expect(await names(`prefix=${billing.prefix}`)).toEqual(['Billing worker 100%']);
    // Starts-with: the prefix less its last two characters still finds it (another key shares it by 1 in 62^4).
    expect(await names(`prefix=${other.prefix.slice(0, -2)}&name=cron`)).toEqual(['billing_cron']);
    expect(await names('prefix=sk_nothing')).toEqual([]);
    expect((await t.api('GET', '/v1/keys?name=')).status).toBe(400);
  });

  it('records audit events for lifecycle changes and every failed verification (successes are counted, not audited), queryable with filters', async () => {
    const created = await t.createKey({ name: 'audited' });
    await verify(created.key);
    await verify(created.key, ['nope']);
    await t.api('POST', `/v1/keys/${created.id}/revoke`);
    await verify(created.key);

    const events = await t.api('GET', `/v1/audit-events?keyId=${created.id}&limit=200`);
    expect(events.status).toBe(200);
    const summary = events.body.data.map((e: any) => [e.type, e.outcome, e.reason]).reverse();
    expect(summary).toEqual([
      ['key.created', 'success', null],
      ['key.verification', 'failure', 'INSUFFICIENT_SCOPE'],
      ['key.revoked', 'success', null],
      ['key.verification', 'failure', 'REVOKED'],
    ]);
    const verification = events.body.data.find((e: any) => e.reason === 'REVOKED');
    expect(verification).toMatchObject({ keyPrefix: created.prefix, ip: '127.0.0.1', route: 'POST /v1/keys/verify' });
    expect(verification.userAgent).toBe('lightMyRequest');
    expect(verification.requestId).toMatch(/^req_/);

    const byType = await t.api('GET', `/v1/audit-events?type=key.revoked&limit=1`);
    expect(byType.body.data).toHaveLength(1);
    expect(byType.body.data[0].type).toBe('key.revoked');
    expect(byType.body.nextCursor).not.toBeNull();
    // A family of types: key.* is every key event, and no other.
    const family = await t.api('GET', `/v1/audit-events?type=${encodeURIComponent('key.*')}&keyId=${created.id}&limit=200`);
    expect(family.status).toBe(200);
    expect(family.body.data.map((e: any) => e.id)).toEqual(events.body.data.map((e: any) => e.id));
    const keyFamily = await t.api('GET', `/v1/audit-events?type=${encodeURIComponent('key.*')}&limit=200`);
    expect(keyFamily.body.data.length).toBeGreaterThan(0);
    for (const event of keyFamily.body.data) expect(event.type).toMatch(/^key\./);
    expect((await t.api('GET', `/v1/audit-events?type=${encodeURIComponent('nokind.*')}`)).status).toBe(400);
    const later = await t.api('GET', `/v1/audit-events?since=${encodeURIComponent(new Date(t.clock.now() + 1).toISOString())}`);
    expect(later.body.data).toEqual([]);
  });
});
