import { describe, expect, it } from 'vitest';
import { KeyCache } from '../src/core/cache/key-cache.js';
import { ManualClock } from '../src/core/clock.js';
import { WriteBehind } from '../src/core/write-behind.js';
import { WriteBehindLog } from '../src/core/write-behind-log.js';
import { CoalescedRun } from '../src/core/coalesced-run.js';
import type { ApiKeyRecord } from '../src/storage/stores.js';

const record = (id: string, revokedAt: number | null = null) => ({ id, revokedAt }) as ApiKeyRecord;

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('KeyCache', () => {
  it('serves hits without loading, and reloads after the TTL', async () => {
    const clock = new ManualClock(0);
    let loads = 0;
    const cache = new KeyCache({ load: async (h) => (loads++, record(h)), clock, ttlMs: 1000, maxEntries: 10 });
    await cache.get('a');
    await cache.get('a');
    expect(loads).toBe(1);
    clock.advance(1000);
    await cache.get('a');
    expect(loads).toBe(2);
  });

  it('shares one load among concurrent misses (single flight)', async () => {
    const pending = deferred<ApiKeyRecord>();
    let loads = 0;
    const cache = new KeyCache({ load: () => (loads++, pending.promise), clock: new ManualClock(), ttlMs: 1000, maxEntries: 10 });
    const all = Promise.all([cache.get('a'), cache.get('a'), cache.get('a')]);
    pending.resolve(record('a'));
    expect((await all).every((r) => r?.id === 'a')).toBe(true);
    expect(loads).toBe(1);
  });

  it('does not cache a load that raced an invalidation (the stale record would outlive the revocation)', async () => {
    const stale = deferred<ApiKeyRecord>();
    let calls = 0;
    const cache = new KeyCache({
      load: async (h) => (++calls === 1 ? stale.promise : record(h, 123)),
      clock: new ManualClock(),
      ttlMs: 60_000,
      maxEntries: 10,
    });
    const racing = cache.get('a');
    cache.invalidate('a'); // the key is revoked while the old row is on its way
    stale.resolve(record('a'));
    expect((await racing)?.revokedAt).toBeNull(); // that caller raced the revocation
    expect(cache.peek('a')).toBeUndefined();
    expect((await cache.get('a'))?.revokedAt).toBe(123);
  });

  it('stays within maxEntries', async () => {
    const cache = new KeyCache({ load: async (h) => record(h), clock: new ManualClock(), ttlMs: 60_000, maxEntries: 3 });
    for (const h of ['a', 'b', 'c', 'd', 'e']) await cache.get(h);
    expect(cache.size).toBe(3);
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.peek('e')?.id).toBe('e');
  });
});

describe('WriteBehind', () => {
  const make = (write: (entries: Array<[string, number]>) => Promise<void>, maxBuffered = 100) => {
    const errors: unknown[] = [];
    const queue = new WriteBehind<string, number>({
      write,
      intervalMs: 60_000,
      batchSize: 1000,
      maxBuffered,
      merge: (a, b) => Math.max(a, b),
      onError: (e) => errors.push(e),
    });
    return { queue, errors };
  };

  it('merges entries for one key and writes them in one batch', async () => {
    const written: Array<Array<[string, number]>> = [];
    const { queue } = make(async (entries) => void written.push(entries));
    queue.add('k1', 5);
    queue.add('k1', 3);
    queue.add('k2', 1);
    expect(queue.peek('k1')).toBe(5);
    await queue.flush();
    expect(written).toEqual([[['k1', 5], ['k2', 1]]]);
    expect(queue.size).toBe(0);
  });

  it('keeps entries after a failed write and writes them next time', async () => {
    let fail = true;
    const written: Array<[string, number]> = [];
    const { queue, errors } = make(async (entries) => {
      if (fail) throw new Error('database down');
      written.push(...entries);
    });
    queue.add('k1', 1);
    await queue.flush();
    expect(errors).toHaveLength(1);
    queue.add('k1', 7);
    fail = false;
    await queue.stop();
    expect(written).toEqual([['k1', 7]]);
  });

  it('bounds the buffer during an outage and counts what it drops', async () => {
    const { queue } = make(async () => {
      throw new Error('down');
    }, 2);
    queue.add('a', 1);
    queue.add('b', 1);
    queue.add('c', 1);
    expect(queue.size).toBe(2);
    expect(queue.dropped).toBe(1);
  });
});

describe('WriteBehindLog', () => {
  const make = (write: (values: number[]) => Promise<void>, maxBuffered = 100, batchSize = 1000) => {
    const errors: unknown[] = [];
    const log = new WriteBehindLog<number>({ write, intervalMs: 60_000, batchSize, maxBuffered, onError: (e) => errors.push(e) });
    return { log, errors };
  };

  it('writes every value, in order, in one batch', async () => {
    const written: number[][] = [];
    const { log } = make(async (values) => void written.push(values));
    log.add(3);
    log.add(1);
    log.add(3);
    expect(log.size).toBe(3);
    await log.flush();
    expect(written).toEqual([[3, 1, 3]]);
    expect(log.size).toBe(0);
  });

  it('shows every added value to its observers, dropped ones included', async () => {
    const seen: number[] = [];
    const written: number[][] = [];
    const { log } = make(async (values) => void written.push(values), 2);
    log.observe((v) => seen.push(v));
    log.observe((v) => seen.push(-v));
    log.add(1);
    log.add(2);
    log.add(3);
    await log.flush();
    expect(seen).toEqual([1, -1, 2, -2, 3, -3]);
    expect(written).toEqual([[1, 2]]);
  });

  it('flushes early once batchSize values wait', async () => {
    const written: number[][] = [];
    const { log } = make(async (values) => void written.push(values), 100, 2);
    log.add(1);
    log.add(2);
    await log.flush();
    expect(written).toEqual([[1, 2]]);
  });

  it('keeps a failed batch ahead of newer values and writes them next time', async () => {
    let fail = true;
    const written: number[] = [];
    const { log, errors } = make(async (values) => {
      if (fail) throw new Error('database down');
      written.push(...values);
    });
    log.add(1);
    log.add(2);
    await log.flush();
    expect(errors).toHaveLength(1);
    log.add(3);
    fail = false;
    await log.stop();
    expect(written).toEqual([1, 2, 3]);
  });

  it('bounds the buffer during an outage and counts what it drops', async () => {
    const { log } = make(async () => {
      throw new Error('down');
    }, 2);
    log.add(1);
    log.add(2);
    log.add(3);
    expect(log.size).toBe(2);
    expect(log.dropped).toBe(1);
    await log.flush();
    expect(log.size).toBe(2);
    expect(log.dropped).toBe(1);
  });
});

describe('CoalescedRun', () => {
  it('shares a run among concurrent callers, runs once more for calls made during it, and settles after a failure', async () => {
    const gates: Array<() => void> = [];
    let runs = 0;
    let fail = false;
    const run = new CoalescedRun(async () => {
      runs++;
      await new Promise<void>((resolve) => gates.push(resolve));
      if (fail) throw new Error('boom');
    });
    const first = run.run();
    const second = run.run();
    const third = run.run();
    expect(second).toBe(first);
    expect(third).toBe(first);
    gates.shift()!();
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(2);
    gates.shift()!();
    await first;
    expect(runs).toBe(2);
    fail = true;
    const failing = run.run();
    gates.shift()!();
    await expect(failing).rejects.toThrow('boom');
    await run.settled();
    await run.settled();
  });
});
