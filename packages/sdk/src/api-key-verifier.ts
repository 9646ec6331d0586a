import type { RateLimitInfo } from './authentication-result.js';
import { UnavailableError, unreachable } from './unavailable-error.js';

/** The answer of `POST /v1/keys/verify` (docs/api-keys.md), the fields the SDK uses. */
export interface KeyVerification {
  valid: boolean;
  code: 'VALID' | 'NOT_FOUND' | 'INVALID_FORMAT' | 'REVOKED' | 'EXPIRED' | 'INSUFFICIENT_SCOPE' | 'RATE_LIMITED';
  keyId: string | null;
  tenantId: string | null;
  scopes: string[];
  expiresAt: string | null;
  rateLimit: RateLimitInfo | null;
}

/**
 * Gatehouse refused to verify because the end client's address (the `clientIp` sent along) is blocked after too
 * many failed authentications: `429 client_ip_blocked`. An answer about the client, not the key: never cached.
 */
export interface ClientIpBlocked {
  valid: false;
  code: 'IP_BLOCKED';
  /** Seconds until the block ends, from Gatehouse's Retry-After (when it was a sane positive integer). */
  retryAfterSeconds: number | undefined;
  rateLimit: null;
}

export type VerifyAnswer = KeyVerification | ClientIpBlocked;

export interface CachedKey {
  hash: string;
  /** Epoch milliseconds after which the entry is not used. */
  expiresAt: number;
  verification: KeyVerification;
}

export interface ApiKeyVerifierOptions {
  verifyUrl: string;
  verifierKey: string;
  fetch: typeof fetch;
  cacheTtlMs: number;
  now: () => number;
  timeoutMs: number;
  maxCacheEntries?: number;
}

interface Flight {
  hash: string;
  promise: Promise<VerifyAnswer>;
  /** Set when a revocation for this key arrived while the request was in flight: its answer is not cached. */
  stale: boolean;
}

/** The longest Retry-After taken from Gatehouse (its blocks last at most 30 days). */
const MAX_RETRY_AFTER_SECONDS = 30 * 86_400;

/** Seconds of a Retry-After given as delta-seconds (RFC 9110), when positive and sane; otherwise undefined. */
function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null || !/^\d{1,8}$/.test(value)) return undefined;
  const seconds = Number(value);
  return seconds >= 1 && seconds <= MAX_RETRY_AFTER_SECONDS ? seconds : undefined;
}

const CODES = new Set(['VALID', 'NOT_FOUND', 'INVALID_FORMAT', 'REVOKED', 'EXPIRED', 'INSUFFICIENT_SCOPE', 'RATE_LIMITED']);

function isVerification(body: any): body is KeyVerification {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof body.valid === 'boolean' &&
    CODES.has(body.code) &&
    Array.isArray(body.scopes) &&
    body.scopes.every((s: unknown) => typeof s === 'string') &&
    (body.keyId === null || typeof body.keyId === 'string') &&
    (body.tenantId === null || typeof body.tenantId === 'string') &&
    (body.rateLimit === null ||
      body.rateLimit === undefined ||
      (Number.isFinite(body.rateLimit.limit) &&
        Number.isFinite(body.rateLimit.remaining) &&
        Number.isFinite(body.rateLimit.reset) &&
        (body.rateLimit.retryAfter === undefined || (Number.isSafeInteger(body.rateLimit.retryAfter) && body.rateLimit.retryAfter >= 0))))
  );
}

/**
 * Verifies API keys through Gatehouse and caches the valid ones by the SHA-256 hex of the key.
 *
 * - Only VALID answers for keys without a rate limit are cached, for at most cacheTtlMs and never past the
 *   key's `expiresAt`. A key with a rate limit is verified on every use, because Gatehouse counts each
 *   verification against the limit: caching it would let a client exceed its limit.
 * - Concurrent lookups of one key with the same scopes, on behalf of the same client address, share one request
 *   (single flight). If that answer shows the key is rate limited, every caller but the first makes its own
 *   request, so each use is counted. Lookups for different clients never share one: each client's failed
 *   attempt must reach Gatehouse to be counted against that client (the cache of valid keys is per key alone).
 * - `clientIp` (already checked by forwardableClientIp) is sent along; Gatehouse's `429 client_ip_blocked` for it
 *   is the answer `IP_BLOCKED`, never cached. A 429 ip_blocked is about this server's own address (the verifier
 *   is refused): an UnavailableError like any other refusal of the verifier.
 * - `drop(hash)` (the revocation stream) removes the cached entry and keeps a request already in flight from
 *   caching its (possibly pre-revocation) answer.
 */
export class ApiKeyVerifier {
  readonly #options: ApiKeyVerifierOptions;
  readonly #cache = new Map<string, CachedKey>();
  readonly #flights = new Map<string, Flight>();
  readonly #maxEntries: number;

  constructor(options: ApiKeyVerifierOptions) {
    this.#options = options;
    this.#maxEntries = options.maxCacheEntries ?? 10_000;
  }

  get size(): number {
    return this.#cache.size;
  }

  /** The cached verification of a key, if still fresh. */
  cached(hash: string, now: number): CachedKey | undefined {
    const entry = this.#cache.get(hash);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now) return entry;
    this.#cache.delete(hash);
    return undefined;
  }

  drop(hash: string): void {
    this.#cache.delete(hash);
    for (const flight of this.#flights.values()) if (flight.hash === hash) flight.stale = true;
  }

  clear(): void {
    this.#cache.clear();
    for (const flight of this.#flights.values()) flight.stale = true;
  }

  /**
   * Asks Gatehouse (sharing an identical request in flight) on behalf of `clientIp` when given; caches a
   * cacheable VALID answer.
   */
  async verify(
    key: string,
    hash: string,
    scopes: readonly string[],
    clientIp?: string,
  ): Promise<{ verification: VerifyAnswer; cached?: CachedKey; shared?: true }> {
    // The address comes first: it has no space, and a 64-hex hash is never an address, so keys cannot collide.
    const flightKey =
      (clientIp === undefined ? '' : `${clientIp} `) + (scopes.length === 0 ? hash : `${hash} ${[...scopes].sort().join(' ')}`);
    const shared = this.#flights.get(flightKey);
    if (shared) {
      const verification = await shared.promise;
      // Metered key: this use must be counted by Gatehouse too.
      if (verification.rateLimit) return { verification: await this.#request(key, scopes, clientIp) };
      // Answered by another caller's request: Gatehouse counted that one, not this one.
      return { verification, shared: true };
    }
    const flight: Flight = { hash, stale: false, promise: this.#request(key, scopes, clientIp) };
    this.#flights.set(flightKey, flight);
    let verification: VerifyAnswer;
    try {
      verification = await flight.promise;
    } finally {
      // In the same synchronous step as the caching decision below, so no revocation can slip in between.
      this.#flights.delete(flightKey);
    }
    if (flight.stale || verification.code !== 'VALID' || verification.rateLimit || this.#options.cacheTtlMs <= 0) {
      return { verification };
    }
    const now = this.#options.now();
    let expiresAt = now + this.#options.cacheTtlMs;
    if (verification.expiresAt) {
      const keyExpiry = Date.parse(verification.expiresAt);
      if (Number.isFinite(keyExpiry)) expiresAt = Math.min(expiresAt, keyExpiry);
    }
    if (expiresAt <= now) return { verification };
    const entry: CachedKey = { hash, expiresAt, verification };
    this.#cache.delete(hash);
    if (this.#cache.size >= this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(hash, entry);
    return { verification, cached: entry };
  }

  async #request(key: string, scopes: readonly string[], clientIp: string | undefined): Promise<VerifyAnswer> {
    const { verifyUrl, verifierKey, timeoutMs } = this.#options;
    const input: { key: string; scopes?: readonly string[]; clientIp?: string } = { key };
    if (scopes.length > 0) input.scopes = scopes;
    if (clientIp !== undefined) input.clientIp = clientIp;
    let response: Response;
    try {
      const fetchImpl = this.#options.fetch; // called unbound: browsers refuse window.fetch with another `this`
      response = await fetchImpl(verifyUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${verifierKey}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(input),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw unreachable('key verification', verifyUrl, error);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new UnavailableError(`key verification: HTTP ${response.status} with an unreadable body`, { cause: error });
    }
    if (response.status !== 200) {
      const code = (body as { error?: unknown })?.error;
      // The client's block, not this server's (that one is ip_blocked): only ever an answer on behalf of a client.
      if (response.status === 429 && code === 'client_ip_blocked' && clientIp !== undefined) {
        return { valid: false, code: 'IP_BLOCKED', retryAfterSeconds: retryAfterSeconds(response.headers.get('retry-after')), rateLimit: null };
      }
      throw new UnavailableError(`key verification: HTTP ${response.status}${typeof code === 'string' ? ` ${code}` : ''}`);
    }
    if (!isVerification(body)) throw new UnavailableError('key verification: unexpected answer');
    if (body.rateLimit === undefined) body.rateLimit = null;
    return body;
  }
}
