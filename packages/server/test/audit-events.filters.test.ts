import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const MINUTE = 60_000;
const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());

describe.each(dialects)('GET /v1/audit-events filters (%s)', (dialect) => {
  let t: TestApp;
  let clientA: string;
  let clientB: string;
  let userA: string;
  let admin: { id: string; key: string };
  let acmeAdmin: string;
  let start: number;
  let middle: number;

  const token = (clientId: string, secret: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials',
    });
  const client = async (name: string, tenantId?: string) => {
    const r = await t.api('POST', '/v1/clients', {
      body: { name, grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic', scopes: ['invoices:read'], ...(tenantId ? { tenantId } : {}) },
    });
    expect(r.status).toBe(201);
    return r.body as { clientId: string; clientSecret: string };
  };
  /** Every event of a query, following the cursor. */
  const listAll = async (query: string, limit: number, key?: string) => {
    const out: any[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const r = await t.api('GET', `/v1/audit-events?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { key });
      expect(r.status).toBe(200);
      expect(r.body.data.length).toBeLessThanOrEqual(limit);
      out.push(...r.body.data);
      cursor = r.body.nextCursor;
      if (!cursor) return out;
    }
    throw new Error('pagination does not end');
  };
  const summary = (events: any[]) => events.map((e) => `${e.type}:${e.outcome}`).reverse();

  beforeAll(async () => {
    t = await createTestApp({ dialect });
    start = t.clock.now();
    admin = await t.createKey({ name: 'second admin', scopes: ['admin'] });
    acmeAdmin = (await t.createKey({ name: 'acme admin', scopes: ['admin'], tenantId: 'acme' })).key;
    const a = await client('client a');
    clientA = a.clientId;
    clientB = (await client('client b', 'globex')).clientId;
    t.clock.advance(MINUTE);
    middle = t.clock.now();
    expect((await token(clientA, 'wrong-secret')).statusCode).toBe(401);
    // A successful client_credentials grant is counted, not audited; an edit is.
    expect((await token(clientA, a.clientSecret)).statusCode).toBe(200);
    expect((await t.api('PATCH', `/v1/clients/${clientA}`, { body: { name: 'client a, renamed' } })).status).toBe(200);
    const user = await t.api('POST', '/v1/users', { body: { email: 'ada@example.com', password: 'analytical engine' }, key: admin.key });
    expect(user.status).toBe(201);
    userA = user.body.id;
    expect((await t.api('PATCH', `/v1/users/${userA}`, { body: { name: 'Ada' } })).status).toBe(200);
    t.clock.advance(MINUTE);
  });
  afterAll(() => t.close());

  it('clientId: the events about one OAuth client, and no other, across pages', async () => {
    const events = await listAll(`clientId=${clientA}`, 1);
    expect(summary(events)).toEqual(['client.created:success', 'client.authentication:failure', 'client.updated:success']);
    for (const event of events) expect(event.details.clientId).toBe(clientA);
    expect(summary(await listAll(`clientId=${clientB}`, 50))).toEqual(['client.created:success']);
  });

  it('outcome, alone and with clientId', async () => {
    const all = await listAll(`until=${iso(t.clock.now())}`, 200);
    const failures = await listAll(`outcome=failure&until=${iso(t.clock.now())}`, 2);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures).toEqual(all.filter((e) => e.outcome === 'failure'));
    const successes = await listAll(`outcome=success&until=${iso(t.clock.now())}`, 3);
    expect(successes.length).toBeGreaterThan(0);
    expect(successes).toEqual(all.filter((e) => e.outcome === 'success'));
    expect(summary(await listAll(`clientId=${clientA}&outcome=failure`, 50))).toEqual(['client.authentication:failure']);
  });

  it('userId: the events about a user and those made by it', async () => {
    expect(summary(await listAll(`userId=${userA}`, 1))).toEqual(['user.created:success', 'user.updated:success']);
    expect((await t.api('GET', '/v1/audit-events?userId=usr_nobody')).body.data).toEqual([]);
  });

  it('actorKeyId: the events made by one admin key', async () => {
    const events = await listAll(`actorKeyId=${admin.id}`, 50);
    expect(summary(events)).toEqual(['user.created:success']);
  });

  it('since and until: a half-open time range', async () => {
    const before = await listAll(`until=${iso(middle)}`, 2);
    expect(before.length).toBeGreaterThan(0);
    for (const event of before) expect(Date.parse(event.occurredAt)).toBeLessThan(middle);
    const after = await listAll(`since=${iso(middle)}&until=${iso(t.clock.now())}`, 2);
    for (const event of after) expect(Date.parse(event.occurredAt)).toBeGreaterThanOrEqual(middle);
    expect(summary(after.filter((e) => e.details?.clientId === clientA))).toEqual(['client.authentication:failure', 'client.updated:success']);
    // Adjacent ranges tile the log: nothing twice, nothing missed.
    expect([...after, ...before]).toEqual(await listAll(`until=${iso(t.clock.now())}`, 200));
    expect(summary(await listAll(`clientId=${clientA}&since=${iso(start)}&until=${iso(middle)}`, 50))).toEqual(['client.created:success']);
  });

  it('a tenant admin sees only its tenant, whatever the filters say', async () => {
    expect((await t.api('GET', `/v1/audit-events?clientId=${clientB}`, { key: acmeAdmin })).body.data).toEqual([]);
    expect((await t.api('GET', `/v1/audit-events?userId=${userA}`, { key: acmeAdmin })).body.data).toEqual([]);
    expect((await t.api('GET', `/v1/audit-events?actorKeyId=${admin.id}`, { key: acmeAdmin })).body.data).toEqual([]);
  });

  it.each([
    ['outcome=maybe', /outcome/],
    ['clientId=usr_x', /clientId/],
    ['clientId=cli_' + 'x'.repeat(65), /clientId/],
    ['userId=cli_x', /userId/],
    ['actorKeyId=usr_x', /actorKeyId/],
    ['until=tomorrow', /until/],
    ['since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', /until must be later than since/],
    ['since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z', /until must be later than since/],
    ['tenantId=acme', /tenantId|additional/i],
  ])('rejects %s with a clear 400', async (query, description) => {
    const r = await t.api('GET', `/v1/audit-events?${query}`);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'invalid_request', request_id: expect.stringMatching(/^req_/) });
    expect(r.body.error_description).toMatch(description);
  });
});
