import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastVerifyOf } from '../src/http/build-app.js';
import { dialects } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// POST /v1/keys/verify has a fast path in front of Fastify (src/http/fast-verify.ts). It is only reachable
// over a real socket (inject() goes straight to Fastify), so every case here is sent both ways and must get
// the same answer: status, body (apart from the request id) and headers.

const COMPARED_HEADERS = [
  'content-type',
  'cache-control',
  'x-content-type-options',
  'referrer-policy',
  'x-frame-options',
  'www-authenticate',
  'retry-after',
];

interface Sent {
  body?: string | Buffer;
  headers?: Record<string, string>;
  key?: string | null;
  url?: string;
}

describe.each(dialects)('verify fast path answers as the Fastify route does (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    // Request logging (debug) turns the fast path off; warn is the production default.
    t = await createTestApp({ dialect, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => t.close());

  const stats = () => ({ ...fastVerifyOf(t.app)!.stats });

  function requestHeaders({ headers, key, body }: Sent): Record<string, string> {
    const k = key === undefined ? t.rootKey : key;
    return {
      ...(k ? { authorization: `Bearer ${k}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    };
  }

  async function overSocket(sent: Sent) {
    const response = await fetch(`${base}${sent.url ?? '/v1/keys/verify'}`, {
      method: 'POST',
      headers: requestHeaders(sent),
      body: sent.body,
    });
    const headers: Record<string, string | undefined> = {};
    for (const name of COMPARED_HEADERS) headers[name] = response.headers.get(name) ?? undefined;
    return { status: response.status, headers, requestId: response.headers.get('x-request-id'), text: await response.text() };
  }

  async function injected(sent: Sent) {
    const response = await t.app.inject({
      method: 'POST',
      url: sent.url ?? '/v1/keys/verify',
      headers: requestHeaders(sent),
      ...(sent.body !== undefined ? { payload: sent.body } : {}),
    });
    const headers: Record<string, string | undefined> = {};
    for (const name of COMPARED_HEADERS) headers[name] = response.headers[name] as string | undefined;
    return { status: response.statusCode, headers, requestId: response.headers['x-request-id'] as string, text: response.body };
  }

  const withoutRequestId = (text: string) => text.replace(/"request_id":"req_[0-9A-Za-z]{20}"/, '"request_id":"-"');

  async function expectSameAnswer(sent: Sent) {
    const a = await overSocket(sent);
    const b = await injected(sent);
    expect(a.requestId).toMatch(/^req_[0-9A-Za-z]{20}$/);
    expect({ ...a, requestId: undefined, text: withoutRequestId(a.text) }).toEqual({ ...b, requestId: undefined, text: withoutRequestId(b.text) });
    return a;
  }

  it('answers every outcome of a well-formed verification itself, exactly as the route does', async () => {
    const valid = await t.createKey({ scopes: ['read'], metadata: { team: 'a "quoted" team', n: 1 }, tenantId: 'tenant_1' });
    const revoked = await t.createKey();
    await t.api('POST', `/v1/keys/${revoked.id}/revoke`);
    const before = stats();
    const cases: Sent[] = [
      { body: JSON.stringify({ key: valid.key }) },
      { body: JSON.stringify({ key: valid.key, scopes: ['read'] }) },
      { body: JSON.stringify({ key: valid.key, scopes: ['write'] }) },
      { body: JSON.stringify({ key: valid.key, scopes: [] }) },
      { body: JSON.stringify({ key: revoked.key }) },
      { body: JSON.stringify({ key: 'sk_live_' + 'a'.repeat(49) }) },
      { body: JSON.stringify({ key: 'not a key' }) },
      { body: JSON.stringify({ key: 'sk_live_0000000000000000000000000000000000000000000000000' }) },
      { body: JSON.stringify({ key: valid.key }), headers: { 'content-type': 'application/json; charset=utf-8' } },
    ];
    for (const sent of cases) {
      const answer = await expectSameAnswer(sent);
      expect(answer.status).toBe(200);
    }
    expect(stats().answered - before.answered).toBe(cases.length);
  });

  it('answers a key it must load first (cache miss), and a revocation is seen at once', async () => {
    const created = await t.createKey();
    t.services.keyCache.clear();
    const first = await overSocket({ body: JSON.stringify({ key: created.key }) });
    expect(JSON.parse(first.text)).toMatchObject({ valid: true, code: 'VALID', keyId: created.id });
    await t.api('POST', `/v1/keys/${created.id}/revoke`);
    const after = await overSocket({ body: JSON.stringify({ key: created.key }) });
    expect(JSON.parse(after.text)).toMatchObject({ valid: false, code: 'REVOKED' });
  });

  it('answers a changed key with its new fields at once', async () => {
    const created = await t.createKey({ metadata: { plan: 'free' } });
    const before = JSON.parse((await overSocket({ body: JSON.stringify({ key: created.key }) })).text);
    expect(before.metadata).toEqual({ plan: 'free' });
    await t.api('PATCH', `/v1/keys/${created.id}`, { body: { metadata: { plan: 'pro' }, name: 'renamed' } });
    const after = JSON.parse((await overSocket({ body: JSON.stringify({ key: created.key }) })).text);
    expect(after).toMatchObject({ valid: true, name: 'renamed', metadata: { plan: 'pro' } });
  });

  it('consumes the key rate limit and reports it', async () => {
    const limited = await t.createKey({ rateLimit: { limit: 1, windowSeconds: 60 } });
    const first = JSON.parse((await overSocket({ body: JSON.stringify({ key: limited.key }) })).text);
    expect(first).toMatchObject({ valid: true, code: 'VALID', rateLimit: { limit: 1, remaining: 0 } });
    const second = JSON.parse((await overSocket({ body: JSON.stringify({ key: limited.key }) })).text);
    expect(second).toMatchObject({ valid: false, code: 'RATE_LIMITED', rateLimit: { limit: 1, remaining: 0 } });
  });

  it('answers a rate-limited key alike on both paths, with retryAfter until the next request (not the full reset)', async () => {
    // 2 per minute: one request every 30 s. After two at one instant the third waits 30 s, the full limit 60 s.
    const limited = await t.createKey({ rateLimit: { limit: 2, windowSeconds: 60 } });
    const body = JSON.stringify({ key: limited.key });
    const first = JSON.parse((await overSocket({ body })).text);
    expect(first.rateLimit).toMatchObject({ limit: 2, remaining: 1, retryAfter: 0 });
    await overSocket({ body });
    // A denial leaves the state as it was (and the clock is frozen), so both paths must say the same bytes.
    const denied = await expectSameAnswer({ body });
    const answer = JSON.parse(denied.text);
    expect(answer).toMatchObject({ valid: false, code: 'RATE_LIMITED' });
    expect(answer.rateLimit).toEqual({ limit: 2, remaining: 0, reset: Math.ceil(t.clock.now() / 1000) + 60, retryAfter: 30 });
  });

  it('records each verification once: a failure as an audit event with its caller and request id, a success as a count', async () => {
    const created = await t.createKey();
    const answer = await overSocket({ body: JSON.stringify({ key: created.key, scopes: ['nope'] }), headers: { 'user-agent': 'fast-path-test' } });
    await overSocket({ body: JSON.stringify({ key: created.key }) });
    await t.services.audit.flush();
    const events = await t.services.stores.audit.list({ type: 'key.verification', keyId: created.id, limit: 10 });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      outcome: 'failure',
      reason: 'INSUFFICIENT_SCOPE',
      keyId: created.id,
      actorKeyId: expect.stringMatching(/^key_/),
      userAgent: 'fast-path-test',
      route: 'POST /v1/keys/verify',
      requestId: answer.requestId,
      ip: '127.0.0.1',
    });
    const usage = await t.api('GET', `/v1/keys/${created.id}/usage`);
    expect(usage.body.data.map((point: { total: number; byOutcome: object }) => [point.total, point.byOutcome])).toEqual([[2, { VALID: 1, INSUFFICIENT_SCOPE: 1 }]]);
  });

  it('hands bad bodies over to Fastify after reading them, which answers them as always', async () => {
    const created = await t.createKey();
    const before = stats();
    const cases: Sent[] = [
      { body: '{"key": ' },
      { body: JSON.stringify({ key: created.key, extra: 1 }) },
      { body: JSON.stringify({ key: '' }) },
      { body: JSON.stringify({ key: 'x'.repeat(300) }) },
      { body: JSON.stringify({ key: 42 }) },
      { body: JSON.stringify({ key: created.key, scopes: ['no spaces allowed'] }) },
      { body: JSON.stringify({ key: created.key, scopes: 'read' }) },
      { body: '{"__proto__": {"x": 1}, "key": "k"}' },
      { body: '[]' },
      { body: 'null' },
      { body: Buffer.from([0x7b, 0x22, 0x6b, 0x65, 0x79, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
    ];
    for (const sent of cases) {
      const answer = await expectSameAnswer(sent);
      expect(answer.status).toBe(400);
    }
    expect(stats().handedOver - before.handedOver).toBe(cases.length);
    expect(stats().answered).toBe(before.answered);
  });

  it('leaves every other request to Fastify untouched: failed authentication, other types, query strings', async () => {
    const noVerifyScope = await t.createKey({ scopes: ['keys:read'] });
    const before = stats();
    const body = JSON.stringify({ key: noVerifyScope.key });
    const cases: Array<[Sent, number]> = [
      [{ body, key: null }, 401],
      [{ body, key: 'sk_live_' + 'b'.repeat(49) }, 401],
      [{ body, headers: { authorization: 'Basic abc' } }, 401],
      [{ body, key: noVerifyScope.key }, 403],
      [{ body, headers: { 'content-type': 'text/plain' } }, 415],
      [{ body, url: '/v1/keys/verify?api_key=x' }, 400],
      [{ body: JSON.stringify({ key: 'x'.repeat(2_000_000) }) }, 413],
    ];
    for (const [sent, status] of cases) {
      const answer = await expectSameAnswer(sent);
      expect(answer.status).toBe(status);
    }
    expect(stats()).toEqual(before);
  });
});
