import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { UsageAccumulator } from '../src/core/usage/usage-accumulator.js';
import { UsageCounter } from '../src/core/usage/usage-counter.js';
import { latencyBucket, usageOutcomeCode, USAGE_OUTCOMES } from '../src/core/usage/usage-outcomes.js';
import { planRead, planRollUp } from '../src/core/usage/usage-periods.js';
import type { UsageBatch } from '../src/storage/stores.js';

const M0 = Date.UTC(2026, 0, 1) / 60_000;

describe('usage outcomes', () => {
  it('keeps the stored codes of the verification outcomes and adds the client ones after them', () => {
    expect(USAGE_OUTCOMES.slice(0, 7)).toEqual(['VALID', 'NOT_FOUND', 'INVALID_FORMAT', 'REVOKED', 'EXPIRED', 'RATE_LIMITED', 'INSUFFICIENT_SCOPE']);
    expect(usageOutcomeCode('VALID')).toBe(0);
    expect(usageOutcomeCode('TOKEN_ISSUED')).toBe(7);
    expect(usageOutcomeCode('TOKEN_INTROSPECTED')).toBe(8);
  });

  it('puts latencies in fixed buckets, bounds inclusive', () => {
    expect([0, 100, 101, 1_000, 10_000, 100_000, 1_000_000, 1_000_001].map(latencyBucket)).toEqual([0, 0, 1, 1, 2, 3, 4, 5]);
  });
});

describe('UsageAccumulator', () => {
  it('counts per credential, minute and outcome, with latency count, sum, maximum and histogram', () => {
    const usage = new UsageAccumulator(100);
    usage.add('key_a', M0, 0, 1, 50);
    usage.add('key_a', M0, 0, 1, 2_000);
    usage.add('key_a', M0, 0, 5, null); // reported: no latency
    usage.add('key_a', M0, 5, 1, 10);
    usage.add('key_a', M0 + 1, 0, 1, 10);
    usage.add('key_b', M0, 0, 1, 10);
    expect(usage.size).toBe(4);
    const batch = usage.take()!;
    expect(usage.size).toBe(0);
    expect(usage.take()).toBeUndefined();
    const a0 = batch.cells.find((c) => c.credentialId === 'key_a' && c.minute === M0 && c.outcome === 0);
    expect(a0).toStrictEqual({ credentialId: 'key_a', minute: M0, outcome: 0, count: 7, latencyCount: 2, latencySumUs: 2_050, latencyMaxUs: 2_000, histogram: [1, 0, 1, 0, 0, 0] });
    expect(batch.cells.reduce((n, c) => n + c.count, 0)).toBe(10);
  });

  it('keeps the newest minute a key was used in, never moving backwards', () => {
    const usage = new UsageAccumulator(10);
    usage.touch('key_a', M0 + 5);
    usage.touch('key_a', M0 + 2);
    expect(usage.lastUsedMinute('key_a')).toBe(M0 + 5);
    expect(usage.take()).toStrictEqual({ cells: [], lastUsed: [['key_a', M0 + 5]] });
    expect(usage.lastUsedMinute('key_a')).toBeUndefined();
  });

  it('is bounded: new cells beyond the bound are refused, existing ones still count; a failed batch merges back', () => {
    const usage = new UsageAccumulator(2);
    expect(usage.add('key_a', M0, 0, 1, null)).toBe(true);
    expect(usage.add('key_b', M0, 0, 1, null)).toBe(true);
    expect(usage.add('key_c', M0, 0, 1, null)).toBe(false);
    expect(usage.add('key_a', M0, 0, 1, null)).toBe(true);
    const batch = usage.take()!;
    usage.add('key_a', M0, 0, 3, 7);
    usage.add('key_d', M0, 0, 4, null);
    // key_a merges into the new cell; key_b finds no room (2 cells held): its one event is dropped.
    expect(usage.putBack(batch)).toBe(1);
    const again = usage.take()!;
    expect(again.cells.map((c) => [c.credentialId, c.count, c.latencyCount, c.latencyMaxUs])).toEqual([['key_a', 5, 1, 7], ['key_d', 4, 0, 0]]);
  });
});

describe('UsageCounter', () => {
  it('counts in the minute of the clock, keeps counts of a failed flush, and reports lastUsedAt to the minute', async () => {
    const clock = new ManualClock(M0 * 60_000 + 59_000);
    const written: UsageBatch[] = [];
    let fail = true;
    const errors: unknown[] = [];
    const usage = new UsageCounter({
      clock,
      intervalMs: 5_000,
      maxCells: 100,
      write: async (batch) => {
        if (fail) throw new Error('down');
        written.push(batch);
      },
      onError: (error) => errors.push(error),
    });
    usage.count('key_a', 'VALID', 100);
    usage.count('key_a', 'RATE_LIMITED', 100);
    usage.count('cli_x', 'TOKEN_ISSUED', 100);
    expect(usage.lastUsedAt('key_a')).toBe(M0 * 60_000);
    expect(usage.lastUsedAt('cli_x')).toBeUndefined();
    await usage.flush();
    expect(errors).toHaveLength(1);
    clock.advance(1_000); // the next minute
    usage.count('key_a', 'VALID', 100);
    usage.report('key_b', M0 - 3, 12);
    fail = false;
    await usage.flush();
    expect(written).toHaveLength(1);
    const cells = written[0]!.cells.map((c) => [c.credentialId, c.minute - M0, c.outcome, c.count, c.latencyCount]).sort();
    expect(cells).toEqual([['cli_x', 0, 7, 1, 1], ['key_a', 0, 0, 1, 1], ['key_a', 0, 5, 1, 1], ['key_a', 1, 0, 1, 1], ['key_b', -3, 0, 12, 0]].sort());
    expect(written[0]!.lastUsed.sort()).toEqual([['key_a', M0 + 1], ['key_b', M0 - 3]]);
    expect(usage.dropped).toBe(0);
  });
});

describe('usage periods', () => {
  it('plans rollups of complete hours, then of complete days of rolled-up hours', () => {
    expect(planRollUp({ hour: 0, day: 0 }, M0 + 30)).toEqual({ hour: { from: 0, to: M0 }, day: { from: 0, to: M0 } });
    expect(planRollUp({ hour: M0, day: M0 }, M0 + 59)).toEqual({ hour: null, day: null });
    expect(planRollUp({ hour: M0, day: M0 }, M0 + 125)).toEqual({ hour: { from: M0, to: M0 + 120 }, day: null });
    expect(planRollUp({ hour: M0 + 1_380, day: M0 }, M0 + 1_441)).toEqual({ hour: { from: M0 + 1_380, to: M0 + 1_440 }, day: { from: M0, to: M0 + 1_440 } });
  });

  it('reads rolled-up tables below their watermark and finer ones above it', () => {
    const marks = { hour: M0 + 120, day: M0 };
    expect(planRead('minute', M0, M0 + 10, marks)).toEqual([{ source: 'minute', fromPeriod: M0, toPeriod: M0 + 10, divisor: 1 }]);
    expect(planRead('hour', M0, M0 + 240, marks)).toEqual([
      { source: 'hour', fromPeriod: M0 / 60, toPeriod: (M0 + 120) / 60, divisor: 1 },
      { source: 'minute', fromPeriod: M0 + 120, toPeriod: M0 + 240, divisor: 60 },
    ]);
    expect(planRead('day', M0 - 1_440, M0 + 1_440, marks)).toEqual([
      { source: 'day', fromPeriod: M0 / 1_440 - 1, toPeriod: M0 / 1_440, divisor: 1 },
      { source: 'hour', fromPeriod: M0 / 60, toPeriod: (M0 + 120) / 60, divisor: 24 },
      { source: 'minute', fromPeriod: M0 + 120, toPeriod: M0 + 1_440, divisor: 1_440 },
    ]);
  });
});
