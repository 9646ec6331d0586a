import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertValidPolicy, decide, type RateLimitPolicy } from '../src/core/rate-limit/decide.js';
import { ManualClock } from '../src/core/clock.js';
import { FallbackRateLimiter } from '../src/core/rate-limit/fallback.js';
import { MemoryRateLimiter } from '../src/core/rate-limit/memory.js';
import type { RateLimiter } from '../src/core/rate-limit/rate-limiter.js';
import { RedisRateLimiter } from '../src/core/rate-limit/redis.js';

/** A realistic epoch, so float behaviour at production magnitudes is exercised. */
const T0 = Date.UTC(2026, 0, 1);

function fakeClock() {
  let t = T0;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}
type FakeClock = ReturnType<typeof fakeClock>;

describe('decide()', () => {
  const policy: RateLimitPolicy = { limit: 5, windowSeconds: 10 }; // T = 2000 ms

  /** Feeds each decision's new TAT back in, like a backend would. */
  function stateful() {
    let tat: number | undefined;
    return (nowMs: number) => {
      const result = decide(policy, tat, nowMs);
      if (result.newTat !== undefined) tat = result.newTat;
      return result;
    };
  }

  it('allows a burst of `limit`, counting remaining down, then denies', () => {
    const request = stateful();
    const burst = Array.from({ length: 5 }, () => request(T0).decision);
    expect(burst.map((d) => d.allowed)).toEqual([true, true, true, true, true]);
    expect(burst.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
    expect(burst.map((d) => d.resetSeconds)).toEqual([2, 4, 6, 8, 10]);
    expect(burst.every((d) => d.retryAfterSeconds === 0 && d.limit === 5)).toBe(true);

    const denied = request(T0);
    expect(denied.newTat).toBeUndefined();
    expect(denied.decision).toEqual({
      allowed: false,
      limit: 5,
      remaining: 0,
      resetSeconds: 10,
      retryAfterSeconds: 2,
    });
  });

  it('reports the new TAT when allowed and leaves state unchanged when denied', () => {
    expect(decide(policy, undefined, T0).newTat).toBe(T0 + 2000);
    expect(decide(policy, T0 - 50_000, T0).newTat).toBe(T0 + 2000); // stale state counts as none
    expect(decide(policy, T0 + 10_000, T0).newTat).toBeUndefined();
  });

  it('rounds retryAfter up to whole seconds, at least 1', () => {
    const request = stateful();
    for (let i = 0; i < 5; i++) request(T0);
    expect(request(T0 + 1).decision.retryAfterSeconds).toBe(2);
    expect(request(T0 + 1000).decision.retryAfterSeconds).toBe(1);
    expect(request(T0 + 1999).decision.retryAfterSeconds).toBe(1);
  });

  it('replenishes exactly one request per emission interval', () => {
    const request = stateful();
    for (let i = 0; i < 5; i++) request(T0);
    expect(request(T0 + 1999).decision.allowed).toBe(false);
    const replenished = request(T0 + 2000).decision;
    expect(replenished).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 10 });
    expect(request(T0 + 2000).decision.allowed).toBe(false);
  });

  it('is full again after a whole window', () => {
    const request = stateful();
    for (let i = 0; i < 6; i++) request(T0);
    expect(request(T0 + 10_000).decision).toMatchObject({ allowed: true, remaining: 4, resetSeconds: 2 });
  });

  it('is exact at production timestamps when T is not a whole number of ms', () => {
    // Summing an unrounded 1000/6 ms onto T0 overshoots, which would deny the sixth request.
    const failures = [];
    for (const windowSeconds of [1, 7, 60, 3600]) {
      for (let limit = 1; limit <= 200; limit++) {
        const p = { limit, windowSeconds };
        let tat: number | undefined;
        const remaining = [];
        for (let i = 0; i <= limit; i++) {
          const { decision, newTat } = decide(p, tat, T0);
          tat = newTat ?? tat;
          remaining.push(decision.allowed ? decision.remaining : -1);
        }
        const refilled = decide(p, tat, T0 + (windowSeconds * 1000) / limit);
        const expected = [...Array.from({ length: limit }, (_, i) => limit - 1 - i), -1];
        if (!refilled.decision.allowed || JSON.stringify(remaining) !== JSON.stringify(expected)) {
          failures.push(p);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('rejects invalid policies', () => {
    const invalid = [
      { limit: 0, windowSeconds: 60 },
      { limit: -1, windowSeconds: 60 },
      { limit: 1.5, windowSeconds: 60 },
      { limit: Number.NaN, windowSeconds: 60 },
      { limit: Number.POSITIVE_INFINITY, windowSeconds: 60 },
      { limit: 10, windowSeconds: 0 },
      { limit: 10, windowSeconds: 0.5 },
      { limit: '10', windowSeconds: 60 } as unknown as RateLimitPolicy,
      { limit: 3_000_000, windowSeconds: 1 }, // T below the 2^-11 ms grid
    ];
    for (const policy of invalid) expect(() => assertValidPolicy(policy), JSON.stringify(policy)).toThrow(TypeError);
    expect(() => assertValidPolicy({ limit: 1, windowSeconds: 1 })).not.toThrow();
  });
});

/** Assertions every RateLimiter must pass; `create` gives a limiter with state isolated from other calls. */
function behavesLikeARateLimiter(create: (clock: FakeClock) => RateLimiter) {
  const policy: RateLimitPolicy = { limit: 5, windowSeconds: 10 }; // T = 2000 ms

  async function exhaust(limiter: RateLimiter, key: string) {
    for (let i = 0; i < policy.limit; i++) await limiter.consume(key, policy);
  }

  it('allows a burst of `limit`, then denies', async () => {
    const limiter = create(fakeClock());
    const burst = [];
    for (let i = 0; i < 5; i++) burst.push(await limiter.consume('k', policy));
    expect(burst.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 4],
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
    ]);
    expect(await limiter.consume('k', policy)).toEqual({
      allowed: false,
      limit: 5,
      remaining: 0,
      resetSeconds: 10,
      retryAfterSeconds: 2,
    });
  });

  it('keeps keys independent', async () => {
    const limiter = create(fakeClock());
    await exhaust(limiter, 'a');
    expect((await limiter.consume('a', policy)).allowed).toBe(false);
    expect(await limiter.consume('b', policy)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('reset() clears a key', async () => {
    const limiter = create(fakeClock());
    await exhaust(limiter, 'k');
    await limiter.consume('other', policy);
    await limiter.reset('k');
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: true, remaining: 4 });
    expect(await limiter.consume('other', policy)).toMatchObject({ allowed: true, remaining: 3 });
  });

  it('replenishes as time advances; denials consume nothing', async () => {
    const clock = fakeClock();
    const limiter = create(clock);
    await exhaust(limiter, 'k');
    for (let i = 0; i < 10; i++) expect((await limiter.consume('k', policy)).allowed).toBe(false);
    clock.advance(1999);
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(1);
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await limiter.consume('k', policy)).allowed).toBe(false);
    clock.advance(10_000);
    expect(await limiter.consume('k', policy)).toMatchObject({ allowed: true, remaining: 4, resetSeconds: 2 });
  });

  it('admits exactly `limit` at one instant when T is not a whole number of ms', async () => {
    const clock = fakeClock();
    const limiter = create(clock);
    const sixths = { limit: 6, windowSeconds: 1 };
    const remaining = [];
    for (let i = 0; i < 7; i++) {
      const decision = await limiter.consume('k', sixths);
      remaining.push(decision.allowed ? decision.remaining : -1);
    }
    expect(remaining).toEqual([5, 4, 3, 2, 1, 0, -1]);
    clock.advance(1000 / 6);
    expect(await limiter.consume('k', sixths)).toMatchObject({ allowed: true, remaining: 0 });
  });
}

describe('MemoryRateLimiter', () => {
  behavesLikeARateLimiter((clock) => new MemoryRateLimiter({ clock }));

  const policy: RateLimitPolicy = { limit: 1, windowSeconds: 3600 };

  it('consumeSync() decides synchronously', () => {
    const limiter = new MemoryRateLimiter({ clock: fakeClock() });
    expect(limiter.consumeSync('k', policy).allowed).toBe(true);
    expect(limiter.consumeSync('k', policy).allowed).toBe(false);
  });

  it('never holds more than maxKeys', () => {
    const limiter = new MemoryRateLimiter({ clock: fakeClock(), maxKeys: 100 });
    for (let i = 0; i < 1000; i++) {
      limiter.consumeSync(`key-${i}`, policy);
      expect(limiter.size).toBeLessThanOrEqual(100);
    }
    expect(limiter.size).toBe(100);
    // The newest keys survive; the oldest were evicted.
    expect(limiter.consumeSync('key-999', policy).allowed).toBe(false);
    expect(limiter.consumeSync('key-0', policy).allowed).toBe(true);
  });

  it('drops expired entries before evicting live ones', () => {
    const clock = fakeClock();
    const limiter = new MemoryRateLimiter({ clock, maxKeys: 3 });
    limiter.consumeSync('live-old', policy);
    limiter.consumeSync('short', { limit: 1, windowSeconds: 1 });
    limiter.consumeSync('live-new', policy);
    clock.advance(1000);
    limiter.consumeSync('newcomer', policy);
    expect(limiter.size).toBe(3);
    expect(limiter.consumeSync('live-old', policy).allowed).toBe(false); // still limited: kept

    limiter.consumeSync('another', policy); // nothing expired now, so the least recently allowed key goes
    expect(limiter.consumeSync('live-old', policy).allowed).toBe(true);
  });

  it('sweeps expired entries as new keys arrive, without any timer', () => {
    const clock = fakeClock();
    const limiter = new MemoryRateLimiter({ clock });
    const short = { limit: 1, windowSeconds: 1 };
    for (let i = 0; i < 500; i++) limiter.consumeSync(`old-${i}`, short);
    clock.advance(1000);
    for (let i = 0; i < 500; i++) limiter.consumeSync(`new-${i}`, short);
    expect(limiter.size).toBe(500);
  });
});

const redisUrl = process.env.GATEHOUSE_TEST_REDIS_URL;

// Skipped locally without a Redis URL; in CI a missing URL fails the suite (in beforeAll) instead.
describe('FallbackRateLimiter', () => {
  const policy: RateLimitPolicy = { limit: 2, windowSeconds: 60 };
  /** A primary whose next calls fail as told (undefined: it answers). */
  function primaryThat(clock: ManualClock) {
    const memory = new MemoryRateLimiter({ clock });
    const state = { failWith: undefined as Error | undefined };
    const primary: RateLimiter = {
      consume: (key, p) => (state.failWith ? Promise.reject(state.failWith) : memory.consume(key, p)),
      reset: (key) => memory.reset(key),
      close: () => memory.close(),
    };
    return { primary, state };
  }

  it('asks the primary; while it is unavailable, the fallback decides (and enforces), counted and shown as active', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { primary, state } = primaryThat(clock);
    let fallbacks = 0;
    const limiter = new FallbackRateLimiter({
      primary,
      fallback: new MemoryRateLimiter({ clock }),
      isUnavailable: (error) => (error as Error).message === 'Command timed out',
      onFallback: () => fallbacks++,
    });
    expect((await limiter.consume('k', policy)).allowed).toBe(true);
    expect(limiter.active).toBe(false);
    state.failWith = new Error('Command timed out');
    expect((await limiter.consume('k', policy)).allowed).toBe(true);
    expect((await limiter.consume('k', policy)).allowed).toBe(true);
    expect((await limiter.consume('k', policy)).allowed).toBe(false);
    expect([fallbacks, limiter.active]).toEqual([3, true]);
    // Back: the primary's own count again (one used), and no longer active.
    state.failWith = undefined;
    expect((await limiter.consume('k', policy)).remaining).toBe(0);
    expect(limiter.active).toBe(false);
    // Anything else than unavailability is a failure, not a reason to guess.
    state.failWith = new Error('unexpected rate limit script reply');
    await expect(limiter.consume('k', policy)).rejects.toThrow('unexpected rate limit script reply');
    expect(fallbacks).toBe(3);
  });
});

describe.skipIf(!redisUrl && !process.env.CI)('RedisRateLimiter', () => {
  const runPrefix = `gatehouse-test:rl:${randomUUID()}:`;
  const connections: Redis[] = [];
  let limiterCount = 0;

  function connection(index: 0 | 1): Redis {
    const redis = connections[index];
    if (!redis) throw new Error('Redis connections were not set up');
    return redis;
  }

  /** A limiter whose keys are isolated from every other limiter created here. */
  function createLimiter(clock: FakeClock, keyPrefix = `${runPrefix}${limiterCount++}:`, index: 0 | 1 = 0) {
    return new RedisRateLimiter({ redis: connection(index), clock, keyPrefix });
  }

  beforeAll(async () => {
    if (!redisUrl) throw new Error('GATEHOUSE_TEST_REDIS_URL must be set when CI is set');
    for (let i = 0; i < 2; i++) {
      // Fail fast instead of retrying forever when Redis is unreachable.
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      let lastError: unknown;
      redis.on('error', (error: unknown) => (lastError = error));
      connections.push(redis);
      await redis.connect().catch((error: unknown) => {
        throw new Error(`cannot reach Redis at GATEHOUSE_TEST_REDIS_URL: ${String(lastError ?? error)}`);
      });
    }
  });

  afterAll(async () => {
    const [redis] = connections;
    if (redis?.status === 'ready') {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${runPrefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    await Promise.all(connections.map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
  });

  behavesLikeARateLimiter((clock) => createLimiter(clock));

  it('expires a key once it holds no information', async () => {
    const limiter = createLimiter(fakeClock(), `${runPrefix}ttl:`);
    await limiter.consume('k', { limit: 5, windowSeconds: 10 });
    const ttl = await connection(0).pttl(`${runPrefix}ttl:k`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2000);
  });

  it('shares one limit across instances on separate connections', async () => {
    const clock = fakeClock();
    const keyPrefix = `${runPrefix}shared:`;
    const a = createLimiter(clock, keyPrefix, 0);
    const b = createLimiter(clock, keyPrefix, 1);
    const policy = { limit: 4, windowSeconds: 60 };
    const outcomes = [];
    for (const limiter of [a, b, a, b, a, b]) outcomes.push(await limiter.consume('k', policy));
    expect(outcomes.map((d) => d.allowed)).toEqual([true, true, true, true, false, false]);
    expect(outcomes.slice(0, 4).map((d) => d.remaining)).toEqual([3, 2, 1, 0]);
    await a.close(); // must not close the shared connection
    expect(await connection(0).ping()).toBe('PONG');
  });

  it('is atomic: 200 concurrent requests with limit 50 admit exactly 50', async () => {
    const clock = fakeClock();
    const keyPrefix = `${runPrefix}atomic:`;
    const limiters = [createLimiter(clock, keyPrefix, 0), createLimiter(clock, keyPrefix, 1)];
    const policy = { limit: 50, windowSeconds: 60 };
    const decisions = await Promise.all(
      Array.from({ length: 200 }, (_, i) => limiters[i % 2]!.consume('k', policy)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
    expect(decisions.filter((d) => d.allowed).map((d) => d.remaining).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
  });
});
