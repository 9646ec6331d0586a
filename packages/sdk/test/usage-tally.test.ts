import { describe, expect, it } from 'vitest';
import { MAX_ENTRY_COUNT, MAX_REPORT_ATTEMPTS, MAX_REPORT_ENTRIES, UsageTally, type UsageBatch } from '../src/usage-tally.js';

const T0 = Date.parse('2026-12-06T20:41:00.000Z');
const MINUTE = 60_000;

/** The batch's entries as `keyId@HH:MM=count`, sorted. */
function lines(batch: UsageBatch | undefined): string[] {
  return (batch?.entries ?? []).map((e) => `${e.keyId}@${e.minute.slice(11, 16)}=${e.count}`).sort();
}

describe('UsageTally', () => {
  it('counts per key and minute, on minute boundaries, the current minute included', () => {
    const tally = new UsageTally();
    expect(tally.take()).toBeUndefined();
    for (let i = 0; i < 3; i++) tally.count('key_a', T0 + 1_000 + i);
    tally.count('key_b', T0 + 59_999);
    tally.count('key_a', T0 + MINUTE); // the next minute
    tally.count('key_a', T0 + MINUTE + 30_000);
    expect(tally.stats()).toMatchObject({ counted: 6, pending: 6, reported: 0, dropped: 0 });
    const batch = tally.take();
    expect(lines(batch)).toEqual(['key_a@20:41=3', 'key_a@20:42=2', 'key_b@20:41=1']);
    expect(batch!.entries.every((e) => e.minute.endsWith(':00.000Z'))).toBe(true);
    expect(batch!.total).toBe(6);
    expect(tally.take()).toBeUndefined(); // taken: not sent twice
    tally.count('key_a', T0 + MINUTE + 40_000); // same minute again, after a report: a new line, added by Gatehouse
    tally.settle(batch!, { accepted: true, ignored: 1 });
    expect(tally.stats()).toMatchObject({ counted: 7, reported: 6, pending: 1, ignoredEntries: 1, failedReports: 0 });
    expect(lines(tally.take())).toEqual(['key_a@20:42=1']);
  });

  it('a failed report goes back, merged with what came meanwhile, and is dropped after the last attempt', () => {
    const tally = new UsageTally();
    tally.count('key_a', T0);
    tally.count('key_a', T0);
    let batch = tally.take()!;
    tally.count('key_a', T0 + 5_000); // while the report is in flight
    expect(tally.stats()).toMatchObject({ pending: 3 });
    tally.settle(batch, 'retry');
    expect(tally.stats()).toMatchObject({ counted: 3, pending: 3, failedReports: 1, dropped: 0 });
    batch = tally.take()!;
    expect(lines(batch)).toEqual(['key_a@20:41=3']);
    for (let attempt = 2; attempt < MAX_REPORT_ATTEMPTS; attempt++) {
      tally.settle(batch, 'retry');
      batch = tally.take()!;
    }
    expect(lines(batch)).toEqual(['key_a@20:41=3']);
    tally.settle(batch, 'retry'); // the last attempt
    expect(tally.take()).toBeUndefined();
    expect(tally.stats()).toMatchObject({ counted: 3, pending: 0, reported: 0, dropped: 3, failedReports: MAX_REPORT_ATTEMPTS });
  });

  it('a refused report (4xx) is dropped at once', () => {
    const tally = new UsageTally();
    tally.count('key_a', T0);
    tally.settle(tally.take()!, 'refused');
    expect(tally.take()).toBeUndefined();
    expect(tally.stats()).toMatchObject({ counted: 1, dropped: 1, pending: 0, failedReports: 1 });
  });

  it('a batch holds at most 1,000 lines and 1,000,000 per line; the rest waits for the next report', () => {
    const tally = new UsageTally();
    for (let i = 0; i < MAX_REPORT_ENTRIES + 5; i++) tally.count(`key_${i}`, T0);
    const first = tally.take()!;
    expect(first.entries).toHaveLength(MAX_REPORT_ENTRIES);
    const second = tally.take()!;
    expect(second.entries).toHaveLength(5);
    expect(new Set([...first.entries, ...second.entries].map((e) => e.keyId)).size).toBe(MAX_REPORT_ENTRIES + 5);

    const busy = new UsageTally();
    for (let i = 0; i < MAX_ENTRY_COUNT + 7; i++) busy.count('key_hot', T0 + (i % 1000));
    expect(lines(busy.take())).toEqual([`key_hot@20:41=${MAX_ENTRY_COUNT}`]);
    expect(lines(busy.take())).toEqual(['key_hot@20:41=7']);
    expect(busy.take()).toBeUndefined();
  });

  it('memory is bounded: a new key and minute beyond the bound is dropped and counted, known ones still count', () => {
    const tally = new UsageTally(3);
    tally.count('key_a', T0);
    tally.count('key_b', T0);
    tally.count('key_c', T0 + MINUTE); // key_a and key_b move to the pending pairs
    tally.count('key_d', T0 + MINUTE); // a fourth pair
    tally.count('key_c', T0 + MINUTE);
    expect(tally.stats()).toMatchObject({ counted: 4, dropped: 1, pending: 4 });
    const batch = tally.take()!;
    expect(lines(batch)).toEqual(['key_a@20:41=1', 'key_b@20:41=1', 'key_c@20:42=2']);
    // Room again once taken; a failed batch that no longer fits beside the new pairs is dropped.
    tally.count('key_x', T0 + MINUTE);
    tally.count('key_y', T0 + MINUTE);
    tally.count('key_z', T0 + 2 * MINUTE);
    tally.settle(batch, 'retry');
    expect(tally.stats()).toMatchObject({ counted: 7, dropped: 1 + 4, pending: 3 });
    expect(lines(tally.take())).toEqual(['key_x@20:42=1', 'key_y@20:42=1', 'key_z@20:43=1']);
  });
});
