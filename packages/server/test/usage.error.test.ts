import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('usage API: bad input', () => {
  let t: TestApp;
  let keyId: string;
  // The test app's frozen clock (12:00 UTC, on a minute).
  const minute = Date.UTC(2026, 10, 22, 12, 0, 0);
  beforeAll(async () => {
    t = await createTestApp();
    expect(t.clock.now()).toBe(minute);
    keyId = (await t.createKey()).id;
  });
  afterAll(() => t.close());

  const report = (body: unknown) => t.api('POST', '/v1/usage/reports', { body });
  const entry = (overrides: Record<string, unknown> = {}) => ({ keyId, minute: iso(minute), count: 1, ...overrides });

  it.each([
    ['no entries', () => ({ entries: [] })],
    ['too many entries', () => ({ entries: Array.from({ length: 1_001 }, () => entry()) })],
    ['an unknown field', () => ({ entries: [entry({ latencyMs: 3 })] })],
    ['an unknown top-level field', () => ({ entries: [entry()], source: 'sdk' })],
    ['a count of 0', () => ({ entries: [entry({ count: 0 })] })],
    ['a count above 1,000,000', () => ({ entries: [entry({ count: 1_000_001 })] })],
    ['a fractional count', () => ({ entries: [entry({ count: 1.5 })] })],
    ['a malformed key id', () => ({ entries: [entry({ keyId: 'cli_abc' })] })],
    ['a time that is not a time', () => ({ entries: [entry({ minute: 'yesterday' })] })],
    ['a time inside a minute', () => ({ entries: [entry({ minute: iso(minute + 1_000) })] })],
    ['a minute further ahead than the clock skew tolerated (60 s)', () => ({ entries: [entry({ minute: iso(minute + 2 * MINUTE) })] })],
    ['a minute past the minute retention (7 days)', () => ({ entries: [entry({ minute: iso(minute - 8 * 24 * 60 * MINUTE) })] })],
  ])('POST /v1/usage/reports refuses %s with 400 and counts nothing', async (_, body) => {
    const response = await report(body());
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_request', error_description: expect.any(String), request_id: expect.stringMatching(/^req_/) });
    await t.services.usage.flush();
    expect((await t.api('GET', `/v1/keys/${keyId}/usage`)).body.data).toEqual([]);
  });

  it.each([
    ['an unknown granularity', 'granularity=week'],
    ['an unknown parameter', 'granularity=hour&limit=5'],
    ['a malformed time', 'from=noon'],
    ['from after to', `from=${iso(minute)}&to=${iso(minute - MINUTE)}`],
    ['more than 400 minutes', `granularity=minute&from=${iso(minute - 401 * MINUTE)}&to=${iso(minute)}`],
    ['more than 400 hours', `granularity=hour&from=${iso(minute - 401 * 60 * MINUTE)}&to=${iso(minute)}`],
  ])('GET usage refuses %s with 400', async (_, query) => {
    for (const path of [`/v1/keys/${keyId}/usage`, '/v1/usage']) {
      const response = await t.api('GET', `${path}?${query}`);
      expect(response.status, path).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    }
  });

  it('accepts 1,000 entries of the largest count (about 90 KB, above the default body limit)', async () => {
    const other = (await t.createKey()).id;
    const response = await report({ entries: Array.from({ length: 1_000 }, (_, i) => entry({ keyId: other, minute: iso(minute - i * MINUTE), count: 1_000_000 })) });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ accepted: 1_000, ignored: 0 });
    const day = await t.api('GET', `/v1/keys/${other}/usage?granularity=day&from=${iso(minute - 2 * 24 * 60 * MINUTE)}&to=${iso(minute + MINUTE)}`);
    expect(day.body.data.reduce((sum: number, p: { total: number }) => sum + p.total, 0)).toBe(1_000 * 1_000_000);
  });

  it('accepts exactly 400 periods, and answers 404 for a key or client that does not exist', async () => {
    expect((await t.api('GET', `/v1/keys/${keyId}/usage?granularity=minute&from=${iso(minute - 400 * MINUTE)}&to=${iso(minute)}`)).status).toBe(200);
    expect((await t.api('GET', '/v1/keys/key_doesnotexist/usage')).status).toBe(404);
    expect((await t.api('GET', '/v1/clients/cli_doesnotexist/usage')).status).toBe(404);
  });
});
