import type { Clock } from '../clock.js';
import { decide, type RateLimitDecision, type RateLimitPolicy } from './decide.js';
import type { RateLimiter } from './rate-limiter.js';

export interface MemoryRateLimiterOptions {
  clock: Clock;
  /** Upper bound on tracked keys; default 1_000_000. */
  maxKeys?: number;
}

/** Entries examined for expiry per new key: memory follows the live key set with no timer and no pause. */
const SWEEP_STEPS_PER_NEW_KEY = 2;

export class MemoryRateLimiter implements RateLimiter {
  private readonly clock: Clock;
  private readonly maxKeys: number;
  /** key -> TAT (ms). Rewritten on every allowed request, so iteration order is least recently allowed first. */
  private readonly tats = new Map<string, number>();
  private sweepCursor: MapIterator<[string, number]> | undefined;
  /** A full sweep is O(n), so when over the bound it runs at most once per `fullSweepEvery` new keys. */
  private readonly fullSweepEvery: number;
  private newKeysSinceFullSweep: number;

  constructor(options: MemoryRateLimiterOptions) {
    const maxKeys = options.maxKeys ?? 1_000_000;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
      throw new TypeError(`maxKeys must be a positive integer, got ${String(maxKeys)}`);
    }
    this.clock = options.clock;
    this.maxKeys = maxKeys;
    this.fullSweepEvery = Math.ceil(maxKeys / 10);
    this.newKeysSinceFullSweep = this.fullSweepEvery;
  }

  /** Number of keys currently holding state. */
  get size(): number {
    return this.tats.size;
  }

  consumeSync(key: string, policy: RateLimitPolicy): RateLimitDecision {
    const now = this.clock.now();
    const storedTat = this.tats.get(key);
    const { decision, newTat } = decide(policy, storedTat, now);
    if (newTat !== undefined) {
      if (storedTat === undefined) {
        this.tats.set(key, newTat);
        this.afterNewKey(now);
      } else {
        // Re-insert rather than overwrite so eviction hits idle keys, not long-lived busy ones.
        this.tats.delete(key);
        this.tats.set(key, newTat);
      }
    }
    return decision;
  }

  async consume(key: string, policy: RateLimitPolicy): Promise<RateLimitDecision> {
    return this.consumeSync(key, policy);
  }

  async reset(key: string): Promise<void> {
    this.tats.delete(key);
  }

  async close(): Promise<void> {
    this.tats.clear();
    this.sweepCursor = undefined;
  }

  private afterNewKey(now: number): void {
    this.sweepSome(now, SWEEP_STEPS_PER_NEW_KEY);
    if (this.tats.size <= this.maxKeys) return;
    if (++this.newKeysSinceFullSweep >= this.fullSweepEvery) {
      this.newKeysSinceFullSweep = 0;
      for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
    }
    for (const key of this.tats.keys()) {
      if (this.tats.size <= this.maxKeys) break;
      this.tats.delete(key);
    }
  }

  /** Advances a cursor that survives across calls (Map iterators tolerate mutation), dropping expired TATs. */
  private sweepSome(now: number, steps: number): void {
    this.sweepCursor ??= this.tats.entries();
    for (let i = 0; i < steps; i++) {
      const next = this.sweepCursor.next();
      if (next.done === true) {
        this.sweepCursor = undefined;
        return;
      }
      const [key, tat] = next.value;
      if (tat <= now) this.tats.delete(key);
    }
  }
}
