import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastVerifyOf } from '../src/http/build-app.js';
import { dialects } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// A failure's audit event is written before its answer leaves (http/plugins/durable-audit.ts and the verify fast
// path): a process killed right after answering has lost none. Nothing here flushes the audit log by hand, and
// the app's periodic flush is not running, so an event is in the store only if the answer waited for it.
describe.each(dialects)('an audited failure is answered only once its event is written (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ dialect, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => t.close());

  const eventsOf = (keyId: string) => t.services.stores.audit.list({ type: 'key.verification', keyId, limit: 10 });

  it('a failed verification on the fast path (revoked key)', async () => {
    const created = await t.createKey({ name: 'to revoke' });
    expect((await t.api('POST', `/v1/keys/${created.id}/revoke`)).status).toBe(200);
    const before = fastVerifyOf(t.app)!.stats.answered;
    const response = await fetch(`${base}/v1/keys/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.rootKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: created.key }),
    });
    expect(await response.json()).toMatchObject({ valid: false, code: 'REVOKED' });
    expect(fastVerifyOf(t.app)!.stats.answered).toBe(before + 1);
    const events = await eventsOf(created.id);
    expect(events.map((event) => [event.outcome, event.reason])).toEqual([['failure', 'REVOKED']]);
  });

  it('a failed verification answered by Fastify (scopes the key lacks)', async () => {
    const created = await t.createKey({ name: 'narrow', scopes: ['read'] });
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/keys/verify',
      headers: { authorization: `Bearer ${t.rootKey}`, 'content-type': 'application/json' },
      payload: { key: created.key, scopes: ['write'] },
    });
    expect(response.json()).toMatchObject({ valid: false, code: 'INSUFFICIENT_SCOPE' });
    const events = await eventsOf(created.id);
    expect(events.map((event) => [event.outcome, event.reason])).toEqual([['failure', 'INSUFFICIENT_SCOPE']]);
  });

  it('an admin credential refused for its scopes (403)', async () => {
    const created = await t.createKey({ name: 'not an admin', scopes: ['read'] });
    const response = await t.app.inject({ method: 'GET', url: '/v1/keys', headers: { authorization: `Bearer ${created.key}` } });
    expect(response.statusCode).toBe(403);
    const events = await t.services.stores.audit.list({ type: 'admin.authentication', keyId: created.id, limit: 10 });
    expect(events).toHaveLength(1);
  });

  it('a success writes nothing and waits for nothing (it is counted as usage)', async () => {
    const created = await t.createKey({ name: 'used' });
    const added = t.services.audit.added;
    const response = await fetch(`${base}/v1/keys/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.rootKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: created.key }),
    });
    expect(await response.json()).toMatchObject({ valid: true });
    expect(t.services.audit.added).toBe(added);
    expect(await eventsOf(created.id)).toEqual([]);
  });
});
