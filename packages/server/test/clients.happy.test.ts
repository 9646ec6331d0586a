import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateClient } from '../src/core/oauth/client-auth.js';
import { dialects } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const HOUR = 3_600_000;

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe.each(dialects)('OAuth client lifecycle over HTTP (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ dialect });
  });
  afterAll(() => t.close());

  const auth = (authorization: string | undefined, body: Record<string, unknown> = {}) =>
    authenticateClient({ authorization, body }, { clients: t.services.clients, clock: t.clock });

  const confidential = {
    name: 'billing backend',
    redirectUris: ['https://app.example.com/callback', 'http://127.0.0.1/cb'],
    grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
    scopes: ['invoices:read', 'openid'],
    tokenEndpointAuthMethod: 'client_secret_basic',
    audiences: ['https://api.example.com'],
    accessTokenTtlSeconds: 600,
  };

  it('registers a confidential client: the secret is shown once, only its hash is stored', async () => {
    const created = await t.api('POST', '/v1/clients', { body: confidential });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const body = created.body;
    expect(body.clientId).toMatch(/^cli_[0-9A-Za-z]{22}$/);
    expect(body.clientSecret).toMatch(/^cs_[0-9A-Za-z]{43}$/);
    expect(body).toMatchObject({
      object: 'oauth_client',
      name: 'billing backend',
      redirectUris: confidential.redirectUris,
      grantTypes: confidential.grantTypes,
      scopes: confidential.scopes,
      tokenEndpointAuthMethod: 'client_secret_basic',
      audiences: ['https://api.example.com'],
      defaultAudience: 'https://api.example.com',
      tenantId: null,
      accessTokenTtlSeconds: 600,
      idTokenSignedResponseAlg: 'RS256',
      secretPrefix: body.clientSecret.slice(0, 9),
      previousSecretExpiresAt: null,
      createdAt: new Date(t.clock.now()).toISOString(),
    });

    const fetched = await t.api('GET', `/v1/clients/${body.clientId}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.clientSecret).toBeUndefined();
    expect(JSON.stringify(fetched.body)).not.toContain(body.clientSecret);
    const { clientSecret: _secret, ...withoutSecret } = body;
    expect(fetched.body).toStrictEqual(withoutSecret);

    const stored = await t.services.stores.clients.findById(body.clientId);
    expect(stored!.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(body.clientSecret);

    const ok = await auth(basic(body.clientId, body.clientSecret));
    expect(ok).toMatchObject({ ok: true, method: 'client_secret_basic', client: { id: body.clientId } });
  });

  it('registers a public client (none): no secret, authenticates by client_id alone', async () => {
    const created = await t.api('POST', '/v1/clients', {
      body: {
        name: 'mobile app',
        redirectUris: ['com.example.app:/oauth/callback', 'http://[::1]/cb'],
        grantTypes: ['authorization_code', 'refresh_token'],
        tokenEndpointAuthMethod: 'none',
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.clientSecret).toBeUndefined();
    expect(created.body).toMatchObject({ secretPrefix: null, scopes: [], audiences: [], defaultAudience: null, accessTokenTtlSeconds: null });
    expect(await auth(undefined, { client_id: created.body.clientId })).toMatchObject({ ok: true, method: 'none' });
  });

  it('client_secret_post clients authenticate with the secret in the body', async () => {
    const created = await t.api('POST', '/v1/clients', {
      body: { name: 'worker', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_post' },
    });
    expect(created.status).toBe(201);
    const { clientId, clientSecret } = created.body;
    expect(await auth(undefined, { client_id: clientId, client_secret: clientSecret, grant_type: 'client_credentials' })).toMatchObject({
      ok: true,
      method: 'client_secret_post',
    });
  });

  it('lists clients newest first with cursor pagination, without deleted ones', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1000);
      ids.push((await t.api('POST', '/v1/clients', { body: { ...confidential, name: `paged ${i}` } })).body.clientId);
    }
    const first = await t.api('GET', '/v1/clients?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.data.map((c: any) => c.clientId)).toStrictEqual([ids[2], ids[1]]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await t.api('GET', `/v1/clients?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.data[0].clientId).toBe(ids[0]);
    expect(JSON.stringify([first.body, second.body])).not.toMatch(/clientSecret|cs_[0-9A-Za-z]{43}/);

    expect((await t.api('DELETE', `/v1/clients/${ids[2]}`)).status).toBe(204);
    const after = await t.api('GET', '/v1/clients?limit=100');
    expect(after.body.data.map((c: any) => c.clientId)).not.toContain(ids[2]);
  });

  it('PATCH changes the client and takes effect at once for authentication', async () => {
    const { clientId, clientSecret } = (await t.api('POST', '/v1/clients', { body: confidential })).body;
    expect(await auth(basic(clientId, clientSecret))).toMatchObject({ ok: true }); // now cached
    t.clock.advance(1000);
    const patched = await t.api('PATCH', `/v1/clients/${clientId}`, {
      body: {
        name: 'renamed',
        scopes: ['a', 'b', 'a'],
        redirectUris: ['https://new.example.com/cb'],
        tokenEndpointAuthMethod: 'client_secret_post',
        accessTokenTtlSeconds: null,
        audiences: ['https://x.example.com', 'https://y.example.com'],
        defaultAudience: 'https://y.example.com',
        idTokenSignedResponseAlg: 'EdDSA',
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      idTokenSignedResponseAlg: 'EdDSA',
      name: 'renamed',
      scopes: ['a', 'b'],
      redirectUris: ['https://new.example.com/cb'],
      tokenEndpointAuthMethod: 'client_secret_post',
      accessTokenTtlSeconds: null,
      defaultAudience: 'https://y.example.com',
      updatedAt: new Date(t.clock.now()).toISOString(),
    });
    // The cached record was invalidated: Basic is no longer the registered method.
    expect(await auth(basic(clientId, clientSecret))).toMatchObject({ ok: false, error: 'invalid_client' });
    expect(await auth(undefined, { client_id: clientId, client_secret: clientSecret })).toMatchObject({ ok: true });
    // Narrowing audiences drops a default audience that is no longer among them.
    const narrowed = await t.api('PATCH', `/v1/clients/${clientId}`, { body: { audiences: ['https://x.example.com'] } });
    expect(narrowed.body.defaultAudience).toBeNull();
    expect((await t.api('GET', `/v1/clients/${clientId}`)).body.idTokenSignedResponseAlg).toBe('EdDSA');
  });

  it('rotates the secret with a grace window: the old secret works until the window ends, then fails', async () => {
    const { clientId, clientSecret: oldSecret } = (await t.api('POST', '/v1/clients', { body: confidential })).body;
    expect(await auth(basic(clientId, oldSecret))).toMatchObject({ ok: true });

    const rotated = await t.api('POST', `/v1/clients/${clientId}/secret/rotate`, { body: { gracePeriodSeconds: 3600 } });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.clientSecret;
    expect(newSecret).toMatch(/^cs_[0-9A-Za-z]{43}$/);
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.body.secretPrefix).toBe(newSecret.slice(0, 9));
    expect(rotated.body.previousSecretExpiresAt).toBe(new Date(t.clock.now() + HOUR).toISOString());

    expect(await auth(basic(clientId, newSecret))).toMatchObject({ ok: true });
    expect(await auth(basic(clientId, oldSecret))).toMatchObject({ ok: true });
    t.clock.advance(HOUR - 1);
    expect(await auth(basic(clientId, oldSecret))).toMatchObject({ ok: true });
    t.clock.advance(1);
    expect(await auth(basic(clientId, oldSecret))).toMatchObject({ ok: false, error: 'invalid_client', reason: 'expired_previous_secret' });
    expect(await auth(basic(clientId, newSecret))).toMatchObject({ ok: true });
    expect((await t.api('GET', `/v1/clients/${clientId}`)).body.previousSecretExpiresAt).toBeNull();
  });

  it('rotation without a body uses the default grace period; 0 ends the old secret at once', async () => {
    const { clientId, clientSecret: first } = (await t.api('POST', '/v1/clients', { body: confidential })).body;
    const second = await t.api('POST', `/v1/clients/${clientId}/secret/rotate`);
    expect(second.status).toBe(200);
    expect(second.body.previousSecretExpiresAt).toBe(new Date(t.clock.now() + 24 * HOUR).toISOString());
    expect(await auth(basic(clientId, first))).toMatchObject({ ok: true });

    const third = await t.api('POST', `/v1/clients/${clientId}/secret/rotate`, { body: { gracePeriodSeconds: 0 } });
    expect(third.body.previousSecretExpiresAt).toBeNull();
    expect(await auth(basic(clientId, first))).toMatchObject({ ok: false, reason: 'wrong_secret' });
    expect(await auth(basic(clientId, second.body.clientSecret))).toMatchObject({ ok: false, reason: 'wrong_secret' });
    expect(await auth(basic(clientId, third.body.clientSecret))).toMatchObject({ ok: true });
  });

  it('DELETE is soft and idempotent: the client never authenticates again and is gone from the API', async () => {
    const { clientId, clientSecret } = (await t.api('POST', '/v1/clients', { body: confidential })).body;
    expect(await auth(basic(clientId, clientSecret))).toMatchObject({ ok: true }); // cached
    expect((await t.api('DELETE', `/v1/clients/${clientId}`)).status).toBe(204);
    expect(await auth(basic(clientId, clientSecret))).toMatchObject({ ok: false, error: 'invalid_client', reason: 'deleted_client' });
    expect((await t.api('DELETE', `/v1/clients/${clientId}`)).status).toBe(204);
    for (const [method, url, body] of [
      ['GET', `/v1/clients/${clientId}`, undefined],
      ['PATCH', `/v1/clients/${clientId}`, { name: 'x' }],
      ['POST', `/v1/clients/${clientId}/secret/rotate`, {}],
    ] as const) {
      const r = await t.api(method, url, { body });
      expect(r.status).toBe(404);
      expect(r.body.error).toBe('not_found');
    }
    expect((await t.services.stores.clients.findById(clientId))!.deletedAt).toBe(t.clock.now());
  });

  it('writes an audit event for every change, in the same transaction, with the client id and no secret', async () => {
    const { clientId, clientSecret } = (await t.api('POST', '/v1/clients', { body: confidential })).body;
    await t.api('PATCH', `/v1/clients/${clientId}`, { body: { name: 'audited' } });
    const rotated = await t.api('POST', `/v1/clients/${clientId}/secret/rotate`, { body: {} });
    await t.api('DELETE', `/v1/clients/${clientId}`);
    const events = (await t.services.stores.audit.list({ limit: 1000 })).filter((e) => e.details?.clientId === clientId);
    expect(events.map((e) => e.type).sort()).toStrictEqual(['client.created', 'client.deleted', 'client.secret_rotated', 'client.updated']);
    expect(events.every((e) => e.outcome === 'success' && e.actorKeyId !== null && e.route !== null)).toBe(true);
    expect(events.find((e) => e.type === 'client.updated')!.details).toMatchObject({ fields: ['name'] });
    const text = JSON.stringify(events);
    expect(text).not.toContain(clientSecret);
    expect(text).not.toContain(rotated.body.clientSecret);
  });

  it('a key holding clients:read / clients:write (not admin) may manage clients', async () => {
    const reader = (await t.createKey({ scopes: ['clients:read'] })).key;
    const writer = (await t.createKey({ scopes: ['clients:write'] })).key;
    const created = await t.api('POST', '/v1/clients', { key: writer, body: confidential });
    expect(created.status).toBe(201);
    expect((await t.api('GET', `/v1/clients/${created.body.clientId}`, { key: reader })).status).toBe(200);
    expect((await t.api('GET', '/v1/clients', { key: reader })).status).toBe(200);
  });

  it('the OpenAPI document covers every client endpoint', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    for (const route of [
      'POST /v1/clients',
      'GET /v1/clients',
      'GET /v1/clients/{id}',
      'PATCH /v1/clients/{id}',
      'DELETE /v1/clients/{id}',
      'POST /v1/clients/{id}/secret/rotate',
    ]) {
      expect(operations).toContain(route);
    }
  });
});
