// Rate limiting uses GCRA (generic cell rate algorithm). It needs one number of state per key (the
// theoretical arrival time, TAT); it smooths exactly, without the boundary bursts of fixed windows;
// it keeps no per-request log as a sliding log does; and each decision is one atomic
// compare-and-set, which in Redis is a tiny Lua script.

export interface RateLimitPolicy {
  limit: number;
  windowSeconds: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Requests still allowed right now, after this one. */
  remaining: number;
  /** Whole seconds (ceil) until the full limit is available again. */
  resetSeconds: number;
  /** 0 when allowed; otherwise whole seconds (ceil, >= 1) until the next request would be allowed. */
  retryAfterSeconds: number;
}

/**
 * T is rounded down to a multiple of 2^-11 ms (~0.5 µs). Then every TAT below 2^42 ms (the year
 * 2109) lies on that grid and is exactly representable, so TAT arithmetic never rounds: a burst at
 * one instant admits exactly `limit`, and a retry exactly T later is admitted. Unrounded, six
 * additions of 1000/6 ms onto a 2026 timestamp overshoot by a few ulps and deny the sixth request of
 * a 6-per-second burst. The cost: requests may arrive under 0.5 µs early, and a burst may admit
 * about limit² / (2048 × windowMs) extra requests, which reaches one only above ~1,400/s or
 * ~11,000/min.
 */
const GRID_PER_MS = 2048;

export interface GcraParameters {
  windowMs: number;
  /** T: the spacing of requests at the sustained rate. */
  emissionIntervalMs: number;
  /** A request is allowed iff max(TAT, now) - now <= maxDelayMs (GCRA's delay variation tolerance). */
  maxDelayMs: number;
}

export function gcraParameters(policy: RateLimitPolicy): GcraParameters {
  const windowMs = policy.windowSeconds * 1000;
  const emissionIntervalMs = Math.floor((windowMs * GRID_PER_MS) / policy.limit) / GRID_PER_MS;
  return { windowMs, emissionIntervalMs, maxDelayMs: windowMs - emissionIntervalMs };
}

export function decide(
  policy: RateLimitPolicy,
  storedTat: number | undefined,
  nowMs: number,
): { decision: RateLimitDecision; newTat: number | undefined /* undefined = leave state unchanged */ } {
  const { emissionIntervalMs, maxDelayMs } = gcraParameters(policy);
  const tat = Math.max(storedTat ?? nowMs, nowMs);
  if (tat - nowMs > maxDelayMs) {
    return { decision: decisionFromState(policy, false, tat, nowMs), newTat: undefined };
  }
  const newTat = tat + emissionIntervalMs;
  return { decision: decisionFromState(policy, true, newTat, nowMs), newTat };
}

/**
 * Builds the decision from its outcome and the TAT in force afterwards (the new TAT when allowed,
 * the unchanged one when denied). Split out so backends that decide elsewhere (the Redis script)
 * share this arithmetic.
 */
export function decisionFromState(
  policy: RateLimitPolicy,
  allowed: boolean,
  tat: number,
  nowMs: number,
): RateLimitDecision {
  const { windowMs, emissionIntervalMs, maxDelayMs } = gcraParameters(policy);
  const delayMs = Math.max(0, tat - nowMs);
  const remaining = Math.max(0, Math.floor((windowMs - delayMs) / emissionIntervalMs));
  return {
    allowed,
    limit: policy.limit,
    remaining,
    resetSeconds: Math.ceil(delayMs / 1000),
    // Denied means delayMs > maxDelayMs, so this is >= 1.
    retryAfterSeconds: allowed ? 0 : Math.ceil((delayMs - maxDelayMs) / 1000),
  };
}

/** Throws at setup time, so the hot path need not validate. */
export function assertValidPolicy(policy: RateLimitPolicy): void {
  for (const field of ['limit', 'windowSeconds'] as const) {
    const value: unknown = policy[field];
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw new TypeError(`rate limit ${field} must be a positive integer, got ${String(value)}`);
    }
  }
  if (gcraParameters(policy).emissionIntervalMs === 0) {
    throw new TypeError(`rate limit ${policy.limit} per ${policy.windowSeconds}s is too fine to enforce`);
  }
}
