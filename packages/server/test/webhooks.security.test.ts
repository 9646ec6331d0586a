import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedLookup, isForbiddenAddress } from '../src/core/webhooks/destination-guard.js';
import { WebhookSender } from '../src/core/webhooks/webhook-sender.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

describe('SSRF guard: forbidden addresses', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '100.100.100.200', // Alibaba Cloud metadata
    '169.254.169.254', // AWS, GCP, Azure metadata
    '169.254.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '::ffff:127.0.0.1', // IPv4-mapped, dotted
    '::ffff:7f00:1', // IPv4-mapped, hex
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '0:0:0:0:0:ffff:10.0.0.1',
    '64:ff9b::a9fe:a9fe', // NAT64 of the metadata address
    '2002:7f00:1::', // 6to4 of loopback
    '::ffff:0:127.0.0.1', // IPv4-translated (SIIT)
    '::ffff:0:a9fe:a9fe',
    '64:ff9b:1::a9fe:a9fe', // local-use NAT64 (RFC 8215)
    '2001:db8::1', // documentation
    'fc00::1',
    'fd00:ec2::254', // AWS metadata over IPv6
    'fe80::1',
    'fe80::1%eth0',
    'ff02::1',
    'not-an-address',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '::ffff:0:808:808'])(
    'allows the public address %s',
    (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    },
  );

  it('refuses a name that resolves to loopback, at lookup time', async () => {
    const error = await new Promise<Error | null>((resolve) => guardedLookup('localhost', {}, (e) => resolve(e)));
    expect(error?.message).toMatch(/private, loopback, link-local or reserved/);
  });
});

describe('SSRF: delivery without GATEHOUSE_WEBHOOKS_ALLOW_INSECURE', () => {
  let t: TestApp;
  let listener: Server;
  let connections = 0;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp();
    // A TCP listener on loopback: the guard must refuse before any connection is made to it.
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => listener.close(resolve));
  });

  it('refuses an http endpoint and forbidden IP literals at registration', async () => {
    for (const url of [`http://localhost:${port}/`, `https://127.0.0.1:${port}/`, 'https://[::1]/', 'https://10.1.2.3/', 'https://[fd00:ec2::254]/']) {
      const response = await t.api('POST', '/v1/webhook-endpoints', { body: { url, events: ['*'] } });
      expect(response.status, url).toBe(400);
    }
  });

  it('refuses to deliver to a name that resolves to 127.0.0.1 (https://localhost), after DNS resolution', async () => {
    // A name passes registration (it could resolve anywhere later): the check happens at every delivery.
    const created = await t.api('POST', '/v1/webhook-endpoints', { body: { url: `https://localhost:${port}/hook`, events: ['*'] } });
    expect(created.status).toBe(201);
    await t.createKey();
    await t.services.webhooks.drain();
    const [delivery] = (await t.api('GET', `/v1/webhook-endpoints/${created.body.id}/deliveries`)).body.data;
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    // Refused without saying what the name resolved to: the delivery log is no DNS oracle for internal names.
    expect(delivery.lastError).toBe('webhook destination is a private, loopback, link-local or reserved address');
    expect(delivery.lastError).not.toMatch(/127\.0\.0\.1|::1/);
    expect(connections).toBe(0);
  });

  it('refuses an http or forbidden-literal URL at send time as a failed attempt (an endpoint registered while insecure was allowed)', async () => {
    const sender = new WebhookSender({ timeoutMs: 1000, allowInsecure: false });
    try {
      for (const [url, error] of [
        [`http://127.0.0.1:${port}/`, 'url must use https'],
        [`https://127.0.0.1:${port}/`, 'webhook destination is a private, loopback, link-local or reserved address'],
        ['not a url', 'invalid url'],
      ] as const) {
        await expect(sender.send({ url, headers: {}, body: '{}' }), url).resolves.toMatchObject({ statusCode: null, error });
      }
    } finally {
      sender.close();
    }
    expect(connections).toBe(0);
  });
});

describe('webhook endpoints: tenants and scopes', () => {
  let t: TestApp;
  let acmeKey: string;
  let globexKey: string;

  beforeAll(async () => {
    t = await createTestApp();
    acmeKey = (await t.createKey({ tenantId: 'acme', scopes: ['webhooks:read', 'webhooks:write'] })).key;
    globexKey = (await t.createKey({ tenantId: 'globex', scopes: ['webhooks:read', 'webhooks:write'] })).key;
  });
  afterAll(() => t.close());

  const create = (key: string, body: Record<string, unknown> = {}) =>
    t.api('POST', '/v1/webhook-endpoints', { key, body: { url: 'https://hooks.example.com/in', events: ['*'], ...body } });

  it('binds a tenant key’s endpoints to its tenant, and hides other tenants’ endpoints', async () => {
    const acme = await create(acmeKey);
    expect(acme.status).toBe(201);
    expect(acme.body.tenantId).toBe('acme');
    expect((await create(acmeKey, { tenantId: 'globex' })).status).toBe(403);
    const globalEndpoint = await create(t.rootKey);
    expect(globalEndpoint.body.tenantId).toBeNull();

    const id = acme.body.id;
    for (const [method, url, body] of [
      ['GET', `/v1/webhook-endpoints/${id}`, undefined],
      ['PATCH', `/v1/webhook-endpoints/${id}`, { description: 'mine now' }],
      ['DELETE', `/v1/webhook-endpoints/${id}`, undefined],
      ['POST', `/v1/webhook-endpoints/${id}/secret/rotate`, {}],
      ['GET', `/v1/webhook-endpoints/${id}/deliveries`, undefined],
      ['GET', `/v1/webhook-endpoints/${globalEndpoint.body.id}`, undefined],
    ] as const) {
      const response = await t.api(method, url, { key: globexKey, ...(body !== undefined ? { body } : {}) });
      expect(response.status, `${method} ${url}`).toBe(404);
    }
    expect((await t.api('GET', '/v1/webhook-endpoints', { key: globexKey })).body.data).toEqual([]);
    expect((await t.api('GET', '/v1/webhook-endpoints?tenantId=acme', { key: globexKey })).body.data).toEqual([]);
    expect((await t.api('GET', '/v1/webhook-endpoints', { key: acmeKey })).body.data.map((e: any) => e.id)).toEqual([id]);
    // Untouched by the other tenant's attempts.
    expect((await t.api('GET', `/v1/webhook-endpoints/${id}`, { key: acmeKey })).body).toMatchObject({ description: null });
  });

  it('requires webhooks:read to read and webhooks:write to change', async () => {
    const reader = (await t.createKey({ scopes: ['webhooks:read'] })).key;
    const other = (await t.createKey({ scopes: ['keys:read'] })).key;
    expect((await create(reader)).status).toBe(403);
    expect((await t.api('GET', '/v1/webhook-endpoints', { key: reader })).status).toBe(200);
    expect((await t.api('GET', '/v1/webhook-endpoints', { key: other })).status).toBe(403);
    expect((await t.api('GET', '/v1/webhook-endpoints', { key: null })).status).toBe(401);
    // A key cannot mint itself more management scope than it holds.
    const escalate = await t.api('POST', '/v1/keys', { key: reader, body: { name: 'x', scopes: ['webhooks:write'] } });
    expect(escalate.status).toBe(403);
  });
});

describe('webhook secrets and payloads', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await createTestApp({ env: { GATEHOUSE_WEBHOOKS_ALLOW_INSECURE: 'true' } });
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('shows a secret only when it is issued; never in lists, logs, audit events or the database file', async () => {
    const created = await t.api('POST', '/v1/webhook-endpoints', { body: { url: receiver.url, events: ['*'] } });
    const rotated = await t.api('POST', `/v1/webhook-endpoints/${created.body.id}/secret/rotate`, { body: {} });
    const secrets = [created.body.secret as string, rotated.body.secret as string];
    const id = created.body.id;
    const responses = [
      await t.api('GET', `/v1/webhook-endpoints/${id}`),
      await t.api('GET', '/v1/webhook-endpoints'),
      await t.api('PATCH', `/v1/webhook-endpoints/${id}`, { body: { description: 'd' } }),
    ];
    await t.createKey();
    await t.services.webhooks.drain();
    await t.services.audit.flush();

    const logs = t.logs.join('\n');
    const audit = JSON.stringify(await t.services.stores.audit.list({ limit: 10_000 }));
    expect(audit).toContain('webhook_endpoint.secret_rotated');
    const files = readdirSync(t.dataDir).filter((f) => f.startsWith('gatehouse.db'));
    const database = Buffer.concat(files.map((f) => readFileSync(join(t.dataDir, f))));
    expect(database.includes(Buffer.from(id))).toBe(true); // the right file
    for (const secret of secrets) {
      const body = secret.slice('whsec_'.length);
      for (const response of responses) expect(JSON.stringify(response.body)).not.toContain(body);
      expect(logs).not.toContain(body);
      expect(audit).not.toContain(body);
      expect(database.includes(Buffer.from(body))).toBe(false);
      expect(database.includes(Buffer.from(body, 'base64'))).toBe(false);
    }
    // At rest it is ciphertext bound to its endpoint.
    const stored = (await t.services.stores.webhooks.findEndpoint(id))!;
    expect(stored.sealedSecret).toMatch(/^v1\./);
    expect(t.services.secretBox.decrypt(stored.sealedSecret, id).toString()).toBe(secrets[1]);
    expect(() => t.services.secretBox.decrypt(stored.sealedSecret, 'whe_other')).toThrow();
  });

  it('puts no secret in event payloads: key, client and rotation events carry ids and display prefixes only', async () => {
    receiver.received.length = 0;
    const key = await t.createKey({ scopes: ['a'] });
    const rotatedKey = await t.api('POST', `/v1/keys/${key.id}/rotate`, { body: {} });
    const client = await t.api('POST', '/v1/clients', {
      body: { name: 'c', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_post' },
    });
    const rotatedClient = await t.api('POST', `/v1/clients/${client.body.clientId}/secret/rotate`, { body: {} });
    await t.services.webhooks.drain();
    const bodies = receiver.received.map((hook) => hook.body).join('\n');
    for (const type of ['key.created', 'key.rotated', 'client.created', 'client.secret_rotated']) expect(bodies).toContain(`"${type}"`);
    for (const secret of [key.key, rotatedKey.body.key, client.body.clientSecret, rotatedClient.body.clientSecret]) {
      expect(typeof secret).toBe('string');
      expect(bodies).not.toContain(secret);
    }
    expect(bodies).not.toMatch(/"ip"|user-agent|userAgent/);
  });
});
