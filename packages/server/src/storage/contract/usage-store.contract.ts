import { describe, expect, it } from 'vitest';
import type { UsageCell, UsageQuery, UsageSeriesRow } from '../stores.js';
import { makeKey } from './api-key-store.contract.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';

/** 2026-01-01T00:00Z, in minutes: a day boundary. */
const M0 = Date.UTC(2026, 0, 1) / 60_000;
const HOUR = 60;
const DAY = 1_440;

const cell = (credentialId: string, minute: number, outcome: number, count: number, latency: [number, number, number] = [0, 0, 0]): UsageCell => ({
  credentialId,
  minute,
  outcome,
  count,
  latencyCount: latency[0],
  latencySumUs: latency[1],
  latencyMaxUs: latency[2],
  histogram: [latency[0], 0, 0, 0, 0, 0],
});

const key = (tenantId: string | null) => makeKey({ tenantId });

/** The series as {start, outcome, count} (periods as minutes from M0). */
const counts = (rows: UsageSeriesRow[]) => rows.map((r) => [r.startMinute - M0, r.outcome, r.count]);

export function usageStoreContract(name: string, open: OpenStores): void {
  describe(`UsageStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const usage = () => stores().usage;
    const q = (resolution: UsageQuery['resolution'], from: number, to: number, extra: Partial<UsageQuery> = {}) => ({ resolution, fromMinute: M0 + from, toMinute: M0 + to, ...extra });

    it('adds into the same rows: counts and histograms add, the maximum latency is the larger', async () => {
      await usage().add({ cells: [cell('key_a', M0, 0, 3, [3, 300, 150]), cell('key_a', M0, 5, 1), cell('key_b', M0 + 1, 0, 2, [2, 40, 30])], lastUsed: [] });
      await usage().add({ cells: [cell('key_a', M0, 0, 2, [1, 900, 900])], lastUsed: [] });
      const rows = await usage().series(q('minute', 0, 10, { credentialId: 'key_a' }));
      expect(rows).toStrictEqual([
        { startMinute: M0, outcome: 0, count: 5, latencyCount: 4, latencySumUs: 1200, latencyMaxUs: 900, histogram: [4, 0, 0, 0, 0, 0] },
        { startMinute: M0, outcome: 5, count: 1, latencyCount: 0, latencySumUs: 0, latencyMaxUs: 0, histogram: [0, 0, 0, 0, 0, 0] },
      ]);
      expect(counts(await usage().series(q('minute', 0, 10)))).toEqual([[0, 0, 5], [0, 5, 1], [1, 0, 2]]);
      expect(counts(await usage().series(q('minute', 1, 2)))).toEqual([[1, 0, 2]]);
      const totals = await usage().totals(q('minute', 0, 10));
      expect(totals.sort((a, b) => a.credentialId.localeCompare(b.credentialId) || a.outcome - b.outcome)).toStrictEqual([
        { credentialId: 'key_a', outcome: 0, count: 5 },
        { credentialId: 'key_a', outcome: 5, count: 1 },
        { credentialId: 'key_b', outcome: 0, count: 2 },
      ]);
    });

    it('answers hours and days exactly before, during and after rollups, and rolls up only once', async () => {
      const cells = [
        cell('key_a', M0 + 5, 0, 1, [1, 10, 10]),
        cell('key_a', M0 + HOUR + 1, 0, 2, [2, 20, 15]),
        cell('key_a', M0 + DAY + 3, 0, 4),
        cell('key_a', M0 + DAY + 2 * HOUR, 2, 8),
      ];
      await usage().add({ cells, lastUsed: [] });
      const expectedHours = [[0, 0, 1], [HOUR, 0, 2], [DAY, 0, 4], [DAY + 2 * HOUR, 2, 8]];
      const expectedDays = [[0, 0, 3], [DAY, 0, 4], [DAY, 2, 8]];
      const check = async () => {
        expect(counts(await usage().series(q('hour', 0, 2 * DAY)))).toEqual(expectedHours);
        expect(counts(await usage().series(q('day', 0, 2 * DAY)))).toEqual(expectedDays);
        expect(counts(await usage().series(q('minute', 0, 2 * DAY)))).toEqual([[5, 0, 1], [HOUR + 1, 0, 2], [DAY + 3, 0, 4], [DAY + 2 * HOUR, 2, 8]]);
      };
      await check();
      await usage().rollUp(M0 + DAY + HOUR + 30); // hours up to DAY + HOUR, the first day
      await check();
      await usage().rollUp(M0 + DAY + HOUR + 30); // again: nothing counted twice
      await check();
      const hour = await usage().series(q('hour', HOUR, 2 * HOUR));
      expect(hour).toStrictEqual([{ startMinute: M0 + HOUR, outcome: 0, count: 2, latencyCount: 2, latencySumUs: 20, latencyMaxUs: 15, histogram: [2, 0, 0, 0, 0, 0] }]);
      // Late counts for minutes already rolled up reach the hours and days too.
      await usage().add({ cells: [cell('key_a', M0 + 6, 0, 10), cell('key_a', M0 + DAY + 4, 0, 1)], lastUsed: [] });
      expectedHours[0] = [0, 0, 11];
      expectedHours[2] = [DAY, 0, 5];
      expectedDays[0] = [0, 0, 13];
      expectedDays[1] = [DAY, 0, 5];
      expect(counts(await usage().series(q('hour', 0, 2 * DAY)))).toEqual(expectedHours);
      expect(counts(await usage().series(q('day', 0, 2 * DAY)))).toEqual(expectedDays);
      await usage().rollUp(M0 + 3 * DAY);
      expect(counts(await usage().series(q('hour', 0, 2 * DAY)))).toEqual(expectedHours);
      expect(counts(await usage().series(q('day', 0, 3 * DAY)))).toEqual(expectedDays);
      expect((await usage().totals(q('day', 0, 3 * DAY))).map((t) => [t.outcome, t.count]).sort()).toEqual([[0, 18], [2, 8]]);
    });

    it('purges by age, never what is not rolled up yet', async () => {
      await usage().add({ cells: [cell('key_a', M0 + 1, 0, 1), cell('key_a', M0 + HOUR + 1, 0, 1), cell('key_a', M0 + 2 * HOUR + 1, 0, 1)], lastUsed: [] });
      // Nothing rolled up: the minutes stay whatever the cutoff.
      expect(await usage().purge('minute', (M0 + DAY) * 60_000, 100)).toBe(0);
      await usage().rollUp(M0 + 2 * HOUR + 5);
      expect(await usage().purge('minute', (M0 + DAY) * 60_000, 1)).toBe(1);
      expect(await usage().purge('minute', (M0 + DAY) * 60_000, 100)).toBe(1);
      expect(counts(await usage().series(q('minute', 0, DAY)))).toEqual([[2 * HOUR + 1, 0, 1]]);
      expect(counts(await usage().series(q('hour', 0, DAY)))).toEqual([[0, 0, 1], [HOUR, 0, 1], [2 * HOUR, 0, 1]]);
      expect(await usage().purge('hour', (M0 + HOUR) * 60_000, 100)).toBe(0); // not rolled up into days yet
    });

    it('filters by tenant, and moves last_used_at forward only', async () => {
      const t1 = key('t1');
      const t2 = key('t2');
      await stores().apiKeys.insert(t1, []);
      await stores().apiKeys.insert(t2, []);
      await usage().add({ cells: [cell(t1.id, M0, 0, 3), cell(t2.id, M0, 0, 4)], lastUsed: [[t1.id, M0 + 7], [t2.id, M0 + 2]] });
      await usage().add({ cells: [], lastUsed: [[t1.id, M0 + 3]] });
      expect(counts(await usage().series(q('minute', 0, 10, { tenantId: 't1' })))).toEqual([[0, 0, 3]]);
      expect(counts(await usage().series(q('day', 0, DAY, { tenantId: 't2' })))).toEqual([[0, 0, 4]]);
      expect(await usage().series(q('day', 0, DAY, { tenantId: 't3' }))).toEqual([]);
      expect((await stores().apiKeys.findById(t1.id))?.lastUsedAt).toBe((M0 + 7) * 60_000);
      expect((await stores().apiKeys.findById(t2.id))?.lastUsedAt).toBe((M0 + 2) * 60_000);
    });

    it("sets OAuth clients' last-used times too, never backwards (a dynamic client's idle expiry reads it)", async () => {
      const id = 'cli_' + 'u'.repeat(22);
      await stores().clients.insert(
        {
          id, name: 'm2m', redirectUris: [], allowedOrigins: [], postLogoutRedirectUris: [], grantTypes: ['client_credentials'], scopes: [],
          tokenEndpointAuthMethod: 'client_secret_basic', audiences: [], defaultAudience: null, tenantId: null, accessTokenTtlSeconds: null,
          idTokenSignedResponseAlg: 'RS256', tlsClientAuth: null, jwks: null, registration: 'dynamic', registrationAccessTokenHash: null,
          registeredAddress: null, registrationMetadata: null, lastUsedAt: null, secretHash: null, secretPrefix: null, previousSecretHash: null,
          previousSecretExpiresAt: null, version: 1, createdBy: null, createdAt: 0, updatedAt: 0, deletedAt: null,
        },
        [],
      );
      await usage().add({ cells: [cell(id, M0, 0, 1)], lastUsed: [[id, M0 + 4]] });
      await usage().add({ cells: [], lastUsed: [[id, M0 + 2]] });
      const client = await stores().clients.findById(id);
      expect(client?.lastUsedAt).toBe((M0 + 4) * 60_000);
      expect(client?.updatedAt).toBe(0);
    });

    it("sets keys' last-used times to a minute's start: never backwards, in one batch the newest, unknown ids ignored, nothing else changed", async () => {
      const a = key(null);
      const b = { ...key('t1'), lastUsedAt: (M0 + 50) * 60_000, metadata: { team: 'billing' }, scopes: ['admin'] };
      for (const k of [a, b]) await stores().apiKeys.insert(k, []);
      await usage().add({ cells: [], lastUsed: [['key_unknown', M0 + 99], [a.id, M0 + 10], [b.id, M0 + 20], [a.id, M0 + 5]] });
      expect(await stores().apiKeys.findById(a.id)).toStrictEqual({ ...a, lastUsedAt: (M0 + 10) * 60_000 });
      expect(await stores().apiKeys.findById(b.id)).toStrictEqual(b);
      await usage().add({ cells: [], lastUsed: [[a.id, M0 + 9]] });
      await usage().add({ cells: [], lastUsed: [] });
      expect((await stores().apiKeys.findById(a.id))?.lastUsedAt).toBe((M0 + 10) * 60_000);
      await usage().add({ cells: [], lastUsed: [[a.id, M0 + 11]] });
      expect((await stores().apiKeys.findById(a.id))?.lastUsedAt).toBe((M0 + 11) * 60_000);
    });

    it('sums exactly when several writers add and roll up at once', async () => {
      const writers = 8;
      const batch = () => ({
        cells: Array.from({ length: 50 }, (_, i) => cell(`key_${i % 10}`, M0 + HOUR - 2 + Math.floor(i / 10), 0, 1, [1, 5, 5])),
        lastUsed: [] as Array<[string, number]>,
      });
      await Promise.all(
        Array.from({ length: writers }, (_, w) => Promise.all([usage().add(batch()), usage().add(batch()), w % 2 === 0 ? usage().rollUp(M0 + 2 * HOUR + 1) : Promise.resolve()])),
      );
      const total = (rows: UsageSeriesRow[]) => rows.reduce((sum, r) => sum + r.count, 0);
      expect(total(await usage().series(q('minute', 0, DAY)))).toBe(writers * 2 * 50);
      expect(total(await usage().series(q('hour', 0, DAY)))).toBe(writers * 2 * 50);
      expect(total(await usage().series(q('day', 0, DAY)))).toBe(writers * 2 * 50);
      await usage().rollUp(M0 + 2 * DAY);
      expect(total(await usage().series(q('hour', 0, DAY)))).toBe(writers * 2 * 50);
      expect(total(await usage().series(q('day', 0, DAY)))).toBe(writers * 2 * 50);
      const latency = await usage().series(q('day', 0, DAY));
      expect(latency.reduce((sum, r) => sum + r.latencyCount, 0)).toBe(writers * 2 * 50);
      expect(Math.max(...latency.map((r) => r.latencyMaxUs))).toBe(5);
    });
  });
}
