import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideCredentialAction } from '../src/core/authorization/credential-policy.js';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { consoleSignIn } from './helpers/console.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

/**
 * Who may do what on the management API: every route that accepts an admin key, against every kind of caller.
 * The routes are read from the OpenAPI document, so a new management route fails this test until it has a row.
 *
 * The targets are privileged on purpose: each route acts on a resource of tenant t1, and keys and clients acted
 * on hold `admin`. So a `keys:write` key that may rotate keys in general still may not rotate these.
 *
 * Admin users signed in to the console are callers too (their access tokens as bearer): each must get exactly
 * what an admin key with the same scopes and tenant gets, so their expectations are the matching key's column.
 */

const KEY_CALLERS = ['root', 'tenantAdmin', 'keysWrite', 'keysRead', 'nonAdmin', 'otherTenantAdmin'] as const;
/** Each admin user caller, and the key caller it must match: same management scopes, same tenant. */
const USER_CALLERS = {
  rootUser: 'root',
  tenantAdminUser: 'tenantAdmin',
  keysReadUser: 'keysRead',
  nonAdminUser: 'nonAdmin',
  otherTenantAdminUser: 'otherTenantAdmin',
} as const;
const CALLERS = [...KEY_CALLERS, ...(Object.keys(USER_CALLERS) as Array<keyof typeof USER_CALLERS>)];
type Caller = (typeof CALLERS)[number];
/** ok: any 2xx. */
type Expected = 'ok' | 403 | 404;
type Row = readonly [Expected, Expected, Expected, Expected, Expected, Expected];

interface Call {
  path: string;
  body?: unknown;
}

interface RouteCase {
  /** As the OpenAPI document names it: `POST /v1/keys/{id}/rotate`. */
  route: string;
  /** Makes a fresh target (as root) and returns the request to send. */
  call: (t: TestApp, fx: Fixtures) => Promise<Call>;
  expect: Row;
}

interface Fixtures {
  keys: Record<Caller, string>;
}

/** A receiver that answers at once (set in beforeAll): deliveries finish, and can be retried. */
let WEBHOOK_URL = '';

async function root<T = any>(t: TestApp, method: string, url: string, body?: unknown): Promise<T> {
  const r = await t.api(method, url, body === undefined ? {} : { body });
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
}

/** A key of tenant t1 holding `admin`: the privileged target of the key routes. */
const t1AdminKey = (t: TestApp) => root(t, 'POST', '/v1/keys', { name: 'target', scopes: ['admin'], tenantId: 't1' });
const t1Client = (t: TestApp) =>
  root(t, 'POST', '/v1/clients', {
    name: 'target',
    grantTypes: ['client_credentials'],
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: ['admin', 'orders:read'],
    tenantId: 't1',
  });
let userCounter = 0;
/** A resource of tenant t1 whose scopes hold `admin`: the privileged target of the resource routes. */
const t1Resource = (t: TestApp) => root(t, 'POST', '/v1/resources', { identifier: `https://api${++userCounter}.example.com`, name: 'target', scopes: ['admin'], tenantId: 't1' });
const t1User = (t: TestApp) => root(t, 'POST', '/v1/users', { email: `u${++userCounter}@example.com`, password: 'correct horse battery', tenantId: 't1' });
const t1Endpoint = (t: TestApp, events = ['token.reuse_detected']) => root(t, 'POST', '/v1/webhook-endpoints', { url: WEBHOOK_URL, events, tenantId: 't1' });
/** A certificate of tenant t1 (issued by t1's admin key). */
const t1Certificate = async (t: TestApp) => {
  const r = await t.api('POST', '/v1/certificates', { key: fixtures.keys.tenantAdmin, body: { commonName: `svc-${++userCounter}` } });
  if (r.status !== 201) throw new Error(`certificate: ${r.status}`);
  return r.body;
};

// Filled in beforeAll.
const fixtures: Fixtures = { keys: {} as Record<Caller, string> };

const CASES: RouteCase[] = [
  // root, tenantAdmin, keysWrite, keysRead, nonAdmin, otherTenantAdmin
  { route: 'GET /v1/me', call: async () => ({ path: '/v1/me' }), expect: ['ok', 'ok', 'ok', 'ok', 403, 'ok'] },
  { route: 'POST /v1/keys', call: async () => ({ path: '/v1/keys', body: { name: 'n', scopes: ['admin'], tenantId: 't1' } }), expect: ['ok', 'ok', 403, 403, 403, 403] },
  { route: 'GET /v1/keys', call: async () => ({ path: '/v1/keys' }), expect: ['ok', 'ok', 403, 'ok', 403, 'ok'] },
  { route: 'GET /v1/keys/{id}', call: async (t) => ({ path: `/v1/keys/${(await t1AdminKey(t)).id}` }), expect: ['ok', 'ok', 403, 'ok', 403, 404] },
  { route: 'PATCH /v1/keys/{id}', call: async (t) => ({ path: `/v1/keys/${(await t1AdminKey(t)).id}`, body: { name: 'renamed' } }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'POST /v1/keys/{id}/rotate', call: async (t) => ({ path: `/v1/keys/${(await t1AdminKey(t)).id}/rotate`, body: {} }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'POST /v1/keys/{id}/revoke', call: async (t) => ({ path: `/v1/keys/${(await t1AdminKey(t)).id}/revoke`, body: {} }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'POST /v1/keys/verify', call: async (t) => ({ path: '/v1/keys/verify', body: { key: (await t1AdminKey(t)).key } }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },
  { route: 'GET /v1/revocations/stream', call: async () => ({ path: '/v1/revocations/stream' }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },
  { route: 'POST /v1/leaked-keys', call: async () => ({ path: '/v1/leaked-keys', body: [{ token: generateApiKey('live').key }] }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },
  { route: 'GET /v1/keys/{id}/usage', call: async (t) => ({ path: `/v1/keys/${(await t1AdminKey(t)).id}/usage` }), expect: ['ok', 'ok', 403, 'ok', 403, 404] },
  { route: 'GET /v1/clients/{id}/usage', call: async (t) => ({ path: `/v1/clients/${(await t1Client(t)).clientId}/usage` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  // A tenant's usage: its own admin, or one bound to no tenant (the credential policy's tenant rule).
  { route: 'GET /v1/usage', call: async () => ({ path: '/v1/usage?tenantId=t1' }), expect: ['ok', 'ok', 403, 403, 403, 403] },
  // Another tenant's verifier may report, but its entries for t1's keys are ignored (202 {"accepted":0,"ignored":1}).
  {
    route: 'POST /v1/usage/reports',
    call: async (t) => ({ path: '/v1/usage/reports', body: { entries: [{ keyId: (await t1AdminKey(t)).id, minute: new Date(Math.floor(t.clock.now() / 60_000) * 60_000).toISOString(), count: 1 }] } }),
    expect: ['ok', 'ok', 403, 403, 403, 'ok'],
  },
  { route: 'GET /v1/audit-events', call: async () => ({ path: '/v1/audit-events' }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },
  { route: 'GET /metrics', call: async () => ({ path: '/metrics' }), expect: ['ok', 403, 403, 403, 403, 403] },
  { route: 'POST /oauth/introspect', call: async () => ({ path: '/oauth/introspect', body: 'token=not-a-token' }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },

  { route: 'POST /v1/clients', call: async () => ({ path: '/v1/clients', body: { name: 'n', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic', scopes: ['admin'], tenantId: 't1' } }), expect: ['ok', 'ok', 403, 403, 403, 403] },
  { route: 'GET /v1/clients', call: async () => ({ path: '/v1/clients' }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },
  { route: 'GET /v1/clients/{id}', call: async (t) => ({ path: `/v1/clients/${(await t1Client(t)).clientId}` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'PATCH /v1/clients/{id}', call: async (t) => ({ path: `/v1/clients/${(await t1Client(t)).clientId}`, body: { name: 'renamed' } }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'DELETE /v1/clients/{id}', call: async (t) => ({ path: `/v1/clients/${(await t1Client(t)).clientId}` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'POST /v1/clients/{id}/secret/rotate', call: async (t) => ({ path: `/v1/clients/${(await t1Client(t)).clientId}/secret/rotate`, body: {} }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'DELETE /v1/clients/{id}/grants', call: async (t) => ({ path: `/v1/clients/${(await t1Client(t)).clientId}/grants` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'POST /v1/registration-tokens', call: async () => ({ path: '/v1/registration-tokens', body: { name: 'onboarding', tenantId: 't1', maxUses: 1 } }), expect: ['ok', 'ok', 403, 403, 403, 403] },
  { route: 'GET /v1/registration-tokens', call: async () => ({ path: '/v1/registration-tokens' }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },
  {
    route: 'DELETE /v1/registration-tokens/{id}',
    call: async (t) => ({ path: `/v1/registration-tokens/${(await root(t, 'POST', '/v1/registration-tokens', { name: 'target', tenantId: 't1' })).id}` }),
    expect: ['ok', 'ok', 403, 403, 403, 404],
  },

  { route: 'POST /v1/resources', call: async () => ({ path: '/v1/resources', body: { identifier: `https://new${++userCounter}.example.com`, name: 'n', scopes: ['admin'], tenantId: 't1' } }), expect: ['ok', 'ok', 403, 403, 403, 403] },
  { route: 'GET /v1/resources', call: async () => ({ path: '/v1/resources' }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },
  { route: 'GET /v1/resources/{id}', call: async (t) => ({ path: `/v1/resources/${(await t1Resource(t)).id}` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'PATCH /v1/resources/{id}', call: async (t) => ({ path: `/v1/resources/${(await t1Resource(t)).id}`, body: { name: 'renamed' } }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'DELETE /v1/resources/{id}', call: async (t) => ({ path: `/v1/resources/${(await t1Resource(t)).id}` }), expect: ['ok', 'ok', 403, 403, 403, 404] },

  { route: 'POST /v1/users', call: async () => ({ path: '/v1/users', body: { email: `new${++userCounter}@example.com`, password: 'correct horse battery', tenantId: 't1' } }), expect: ['ok', 'ok', 403, 403, 403, 403] },
  { route: 'GET /v1/users', call: async () => ({ path: '/v1/users' }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },
  { route: 'GET /v1/users/{id}', call: async (t) => ({ path: `/v1/users/${(await t1User(t)).id}` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'PATCH /v1/users/{id}', call: async (t) => ({ path: `/v1/users/${(await t1User(t)).id}`, body: { name: 'renamed' } }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'GET /v1/users/{id}/sessions', call: async (t) => ({ path: `/v1/users/${(await t1User(t)).id}/sessions` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'DELETE /v1/users/{id}/sessions', call: async (t) => ({ path: `/v1/users/${(await t1User(t)).id}/sessions` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  {
    route: 'DELETE /v1/users/{id}/sessions/{sessionId}',
    call: async (t) => {
      const user = await t1User(t);
      const session = { hash: `h${++userCounter}`, id: `ses_t${userCounter}`, userId: user.id, authTime: t.clock.now(), createdAt: t.clock.now(), expiresAt: t.clock.now() + 3_600_000, revokedAt: null };
      await t.services.stores.sessions.insert(session);
      return { path: `/v1/users/${user.id}/sessions/${session.id}` };
    },
    expect: ['ok', 'ok', 403, 403, 403, 404],
  },
  { route: 'DELETE /v1/users/{id}', call: async (t) => ({ path: `/v1/users/${(await t1User(t)).id}` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'DELETE /v1/users/{id}/grants', call: async (t) => ({ path: `/v1/users/${(await t1User(t)).id}/grants` }), expect: ['ok', 'ok', 403, 403, 403, 404] },

  { route: 'POST /v1/webhook-endpoints', call: async () => ({ path: '/v1/webhook-endpoints', body: { url: WEBHOOK_URL, events: ['token.reuse_detected'], tenantId: 't1' } }), expect: ['ok', 'ok', 403, 403, 403, 403] },
  { route: 'GET /v1/webhook-endpoints', call: async () => ({ path: '/v1/webhook-endpoints' }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },
  { route: 'GET /v1/webhook-endpoints/{id}', call: async (t) => ({ path: `/v1/webhook-endpoints/${(await t1Endpoint(t)).id}` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'PATCH /v1/webhook-endpoints/{id}', call: async (t) => ({ path: `/v1/webhook-endpoints/${(await t1Endpoint(t)).id}`, body: { description: 'changed' } }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'DELETE /v1/webhook-endpoints/{id}', call: async (t) => ({ path: `/v1/webhook-endpoints/${(await t1Endpoint(t)).id}` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'POST /v1/webhook-endpoints/{id}/secret/rotate', call: async (t) => ({ path: `/v1/webhook-endpoints/${(await t1Endpoint(t)).id}/secret/rotate`, body: {} }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'GET /v1/webhook-endpoints/{id}/deliveries', call: async (t) => ({ path: `/v1/webhook-endpoints/${(await t1Endpoint(t)).id}/deliveries` }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  {
    route: 'POST /v1/webhook-endpoints/{id}/deliveries/{deliveryId}/retry',
    call: async (t) => {
      const endpoint = await t1Endpoint(t, ['key.created']);
      await t1AdminKey(t); // key.created in t1: a delivery to the endpoint
      await t.services.webhooks.drain();
      const { data } = await root<{ data: Array<{ id: string }> }>(t, 'GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`);
      return { path: `/v1/webhook-endpoints/${endpoint.id}/deliveries/${data[0]!.id}/retry`, body: {} };
    },
    expect: ['ok', 'ok', 403, 403, 403, 404],
  },
  { route: 'POST /v1/webhook-endpoints/{id}/test', call: async (t) => ({ path: `/v1/webhook-endpoints/${(await t1Endpoint(t)).id}/test`, body: {} }), expect: ['ok', 'ok', 403, 403, 403, 404] },

  { route: 'POST /v1/certificates', call: async () => ({ path: '/v1/certificates', body: { commonName: `svc-${++userCounter}` } }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },
  { route: 'GET /v1/certificates', call: async () => ({ path: '/v1/certificates' }), expect: ['ok', 'ok', 403, 403, 403, 'ok'] },
  { route: 'POST /v1/certificates/{serial}/revoke', call: async (t) => ({ path: `/v1/certificates/${(await t1Certificate(t)).serialNumber}/revoke`, body: {} }), expect: ['ok', 'ok', 403, 403, 403, 404] },
  { route: 'POST /v1/ca/rotate', call: async () => ({ path: '/v1/ca/rotate', body: {} }), expect: ['ok', 403, 403, 403, 403, 403] },
  { route: 'GET /v1/signing-keys', call: async () => ({ path: '/v1/signing-keys' }), expect: ['ok', 403, 403, 403, 403, 403] },
  { route: 'POST /v1/signing-keys/rotate', call: async () => ({ path: '/v1/signing-keys/rotate', body: {} }), expect: ['ok', 403, 403, 403, 403, 403] },
  {
    route: 'GET /v1/blocks',
    call: async () => ({ path: '/v1/blocks' }),
    expect: ['ok', 403, 403, 403, 403, 403],
  },
  {
    route: 'DELETE /v1/blocks/{ip}',
    call: async (t) => {
      await t.services.detection.blocks.block('203.0.113.77', { reason: 'brute_force', failures: 101, seconds: 900 });
      return { path: '/v1/blocks/203.0.113.77' };
    },
    expect: ['ok', 403, 403, 403, 403, 403],
  },
];

function outcome(status: number): Expected | number {
  if (status >= 200 && status < 300) return 'ok';
  return status;
}

describe('every management route against every kind of caller', () => {
  let t: TestApp;
  let base: string;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    WEBHOOK_URL = receiver.url;
    t = await createTestApp({
      env: { GATEHOUSE_WEBHOOKS_ALLOW_INSECURE: 'true', GATEHOUSE_ISSUER: 'https://auth.example.com', GATEHOUSE_PASSWORD_HASH_COST: '14' },
    });
    // openid-client (the console's sign-in) judges token times by the real clock.
    t.clock.set(Math.max(Date.now(), t.clock.now()));
    await t.services.ca.init();
    const make = async (scopes: string[], tenantId?: string) => (await t.createKey({ scopes, ...(tenantId ? { tenantId } : {}) })).key as string;
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    /** An access token of the console for a new user holding `adminScopes` in `tenantId`. */
    const signIn = async (adminScopes: string[], tenantId?: string) => {
      const user = { email: `admin${++userCounter}@example.com`, password: 'correct horse battery' };
      await root(t, 'POST', '/v1/users', { ...user, adminScopes, ...(tenantId ? { tenantId } : {}) });
      return (await consoleSignIn(base, 'https://auth.example.com', user)).accessToken;
    };
    fixtures.keys = {
      root: t.rootKey,
      tenantAdmin: await make(['admin'], 't1'),
      keysWrite: await make(['keys:write']),
      keysRead: await make(['keys:read']),
      nonAdmin: await make(['orders:read']),
      otherTenantAdmin: await make(['admin'], 't2'),
      rootUser: await signIn(['admin']),
      tenantAdminUser: await signIn(['admin'], 't1'),
      keysReadUser: await signIn(['keys:read']),
      nonAdminUser: await signIn([]),
      otherTenantAdminUser: await signIn(['admin'], 't2'),
    };
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('has a row for every route that accepts an admin key, and none for a route that does not exist', async () => {
    const doc = (await t.api('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { security?: Array<Record<string, unknown>> }>> };
    const adminRoutes: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (operation.security?.some((requirement) => 'adminKey' in requirement)) adminRoutes.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(CASES.map((c) => c.route).sort()).toEqual(adminRoutes.sort());
  });

  for (const routeCase of CASES) {
    it(routeCase.route, async () => {
      const method = routeCase.route.split(' ')[0]!;
      const seen: Record<string, Expected | number> = {};
      for (const caller of CALLERS) {
        const { path, body } = await routeCase.call(t, fixtures);
        const form = typeof body === 'string';
        const controller = new AbortController();
        const response = await fetch(`${base}${path}`, {
          method,
          signal: controller.signal,
          headers: {
            authorization: `Bearer ${fixtures.keys[caller]}`,
            ...(body !== undefined ? { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: form ? body : JSON.stringify(body) } : {}),
        });
        seen[caller] = outcome(response.status);
        // The revocation stream never ends by itself.
        controller.abort();
        await response.body?.cancel().catch(() => {});
      }
      const byKey = Object.fromEntries(KEY_CALLERS.map((caller, i) => [caller, routeCase.expect[i]]));
      const expected = { ...byKey, ...Object.fromEntries(Object.entries(USER_CALLERS).map(([user, key]) => [user, byKey[key]])) };
      expect(seen).toEqual(expected);
    });
  }
});

describe('no caller obtains, confers or acts on more privilege than it holds', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { GATEHOUSE_ISSUER: 'https://auth.example.com' } });
    await t.services.ca.init();
  });
  afterAll(() => t.close());

  const rootKeyId = async () => {
    const { body } = await t.api('GET', '/v1/keys?limit=100');
    return body.data.find((k: any) => k.name === 'root').id as string;
  };

  it('a keys:write + keys:read key cannot rotate, change or revoke the root key, nor mint an admin key', async () => {
    const writer = await t.createKey({ scopes: ['keys:write', 'keys:read'] });
    const rootId = await rootKeyId();
    const attempts: Array<[string, string, unknown]> = [
      ['POST', `/v1/keys/${rootId}/rotate`, {}],
      ['POST', `/v1/keys/${rootId}/rotate`, { gracePeriodSeconds: 0 }],
      ['PATCH', `/v1/keys/${rootId}`, { name: 'mine now' }],
      ['PATCH', `/v1/keys/${rootId}`, { scopes: ['keys:read'] }],
      ['POST', `/v1/keys/${rootId}/revoke`, {}],
      ['POST', '/v1/keys', { name: 'escalated', scopes: ['admin'] }],
      ['POST', '/v1/keys', { name: 'escalated', scopes: ['users:read'] }],
    ];
    for (const [method, url, body] of attempts) {
      const r = await t.api(method, url, { key: writer.key, body });
      expect(r.status, `${method} ${url} ${JSON.stringify(body)}`).toBe(403);
      expect(r.body.error).toBe('insufficient_scope');
      expect(r.body.key).toBeUndefined();
    }
    // The root key still works, unchanged.
    const rootNow = await t.api('GET', `/v1/keys/${rootId}`);
    expect(rootNow.status).toBe(200);
    expect(rootNow.body).toMatchObject({ name: 'root', scopes: ['admin'], status: 'active', rotatedToId: null });
    // Every refusal is audited with its detail; the client saw none of it.
    const { body } = await t.api('GET', '/v1/audit-events?type=admin.authorization&limit=50');
    const refusals = body.data.filter((e: any) => e.actorKeyId === writer.id);
    expect(refusals).toHaveLength(attempts.length);
    expect(refusals.map((e: any) => e.details.action).sort()).toEqual(
      ['key.create', 'key.create', 'key.revoke', 'key.rotate', 'key.rotate', 'key.update', 'key.update'],
    );
    expect(refusals.every((e: any) => e.outcome === 'failure' && e.reason === 'PRIVILEGE_EXCEEDED')).toBe(true);
    expect(refusals.find((e: any) => e.details.action === 'key.rotate')).toMatchObject({ keyId: rootId, details: { missingScopes: ['admin'] } });
  });

  it('the same key still manages what it holds: keys with its own scopes and your API scopes', async () => {
    const writer = await t.createKey({ scopes: ['keys:write', 'keys:read'] });
    const minted = await t.api('POST', '/v1/keys', { key: writer.key, body: { name: 'worker', scopes: ['keys:write', 'invoices:read'] } });
    expect(minted.status).toBe(201);
    expect((await t.api('POST', `/v1/keys/${minted.body.id}/rotate`, { key: writer.key, body: {} })).status).toBe(200);
    const plain = await t.createKey({ scopes: ['invoices:read'] });
    expect((await t.api('PATCH', `/v1/keys/${plain.id}`, { key: writer.key, body: { scopes: ['invoices:write'] } })).status).toBe(200);
    // Adding a scope it lacks to a key it may otherwise manage is conferring it.
    expect((await t.api('PATCH', `/v1/keys/${plain.id}`, { key: writer.key, body: { scopes: ['audit:read'] } })).status).toBe(403);
    expect((await t.api('POST', `/v1/keys/${plain.id}/revoke`, { key: writer.key })).status).toBe(200);
  });

  it("inside a tenant: a tenant key with keys:write cannot take over the tenant's admin key", async () => {
    const tenantAdmin = await t.createKey({ scopes: ['admin'], tenantId: 'acme' });
    const tenantWriter = await t.createKey({ scopes: ['keys:write', 'keys:read'], tenantId: 'acme' });
    for (const [method, url, body] of [
      ['POST', `/v1/keys/${tenantAdmin.id}/rotate`, { gracePeriodSeconds: 0 }],
      ['POST', `/v1/keys/${tenantAdmin.id}/revoke`, {}],
      ['POST', '/v1/keys', { name: 'x', scopes: ['admin'] }],
    ] as const) {
      expect((await t.api(method, url, { key: tenantWriter.key, body })).status).toBe(403);
    }
    // The tenant admin can; a global keys:write key cannot (the tenant admin key holds admin).
    const globalWriter = await t.createKey({ scopes: ['keys:write', 'keys:read'] });
    expect((await t.api('POST', `/v1/keys/${tenantAdmin.id}/revoke`, { key: globalWriter.key })).status).toBe(403);
    expect((await t.api('POST', `/v1/keys/${tenantWriter.id}/rotate`, { key: tenantAdmin.key, body: {} })).status).toBe(200);
  });

  it('clients: clients:write cannot register, change, rotate or delete a client holding management scopes it lacks', async () => {
    const clientWriter = await t.createKey({ scopes: ['clients:write', 'clients:read'] });
    const body = { name: 'svc', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic' };
    expect((await t.api('POST', '/v1/clients', { key: clientWriter.key, body: { ...body, scopes: ['admin'] } })).status).toBe(403);
    expect((await t.api('POST', '/v1/clients', { key: clientWriter.key, body: { ...body, scopes: ['orders:read', 'clients:read'] } })).status).toBe(201);
    const mine = (await t.api('POST', '/v1/clients', { key: clientWriter.key, body: { ...body, scopes: ['orders:read'] } })).body;
    expect((await t.api('PATCH', `/v1/clients/${mine.clientId}`, { key: clientWriter.key, body: { scopes: ['orders:read', 'keys:write'] } })).status).toBe(403);
    const privileged = (await t.api('POST', '/v1/clients', { body: { ...body, scopes: ['users:write'] } })).body;
    for (const [method, url, b] of [
      ['POST', `/v1/clients/${privileged.clientId}/secret/rotate`, {}],
      ['PATCH', `/v1/clients/${privileged.clientId}`, { name: 'renamed' }],
      ['DELETE', `/v1/clients/${privileged.clientId}`, undefined],
      ['DELETE', `/v1/clients/${privileged.clientId}/grants`, undefined],
    ] as const) {
      const r = await t.api(method, url, { key: clientWriter.key, ...(b !== undefined ? { body: b } : {}) });
      expect(r.status, `${method} ${url}`).toBe(403);
      expect(r.body.client_secret ?? r.body.clientSecret).toBeUndefined();
    }
  });

  it('certificates: certificates:write cannot issue or revoke a certificate that authenticates a client with more privilege', async () => {
    const issuer = await t.createKey({ scopes: ['certificates:write', 'certificates:read'] });
    const client = (
      await t.api('POST', '/v1/clients', {
        body: {
          name: 'mtls',
          grantTypes: ['client_credentials'],
          tokenEndpointAuthMethod: 'tls_client_auth',
          tlsClientAuthSanUri: 'spiffe://auth.example.com/service/payments',
          scopes: ['keys:write'],
        },
      })
    ).body;
    expect(client.clientId).toMatch(/^cli_/);
    // Named by its client id, or matched by its registered subject through a service name: the same privilege.
    const byId = await t.api('POST', '/v1/certificates', { key: issuer.key, body: { clientId: client.clientId } });
    expect(byId.status).toBe(403);
    const bySubject = await t.api('POST', '/v1/certificates', { key: issuer.key, body: { commonName: 'payments' } });
    expect(bySubject.status).toBe(403);
    expect(bySubject.body.privateKeyPem).toBeUndefined();
    expect((await t.api('GET', '/v1/certificates')).body.data).toHaveLength(0);
    // Any other service name is fine; and a caller holding keys:write may issue the client's certificate.
    expect((await t.api('POST', '/v1/certificates', { key: issuer.key, body: { commonName: 'reports' } })).status).toBe(201);
    const both = await t.createKey({ scopes: ['certificates:write', 'keys:write'] });
    const issued = await t.api('POST', '/v1/certificates', { key: both.key, body: { commonName: 'payments' } });
    expect(issued.status).toBe(201);
    expect((await t.api('POST', `/v1/certificates/${issued.body.serialNumber}/revoke`, { key: issuer.key, body: {} })).status).toBe(403);
    expect((await t.api('POST', `/v1/certificates/${issued.body.serialNumber}/revoke`, { key: both.key, body: {} })).status).toBe(200);
  });
});

describe('the policy decision', () => {
  const global = (...scopes: string[]) => ({ tenantId: null, scopes });
  const tenant = (tenantId: string, ...scopes: string[]) => ({ tenantId, scopes });
  it.each([
    ['admin acts on anything', global('admin'), [global('admin'), tenant('t', 'admin')], true],
    ['a scope held is a scope conferred', global('keys:write'), [global('keys:write', 'orders:read')], true],
    ['API scopes are not privileges here', global('keys:write'), [global('orders:read', 'anything:else')], true],
    ['admin is more than keys:write', global('keys:write', 'keys:read'), [global('admin')], false],
    ['every target counts', global('keys:write'), [global('keys:write'), global('audit:read')], false],
    ['a tenant admin is bound to its tenant', tenant('t', 'admin'), [tenant('u')], false],
    ['a tenant admin is not a global credential', tenant('t', 'admin'), [global()], false],
    ['a global key may act in a tenant with what it holds', global('keys:write'), [tenant('t', 'keys:write')], true],
    ['but not on a tenant admin', global('keys:write'), [tenant('t', 'admin')], false],
  ] as const)('%s', (_name, caller, targets, allowed) => {
    expect(decideCredentialAction(caller, 'key.rotate', targets).allowed).toBe(allowed);
  });
});
