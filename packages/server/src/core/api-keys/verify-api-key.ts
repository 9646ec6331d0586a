import type { ApiKeyRecord } from '../../storage/stores.js';
import type { Clock } from '../clock.js';
import type { RateLimitDecision } from '../rate-limit/decide.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import { hashApiKey } from './hash-key.js';
import { parseApiKey } from './key-format.js';
import { keyStatus } from './key-status.js';

export const VERIFY_CODES = [
  'VALID',
  'NOT_FOUND',
  'INVALID_FORMAT',
  'REVOKED',
  'EXPIRED',
  'RATE_LIMITED',
  'INSUFFICIENT_SCOPE',
] as const;
export type VerifyCode = (typeof VERIFY_CODES)[number];

/** A denial is data: the result says why. Only an infrastructure failure throws. */
export type ApiKeyVerification =
  | { valid: true; code: 'VALID'; key: ApiKeyRecord; rateLimit: RateLimitDecision | null }
  | {
      valid: false;
      code: Exclude<VerifyCode, 'VALID'>;
      /** The key when it was found (for the audit log); never shown to a failing caller. */
      key: ApiKeyRecord | null;
      /** Display prefix of a well-formed key, found or not. */
      displayPrefix: string | null;
      rateLimit: RateLimitDecision | null;
    };

export interface VerifyApiKeyDeps {
  keys: { peek(hash: string): ApiKeyRecord | undefined; load(hash: string): Promise<ApiKeyRecord | undefined> };
  /** Null: do not consume the key's rate limit (e.g. for the management API's own authentication). */
  rateLimiter: RateLimiter | null;
  clock: Clock;
}

export interface VerifyApiKeyInput {
  key: string;
  /** Scopes the key must all hold. */
  scopes?: readonly string[] | undefined;
  /** When set (a tenant's verifier), keys of any other tenant are treated as unknown. */
  tenantId?: string | null | undefined;
}

/**
 * Verifies a presented key. Synchronous when the answer needs no I/O (malformed, or cached and without a
 * rate limit: the hot path); a promise when the key must be loaded or its rate limit consumed.
 */
export function verifyApiKey(
  deps: VerifyApiKeyDeps,
  input: VerifyApiKeyInput,
): ApiKeyVerification | Promise<ApiKeyVerification> {
  const parsed = parseApiKey(input.key);
  if (!parsed.ok) return { valid: false, code: 'INVALID_FORMAT', key: null, displayPrefix: null, rateLimit: null };
  const hash = hashApiKey(input.key);
  const cached = deps.keys.peek(hash);
  if (cached !== undefined) return decide(deps, input, parsed.displayPrefix, cached);
  return deps.keys.load(hash).then((key) => decide(deps, input, parsed.displayPrefix, key));
}

function decide(
  deps: VerifyApiKeyDeps,
  input: VerifyApiKeyInput,
  displayPrefix: string,
  key: ApiKeyRecord | undefined,
): ApiKeyVerification | Promise<ApiKeyVerification> {
  if (!key || (typeof input.tenantId === 'string' && key.tenantId !== input.tenantId)) {
    return { valid: false, code: 'NOT_FOUND', key: null, displayPrefix, rateLimit: null };
  }
  const status = keyStatus(key, deps.clock.now());
  if (status === 'revoked') return { valid: false, code: 'REVOKED', key, displayPrefix, rateLimit: null };
  if (status === 'expired') return { valid: false, code: 'EXPIRED', key, displayPrefix, rateLimit: null };
  if (input.scopes && !input.scopes.every((scope) => key.scopes.includes(scope))) {
    return { valid: false, code: 'INSUFFICIENT_SCOPE', key, displayPrefix, rateLimit: null };
  }
  if (!key.rateLimit || !deps.rateLimiter) return { valid: true, code: 'VALID', key, rateLimit: null };
  return deps.rateLimiter
    .consume(`key:${key.id}`, key.rateLimit)
    .then((rateLimit): ApiKeyVerification =>
      rateLimit.allowed
        ? { valid: true, code: 'VALID', key, rateLimit }
        : { valid: false, code: 'RATE_LIMITED', key, displayPrefix, rateLimit },
    );
}
