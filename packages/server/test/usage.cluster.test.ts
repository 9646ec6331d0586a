import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../sdk/src/index.js';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { createPgDatabase, tempDir } from './helpers/databases.js';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.js';
import { api, killSpawned, listAll, spawnServer, waitFor, type SpawnedServer } from './helpers/spawn-server.js';

/**
 * Issue 16, deliverable 5: usage is exact and durable. Verifications of several keys, some answered by the SDK
 * from its cache, the rest by two server processes over one PostgreSQL database (and one Redis), and the usage API
 * reports exactly what was done, per key and outcome, at every granularity. A kill -9 loses at most the counts
 * the killed process had not flushed, and never the audit event of a failure or of a lifecycle change.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Outcomes = Record<string, number>;

describe.skipIf(!testDatabaseUrl || !testRedisUrl)('usage across processes: exact, and durable under kill -9', () => {
  const dirs = [tempDir('usage-a'), tempDir('usage-b'), tempDir('usage-c')];
  const rootKey = generateApiKey('live').key;
  const masterKey = randomBytes(32).toString('base64');
  let pg: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
  let a: SpawnedServer;
  let b: SpawnedServer;
  const keys: Record<'valid' | 'scoped' | 'limited' | 'revoked', { id: string; key: string }> = {} as never;
  /** What the test did, per key and outcome, and the verifications that named no key (NOT_FOUND). */
  const done: Record<string, Outcomes> = {};
  let notFound = 0;
  /** Set by the kill -9 test: the failures C answered just before it was killed, and their audit events found after. */
  let killed: { failures: number; audited: number } | undefined;

  const env = (dir: string, flushSeconds: number) => ({
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_DATABASE_URL: pg!.url,
    GATEHOUSE_REDIS_URL: testRedisUrl!,
    GATEHOUSE_MASTER_KEY: masterKey,
    GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
    GATEHOUSE_ISSUER: 'http://127.0.0.1:4000',
    GATEHOUSE_LOG_LEVEL: 'warn',
    GATEHOUSE_MANAGEMENT_RATE_LIMIT: '100000/60',
    GATEHOUSE_USAGE_FLUSH_SECONDS: String(flushSeconds),
  });
  const call = async (server: SpawnedServer, method: string, path: string, body?: unknown) => {
    const response = await api(server.url, method, path, { key: rootKey, body });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const count = (keyId: string, outcome: string, n = 1) => {
    done[keyId] ??= {};
    done[keyId]![outcome] = (done[keyId]![outcome] ?? 0) + n;
  };
  /** One verification through the API, recorded in `done` under the code it answered. */
  const verify = async (server: SpawnedServer, key: { id: string; key: string } | string, scopes?: string[]): Promise<string> => {
    const body = await call(server, 'POST', '/v1/keys/verify', { key: typeof key === 'string' ? key : key.key, ...(scopes ? { scopes } : {}) });
    if (typeof key === 'string') {
      expect(body.code).toBe('NOT_FOUND');
      notFound++;
    } else {
      count(key.id, body.code);
    }
    return body.code;
  };
  const createKey = async (server: SpawnedServer, body: Record<string, unknown> = {}) =>
    (await call(server, 'POST', '/v1/keys', { name: 'usage', ...body })) as { id: string; key: string };
  const total = (outcomes: Outcomes | undefined) => Object.values(outcomes ?? {}).reduce((sum, n) => sum + n, 0);

  /** A key's usage summed over a range wide enough for the test, at one granularity. */
  const usageOf = async (server: SpawnedServer, keyId: string, granularity: 'minute' | 'hour' | 'day') => {
    const span = { minute: 3 * HOUR, hour: 2 * DAY, day: 30 * DAY }[granularity];
    const now = Date.now();
    const query = `granularity=${granularity}&from=${new Date(now - span).toISOString()}&to=${new Date(now + span / 10).toISOString()}`;
    const body = await call(server, 'GET', `/v1/keys/${keyId}/usage?${query}`);
    const outcomes: Outcomes = {};
    for (const point of body.data) {
      expect(point.total).toBe(total(point.byOutcome));
      for (const [outcome, n] of Object.entries(point.byOutcome as Outcomes)) outcomes[outcome] = (outcomes[outcome] ?? 0) + n;
    }
    return outcomes;
  };
  /** The deployment's usage over the last hours (minute granularity): the total and the top keys. */
  const deployment = async (server: SpawnedServer) => {
    const now = Date.now();
    const body = await call(server, 'GET', `/v1/usage?granularity=minute&from=${new Date(now - 3 * HOUR).toISOString()}&to=${new Date(now + MINUTE).toISOString()}`);
    return { total: (body.data as Array<{ total: number }>).reduce((sum, p) => sum + p.total, 0), topKeys: body.topKeys };
  };
  const doneTotal = () => Object.values(done).reduce((sum, outcomes) => sum + total(outcomes), 0);
  const failureEvents = async (server: SpawnedServer, keyId?: string) =>
    (await listAll(server.url, `/v1/audit-events?type=key.verification&limit=200${keyId ? `&keyId=${keyId}` : ''}`, rootKey)).filter(
      (event) => event.outcome === 'failure',
    );

  beforeAll(async () => {
    pg = await createPgDatabase();
    [a, b] = await Promise.all([spawnServer({ env: env(dirs[0]!.path, 1) }), spawnServer({ env: env(dirs[1]!.path, 1) })]);
    keys.valid = await createKey(a, { scopes: ['read'] });
    keys.scoped = await createKey(b, { scopes: ['read'] });
    keys.limited = await createKey(a, { rateLimit: { limit: 4, windowSeconds: 3600 } });
    keys.revoked = await createKey(b);
    await call(a, 'POST', `/v1/keys/${keys.revoked.id}/revoke`);
  });

  afterAll(async () => {
    const stops = await Promise.all([a, b].map((server) => server?.stop().catch((error: unknown) => error)));
    await killSpawned();
    await pg?.drop();
    for (const dir of dirs) dir.remove();
    for (const stopped of stops) if (stopped !== undefined) expect(stopped).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('N verifications on two processes and through the SDK\'s cache: the usage API reports exactly N, per key and outcome, at every granularity', async () => {
    // On the servers, alternating between them: successes and every kind of failure.
    for (let i = 0; i < 12; i++) await verify(i % 2 ? a : b, keys.valid);
    for (let i = 0; i < 3; i++) await verify(i % 2 ? a : b, keys.scoped, ['read']);
    for (let i = 0; i < 2; i++) expect(await verify(i % 2 ? a : b, keys.scoped, ['write'])).toBe('INSUFFICIENT_SCOPE');
    // The limit (4 an hour) is shared through Redis: 4 VALID then RATE_LIMITED, whichever process answers.
    const limited = [];
    for (let i = 0; i < 6; i++) limited.push(await verify(i % 2 ? a : b, keys.limited));
    expect(limited).toEqual(['VALID', 'VALID', 'VALID', 'VALID', 'RATE_LIMITED', 'RATE_LIMITED']);
    for (let i = 0; i < 3; i++) expect(await verify(i % 2 ? a : b, keys.revoked)).toBe('REVOKED');
    for (let i = 0; i < 4; i++) await verify(i % 2 ? a : b, generateApiKey('live').key);

    // Through the SDK: one verification by Gatehouse (counted above by the server) and the rest from its cache,
    // reported in one batch at close().
    const verifier = await createKey(a, { name: 'sdk verifier', scopes: ['keys:verify'] });
    const sdk = createAuthenticator({
      issuer: b.url,
      audience: 'https://api.example',
      gatehouseUrl: b.url,
      verifierKey: verifier.key,
      revocationStream: false,
      cacheTtlSeconds: 600,
      usageReportSeconds: 3600,
    });
    for (const [key, times] of [[keys.valid, 10], [keys.scoped, 4]] as const) {
      for (let i = 0; i < times; i++) expect((await sdk.authenticate(`Bearer ${key.key}`)).ok).toBe(true);
      count(key.id, 'VALID', times);
    }
    await sdk.close();
    expect(sdk.status().usageReports).toMatchObject({ counted: 9 + 3, reported: 12, pending: 0, dropped: 0 });

    const n = doneTotal();
    expect(n).toBe(12 + 3 + 2 + 6 + 3 + 10 + 4);
    expect(done[keys.valid.id]).toEqual({ VALID: 22 });
    expect(done[keys.scoped.id]).toEqual({ VALID: 7, INSUFFICIENT_SCOPE: 2 });
    expect(done[keys.limited.id]).toEqual({ VALID: 4, RATE_LIMITED: 2 });
    expect(done[keys.revoked.id]).toEqual({ REVOKED: 3 });

    // Each process flushes every second; reading through either one flushes its own counts first.
    await waitFor('every count to be flushed', async () => ((await deployment(a)).total === n ? true : undefined), { timeoutMs: 15_000, intervalMs: 250 });
    // Flushed once only: later flushes add nothing, and both processes read the same.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    for (const server of [a, b]) {
      const summary = await deployment(server);
      expect(summary.total).toBe(n);
      expect(summary.topKeys.byVolume[0]).toMatchObject({ keyId: keys.valid.id, total: 22 });
      expect(Object.fromEntries(summary.topKeys.byFailures.map((k: { keyId: string; failures: number }) => [k.keyId, k.failures]))).toEqual({
        [keys.revoked.id]: 3,
        [keys.scoped.id]: 2,
        [keys.limited.id]: 2,
      });
      for (const [keyId, outcomes] of Object.entries(done)) {
        for (const granularity of ['minute', 'hour', 'day'] as const) {
          expect(await usageOf(server, keyId, granularity), `${keyId} by ${granularity}`).toEqual(outcomes);
        }
      }
    }
    // Failures are audited one event each (NOT_FOUND names no key, so it is in the audit log only); successes are
    // counted, not logged (GATEHOUSE_AUDIT_SUCCESS_SAMPLE is 0).
    const events = await failureEvents(a);
    expect(events.filter((event) => event.reason === 'NOT_FOUND')).toHaveLength(notFound);
    for (const [keyId, outcomes] of Object.entries(done)) {
      const reasons: Outcomes = {};
      for (const event of events.filter((e) => e.keyId === keyId)) reasons[event.reason] = (reasons[event.reason] ?? 0) + 1;
      const { VALID: _valid, ...failures } = outcomes;
      expect(reasons, keyId).toEqual(failures);
    }
    expect((await listAll(a.url, `/v1/audit-events?type=key.verification&keyId=${keys.valid.id}&limit=200`, rootKey)).length).toBe(0);
   }, 60_000);

  it('kill -9 loses at most the counts the process had not flushed, never the audit event of a lifecycle change', async () => {
    // C flushes its counters every 300 s (the longest allowed) and at shutdown: everything it counts stays in its
    // memory until killed, so the loss is known exactly: the bound, reached.
    let c = await spawnServer({ env: env(dirs[2]!.path, 300) });
    const before = await usageOf(a, keys.valid.id, 'minute');
    const revokedBefore = await usageOf(a, keys.revoked.id, 'minute');
    const failuresBefore = (await failureEvents(a)).length;
    // A lifecycle change made on C: created, then revoked.
    const made = await createKey(c, { name: 'made on c' });
    await call(c, 'POST', `/v1/keys/${made.id}/revoke`);
    const unflushed = 7;
    for (let i = 0; i < unflushed - 3; i++) expect(await verify(c, keys.valid)).toBe('VALID');
    for (let i = 0; i < 2; i++) expect(await verify(c, keys.revoked)).toBe('REVOKED');
    expect(await verify(c, keys.scoped, ['write'])).toBe('INSUFFICIENT_SCOPE');
    await verify(c, generateApiKey('live').key);
    const failuresOnC = 2 + 1 + 1;

    // At once, after the last answer: nothing C queued has had time to be written behind.
    expect(await c.kill9()).toEqual({ code: null, signal: 'SIGKILL' });

    // What C had counted is gone, and nothing else: between N - unflushed and N, here exactly N - unflushed.
    const after = await usageOf(a, keys.valid.id, 'minute');
    const n = total(before) + (unflushed - 3);
    expect(total(after)).toBeGreaterThanOrEqual(n - unflushed);
    expect(total(after)).toBeLessThanOrEqual(n);
    expect(after).toEqual(before);
    expect(await usageOf(a, keys.revoked.id, 'minute')).toEqual(revokedBefore);

    // Both lifecycle events are in the audit log (the failures C answered: the next test).
    killed = { failures: failuresOnC, audited: (await failureEvents(a)).length - failuresBefore };
    const lifecycle = await listAll(a.url, `/v1/audit-events?type=key.*&keyId=${made.id}&limit=200`, rootKey);
    expect(lifecycle.map((event) => event.type).sort()).toEqual(['key.created', 'key.revoked']);

    // Restarted on the same database, C counts again; what was lost stays lost, nothing is counted twice.
    c = await spawnServer({ env: env(dirs[2]!.path, 1) });
    expect(await verify(c, keys.valid)).toBe('VALID');
    await waitFor('the restarted process to flush', async () => (total(await usageOf(a, keys.valid.id, 'minute')) === total(before) + 1 ? true : undefined), {
      timeoutMs: 15_000,
      intervalMs: 250,
    });
    expect(await c.stop()).toEqual({ code: 0, signal: null });
    expect(await usageOf(a, keys.valid.id, 'minute')).toEqual({ ...before, VALID: before.VALID! + 1 });
   }, 90_000);

  it('kill -9 loses no audit event of a failure: every failure answered before the kill is in the audit log', () => {
    expect(killed, 'the kill -9 test ran').toBeDefined();
    expect(killed!.audited, 'failures answered by the killed process that have an audit event').toBe(killed!.failures);
  });
});
