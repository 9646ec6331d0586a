import { verifyWebhook } from 'gatehouse-sdk/webhooks';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuditEvent, type AuditEventType } from '../src/core/audit/audit-event.js';
import { keyExpiredEvent } from '../src/core/api-keys/key-expiry-sweep.js';
import { dialects } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

const INSECURE = { GATEHOUSE_WEBHOOKS_ALLOW_INSECURE: 'true' };

describe.each(dialects)('webhook endpoints and delivery (happy paths, %s)', (dialect) => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());
  beforeEach(async () => {
    t = await createTestApp({ dialect, env: INSECURE });
    // Signatures are checked against the real time by standardwebhooks: run the frozen clock from now.
    t.clock.set(Date.now());
    receiver.received.length = 0;
    receiver.respond((_request, response) => response.writeHead(200).end('ok'));
  });
  afterEach(() => t.close());

  async function createEndpoint(body: Record<string, unknown> = {}) {
    const response = await t.api('POST', '/v1/webhook-endpoints', { body: { url: receiver.url, events: ['*'], ...body } });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  it('creates an endpoint and shows its secret once', async () => {
    const created = await createEndpoint({ events: ['key.created', 'alert.*'], description: 'orders service' });
    expect(created).toMatchObject({
      object: 'webhook_endpoint',
      url: receiver.url,
      events: ['key.created', 'alert.*'],
      scheme: 'standard',
      tenantId: null,
      description: 'orders service',
      status: 'enabled',
      disabledAt: null,
      failingSince: null,
    });
    expect(created.id).toMatch(/^whe_[0-9A-Za-z]{22}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const fetched = await t.api('GET', `/v1/webhook-endpoints/${created.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).not.toHaveProperty('secret');
    const { secret: _secret, ...view } = created;
    expect(fetched.body).toEqual(view);
    const list = await t.api('GET', '/v1/webhook-endpoints');
    expect(list.body).toEqual({ data: [view], nextCursor: null });
  });

  it('delivers key.created after commit, signed so that the SDK and standardwebhooks both verify it', async () => {
    const { secret } = await createEndpoint();
    const key = await t.createKey({ scopes: ['orders:read'], tenantId: 'acme' });
    await t.services.webhooks.drain();

    expect(receiver.received).toHaveLength(1);
    const [hook] = receiver.received;
    expect(hook!.headers['content-type']).toBe('application/json');
    expect(hook!.json).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: 'key.created',
      createdAt: new Date(t.clock.now()).toISOString(),
      tenantId: 'acme',
      data: { keyId: key.id, keyPrefix: key.prefix, actorKeyId: expect.stringMatching(/^key_/), scopes: ['orders:read'], environment: 'live' },
    });
    expect(hook!.headers['webhook-id']).toBe(hook!.json.id);
    // The event is the audit event, id for id.
    const audit = await t.api('GET', '/v1/audit-events?type=key.created');
    expect(audit.body.data.map((e: any) => e.id)).toContain(hook!.json.id);

    const event = verifyWebhook({ payload: hook!.body, headers: hook!.headers, secret, scheme: 'standard', now: () => t.clock.now() });
    expect(event).toEqual(hook!.json);
    expect(new Webhook(secret).verify(hook!.body, hook!.headers as Record<string, string>)).toEqual(hook!.json);
  });

  it('signs with the stripe scheme when the endpoint asks for it', async () => {
    const { secret } = await createEndpoint({ scheme: 'stripe' });
    await t.createKey();
    await t.services.webhooks.drain();
    const [hook] = receiver.received;
    expect(hook!.headers['gatehouse-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook({ payload: hook!.body, headers: hook!.headers, secret, scheme: 'stripe', now: () => t.clock.now() })).toEqual(hook!.json);
  });

  it('wakes the running dispatcher on commit: no drain needed', async () => {
    await createEndpoint();
    t.services.webhooks.start();
    await t.createKey();
    const deadline = Date.now() + 10_000;
    while (receiver.received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(receiver.received.map((hook) => hook.json.type)).toEqual(['key.created']);
  });

  it('sends each endpoint only the events its filters name', async () => {
    const keysOnly = await createEndpoint({ events: ['key.*'] });
    const revokedOnly = await createEndpoint({ events: ['key.revoked'] });
    const clientsOnly = await createEndpoint({ events: ['client.created'] });
    const key = await t.createKey();
    expect((await t.api('POST', `/v1/keys/${key.id}/revoke`)).status).toBe(200);
    await t.services.webhooks.drain();
    const byEndpoint = async (id: string) =>
      (await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries`)).body.data.map((d: any) => d.eventType).sort();
    expect(await byEndpoint(keysOnly.id)).toEqual(['key.created', 'key.revoked']);
    expect(await byEndpoint(revokedOnly.id)).toEqual(['key.revoked']);
    expect(await byEndpoint(clientsOnly.id)).toEqual([]);
  });

  it('an endpoint scoped to a tenant receives only that tenant’s events; one with no tenant receives all', async () => {
    const acme = await createEndpoint({ tenantId: 'acme', events: ['key.created'] });
    const all = await createEndpoint({ events: ['key.created'] });
    await t.createKey({ tenantId: 'acme' });
    await t.createKey({ tenantId: 'globex' });
    await t.createKey();
    await t.services.webhooks.drain();
    const tenants = async (id: string) =>
      (await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries`)).body.data.length;
    expect(await tenants(acme.id)).toBe(1);
    expect(await tenants(all.id)).toBe(3);
    const acmeHooks = receiver.received.filter((hook) => hook.json.tenantId === 'acme');
    expect(acmeHooks).toHaveLength(2); // one to each endpoint
  });

  it('logs each delivery with its attempts: status code, latency, attempt number', async () => {
    const endpoint = await createEndpoint();
    const delivered = async () => {
      const scrape = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${t.rootKey}` } });
      return Number(/^gatehouse_webhook_deliveries_total\{outcome="delivered"\} (\d+)$/m.exec(scrape.body)?.[1] ?? 0);
    };
    const before = await delivered();
    await t.createKey();
    await t.services.webhooks.drain();
    expect(await delivered()).toBe(before + 1);
    const log = await t.api('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`);
    expect(log.status).toBe(200);
    expect(log.body.nextCursor).toBeNull();
    expect(log.body.data).toEqual([
      {
        id: expect.stringMatching(/^whd_/),
        object: 'webhook_delivery',
        endpointId: endpoint.id,
        eventId: receiver.received[0]!.json.id,
        eventType: 'key.created',
        status: 'delivered',
        attempts: 1,
        nextAttemptAt: null,
        lastStatusCode: 200,
        lastError: null,
        createdAt: expect.any(String),
        deliveredAt: new Date(t.clock.now()).toISOString(),
        attemptLog: [
          { attempt: 1, attemptedAt: new Date(t.clock.now()).toISOString(), outcome: 'success', statusCode: 200, latencyMs: expect.any(Number), error: null },
        ],
      },
    ]);
  });

  it('pages the delivery log', async () => {
    const endpoint = await createEndpoint();
    for (let i = 0; i < 5; i++) {
      await t.createKey();
      t.clock.advance(1);
    }
    await t.services.webhooks.drain();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await t.api('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.status).toBe(200);
      seen.push(...response.body.data.map((d: any) => d.id));
      cursor = response.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it('retries a failure with the same webhook-id and a fresh timestamp and signature', async () => {
    const { id, secret } = await createEndpoint();
    receiver.respond((_request, response) => response.writeHead(500).end());
    await t.createKey();
    await t.services.webhooks.drain();
    expect(receiver.received).toHaveLength(1);
    const [delivery] = (await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries`)).body.data;
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
    const next = Date.parse(delivery.nextAttemptAt);
    // The first retry comes 5 to 10 seconds later (10 s nominal, equal jitter).
    expect(next - t.clock.now()).toBeGreaterThanOrEqual(5_000);
    expect(next - t.clock.now()).toBeLessThanOrEqual(10_000);

    // Not due yet: nothing happens.
    await t.services.webhooks.drain();
    expect(receiver.received).toHaveLength(1);

    receiver.respond((_request, response) => response.writeHead(204).end());
    t.clock.set(next);
    await t.services.webhooks.drain();
    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received;
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(second!.body).toBe(first!.body);
    expect(second!.headers['webhook-timestamp']).not.toBe(first!.headers['webhook-timestamp']);
    expect(second!.headers['webhook-signature']).not.toBe(first!.headers['webhook-signature']);
    verifyWebhook({ payload: second!.body, headers: second!.headers, secret, scheme: 'standard', now: () => t.clock.now() });

    const [after] = (await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries`)).body.data;
    expect(after).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 204 });
    expect(after.attemptLog.map((a: any) => [a.attempt, a.statusCode, a.outcome])).toEqual([
      [1, 500, 'failure'],
      [2, 204, 'success'],
    ]);
    const endpoint = await t.api('GET', `/v1/webhook-endpoints/${id}`);
    expect(endpoint.body.failingSince).toBeNull();
  });

  it('retries a delivery on request, with the same webhook-id', async () => {
    const { id } = await createEndpoint();
    await t.createKey();
    await t.services.webhooks.drain();
    const [delivery] = (await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries`)).body.data;
    const retried = await t.api('POST', `/v1/webhook-endpoints/${id}/deliveries/${delivery.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: delivery.id, status: 'pending', attempts: 1 });
    await t.services.webhooks.drain();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.headers['webhook-id']).toBe(receiver.received[0]!.headers['webhook-id']);
    const [after] = (await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries`)).body.data;
    expect(after).toMatchObject({ status: 'delivered', attempts: 2 });
    const audit = await t.api('GET', '/v1/audit-events?type=webhook_delivery.retried');
    expect(audit.body.data).toHaveLength(1);
  });

  it('sends a test event to that endpoint only, whatever its filters, signed and verifiable like any other', async () => {
    // Subscribed to one type only: the test event targets the endpoint, its filters do not apply.
    const { id, secret } = await createEndpoint({ events: ['key.revoked'], tenantId: 'acme' });
    const other = await createEndpoint({ events: ['*'] });
    const sent = await t.api('POST', `/v1/webhook-endpoints/${id}/test`);
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    expect(sent.body).toEqual({
      id: expect.stringMatching(/^whd_/),
      object: 'webhook_delivery',
      endpointId: id,
      eventId: expect.stringMatching(/^evt_/),
      eventType: 'webhook.test',
      status: 'pending',
      attempts: 0,
      nextAttemptAt: new Date(t.clock.now()).toISOString(),
      lastStatusCode: null,
      lastError: null,
      createdAt: new Date(t.clock.now()).toISOString(),
      deliveredAt: null,
      attemptLog: [],
    });
    await t.services.webhooks.drain();

    expect(receiver.received).toHaveLength(1);
    const [hook] = receiver.received;
    expect(hook!.json).toEqual({
      id: sent.body.eventId,
      type: 'webhook.test',
      createdAt: new Date(t.clock.now()).toISOString(),
      tenantId: 'acme',
      data: { endpointId: id, url: receiver.url, test: true, message: expect.stringContaining('test event') },
    });
    expect(hook!.body).not.toContain('whsec_');
    expect(hook!.headers['webhook-id']).toBe(sent.body.eventId);
    expect(verifyWebhook({ payload: hook!.body, headers: hook!.headers, secret, scheme: 'standard', now: () => t.clock.now() })).toEqual(hook!.json);
    expect(new Webhook(secret).verify(hook!.body, hook!.headers as Record<string, string>)).toEqual(hook!.json);

    const [delivery] = (await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries`)).body.data;
    expect(delivery).toMatchObject({ id: sent.body.id, eventType: 'webhook.test', status: 'delivered', attempts: 1, lastStatusCode: 200 });
    expect((await t.api('GET', `/v1/webhook-endpoints/${other.id}/deliveries`)).body.data).toEqual([]);
    const audit = await t.api('GET', '/v1/audit-events?type=webhook_delivery.test_sent');
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ tenantId: 'acme', details: { endpointId: id, deliveryId: sent.body.id, eventId: sent.body.eventId } });
  });

  it('a manual retry of a delivery still being retried keeps the rest of its retry window', async () => {
    const { id } = await createEndpoint();
    receiver.respond((_request, response) => response.writeHead(500).end());
    await t.createKey();
    await t.services.webhooks.drain();
    const [delivery] = (await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries`)).body.data;
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1 });

    t.clock.advance(1_000);
    expect((await t.api('POST', `/v1/webhook-endpoints/${id}/deliveries/${delivery.id}/retry`)).status).toBe(202);
    await t.services.webhooks.drain();
    expect(receiver.received).toHaveLength(2);
    const [after] = (await t.api('GET', `/v1/webhook-endpoints/${id}/deliveries`)).body.data;
    // Failed again, within a day of the event: retried automatically, not given up.
    expect(after).toMatchObject({ status: 'pending', attempts: 2, lastStatusCode: 500 });
    expect(Date.parse(after.nextAttemptAt)).toBeGreaterThan(t.clock.now());
  });

  it('signs with both secrets during the rotation grace period, then only with the new one', async () => {
    const { id, secret: oldSecret } = await createEndpoint();
    const rotated = await t.api('POST', `/v1/webhook-endpoints/${id}/secret/rotate`, { body: { gracePeriodSeconds: 3600 } });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.body.previousSecretExpiresAt).toBe(new Date(t.clock.now() + 3_600_000).toISOString());

    await t.createKey();
    await t.services.webhooks.drain();
    const during = receiver.received[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      expect(verifyWebhook({ payload: during.body, headers: during.headers, secret, scheme: 'standard', now: () => t.clock.now() })).toEqual(during.json);
      expect(new Webhook(secret).verify(during.body, during.headers as Record<string, string>)).toEqual(during.json);
    }

    t.clock.advance(3_600_001);
    await t.createKey();
    await t.services.webhooks.drain();
    const after = receiver.received[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    const now = () => t.clock.now();
    expect(verifyWebhook({ payload: after.body, headers: after.headers, secret: newSecret, scheme: 'standard', now })).toEqual(after.json);
    expect(() => verifyWebhook({ payload: after.body, headers: after.headers, secret: oldSecret, scheme: 'standard', now })).toThrow();
  });

  it('updates, disables, enables and deletes an endpoint', async () => {
    const { id } = await createEndpoint();
    const patched = await t.api('PATCH', `/v1/webhook-endpoints/${id}`, { body: { events: ['key.revoked'], description: 'x', scheme: 'stripe' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ events: ['key.revoked'], description: 'x', scheme: 'stripe' });

    const disabled = await t.api('PATCH', `/v1/webhook-endpoints/${id}`, { body: { enabled: false } });
    expect(disabled.body).toMatchObject({ status: 'disabled', disabledReason: 'manual' });
    const key = await t.createKey();
    await t.api('POST', `/v1/keys/${key.id}/revoke`);
    await t.services.webhooks.drain();
    expect(receiver.received).toHaveLength(0);

    const enabled = await t.api('PATCH', `/v1/webhook-endpoints/${id}`, { body: { enabled: true } });
    expect(enabled.body).toMatchObject({ status: 'enabled', disabledAt: null, disabledReason: null });

    expect((await t.api('DELETE', `/v1/webhook-endpoints/${id}`)).status).toBe(204);
    expect((await t.api('GET', `/v1/webhook-endpoints/${id}`)).status).toBe(404);
    const types = (await t.api('GET', '/v1/audit-events?limit=100')).body.data.map((e: any) => e.type);
    for (const type of ['webhook_endpoint.created', 'webhook_endpoint.updated', 'webhook_endpoint.disabled', 'webhook_endpoint.deleted']) {
      expect(types).toContain(type);
    }
  });

  it('delivers every alert.* audit event written through AuditStore.insertNow', async () => {
    await createEndpoint({ events: ['alert.*'], tenantId: 'acme' });
    const alert = createAuditEvent(t.clock.now(), {
      type: 'alert.brute_force' as AuditEventType,
      outcome: 'failure',
      reason: 'FAILED_LOGINS',
      tenantId: 'acme',
      details: { ip: '203.0.113.9', failures: 50 },
    });
    await t.services.stores.audit.insertNow([alert, { ...alert, id: `${alert.id}x`, tenantId: 'globex' }]);
    await t.services.webhooks.drain();
    expect(receiver.received.map((hook) => hook.json)).toEqual([
      { id: alert.id, type: 'alert.brute_force', createdAt: expect.any(String), tenantId: 'acme', data: { reason: 'FAILED_LOGINS', ip: '203.0.113.9', failures: 50 } },
    ]);
  });

  it('emits key.expired once per key from the expiry sweep', async () => {
    await createEndpoint({ events: ['key.expired'] });
    const key = await t.createKey({ expiresAt: new Date(t.clock.now() + 60_000).toISOString() });
    expect(await t.services.keyExpiry.run()).toBe(0);
    t.clock.advance(61_000);
    // Two sweeps at once (as two processes would): one announcement.
    const sweep = () => t.services.stores.apiKeys.announceExpired(t.clock.now(), 10, keyExpiredEvent);
    const counts = await Promise.all([sweep(), sweep()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await t.services.keyExpiry.run()).toBe(0);
    await t.services.webhooks.drain();
    expect(receiver.received.map((hook) => [hook.json.type, hook.json.data.keyId])).toEqual([['key.expired', key.id]]);
  });
});
