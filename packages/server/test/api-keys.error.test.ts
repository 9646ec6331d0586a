import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/** Bad input gets a clear 4xx in the one error shape, and nothing is stored. */
describe('bad input', () => {
  let t: TestApp;
  let existingKeyId: string;
  beforeAll(async () => {
    t = await createTestApp();
    existingKeyId = (await t.createKey({ name: 'existing' })).id;
  });
  afterAll(() => t.close());

  const countKeys = async () => (await t.services.stores.apiKeys.list({ now: t.clock.now(), limit: 10_000 })).length;

  async function expectRejected(
    request: { method?: string; url?: string; payload?: string | Buffer; headers?: Record<string, string> },
    status: number,
    error: string,
    descriptionMatch?: RegExp,
  ) {
    const before = await countKeys();
    const response = await t.app.inject({
      method: (request.method ?? 'POST') as 'POST',
      url: request.url ?? '/v1/keys',
      headers: { authorization: `Bearer ${t.rootKey}`, 'content-type': 'application/json', ...request.headers },
      payload: request.payload,
    });
    expect(response.statusCode).toBe(status);
    const body = response.json();
    expect(body).toEqual({ error, error_description: expect.any(String), request_id: expect.stringMatching(/^req_/) });
    if (descriptionMatch) expect(body.error_description).toMatch(descriptionMatch);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(await countKeys()).toBe(before);
    return body;
  }

  it('malformed JSON', async () => {
    for (const payload of ['{"name": "x"', '{name: "x"}', 'null x', '{"name":"x",}', '\u0000']) {
      await expectRejected({ payload }, 400, 'invalid_json');
    }
  });

  it('prototype-poisoning keys', async () => {
    await expectRejected({ payload: '{"name":"x","__proto__":{"admin":true}}' }, 400, 'invalid_json');
    await expectRejected({ payload: '{"name":"x","constructor":{"prototype":{}}}' }, 400, 'invalid_json');
  });

  it('wrong types, with the field named', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ name: 123 }, /body\/name/],
      [{ name: 'x', scopes: 'read' }, /body\/scopes/],
      [{ name: 'x', scopes: [1] }, /body\/scopes\/0/],
      [{ name: 'x', rateLimit: { limit: '10', windowSeconds: 60 } }, /body\/rateLimit\/limit/],
      [{ name: 'x', rateLimit: { limit: 0, windowSeconds: 60 } }, /body\/rateLimit\/limit/],
      [{ name: 'x', rateLimit: { limit: 1.5, windowSeconds: 60 } }, /body\/rateLimit\/limit/],
      [{ name: 'x', environment: 'prod' }, /body\/environment/],
      [{ name: 'x', expiresAt: 'tomorrow' }, /body\/expiresAt/],
      [{ name: 'x', metadata: { nested: { deep: true } } }, /body\/metadata/],
      [{ name: 'x', metadata: 'flat' }, /body\/metadata/],
      [[{ name: 'x' }], /body/],
      ['just a string', /body/],
      [{}, /name/],
    ];
    for (const [payload, match] of cases) {
      await expectRejected({ payload: JSON.stringify(payload) }, 400, 'invalid_request', match);
    }
  });

  it('unknown fields are refused, not ignored', async () => {
    await expectRejected({ payload: JSON.stringify({ name: 'x', admin: true }) }, 400, 'invalid_request', /unknown field "admin"/);
    await expectRejected(
      { payload: JSON.stringify({ name: 'x', rateLimit: { limit: 1, windowSeconds: 1, burst: 9 } }) },
      400,
      'invalid_request',
      /unknown field "burst"/,
    );
    await expectRejected({ method: 'PATCH', url: `/v1/keys/${existingKeyId}`, payload: JSON.stringify({ tenantId: 'other' }) }, 400, 'invalid_request', /tenantId/);
  });

  it('semantic errors: expiry in the past, empty patch, out-of-range grace period', async () => {
    const past = new Date(t.clock.now() - 1000).toISOString();
    await expectRejected({ payload: JSON.stringify({ name: 'x', expiresAt: past }) }, 400, 'invalid_request', /future/);
    await expectRejected({ method: 'PATCH', url: `/v1/keys/${existingKeyId}`, payload: '{}' }, 400, 'invalid_request');
    for (const grace of [-1, 31 * 86_400, 'soon', 1.5]) {
      await expectRejected({ url: `/v1/keys/${existingKeyId}/rotate`, payload: JSON.stringify({ gracePeriodSeconds: grace }) }, 400, 'invalid_request');
    }
  });

  it('oversized bodies: 413', async () => {
    const payload = JSON.stringify({ name: 'x', metadata: { big: 'y'.repeat(70 * 1024) } });
    await expectRejected({ payload }, 413, 'payload_too_large');
  });

  it('non-UTF-8 bodies: 400, not silently mangled', async () => {
    const payload = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    await expectRejected({ payload }, 400, 'invalid_encoding');
    await expectRejected({ payload: Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]) }, 400, 'invalid_encoding');
  });

  it('other content types: 415', async () => {
    await expectRejected({ payload: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type');
    await expectRejected({ payload: '{"name":"x"}', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type');
  });

  it('hostile strings: control characters and SQL in constrained fields are refused', async () => {
    await expectRejected({ payload: JSON.stringify({ name: 'line\nbreak' }) }, 400, 'invalid_request', /name/);
    await expectRejected({ payload: JSON.stringify({ name: 'nul\u0000byte' }) }, 400, 'invalid_request', /name/);
    await expectRejected({ payload: JSON.stringify({ name: 'x', tenantId: "acme' OR '1'='1" }) }, 400, 'invalid_request', /tenantId/);
    await expectRejected({ payload: JSON.stringify({ name: 'x', scopes: ['read; DROP TABLE api_keys'] }) }, 400, 'invalid_request', /scopes/);
    await expectRejected({ payload: JSON.stringify({ name: 'x'.repeat(129) }) }, 400, 'invalid_request', /name/);
    await expectRejected({ method: 'GET', url: "/v1/keys/key_1'%20OR%201=1--" }, 400, 'invalid_request');
    await expectRejected({ method: 'GET', url: "/v1/keys?tenantId=x'%3B%20DROP%20TABLE%20api_keys" }, 400, 'invalid_request');
    await expectRejected({ method: 'GET', url: '/v1/keys?limit=100000' }, 400, 'invalid_request');
    await expectRejected({ method: 'GET', url: '/v1/keys?cursor=not-a-cursor' }, 400, 'invalid_request', /cursor/);
    await expectRejected({ method: 'GET', url: '/v1/audit-events?since=yesterday' }, 400, 'invalid_request');
  });

  it('SQL-looking text where free text is allowed is stored literally and harms nothing', async () => {
    const name = "Robert'); DROP TABLE api_keys;--";
    const created = await t.createKey({ name, metadata: { note: "' OR 1=1 --" } });
    const fetched = await t.api('GET', `/v1/keys/${created.id}`);
    expect(fetched.body).toMatchObject({ name, metadata: { note: "' OR 1=1 --" } });
    expect((await t.api('GET', `/v1/keys/${existingKeyId}`)).status).toBe(200);
  });

  it('empty and 10 KB keys: refused at verification (400) and as a bearer credential (401)', async () => {
    await expectRejected({ url: '/v1/keys/verify', payload: JSON.stringify({ key: '' }) }, 400, 'invalid_request', /key/);
    await expectRejected({ url: '/v1/keys/verify', payload: JSON.stringify({ key: 'k'.repeat(10 * 1024) }) }, 400, 'invalid_request', /key/);
    await expectRejected({ method: 'GET', url: '/v1/keys', headers: { authorization: 'Bearer ' } }, 401, 'invalid_token');
    await expectRejected({ method: 'GET', url: '/v1/keys', headers: { authorization: `Bearer sk_live_${'k'.repeat(10 * 1024)}` } }, 401, 'invalid_token');
  });

  it('unknown endpoints: 404 in the error shape', async () => {
    await expectRejected({ method: 'GET', url: '/v1/nothing-here' }, 404, 'not_found');
    await expectRejected({ method: 'DELETE', url: `/v1/keys/${existingKeyId}` }, 404, 'not_found');
  });

  it('huge headers: 431 in the error shape, straight from the HTTP parser', async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = new URL(address);
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    });
    expect(response).toMatch(/^HTTP\/1\.1 431 /);
    expect(response).toContain('x-content-type-options: nosniff'.replace('x-', 'X-').replace('content-type-options', 'Content-Type-Options'));
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'request_header_too_large' });
  });
});
