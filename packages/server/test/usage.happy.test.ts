import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const iso = (ms: number) => new Date(ms).toISOString();
const minuteOf = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

describe.each(dialects)('usage counters and the usage API (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ dialect });
  });
  afterAll(() => t.close());

  const verify = async (key: string, scopes?: string[]) => (await t.api('POST', '/v1/keys/verify', { body: { key, ...(scopes ? { scopes } : {}) } })).body;
  const usage = async (path: string) => {
    const response = await t.api('GET', path);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  };

  it('counts verifications per key, minute and outcome, with latency for the server-measured ones, exact at every granularity', async () => {
    const key = await t.createKey({ name: 'counted', scopes: ['read'], rateLimit: { limit: 3, windowSeconds: 3600 } });
    const start = minuteOf(t.clock.now()) + 10 * MINUTE;
    t.clock.set(start + 5_000);
    expect((await verify(key.key)).valid).toBe(true);
    expect((await verify(key.key, ['write'])).code).toBe('INSUFFICIENT_SCOPE');
    expect((await verify(key.key)).valid).toBe(true);
    t.clock.set(start + MINUTE + 1_000);
    expect((await verify(key.key)).valid).toBe(true);
    expect((await verify(key.key)).code).toBe('RATE_LIMITED');

    const from = iso(start - HOUR);
    const to = iso(start + HOUR);
    const minutes = await usage(`/v1/keys/${key.id}/usage?granularity=minute&from=${from}&to=${to}`);
    expect(minutes).toMatchObject({ granularity: 'minute', from: iso(start - HOUR), to: iso(start + HOUR) });
    expect(minutes.data.map((p: any) => [p.start, p.total, p.byOutcome, p.latency.count])).toEqual([
      [iso(start), 3, { VALID: 2, INSUFFICIENT_SCOPE: 1 }, 3],
      [iso(start + MINUTE), 2, { VALID: 1, RATE_LIMITED: 1 }, 2],
    ]);
    for (const point of minutes.data) {
      expect(point.latency.meanMs).toBeGreaterThan(0);
      expect(point.latency.maxMs).toBeGreaterThanOrEqual(point.latency.meanMs);
    }
    const hourStart = Math.floor(start / HOUR) * HOUR;
    const hours = await usage(`/v1/keys/${key.id}/usage?granularity=hour&from=${from}&to=${to}`);
    expect(hours.data.map((p: any) => [p.start, p.total, p.byOutcome, p.latency.count])).toEqual([
      [iso(hourStart), 5, { VALID: 3, INSUFFICIENT_SCOPE: 1, RATE_LIMITED: 1 }, 5],
    ]);
    // Rolled up (the retention sweep rolls up complete hours and days): the same answers.
    t.clock.set(start + 2 * DAY);
    await t.services.retention.run();
    expect((await usage(`/v1/keys/${key.id}/usage?granularity=hour&from=${from}&to=${to}`)).data).toEqual(hours.data);
    const days = await usage(`/v1/keys/${key.id}/usage?granularity=day&from=${iso(start - DAY)}&to=${iso(start + DAY)}`);
    expect(days.data.map((p: any) => [p.start, p.total])).toEqual([[iso(Math.floor(start / DAY) * DAY), 5]]);
    // lastUsedAt: the newest minute with a successful verification.
    expect((await t.api('GET', `/v1/keys/${key.id}`)).body.lastUsedAt).toBe(iso(start + MINUTE));
  });

  it('shows the usage buffer and what it dropped in /metrics, without per-key labels', async () => {
    const key = await t.createKey();
    await verify(key.key);
    const metrics = await t.services.metrics.render();
    expect(metrics).toMatch(/^gatehouse_usage_cells_buffered [1-9]/m);
    expect(metrics).toMatch(/^gatehouse_usage_events_dropped_total 0$/m);
    expect(metrics).not.toContain(key.id);
    await t.services.usage.flush();
    expect(await t.services.metrics.render()).toMatch(/^gatehouse_usage_cells_buffered 0$/m);
  });

  it('adds SDK-reported cache hits as VALID without latency, and moves lastUsedAt forward only', async () => {
    const key = await t.createKey({ name: 'cached' });
    const now = minuteOf(t.clock.now());
    t.clock.set(now + 30_000);
    expect((await verify(key.key)).valid).toBe(true);
    const report = await t.api('POST', '/v1/usage/reports', {
      body: { entries: [{ keyId: key.id, minute: iso(now), count: 12 }, { keyId: key.id, minute: iso(now - 5 * MINUTE), count: 3 }] },
    });
    expect(report.status).toBe(202);
    expect(report.body).toEqual({ accepted: 2, ignored: 0 });
    const series = await usage(`/v1/keys/${key.id}/usage?granularity=minute&from=${iso(now - 10 * MINUTE)}&to=${iso(now + MINUTE)}`);
    expect(series.data.map((p: any) => [p.start, p.total, p.byOutcome, p.latency.count])).toEqual([
      [iso(now - 5 * MINUTE), 3, { VALID: 3 }, 0],
      [iso(now), 13, { VALID: 13 }, 1],
    ]);
    expect(series.data[0].latency).toEqual({ count: 0, meanMs: null, maxMs: null });
    expect((await t.api('GET', `/v1/keys/${key.id}`)).body.lastUsedAt).toBe(iso(now));
    // A later minute moves it; the stored value (written at flush) agrees.
    t.clock.set(now + 3 * MINUTE);
    await t.api('POST', '/v1/usage/reports', { body: { entries: [{ keyId: key.id, minute: iso(now + 2 * MINUTE), count: 1 }] } });
    await t.services.usage.flush();
    expect((await t.services.stores.apiKeys.findById(key.id))?.lastUsedAt).toBe(now + 2 * MINUTE);
    expect((await t.api('GET', `/v1/keys/${key.id}`)).body.lastUsedAt).toBe(iso(now + 2 * MINUTE));
  });

  it("accepts the next minute from a reporter whose clock runs up to 60 s ahead of Gatehouse's", async () => {
    const key = await t.createKey({ name: 'skewed reporter' });
    const now = minuteOf(t.clock.now());
    t.clock.set(now + 45_000);
    const report = await t.api('POST', '/v1/usage/reports', { body: { entries: [{ keyId: key.id, minute: iso(now + MINUTE), count: 4 }] } });
    expect(report.status).toBe(202);
    expect(report.body).toEqual({ accepted: 1, ignored: 0 });
    const series = await usage(`/v1/keys/${key.id}/usage?granularity=minute&from=${iso(now)}&to=${iso(now + 2 * MINUTE)}`);
    expect(series.data.map((p: any) => [p.start, p.total])).toEqual([[iso(now + MINUTE), 4]]);
  });

  it("counts a client's client_credentials tokens and the introspections of its tokens", async () => {
    const created = await t.api('POST', '/v1/clients', {
      body: { name: 'machine', grantTypes: ['client_credentials'], scopes: ['read'], tokenEndpointAuthMethod: 'client_secret_basic' },
    });
    const { clientId, clientSecret } = created.body;
    const token = () =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { authorization: basic(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=client_credentials',
      });
    let accessToken = '';
    for (let i = 0; i < 3; i++) accessToken = (await token()).json().access_token;
    const introspector = await t.createKey({ scopes: ['tokens:introspect'] });
    const introspected = await t.app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { authorization: `Bearer ${introspector.key}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${accessToken}`,
    });
    expect(introspected.json().active).toBe(true);
    const series = await usage(`/v1/clients/${clientId}/usage?granularity=day`);
    expect(series.data.map((p: any) => [p.total, p.byOutcome, p.latency.count])).toEqual([[4, { TOKEN_ISSUED: 3, TOKEN_INTROSPECTED: 1 }, 4]]);
  });

  it('sums every credential of the deployment or of a tenant, with the top keys by volume and by failures', async () => {
    const busy = await t.createKey({ name: 'busy', tenantId: 'acme' });
    const failing = await t.createKey({ name: 'failing', tenantId: 'acme' });
    const other = await t.createKey({ name: 'other', tenantId: 'globex' });
    const start = minuteOf(t.clock.now()) + DAY;
    t.clock.set(start);
    for (let i = 0; i < 4; i++) await verify(busy.key);
    await verify(failing.key);
    await verify(failing.key, ['missing']);
    await verify(failing.key, ['missing']);
    await verify(other.key);
    const window = `granularity=minute&from=${iso(start)}&to=${iso(start + MINUTE)}`;
    const acme = await usage(`/v1/usage?tenantId=acme&${window}`);
    expect(acme.data.map((p: any) => [p.total, p.byOutcome])).toEqual([[7, { VALID: 5, INSUFFICIENT_SCOPE: 2 }]]);
    expect(acme.topKeys.byVolume).toEqual([
      { keyId: busy.id, keyPrefix: busy.prefix, name: 'busy', total: 4 },
      { keyId: failing.id, keyPrefix: failing.prefix, name: 'failing', total: 3 },
    ]);
    expect(acme.topKeys.byFailures).toEqual([{ keyId: failing.id, keyPrefix: failing.prefix, name: 'failing', failures: 2 }]);
    const all = await usage(`/v1/usage?${window}`);
    expect(all.data.map((p: any) => p.total)).toEqual([8]);
    expect(all.topKeys.byVolume.map((k: any) => k.keyId)).toEqual([busy.id, failing.id, other.id]);
  });
});

describe('GATEHOUSE_AUDIT_SUCCESS_SAMPLE', () => {
  const run = async (sample: string) => {
    const t = await createTestApp({ env: { GATEHOUSE_AUDIT_SUCCESS_SAMPLE: sample } });
    try {
      const key = await t.createKey({ scopes: ['read'] });
      for (let i = 0; i < 3; i++) await t.api('POST', '/v1/keys/verify', { body: { key: key.key } });
      await t.api('POST', '/v1/keys/verify', { body: { key: key.key, scopes: ['write'] } });
      const client = (
        await t.api('POST', '/v1/clients', { body: { name: 'm', grantTypes: ['client_credentials'], scopes: ['read'], tokenEndpointAuthMethod: 'client_secret_basic' } })
      ).body;
      const issued = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=client_credentials',
      });
      expect(issued.statusCode).toBe(200);
      await t.services.audit.flush();
      const verifications = await t.services.stores.audit.list({ type: 'key.verification', keyId: key.id, limit: 100 });
      const tokens = await t.services.stores.audit.list({ type: 'oauth.token', limit: 100 });
      // Counted either way.
      const counted = (await t.api('GET', `/v1/keys/${key.id}/usage`)).body.data[0];
      return { verifications: verifications.map((e) => e.outcome).sort(), tokens: tokens.length, counted: counted.total };
    } finally {
      await t.close();
    }
  };

  it('0 (the default): successes are counted, not audited; failures are audited', async () => {
    expect(await run('0')).toEqual({ verifications: ['failure'], tokens: 0, counted: 4 });
  });

  it('1: every success is audited too', async () => {
    expect(await run('1')).toEqual({ verifications: ['failure', 'success', 'success', 'success'], tokens: 1, counted: 4 });
  });
});
