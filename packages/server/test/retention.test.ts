import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { RetentionSweep, type RetentionPolicy } from '../src/core/retention/retention-sweep.js';
import { loadConfig } from '../src/config/load-config.js';
import { dialects } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const DAY = 86_400_000;

describe('RetentionSweep', () => {
  /** A store of row times that purges like the real ones: oldest first, at most `limit`. */
  function fakeStore(times: number[]) {
    const rows = [...times].sort((a, b) => a - b);
    const calls: Array<{ cutoff: number; limit: number }> = [];
    return {
      rows,
      calls,
      async purge(cutoff: number, limit: number) {
        calls.push({ cutoff, limit });
        let n = 0;
        while (n < limit && rows.length > 0 && rows[0]! < cutoff) {
          rows.shift();
          n++;
        }
        return n;
      },
    };
  }

  it('purges every row older than each policy, batch after batch, and reports each batch', async () => {
    const clock = new ManualClock(100 * DAY);
    const audit = fakeStore([1, 2, 3, 4, 5, 6, 7].map((d) => d * DAY).concat([95 * DAY, 99 * DAY]));
    const webhooks = fakeStore([50 * DAY, 80 * DAY, 90 * DAY]);
    const purged: Array<[string, number]> = [];
    const sweep = new RetentionSweep({
      clock,
      intervalMs: 60_000,
      batchSize: 3,
      policies: [
        { kind: 'audit_events', days: 90, purge: (c, l) => audit.purge(c, l) },
        { kind: 'webhook_deliveries', days: 30, purge: (c, l) => webhooks.purge(c, l) },
      ],
      onPurged: (kind, rows) => purged.push([kind, rows]),
      onError: (message, error) => {
        throw new Error(`${message}: ${String(error)}`);
      },
    });
    const totals = await sweep.run();
    expect(Object.fromEntries(totals)).toStrictEqual({ audit_events: 7, webhook_deliveries: 1 });
    expect(audit.rows).toStrictEqual([95 * DAY, 99 * DAY]);
    expect(webhooks.rows).toStrictEqual([80 * DAY, 90 * DAY]);
    // 7 rows in batches of 3: 3, 3, 1 (a short batch ends the policy); every call has the same cutoff.
    expect(audit.calls).toStrictEqual([
      { cutoff: 10 * DAY, limit: 3 },
      { cutoff: 10 * DAY, limit: 3 },
      { cutoff: 10 * DAY, limit: 3 },
    ]);
    expect(purged).toStrictEqual([
      ['audit_events', 3],
      ['audit_events', 3],
      ['audit_events', 1],
      ['webhook_deliveries', 1],
    ]);
  });

  it('keeps for ever what has 0 days of retention, and runs one sweep at a time', async () => {
    const store = fakeStore([1, 2, 3]);
    const never: RetentionPolicy = { kind: 'audit_events', days: 0, purge: (c, l) => store.purge(c, l) };
    const sweep = new RetentionSweep({ clock: new ManualClock(1000 * DAY), intervalMs: 60_000, policies: [never], onError: () => {} });
    const [a, b] = [sweep.run(), sweep.run()];
    expect(a).toBe(b);
    expect(Object.fromEntries(await a)).toStrictEqual({});
    expect(store.calls).toStrictEqual([]);
    expect(store.rows).toHaveLength(3);
  });

  it('stops between batches once stopped', async () => {
    const store = fakeStore(Array.from({ length: 100 }, (_, i) => i));
    let sweep: RetentionSweep | undefined;
    const stopping: Array<Promise<void>> = [];
    sweep = new RetentionSweep({
      clock: new ManualClock(10 * DAY),
      intervalMs: 60_000,
      batchSize: 10,
      policies: [{ kind: 'audit_events', days: 1, purge: (c, l) => store.purge(c, l) }],
      onPurged: () => {
        if (stopping.length === 0) stopping.push(sweep!.stop());
      },
      onError: () => {},
    });
    await sweep.run();
    await Promise.all(stopping);
    expect(store.calls).toHaveLength(1);
    expect(store.rows).toHaveLength(90);
  });
});

describe.each(dialects)('retention on a real store (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    // Every success sampled: successful verifications are audit events too, and share the retention.
    t = await createTestApp({ dialect, env: { GATEHOUSE_AUDIT_RETENTION_DAYS: '30', GATEHOUSE_AUDIT_SUCCESS_SAMPLE: '1' } });
  });
  afterAll(() => t.close());

  it('deletes audit events past GATEHOUSE_AUDIT_RETENTION_DAYS, keeps the rest, and counts them in /metrics', async () => {
    const old = await t.createKey({ name: 'old' });
    expect((await t.api('POST', '/v1/keys/verify', { body: { key: old.key } })).body.valid).toBe(true);
    await t.services.audit.flush();
    const oldEvents = (await t.api('GET', `/v1/audit-events?keyId=${old.id}`)).body.data;
    expect(oldEvents.map((e: { type: string }) => e.type).sort()).toStrictEqual(['key.created', 'key.verification']);

    t.clock.advance(31 * DAY);
    const recent = await t.createKey({ name: 'recent' });
    expect((await t.api('POST', '/v1/keys/verify', { body: { key: recent.key } })).body.valid).toBe(true);
    await t.services.audit.flush();
    await t.services.usage.flush();

    const totals = await t.services.retention.run();
    // Usage: the old key's minute was rolled up into its hour and day, then purged (minutes are kept 7 days).
    expect(totals.get('usage_minutes')).toBeGreaterThanOrEqual(1);
    const then = t.clock.now() - 31 * DAY;
    const usage = (granularity: string) =>
      t.api('GET', `/v1/keys/${old.id}/usage?granularity=${granularity}&from=${new Date(then - 3_600_000).toISOString()}&to=${new Date(then + 3_600_000).toISOString()}`);
    expect((await usage('day')).body.data.map((p: { total: number }) => p.total)).toEqual([1]);
    expect((await usage('hour')).body.data.map((p: { total: number }) => p.total)).toEqual([1]);
    expect((await usage('minute')).body.data).toEqual([]);
    // The old key's two events and the bootstrap event of the root key, all older than 30 days now.
    expect(totals.get('audit_events')).toBeGreaterThanOrEqual(3);
    expect((await t.api('GET', `/v1/audit-events?keyId=${old.id}`)).body.data).toStrictEqual([]);
    const kept = (await t.api('GET', `/v1/audit-events?keyId=${recent.id}`)).body.data;
    expect(kept.map((e: { type: string }) => e.type).sort()).toStrictEqual(['key.created', 'key.verification']);
    // The key itself is not history: it stays, and still works.
    expect((await t.api('POST', '/v1/keys/verify', { body: { key: old.key } })).body.valid).toBe(true);

    const metrics = await t.services.metrics.render();
    expect(metrics).toMatch(new RegExp(`gatehouse_retention_purged_rows_total\\{kind="audit_events"\\} ${totals.get('audit_events')}\\b`));
    expect(await t.services.retention.run()).toStrictEqual(
      new Map([['audit_events', 0], ['webhook_deliveries', 0], ['usage_minutes', 0], ['usage_hours', 0], ['usage_days', 0], ['dynamic_clients', 0]]),
    );
  });
});

describe('retention settings', () => {
  it('GATEHOUSE_AUDIT_RETENTION_DAYS (90) and GATEHOUSE_WEBHOOK_RETENTION_DAYS (30): 0 to 36500, 0 keeps for ever, flags mirror them', () => {
    expect(loadConfig({})).toMatchObject({ auditRetentionDays: 90, webhookRetentionDays: 30 });
    expect(loadConfig({ GATEHOUSE_AUDIT_RETENTION_DAYS: '0', GATEHOUSE_WEBHOOK_RETENTION_DAYS: '7' })).toMatchObject({ auditRetentionDays: 0, webhookRetentionDays: 7 });
    expect(loadConfig({}, ['--audit-retention-days', '365', '--webhook-retention-days', '1'])).toMatchObject({ auditRetentionDays: 365, webhookRetentionDays: 1 });
    for (const bad of ['-1', '36501', '1.5', 'forever']) {
      expect(() => loadConfig({ GATEHOUSE_AUDIT_RETENTION_DAYS: bad })).toThrow(/GATEHOUSE_AUDIT_RETENTION_DAYS/);
      expect(() => loadConfig({ GATEHOUSE_WEBHOOK_RETENTION_DAYS: bad })).toThrow(/GATEHOUSE_WEBHOOK_RETENTION_DAYS/);
    }
  });
});
