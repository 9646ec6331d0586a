import type { Clock } from '../clock.js';

/**
 * Counts of events per key in fixed windows (failed authentications per IP, failed logins per account).
 * In memory for one process; in Redis for a cluster, where every process adds to the same count, so exactly one
 * increment sees a threshold crossed. Throws only on infrastructure failure.
 */
export interface DetectionCounters {
  /** Adds one to `key`'s count in the current window of `windowMs`; resolves to the new count. */
  increment(key: string, windowMs: number): Promise<number>;
  /** The count in the current window, 0 when none. */
  get(key: string, windowMs: number): Promise<number>;
  /** Forgets `key`'s count in the current window. */
  reset(key: string, windowMs: number): Promise<void>;
}

/** The window a time falls in; counts are kept per (key, window). */
export const windowOf = (now: number, windowMs: number): number => Math.floor(now / windowMs);

interface Entry {
  window: number;
  count: number;
}

/** One process. Bounded: beyond `maxKeys` the least recently counted keys are forgotten. */
export class MemoryCounters implements DetectionCounters {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly maxKeys = 100_000,
  ) {}

  async increment(key: string, windowMs: number): Promise<number> {
    const window = windowOf(this.clock.now(), windowMs);
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    const next = entry && entry.window === window ? { window, count: entry.count + 1 } : { window, count: 1 };
    this.#entries.set(key, next);
    if (this.#entries.size > this.maxKeys) this.#entries.delete(this.#entries.keys().next().value!);
    return next.count;
  }

  async get(key: string, windowMs: number): Promise<number> {
    const entry = this.#entries.get(key);
    return entry && entry.window === windowOf(this.clock.now(), windowMs) ? entry.count : 0;
  }

  async reset(key: string): Promise<void> {
    this.#entries.delete(key);
  }
}
