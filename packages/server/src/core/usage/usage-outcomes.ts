import { VERIFY_CODES } from '../api-keys/verify-api-key.js';

/**
 * Every outcome a usage counter can count, stored as its index in this list (a small integer): the order is
 * part of the stored format and only ever grows at the end.
 * - API keys: the verification codes of verifyApiKey (VERIFY_CODES). NOT_FOUND and INVALID_FORMAT name no key,
 *   so they are never counted per credential (the audit log and Prometheus keep them).
 * - OAuth clients: TOKEN_ISSUED (a successful client_credentials grant) and TOKEN_INTROSPECTED (an introspection
 *   that found one of the client's tokens active).
 */
export const USAGE_OUTCOMES = [...VERIFY_CODES, 'TOKEN_ISSUED', 'TOKEN_INTROSPECTED'] as const;
export type UsageOutcome = (typeof USAGE_OUTCOMES)[number];

const CODE_OF = new Map<string, number>(USAGE_OUTCOMES.map((outcome, index) => [outcome, index]));

/** The stored code of an outcome. */
export function usageOutcomeCode(outcome: UsageOutcome): number {
  return CODE_OF.get(outcome)!;
}

/** The outcome a stored code stands for; undefined for a code this version does not know. */
export function usageOutcomeOf(code: number): UsageOutcome | undefined {
  return USAGE_OUTCOMES[code];
}

/** The outcomes that count as a use of the credential (they move an API key's lastUsedAt forward). */
export const SUCCESS_OUTCOMES: ReadonlySet<UsageOutcome> = new Set(['VALID', 'TOKEN_ISSUED', 'TOKEN_INTROSPECTED']);

/**
 * Upper bounds (inclusive, microseconds) of the latency histogram's buckets; the last bucket takes the rest.
 * Fixed, so histograms of different processes and periods merge by adding bucket by bucket.
 */
export const LATENCY_BUCKET_BOUNDS_US = [100, 1_000, 10_000, 100_000, 1_000_000] as const;
export const LATENCY_BUCKETS = LATENCY_BUCKET_BOUNDS_US.length + 1;

export function latencyBucket(latencyUs: number): number {
  for (let i = 0; i < LATENCY_BUCKET_BOUNDS_US.length; i++) if (latencyUs <= LATENCY_BUCKET_BOUNDS_US[i]!) return i;
  return LATENCY_BUCKET_BOUNDS_US.length;
}

export const MINUTE_MS = 60_000;
export const MINUTES_PER_HOUR = 60;
export const MINUTES_PER_DAY = 1_440;

/** The minute number (minutes since the epoch) of a time in milliseconds. */
export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS);
