import type { RateLimitDecision, RateLimitPolicy } from '../core/rate-limit/decide.js';

/**
 * Rate-limit response headers in both common forms: the de-facto X-RateLimit-* trio (Reset as Unix seconds,
 * as GitHub sends it) and the IETF httpapi RateLimit-Policy / RateLimit fields (reset as delta seconds).
 */
export function rateLimitHeaders(decision: RateLimitDecision, policy: RateLimitPolicy, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ratelimit-limit': String(decision.limit),
    'x-ratelimit-remaining': String(decision.remaining),
    'x-ratelimit-reset': String(Math.ceil(nowMs / 1000) + decision.resetSeconds),
    'ratelimit-policy': `"default";q=${policy.limit};w=${policy.windowSeconds}`,
    ratelimit: `"default";r=${decision.remaining};t=${decision.resetSeconds}`,
  };
  if (!decision.allowed) headers['retry-after'] = String(decision.retryAfterSeconds);
  return headers;
}
