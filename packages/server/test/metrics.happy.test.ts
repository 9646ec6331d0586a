import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config/load-config.js';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { fastVerifyOf } from '../src/http/build-app.js';
import { startServer, type RunningServer } from '../src/main.js';
import { tempDir } from './helpers/databases.js';
import { basicAuth, createOAuthTestApp, type OAuthTestApp } from './helpers/oauth.js';
import { sampleValue } from './helpers/prometheus-text.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const AUTH = 'gatehouse_authentications_total';
const VERIFY_SECONDS_COUNT = 'gatehouse_api_key_verification_duration_seconds_count';

async function scrape(t: TestApp): Promise<string> {
  const response = await t.api('GET', '/metrics');
  expect(response.status).toBe(200);
  return response.body as string;
}

describe('GET /metrics (Prometheus text format)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { GATEHOUSE_MANAGEMENT_RATE_LIMIT: '1000/60' } });
  });
  afterAll(() => t.close());

  it('answers text/plain in the exposition format, with every Gatehouse metric and the process metrics', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${t.rootKey}` } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.headers['x-request-id']).toMatch(/^req_/);
    const text = response.body;
    for (const name of [
      'gatehouse_authentications_total counter',
      'gatehouse_api_key_verification_duration_seconds histogram',
      'gatehouse_rate_limit_rejections_total counter',
      'gatehouse_tokens_issued_total counter',
      'gatehouse_key_cache_requests_total counter',
      'gatehouse_key_cache_entries gauge',
      'gatehouse_audit_events_buffered gauge',
      'gatehouse_audit_events_dropped_total counter',
      'gatehouse_webhook_deliveries_total counter',
      'gatehouse_webhook_delivery_duration_seconds histogram',
      'gatehouse_ip_blocks_total counter',
      'gatehouse_blocked_requests_total counter',
      'gatehouse_alerts_total counter',
      'process_cpu_user_seconds_total counter',
      'nodejs_eventloop_lag_seconds gauge',
      'nodejs_eventloop_lag_p99_seconds gauge',
    ]) {
      expect(text).toContain(`# TYPE ${name}\n`);
    }
  });

  it('counts API key verifications by outcome and reason class, and times each one', async () => {
    const before = await scrape(t);
    const good = (await t.createKey({ scopes: ['read'] })).key;
    const revoked = await t.createKey();
    expect((await t.api('POST', `/v1/keys/${revoked.id}/revoke`)).status).toBe(200);
    const verify = (key: string, scopes?: string[]) => t.api('POST', '/v1/keys/verify', { body: { key, ...(scopes ? { scopes } : {}) } });
    expect((await verify(good)).body.valid).toBe(true);
    expect((await verify(good)).body.valid).toBe(true);
    expect((await verify(good, ['write'])).body.code).toBe('INSUFFICIENT_SCOPE');
    expect((await verify(revoked.key)).body.code).toBe('REVOKED');
    expect((await verify(generateApiKey('live').key)).body.code).toBe('NOT_FOUND');
    expect((await verify('sk_live_not-a-key')).body.code).toBe('INVALID_FORMAT');

    const after = await scrape(t);
    const delta = (labels: Record<string, string>) => sampleValue(after, AUTH, labels) - sampleValue(before, AUTH, labels);
    expect(delta({ method: 'api_key', outcome: 'success' })).toBe(2);
    expect(delta({ method: 'api_key', outcome: 'failure', reason: 'insufficient_scope' })).toBe(1);
    expect(delta({ method: 'api_key', outcome: 'failure', reason: 'revoked' })).toBe(1);
    expect(delta({ method: 'api_key', outcome: 'failure', reason: 'unknown' })).toBe(1);
    expect(delta({ method: 'api_key', outcome: 'failure', reason: 'malformed' })).toBe(1);
    expect(sampleValue(after, VERIFY_SECONDS_COUNT) - sampleValue(before, VERIFY_SECONDS_COUNT)).toBe(6);
    // Two creates, a revoke and the second scrape authenticated an admin key (the verify endpoint records the
    // verification instead).
    expect(delta({ method: 'admin_key', outcome: 'success' })).toBe(4);
  });

  it('counts failed admin authentications by reason class', async () => {
    const before = await scrape(t);
    expect((await t.api('GET', '/v1/keys', { key: null })).status).toBe(401);
    expect((await t.api('GET', '/v1/keys', { key: generateApiKey('live').key })).status).toBe(401);
    const reader = (await t.createKey({ scopes: ['keys:read'] })).key;
    expect((await t.api('GET', '/v1/audit-events', { key: reader })).status).toBe(403);
    const after = await scrape(t);
    const delta = (reason: string) =>
      sampleValue(after, AUTH, { method: 'admin_key', outcome: 'failure', reason }) - sampleValue(before, AUTH, { method: 'admin_key', outcome: 'failure', reason });
    expect(delta('missing')).toBe(1);
    expect(delta('unknown')).toBe(1);
    expect(delta('insufficient_scope')).toBe(1);
  });

  it("counts rejections by a key's own rate limit", async () => {
    const limited = (await t.createKey({ rateLimit: { limit: 1, windowSeconds: 60 } })).key;
    const before = await scrape(t);
    expect((await t.api('POST', '/v1/keys/verify', { body: { key: limited } })).body.valid).toBe(true);
    expect((await t.api('POST', '/v1/keys/verify', { body: { key: limited } })).body.code).toBe('RATE_LIMITED');
    const after = await scrape(t);
    const rejections = (text: string) => sampleValue(text, 'gatehouse_rate_limit_rejections_total', { limit: 'api_key' });
    expect(rejections(after) - rejections(before)).toBe(1);
    expect(sampleValue(after, AUTH, { method: 'api_key', outcome: 'failure', reason: 'rate_limited' })).toBe(1);
  });

  it('reads the key cache counters as they are', async () => {
    const text = await scrape(t);
    const { hits, misses, size } = t.services.keyCache;
    // The scrape's own authentication is a cache hit counted before the text was made.
    expect(sampleValue(text, 'gatehouse_key_cache_requests_total', { cache: 'api_key', result: 'hit' })).toBe(hits);
    expect(sampleValue(text, 'gatehouse_key_cache_requests_total', { cache: 'api_key', result: 'miss' })).toBe(misses);
    expect(sampleValue(text, 'gatehouse_key_cache_entries', { cache: 'api_key' })).toBe(size);
    expect(hits).toBeGreaterThan(0);
  });

  it('feeds the metrics defined for webhooks, blocks and alerts through services.metrics', async () => {
    const { metrics } = t.services;
    metrics.webhookDelivery('delivered', 0.2);
    metrics.webhookDelivery('failed', 3);
    metrics.ipBlocked();
    metrics.blockedRequest();
    metrics.blockedRequest();
    metrics.alert('alert.brute_force');
    metrics.alert('Not A Type 203.0.113.9');
    const text = await scrape(t);
    expect(sampleValue(text, 'gatehouse_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(sampleValue(text, 'gatehouse_webhook_deliveries_total', { outcome: 'failed' })).toBe(1);
    expect(sampleValue(text, 'gatehouse_webhook_delivery_duration_seconds_count')).toBe(2);
    expect(sampleValue(text, 'gatehouse_webhook_delivery_duration_seconds_bucket', { le: '0.25' })).toBe(1);
    expect(sampleValue(text, 'gatehouse_ip_blocks_total')).toBe(1);
    expect(sampleValue(text, 'gatehouse_blocked_requests_total')).toBe(2);
    expect(sampleValue(text, 'gatehouse_alerts_total', { type: 'alert.brute_force' })).toBe(1);
    // A label value outside the expected shape is never copied into the output.
    expect(sampleValue(text, 'gatehouse_alerts_total', { type: 'other' })).toBe(1);
    expect(text).not.toContain('203.0.113.9');
  });
});

describe('metrics of the management rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { GATEHOUSE_MANAGEMENT_RATE_LIMIT: '3/60' } });
  });
  afterAll(() => t.close());

  it('counts 429s of the per-admin-key limit', async () => {
    const reader = (await t.createKey({ scopes: ['keys:read'] })).key;
    for (let i = 0; i < 3; i++) expect((await t.api('GET', '/v1/keys', { key: reader })).status).toBe(200);
    expect((await t.api('GET', '/v1/keys', { key: reader })).status).toBe(429);
    const scraper = (await t.createKey({ scopes: ['metrics:read'] })).key;
    const response = await t.api('GET', '/metrics', { key: scraper });
    expect(response.status).toBe(200);
    expect(sampleValue(response.body, 'gatehouse_rate_limit_rejections_total', { limit: 'management' })).toBe(1);
  });
});

describe('metrics of the token endpoint', () => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp();
  });
  afterAll(() => t.close());

  const token = (body: Record<string, string>, auth?: string) =>
    fetch(`${t.issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
      body: new URLSearchParams(body),
    });

  it('counts tokens issued by grant, client authentications, and refused refresh tokens', async () => {
    const client = await t.createClient({ grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'], scopes: ['read'] });
    expect((await token({ grant_type: 'client_credentials' }, basicAuth(client.clientId, client.clientSecret))).status).toBe(200);
    expect((await token({ grant_type: 'client_credentials' }, basicAuth(client.clientId, client.clientSecret))).status).toBe(200);
    expect((await token({ grant_type: 'client_credentials' }, basicAuth(client.clientId, 'wrong'))).status).toBe(401);
    expect((await token({ grant_type: 'refresh_token', refresh_token: 'not-a-refresh-token' }, basicAuth(client.clientId, client.clientSecret))).status).toBe(400);

    const text = await scrape(t);
    expect(sampleValue(text, 'gatehouse_tokens_issued_total', { grant_type: 'client_credentials' })).toBe(2);
    expect(sampleValue(text, 'gatehouse_tokens_issued_total', { grant_type: 'refresh_token' })).toBe(0);
    expect(sampleValue(text, AUTH, { method: 'oauth_client', outcome: 'success' })).toBe(3);
    expect(sampleValue(text, AUTH, { method: 'oauth_client', outcome: 'failure', reason: 'wrong_secret' })).toBe(1);
    expect(sampleValue(text, AUTH, { method: 'refresh_token', outcome: 'failure', reason: 'invalid_grant' })).toBe(1);
  });
});

describe('the verify fast path and GATEHOUSE_METRICS_PORT (a real server)', () => {
  const dir = tempDir('metrics');
  let server: RunningServer;
  const rootKey = generateApiKey('live').key;
  beforeAll(async () => {
    const config = loadConfig({
      GATEHOUSE_DATA_DIR: dir.path,
      GATEHOUSE_PORT: '0',
      GATEHOUSE_METRICS_PORT: '0',
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
    });
    server = await startServer(config, { logStream: new Writable({ write: (_c, _e, done) => done() }) });
  });
  afterAll(async () => {
    await server?.close();
    dir.remove();
  });

  const post = (path: string, body: unknown) =>
    fetch(server.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${rootKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('serves the metrics without authentication on its own port, and only them', async () => {
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(server.metricsUrl!).port).not.toBe(new URL(server.url).port);
    const response = await fetch(server.metricsUrl!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await response.text()).toContain('# TYPE gatehouse_authentications_total counter');

    const other = await fetch(new URL('/v1/keys', server.metricsUrl));
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: 'not_found', error_description: 'No such resource.', request_id: expect.stringMatching(/^req_/) });
    expect((await fetch(server.metricsUrl!, { method: 'POST' })).status).toBe(404);
    // The API port still asks for an admin key.
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
  });

  it('times and counts the verifications the fast path answers', async () => {
    const created = await post('/v1/keys', { name: 'fast' });
    const { key } = (await created.json()) as { key: string };
    const before = await (await fetch(server.metricsUrl!)).text();
    const answered = fastVerifyOf(server.app)!.stats.answered;
    for (let i = 0; i < 3; i++) expect(((await (await post('/v1/keys/verify', { key })).json()) as { valid: boolean }).valid).toBe(true);
    expect(fastVerifyOf(server.app)!.stats.answered - answered).toBe(3);
    const after = await (await fetch(server.metricsUrl!)).text();
    expect(sampleValue(after, VERIFY_SECONDS_COUNT) - sampleValue(before, VERIFY_SECONDS_COUNT)).toBe(3);
    const successes = (text: string) => sampleValue(text, AUTH, { method: 'api_key', outcome: 'success' });
    expect(successes(after) - successes(before)).toBe(3);
  });
});

describe('GATEHOUSE_METRICS_PORT that cannot be bound', () => {
  const dirs: Array<{ remove(): void }> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('stops the start with the error, before the API port listens', async () => {
    const first = tempDir('metrics-busy');
    dirs.push(first);
    const running = await startServer(loadConfig({ GATEHOUSE_DATA_DIR: first.path, GATEHOUSE_PORT: '0', GATEHOUSE_METRICS_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent' }), {
      logStream: new Writable({ write: (_c, _e, done) => done() }),
    });
    try {
      const busyPort = new URL(running.metricsUrl!).port;
      const second = tempDir('metrics-busy');
      dirs.push(second);
      await expect(
        startServer(loadConfig({ GATEHOUSE_DATA_DIR: second.path, GATEHOUSE_PORT: '0', GATEHOUSE_METRICS_PORT: busyPort, GATEHOUSE_LOG_LEVEL: 'silent' })),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await running.close();
    }
  });
});
