import type { Clock } from '../clock.js';
import { GatehouseError } from '../errors.js';
import type { AlertInput } from './alerts.js';
import type { DetectionCounters } from './counters.js';
import { windowOf } from './counters.js';

/** What the n-th unknown token of a caller in a window calls for: one alert when the limit is first exceeded. */
export function unknownTokenVerdict(count: number, limit: number): 'none' | 'alert_and_limit' | 'limit' {
  if (count === limit + 1) return 'alert_and_limit';
  return count > limit ? 'limit' : 'none';
}

export interface UnknownTokenLimitOptions {
  counters: DetectionCounters;
  clock: Clock;
  /** More unknown tokens than this in a window and the caller is refused (429) until the window ends. */
  limit: number;
  windowSeconds: number;
  alert(input: AlertInput): void;
  onError(message: string, error: unknown): void;
}

/**
 * Counts the unknown tokens (neither issued by Gatehouse nor ever valid: forged, malformed, random, or a refresh
 * token it has no record of) an authenticated caller presents at the introspection and revocation endpoints, per
 * caller and fixed window (in Redis in cluster mode, so every process adds to one count). Past the limit, the
 * caller is answered 429 `rate_limited` at both endpoints until the window ends: the request that exceeds it, and,
 * on every process that has seen that, any later one. A single unknown token still gets its RFC 7009 200 or its
 * RFC 7662 `{"active": false}`; counting is silent. A counting failure (Redis down) is reported and lets the
 * request through: this limit slows guessing, it guards nothing that a missed count would open.
 */
export class UnknownTokenLimit {
  /** Callers over the limit, until the end of their window (epoch ms). */
  readonly #limited = new Map<string, number>();

  constructor(private readonly options: UnknownTokenLimitOptions) {}

  /** Throws 429 rate_limited (with Retry-After) while `caller` is over the limit in this process's view. */
  check(caller: string): void {
    const until = this.#limited.get(caller);
    if (until === undefined) return;
    const now = this.options.clock.now();
    if (until <= now) {
      this.#limited.delete(caller);
      return;
    }
    throw this.#error(until, now);
  }

  /** Counts one unknown token of `caller`; throws 429 when it exceeds the limit. */
  async count(caller: string, details: Record<string, unknown>): Promise<void> {
    const { counters, clock, limit, windowSeconds } = this.options;
    const windowMs = windowSeconds * 1000;
    let count: number;
    try {
      count = await counters.increment(`unknown-token:${caller}`, windowMs);
    } catch (error) {
      this.options.onError('an unknown token could not be counted', error);
      return;
    }
    const verdict = unknownTokenVerdict(count, limit);
    if (verdict === 'none') return;
    const now = clock.now();
    const until = (windowOf(now, windowMs) + 1) * windowMs;
    this.#limited.set(caller, until);
    if (this.#limited.size > 100_000) this.#limited.delete(this.#limited.keys().next().value!);
    if (verdict === 'alert_and_limit') {
      this.options.alert({
        type: 'alert.unknown_tokens',
        cause: caller,
        reason: 'unknown_tokens',
        details: { ...details, unknownTokens: count, limit, windowSeconds },
      });
    }
    throw this.#error(until, now);
  }

  #error(until: number, now: number): GatehouseError {
    const retryAfter = Math.max(1, Math.ceil((until - now) / 1000));
    return new GatehouseError('rate_limited', 'Too many unknown tokens; retry after the time in Retry-After.', { headers: { 'retry-after': String(retryAfter) } });
  }
}
