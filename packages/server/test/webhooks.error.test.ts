import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nextAttemptAt, parseRetryAfter, retryDelayMs } from '../src/core/webhooks/retry-schedule.js';
import { classifyResponse } from '../src/core/webhooks/classify-response.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

const INSECURE = { GATEHOUSE_WEBHOOKS_ALLOW_INSECURE: 'true' };
const HOUR = 3_600_000;

describe('webhook endpoints: bad input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const invalid: Array<[string, unknown]> = [
    ['no url', { events: ['*'] }],
    ['no events', { url: 'https://hooks.example.com/in' }],
    ['empty events', { url: 'https://hooks.example.com/in', events: [] }],
    ['an unknown event type', { url: 'https://hooks.example.com/in', events: ['key.exploded'] }],
    ['a wildcard matching nothing', { url: 'https://hooks.example.com/in', events: ['nothing.*'] }],
    ['a non-webhook audit type', { url: 'https://hooks.example.com/in', events: ['key.verification'] }],
    ['an inner wildcard', { url: 'https://hooks.example.com/in', events: ['k*.created'] }],
    ['an http url (not allowed without GATEHOUSE_WEBHOOKS_ALLOW_INSECURE)', { url: 'http://hooks.example.com/in', events: ['*'] }],
    ['a relative url', { url: '/in', events: ['*'] }],
    ['an ftp url', { url: 'ftp://hooks.example.com/in', events: ['*'] }],
    ['credentials in the url', { url: 'https://user:pw@hooks.example.com/in', events: ['*'] }],
    ['a fragment', { url: 'https://hooks.example.com/in#x', events: ['*'] }],
    ['a loopback IP literal', { url: 'https://127.0.0.1/in', events: ['*'] }],
    ['an IPv4-mapped loopback literal', { url: 'https://[::ffff:127.0.0.1]/in', events: ['*'] }],
    ['the metadata address', { url: 'https://169.254.169.254/latest', events: ['*'] }],
    ['an unknown scheme', { url: 'https://hooks.example.com/in', events: ['*'], scheme: 'github' }],
    ['an unknown field', { url: 'https://hooks.example.com/in', events: ['*'], secret: 'mine' }],
    ['a control character in the description', { url: 'https://hooks.example.com/in', events: ['*'], description: 'a\u0000b' }],
    ['a malformed tenant', { url: 'https://hooks.example.com/in', events: ['*'], tenantId: 'a b' }],
  ];
  it.each(invalid)('refuses %s with 400 and writes nothing', async (_label, body) => {
    const response = await t.api('POST', '/v1/webhook-endpoints', { body });
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body).toEqual({ error: 'invalid_request', error_description: expect.any(String), request_id: expect.any(String) });
    expect((await t.api('GET', '/v1/webhook-endpoints')).body.data).toEqual([]);
  });

  it('says how loopback and http: receivers are allowed (for development) when it refuses them', async () => {
    for (const url of ['http://127.0.0.1:8080/in', 'https://127.0.0.1/in', 'http://hooks.example.com/in']) {
      const response = await t.api('POST', '/v1/webhook-endpoints', { body: { url, events: ['*'] } });
      expect(response.status).toBe(400);
      expect(response.body.error_description, url).toContain('GATEHOUSE_WEBHOOKS_ALLOW_INSECURE=true');
    }
  });

  it('refuses bad patches and rotations, and answers 404 for unknown ids, 400 for malformed ones', async () => {
    const created = await t.api('POST', '/v1/webhook-endpoints', { body: { url: 'https://hooks.example.com/in', events: ['*'] } });
    const id = created.body.id;
    expect((await t.api('PATCH', `/v1/webhook-endpoints/${id}`, { body: {} })).status).toBe(400);
    expect((await t.api('PATCH', `/v1/webhook-endpoints/${id}`, { body: { events: ['nope'] } })).status).toBe(400);
    expect((await t.api('PATCH', `/v1/webhook-endpoints/${id}`, { body: { url: 'http://hooks.example.com' } })).status).toBe(400);
    expect((await t.api('PATCH', `/v1/webhook-endpoints/${id}`, { body: { tenantId: 'x' } })).status).toBe(400);
    expect((await t.api('POST', `/v1/webhook-endpoints/${id}/secret/rotate`, { body: { gracePeriodSeconds: -1 } })).status).toBe(400);
    expect((await t.api('POST', `/v1/webhook-endpoints/${id}/secret/rotate`, { body: { gracePeriodSeconds: 31 * 86_400 } })).status).toBe(400);
    const unchanged = await t.api('GET', `/v1/webhook-endpoints/${id}`);
    expect(unchanged.body).toMatchObject({ url: 'https://hooks.example.com/in', events: ['*'], previousSecretExpiresAt: null });

    const unknown = 'whe_0000000000000000000000';
    for (const [method, url] of [
      ['GET', `/v1/webhook-endpoints/${unknown}`],
      ['DELETE', `/v1/webhook-endpoints/${unknown}`],
      ['GET', `/v1/webhook-endpoints/${unknown}/deliveries`],
      ['POST', `/v1/webhook-endpoints/${unknown}/secret/rotate`],
      ['POST', `/v1/webhook-endpoints/${id}/deliveries/whd_0000000000000000000000/retry`],
      ['POST', `/v1/webhook-endpoints/${unknown}/test`],
    ] as const) {
      const response = await t.api(method, url, method === 'POST' && url.endsWith('rotate') ? { body: {} } : {});
      expect(response.status, `${method} ${url}`).toBe(404);
      expect(response.body.error).toBe('not_found');
    }
    expect((await t.api('GET', '/v1/webhook-endpoints/cli_abc')).status).toBe(400);
    expect((await t.api('POST', '/v1/webhook-endpoints/cli_abc/test')).status).toBe(400);
    expect((await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries?status=lost`)).status).toBe(400);
    expect((await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries?cursor=nonsense`)).status).toBe(400);
  });
});

describe('webhook delivery: failures', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let other: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    other = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await other.close();
  });
  beforeEach(async () => {
    receiver.received.length = 0;
    other.received.length = 0;
  });
  afterEach(() => t?.close());

  async function setUp(env: Record<string, string> = {}) {
    t = await createTestApp({ env: { ...INSECURE, ...env } });
    const created = await t.api('POST', '/v1/webhook-endpoints', { body: { url: receiver.url, events: ['key.*'] } });
    expect(created.status).toBe(201);
    return created.body.id as string;
  }
  const deliveries = async (id: string) => (await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries`)).body.data;

  it('treats a 3xx as a failure and never follows it', async () => {
    const id = await setUp();
    receiver.respond((_request, response) => response.writeHead(302, { location: other.url }).end());
    await t.createKey();
    await t.services.webhooks.drain();
    expect(receiver.received).toHaveLength(1);
    expect(other.received).toHaveLength(0);
    const [delivery] = await deliveries(id);
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 302, lastError: 'redirect (HTTP 302) not followed' });
  });

  it('disables the endpoint on 410, with a webhook_endpoint.disabled event that other endpoints receive', async () => {
    const id = await setUp();
    const watcher = await t.api('POST', '/v1/webhook-endpoints', { body: { url: other.url, events: ['webhook_endpoint.disabled'] } });
    receiver.respond((_request, response) => response.writeHead(410).end());
    await t.createKey();
    await t.services.webhooks.drain();
    const endpoint = await t.api('GET', `/v1/webhook-endpoints/${id}`);
    expect(endpoint.body).toMatchObject({ status: 'disabled', disabledReason: 'gone' });
    expect((await deliveries(id))[0]).toMatchObject({ status: 'failed', lastStatusCode: 410 });
    expect(other.received.map((hook) => hook.json)).toEqual([
      expect.objectContaining({ type: 'webhook_endpoint.disabled', data: expect.objectContaining({ endpointId: id, reason: 'gone' }) }),
    ]);
    expect(watcher.status).toBe(201);

    // Nothing more is sent to it; a manual retry is refused until it is enabled again.
    await t.createKey();
    await t.services.webhooks.drain();
    expect(receiver.received).toHaveLength(1);
    const [delivery] = await deliveries(id);
    const retry = await t.api('POST', `/v1/webhook-endpoints/${id}/deliveries/${delivery.id}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.error).toBe('conflict');

    // A test event too: refused with a clear answer, nothing queued, nothing audited; sent once enabled again.
    const before = (await deliveries(id)).length;
    const test = await t.api('POST', `/v1/webhook-endpoints/${id}/test`);
    expect(test.status).toBe(409);
    expect(test.body).toMatchObject({ error: 'endpoint_disabled', error_description: expect.stringContaining('Enable it first'), request_id: expect.any(String) });
    expect(await deliveries(id)).toHaveLength(before);
    expect((await t.api('GET', '/v1/audit-events?type=webhook_delivery.test_sent')).body.data).toEqual([]);
    receiver.respond((_request, response) => response.writeHead(204).end());
    expect((await t.api('PATCH', `/v1/webhook-endpoints/${id}`, { body: { enabled: true } })).status).toBe(200);
    const sent = await t.api('POST', `/v1/webhook-endpoints/${id}/test`);
    expect(sent.status).toBe(202);
    await t.services.webhooks.drain();
    expect(receiver.received.map((hook) => hook.json.type)).toEqual(['key.created', 'webhook.test']);
    expect((await deliveries(id))[0]).toMatchObject({ id: sent.body.id, status: 'delivered', lastStatusCode: 204 });
  });

  it('honours Retry-After, capped at an hour', async () => {
    const id = await setUp();
    receiver.respond((_request, response) => response.writeHead(503, { 'retry-after': '120' }).end());
    await t.createKey();
    await t.services.webhooks.drain();
    const [first] = await deliveries(id);
    expect(Date.parse(first.nextAttemptAt) - t.clock.now()).toBe(120_000);

    receiver.respond((_request, response) => response.writeHead(429, { 'retry-after': '86400' }).end());
    t.clock.advance(120_000);
    await t.services.webhooks.drain();
    const [second] = await deliveries(id);
    expect(second.attempts).toBe(2);
    expect(Date.parse(second.nextAttemptAt) - t.clock.now()).toBe(HOUR);
  });

  it('retries with exponential backoff over about a day, then gives up', async () => {
    const id = await setUp();
    receiver.respond((_request, response) => response.writeHead(500).end());
    const start = t.clock.now();
    await t.createKey();
    await t.services.webhooks.drain();
    const gaps: number[] = [];
    for (let i = 0; i < 100; i++) {
      const [delivery] = await deliveries(id);
      if (delivery.status !== 'pending') break;
      const next = Date.parse(delivery.nextAttemptAt);
      gaps.push(next - t.clock.now());
      t.clock.set(next);
      await t.services.webhooks.drain();
    }
    const [final] = await deliveries(id);
    expect(final.status).toBe('failed');
    expect(final.attempts).toBe(gaps.length + 1);
    expect(final.attempts).toBeGreaterThan(10);
    expect(final.attempts).toBeLessThan(30);
    // The last attempt is at the end of the one-day window.
    expect(t.clock.now() - start).toBe(24 * HOUR);
    // Growing (jittered) delays, capped at 4 hours.
    expect(gaps[0]).toBeLessThanOrEqual(10_000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(4 * HOUR);
    expect(gaps[6]!).toBeGreaterThan(gaps[0]! * 10);
    expect(final.attemptLog).toHaveLength(final.attempts);
    expect(receiver.received).toHaveLength(final.attempts);
  });

  it('disables an endpoint that has failed continuously for the configured time, with an event', async () => {
    const id = await setUp({ GATEHOUSE_WEBHOOKS_DISABLE_AFTER_SECONDS: '7200' });
    receiver.respond((_request, response) => response.writeHead(500).end());
    await t.createKey();
    await t.services.webhooks.drain();
    const failing = await t.api('GET', `/v1/webhook-endpoints/${id}`);
    expect(failing.body).toMatchObject({ status: 'enabled', failingSince: new Date(t.clock.now()).toISOString() });

    for (let i = 0; i < 100; i++) {
      const endpoint = await t.api('GET', `/v1/webhook-endpoints/${id}`);
      if (endpoint.body.status === 'disabled') break;
      const [delivery] = await deliveries(id);
      t.clock.set(Date.parse(delivery.nextAttemptAt));
      await t.services.webhooks.drain();
    }
    const disabled = await t.api('GET', `/v1/webhook-endpoints/${id}`);
    expect(disabled.body).toMatchObject({ status: 'disabled', disabledReason: 'failing' });
    expect(Date.parse(disabled.body.disabledAt) - Date.parse(failing.body.failingSince)).toBeGreaterThanOrEqual(2 * HOUR);
    expect((await deliveries(id))[0].status).toBe('failed');
    const events = await t.api('GET', '/v1/audit-events?type=webhook_endpoint.disabled');
    expect(events.body.data).toHaveLength(1);
    expect(events.body.data[0]).toMatchObject({ reason: 'failing', details: expect.objectContaining({ endpointId: id }) });

    // Enabling it again clears the failure.
    const enabled = await t.api('PATCH', `/v1/webhook-endpoints/${id}`, { body: { enabled: true } });
    expect(enabled.body).toMatchObject({ status: 'enabled', failingSince: null });
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const id = await setUp({ GATEHOUSE_WEBHOOKS_TIMEOUT_SECONDS: '1' });
    receiver.respond(() => {
      /* never answers */
    });
    await t.createKey();
    await t.services.webhooks.drain();
    const [delivery] = await deliveries(id);
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null, lastError: 'timeout after 1000 ms' });
  });

  it('does not read a large response body beyond a small cap', async () => {
    const id = await setUp();
    receiver.respond((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(Buffer.alloc(5 * 1024 * 1024, 'x'));
    });
    await t.createKey();
    await t.services.webhooks.drain();
    expect((await deliveries(id))[0]).toMatchObject({ status: 'delivered', lastStatusCode: 200 });
  });

  it('records a connection failure and retries it', async () => {
    t = await createTestApp({ env: INSECURE });
    const closed = await startReceiver();
    const url = closed.url;
    await closed.close();
    const created = await t.api('POST', '/v1/webhook-endpoints', { body: { url, events: ['*'] } });
    await t.createKey();
    await t.services.webhooks.drain();
    const [delivery] = await deliveries(created.body.id);
    expect(delivery).toMatchObject({ status: 'pending', lastStatusCode: null });
    expect(delivery.lastError).toMatch(/ECONNREFUSED/);
  });
});

describe('retry schedule and classification (pure)', () => {
  it('doubles the nominal delay with equal jitter, capped', () => {
    expect(retryDelayMs(1, () => 0)).toBe(5_000);
    expect(retryDelayMs(1, () => 1)).toBe(10_000);
    expect(retryDelayMs(4, () => 1)).toBe(80_000);
    expect(retryDelayMs(40, () => 1)).toBe(4 * HOUR);
    expect(retryDelayMs(40, () => 0)).toBe(2 * HOUR);
  });

  it('parses Retry-After as seconds or an HTTP date, and ignores nonsense', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    for (const bad of [undefined, '', '-5', '1.5', 'soon', '99999999999', 'Thu, 01 Jan 2026']) expect(parseRetryAfter(bad, now)).toBeUndefined();
  });

  it('schedules within the window: the last retry falls on the deadline, none after it', () => {
    const random = () => 1;
    expect(nextAttemptAt({ now: 0, failedAttempts: 1, deadlineAt: HOUR, random })).toBe(10_000);
    expect(nextAttemptAt({ now: 0, failedAttempts: 1, deadlineAt: 5_000, random })).toBe(5_000);
    expect(nextAttemptAt({ now: 5_000, failedAttempts: 2, deadlineAt: 5_000, random })).toBeUndefined();
    expect(nextAttemptAt({ now: 0, failedAttempts: 1, deadlineAt: 10 * HOUR, retryAfterMs: 2 * HOUR, random })).toBe(HOUR);
    expect(nextAttemptAt({ now: 0, failedAttempts: 1, deadlineAt: 10 * HOUR, retryAfterMs: 1, random })).toBe(10_000);
  });

  it('classifies responses: only 2xx delivers, 410 is gone, everything else (3xx included) fails', () => {
    expect([200, 201, 204, 299].map(classifyResponse)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect(classifyResponse(410)).toBe('gone');
    expect([100, 301, 302, 304, 307, 308, 400, 404, 429, 500, 503, null].map(classifyResponse).every((v) => v === 'failed')).toBe(true);
  });
});
