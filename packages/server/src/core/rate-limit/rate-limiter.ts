import type { RateLimitDecision, RateLimitPolicy } from './decide.js';

export interface RateLimiter {
  /** Consumes one request for `key` under `policy`. Throws only on infrastructure failure (e.g. Redis down). */
  consume(key: string, policy: RateLimitPolicy): Promise<RateLimitDecision>;
  /** Removes all state for a key (e.g. when a key is deleted). */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}
