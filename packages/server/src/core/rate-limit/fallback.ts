import type { RateLimitDecision, RateLimitPolicy } from './decide.js';
import type { RateLimiter } from './rate-limiter.js';

export interface FallbackRateLimiterOptions {
  /** The shared limiter (Redis). */
  primary: RateLimiter;
  /** This process's own limiter (in memory), used while the primary cannot answer. */
  fallback: RateLimiter;
  /** Whether an error of the primary means it is unavailable (then the fallback decides); others are thrown. */
  isUnavailable(error: unknown): boolean;
  /** Called for every decision the fallback takes. */
  onFallback?(): void;
}

/**
 * A limiter that must not stop the calls it limits when its storage is down: the management API's per-admin-key
 * limit, which guards the very calls (revoke, leaked-key reports) an operator needs most while Redis is down.
 * Each decision goes to the primary; when the primary is unavailable (down, or hung past its command timeout),
 * the fallback decides, per process: across a cluster of N processes an admin key may then make up to N times
 * its limit. `active` says whether the last decision was the fallback's.
 */
export class FallbackRateLimiter implements RateLimiter {
  #active = false;

  constructor(private readonly options: FallbackRateLimiterOptions) {}

  /** Whether the latest decision was taken by the fallback (the primary was unavailable). */
  get active(): boolean {
    return this.#active;
  }

  async consume(key: string, policy: RateLimitPolicy): Promise<RateLimitDecision> {
    try {
      const decision = await this.options.primary.consume(key, policy);
      this.#active = false;
      return decision;
    } catch (error) {
      if (!this.options.isUnavailable(error)) throw error;
      this.#active = true;
      this.options.onFallback?.();
      return this.options.fallback.consume(key, policy);
    }
  }

  async reset(key: string): Promise<void> {
    await this.options.fallback.reset(key);
    await this.options.primary.reset(key);
  }

  async close(): Promise<void> {
    await this.options.fallback.close();
    await this.options.primary.close();
  }
}
