import { DEFAULT_TOLERANCE_SECONDS } from './webhook-scheme.js';

/**
 * Processes each delivery id once. `verifyWebhook` asks it only after a signature verified, so unsigned traffic
 * never reaches it. `seen` must check and record in one step (atomically, when it is shared between processes:
 * e.g. Redis `SET id 1 NX EX <ttl>`, seen = the SET did nothing).
 */
export interface ReplayGuard {
  /** `true` when `id` was recorded before (a replay); otherwise records it and answers `false`. */
  seen(id: string): boolean | Promise<boolean>;
  /**
   * Forgets `id` again: the receiver failed to process the delivery, so the sender's retry (same id) must be let
   * through. The SDK's Fastify and Express helpers call it when the response is not a 2xx.
   */
  forget?(id: string): void | Promise<void>;
}

export interface ReplayGuardOptions {
  /**
   * How long an id is remembered. Default: twice the default tolerance (600 s): a delivery stamped up to the
   * tolerance in the future stays acceptable for two tolerances after it first arrives, and no longer.
   */
  ttlSeconds?: number;
  /** At most this many ids are kept (default 100,000); beyond, the oldest are dropped first. */
  maxEntries?: number;
  /** The clock in milliseconds (tests). Default `Date.now`. */
  now?: () => number;
}

/** The in-memory replay guard of one process, also with `size` for metrics. Bounded in time and in entries. */
export interface MemoryReplayGuard extends ReplayGuard {
  seen(id: string): boolean;
  forget(id: string): void;
  readonly size: number;
}

/**
 * An in-memory `ReplayGuard`. Ids expire after `ttlSeconds`, and at most `maxEntries` are kept. It protects one
 * process; several receiver processes behind a load balancer need a shared guard (a database or Redis).
 */
export function createReplayGuard(options: ReplayGuardOptions = {}): MemoryReplayGuard {
  const { ttlSeconds = DEFAULT_TOLERANCE_SECONDS * 2, maxEntries = 100_000, now = Date.now } = options;
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError('createReplayGuard: ttlSeconds must be a positive number');
  }
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('createReplayGuard: maxEntries must be a positive integer');
  if (typeof now !== 'function') throw new TypeError('createReplayGuard: now must be a function');
  const ttlMs = ttlSeconds * 1000;
  // id -> expiry (ms). Insertion order is expiry order (one ttl for all), so expired ids are at the front.
  const expiries = new Map<string, number>();

  return {
    seen(id) {
      const at = now();
      for (const [oldest, expires] of expiries) {
        if (expires > at) break;
        expiries.delete(oldest);
      }
      const expires = expiries.get(id);
      if (expires !== undefined && expires > at) return true;
      expiries.delete(id);
      if (expiries.size >= maxEntries) expiries.delete(expiries.keys().next().value!);
      expiries.set(id, at + ttlMs);
      return false;
    },
    forget(id) {
      expiries.delete(id);
    },
    get size() {
      return expiries.size;
    },
  };
}
