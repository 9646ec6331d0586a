/**
 * When to try a failed delivery again: exponential backoff with jitter, within the delivery's retry window, and
 * never sooner than the receiver asked (Retry-After, capped). Pure: time and randomness are passed in.
 */
export interface RetryPolicy {
  /** The nominal delay after the first failure; it doubles with each further failure. */
  baseDelayMs: number;
  /** The nominal delay stops growing here. */
  maxDelayMs: number;
  /** A Retry-After longer than this is cut to it. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 10_000,
  maxDelayMs: 4 * 3_600_000,
  maxRetryAfterMs: 3_600_000,
};

/**
 * The delay after `failedAttempts` failures (1 = after the first): "equal jitter", half the nominal delay fixed
 * and half random, so a burst of failures (a receiver's outage) does not come back as a burst.
 */
export function retryDelayMs(failedAttempts: number, random: () => number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  const nominal = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(failedAttempts - 1, 30));
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}

/** Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date, in ms from `now`; undefined if unusable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/**
 * The time of the next attempt after a failure, or undefined when the retry window (`deadlineAt`) is over.
 * A retry that would fall after the deadline is made at the deadline: the last attempt comes at the window's end.
 */
export function nextAttemptAt(input: {
  now: number;
  failedAttempts: number;
  deadlineAt: number;
  retryAfterMs?: number | undefined;
  random: () => number;
  policy?: RetryPolicy;
}): number | undefined {
  const policy = input.policy ?? DEFAULT_RETRY_POLICY;
  if (input.now >= input.deadlineAt) return undefined;
  let delay = retryDelayMs(input.failedAttempts, input.random, policy);
  if (input.retryAfterMs !== undefined) delay = Math.max(delay, Math.min(input.retryAfterMs, policy.maxRetryAfterMs));
  return Math.min(input.now + delay, input.deadlineAt);
}
