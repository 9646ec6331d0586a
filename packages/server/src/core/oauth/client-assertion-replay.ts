import type { Clock } from '../clock.js';

/**
 * The `jti` of every RFC 7523 client assertion (private_key_jwt) accepted, kept until the assertion expires, so
 * that each is used once (RFC 7523 section 3, item 7). Per process and bounded: assertions live at most
 * MAX_CLIENT_ASSERTION_LIFETIME_SECONDS, and when the cache is full of live entries new assertions are refused
 * (failing closed) rather than old ones forgotten.
 */
export class ClientAssertionReplay {
  readonly #seen = new Map<string, number>();

  constructor(private readonly deps: { clock: Clock; maxEntries?: number }) {}

  /** Records the assertion; false when it was seen before (a replay) or cannot be recorded. */
  firstUse(clientId: string, jti: string, expiresAt: number): boolean {
    const now = this.deps.clock.now();
    const key = `${clientId} ${jti}`;
    const seen = this.#seen.get(key);
    if (seen !== undefined && seen > now) return false;
    const max = this.deps.maxEntries ?? 100_000;
    if (this.#seen.size >= max) {
      for (const [k, expiry] of this.#seen) if (expiry <= now) this.#seen.delete(k);
      if (this.#seen.size >= max) return false;
    }
    this.#seen.set(key, expiresAt);
    return true;
  }
}
