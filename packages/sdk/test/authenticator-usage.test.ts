import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthTestApp, type OAuthTestApp } from '../../server/test/helpers/oauth.js';
import { waitFor } from '../../server/test/helpers/spawn-server.js';
import { createAuthenticator, type Authenticator, type AuthenticatorOptions } from '../src/index.js';
import { MAX_REPORT_ATTEMPTS } from '../src/usage-tally.js';
import { startGatehouseFront, type GatehouseFront } from './helpers/gatehouse-front.js';

// The authenticator reports the API keys it answers itself (cache hits, shared requests) to the real Gatehouse's
// POST /v1/usage/reports, so that the key's usage counts every verification exactly once.

const AUDIENCE = 'https://api.example';
const bearer = (token: string) => `Bearer ${token}`;
const MINUTE = 60_000;

let t: OAuthTestApp;
let front: GatehouseFront;
let verifierKey: string;
const open: Authenticator[] = [];

/** Report requests seen by `fetch` below; `failNext` of them fail as a network error would. */
const reports = { sent: 0, failNext: 0, authorization: undefined as string | undefined };
const fetchWithFaults: typeof fetch = async (input, init) => {
  const url = String(input);
  if (url.endsWith('/v1/usage/reports')) {
    reports.sent++;
    if (reports.failNext > 0 && reports.failNext--) throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED (injected)') });
    if (reports.authorization) init = { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: reports.authorization } };
  }
  return fetch(input, init);
};

/** An authenticator against the real server (through the counting front), on the server's clock. */
function authenticator(options: Partial<AuthenticatorOptions> = {}): Authenticator {
  const a = createAuthenticator({
    issuer: t.issuer,
    audience: AUDIENCE,
    gatehouseUrl: front.url,
    verifierKey,
    revocationStream: false,
    cacheTtlSeconds: 600,
    usageReportSeconds: 3600, // reported at close() unless a test asks for a short interval
    fetch: fetchWithFaults,
    now: () => t.clock.now(),
    ...options,
  });
  open.push(a);
  return a;
}

/** The key's usage over the last hour, per minute, summed: { total, byOutcome, measured (server latencies) }. */
async function usageOf(keyId: string): Promise<{ total: number; byOutcome: Record<string, number>; measured: number }> {
  const to = new Date(t.clock.now() + MINUTE).toISOString();
  const from = new Date(t.clock.now() - 60 * MINUTE).toISOString();
  const response = await t.api('GET', `/v1/keys/${keyId}/usage?granularity=minute&from=${from}&to=${to}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  const sum = { total: 0, byOutcome: {} as Record<string, number>, measured: 0 };
  for (const point of response.body.data) {
    sum.total += point.total;
    sum.measured += point.latency.count;
    for (const [outcome, count] of Object.entries(point.byOutcome as Record<string, number>)) sum.byOutcome[outcome] = (sum.byOutcome[outcome] ?? 0) + count;
  }
  return sum;
}

async function newKey(body: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  return t.createKey({ name: 'used', scopes: ['read'], ...body });
}

beforeAll(async () => {
  t = await createOAuthTestApp({ env: { GATEHOUSE_MANAGEMENT_RATE_LIMIT: '1000000/1' } });
  front = await startGatehouseFront(t.issuer);
  verifierKey = (await t.createKey({ name: 'verifier', scopes: ['keys:verify'] })).key;
});

afterEach(async () => {
  reports.failNext = 0;
  reports.authorization = undefined;
  front.holdVerify = undefined;
  await Promise.all(open.splice(0).map((a) => a.close()));
});

afterAll(async () => {
  await front?.close();
  await t?.close();
});

describe('usage reports of the keys the SDK answers itself', () => {
  it('cache hits are counted per key and reported at close(): the key\'s usage counts every verification once', async () => {
    const { id, key } = await newKey();
    const other = await newKey();
    const a = authenticator();
    const calls = front.verifyCalls;
    for (let i = 0; i < 10; i++) expect((await a.authenticate(bearer(key))).ok).toBe(true);
    expect((await a.authenticate(bearer(other.key))).ok).toBe(true);
    for (let i = 0; i < 2; i++) expect(a.authenticateMaybeSync(bearer(other.key))).toMatchObject({ ok: true });
    expect(front.verifyCalls - calls).toBe(2); // one per key, the rest from the cache
    expect(a.status().usageReports).toEqual({ counted: 9 + 2, reported: 0, pending: 11, dropped: 0, failedReports: 0, ignoredEntries: 0 });
    const sent = reports.sent;
    await a.close();
    expect(reports.sent - sent).toBe(1); // one report for both keys
    expect(a.status().usageReports).toMatchObject({ counted: 11, reported: 11, pending: 0, dropped: 0 });
    // The server's own verification carries its latency; the reported cache hits do not.
    expect(await usageOf(id)).toEqual({ total: 10, byOutcome: { VALID: 10 }, measured: 1 });
    expect(await usageOf(other.id)).toEqual({ total: 3, byOutcome: { VALID: 3 }, measured: 1 });
  });

  it('callers answered by another caller\'s request (single flight) are counted; local denials are not', async () => {
    const { id, key } = await newKey();
    const a = authenticator({ cacheTtlSeconds: 0 }); // no cache: only single flight answers here
    let release!: () => void;
    front.holdVerify = new Promise<void>((resolve) => (release = resolve));
    const calls = front.verifyCalls;
    const pending = Array.from({ length: 4 }, () => a.authenticate(bearer(key)));
    await waitFor('the request to reach Gatehouse', async () => (front.verifyCalls > calls ? true : undefined));
    release();
    expect((await Promise.all(pending)).every((r) => r.ok)).toBe(true);
    expect(front.verifyCalls - calls).toBe(1);
    expect(a.status().usageReports).toMatchObject({ counted: 3 });

    const b = authenticator();
    expect((await b.authenticate(bearer(key))).ok).toBe(true); // verified by Gatehouse, now cached
    const denied = await b.authenticate(bearer(key), { scopes: ['write'] }); // the cached key lacks it: denied here
    expect(denied).toMatchObject({ ok: false, code: 'insufficient_scope' });
    expect((await b.authenticate(bearer(key), { tenantId: 'someone-else' })).ok).toBe(false);
    expect((await b.authenticate(bearer(key))).ok).toBe(true); // one cache hit
    expect(b.status().usageReports).toMatchObject({ counted: 1 });
    await Promise.all([a.close(), b.close()]);
    expect(await usageOf(id)).toEqual({ total: 1 + 3 + 1 + 1, byOutcome: { VALID: 6 }, measured: 2 });
  });

  it('reports every usageReportSeconds without close(), minute by minute', async () => {
    const { id, key } = await newKey();
    const a = authenticator({ usageReportSeconds: 0.05 });
    await a.authenticate(bearer(key));
    await a.authenticate(bearer(key));
    t.clock.advance(MINUTE);
    await a.authenticate(bearer(key));
    await waitFor('the report', async () => (a.status().usageReports!.reported === 2 ? true : undefined));
    const to = new Date(t.clock.now() + MINUTE).toISOString();
    const from = new Date(t.clock.now() - 10 * MINUTE).toISOString();
    const series = await t.api('GET', `/v1/keys/${id}/usage?granularity=minute&from=${from}&to=${to}`);
    expect(series.body.data.map((p: { total: number }) => p.total)).toEqual([2, 1]);
    expect(series.body.data[1].start).toBe(new Date(t.clock.now() - (t.clock.now() % MINUTE)).toISOString());
  });

  it('a failed report is retried with the next one, then dropped after the last attempt; verifications never wait or fail', async () => {
    const { id, key } = await newKey();
    const errors: Error[] = [];
    const a = authenticator({ usageReportSeconds: 0.05, onError: (error) => errors.push(error) });
    await a.authenticate(bearer(key));
    reports.failNext = 1;
    for (let i = 0; i < 3; i++) expect(a.authenticateMaybeSync(bearer(key))).toMatchObject({ ok: true });
    await waitFor('the retried report', async () => (a.status().usageReports!.reported === 3 ? true : undefined));
    expect(a.status().usageReports).toMatchObject({ counted: 3, reported: 3, pending: 0, dropped: 0, failedReports: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^usage report: http:\/\/127\.0\.0\.1:\d+\/v1\/usage\/reports unreachable: .*ECONNREFUSED \(injected\)/);
    expect(errors[0]!.message).not.toContain(verifierKey);
    expect(await usageOf(id)).toMatchObject({ total: 4 });

    // Gatehouse unreachable for good: each count is sent MAX_REPORT_ATTEMPTS times, then dropped and counted.
    reports.failNext = Number.POSITIVE_INFINITY;
    const failed = a.status().usageReports!.failedReports;
    for (let i = 0; i < 2; i++) expect(a.authenticateMaybeSync(bearer(key))).toMatchObject({ ok: true });
    await waitFor('the counts to be dropped', async () => (a.status().usageReports!.dropped === 2 ? true : undefined));
    expect(a.status().usageReports).toMatchObject({ counted: 5, reported: 3, pending: 0, dropped: 2, failedReports: failed + MAX_REPORT_ATTEMPTS });
    expect(await usageOf(id)).toMatchObject({ total: 4 });
  });

  it('a report Gatehouse refuses (a key without keys:verify: 403) is dropped at once', async () => {
    const { id, key } = await newKey();
    const reader = await t.createKey({ name: 'no verify', scopes: ['keys:read'] });
    const errors: Error[] = [];
    const a = authenticator({ onError: (error) => errors.push(error) });
    await a.authenticate(bearer(key));
    await a.authenticate(bearer(key));
    reports.authorization = bearer(reader.key);
    await a.close();
    expect(a.status().usageReports).toMatchObject({ counted: 1, reported: 0, pending: 0, dropped: 1, failedReports: 1 });
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^usage report: HTTP 403 .*1 counts dropped$/)]);
    expect(await usageOf(id)).toMatchObject({ total: 1 });
  });

  it('usageReportSeconds 0 or false: no reports, no usageReports in status(); bad values throw at setup', async () => {
    const { key } = await newKey();
    for (const usageReportSeconds of [0, false] as const) {
      const a = authenticator({ usageReportSeconds });
      await a.authenticate(bearer(key));
      await a.authenticate(bearer(key));
      const sent = reports.sent;
      await a.close();
      expect(reports.sent).toBe(sent);
      expect(a.status().usageReports).toBeUndefined();
    }
    for (const usageReportSeconds of [-1, 3601, Number.NaN, '5', true]) {
      expect(() => authenticator({ usageReportSeconds } as unknown as AuthenticatorOptions), String(usageReportSeconds)).toThrow(TypeError);
    }
    // Without a verifierKey nothing is verified through Gatehouse, so nothing is reported.
    const jwtOnly = createAuthenticator({ issuer: t.issuer, audience: AUDIENCE });
    expect(jwtOnly.status().usageReports).toBeUndefined();
    await jwtOnly.close();
  });
});
