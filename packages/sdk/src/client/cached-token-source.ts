import type { FetchLike } from './discover-metadata.js';
import { TokenRequestError } from './errors.js';
import type { TokenSet } from './request-token.js';

/** Options shared by the token clients for caching. */
export interface TokenCacheOptions {
  /** Get a new token this many seconds before the cached one expires (default 60; at most half its lifetime). */
  refreshBeforeExpirySeconds?: number;
  /** The client's clock in milliseconds (default Date.now). Tests may inject one. */
  now?: () => number;
}

/**
 * The caching core of the token clients: keeps the current token, gets a new one `refreshBeforeExpirySeconds`
 * before it expires, and shares one in-flight request among all concurrent callers. `fetch()` sends requests
 * with the token and retries once, with a fresh token, after a 401.
 */
export abstract class CachedTokenSource {
  #current: TokenSet | undefined;
  #inflight: Promise<TokenSet> | undefined;
  readonly #refreshBefore: number;
  readonly #fetch: FetchLike;
  protected readonly now: () => number;

  protected constructor(options: TokenCacheOptions & { fetch?: FetchLike | undefined }) {
    const refreshBefore = options.refreshBeforeExpirySeconds ?? 60;
    if (!Number.isFinite(refreshBefore) || refreshBefore < 0) throw new TypeError('refreshBeforeExpirySeconds must be a non-negative number');
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('now must be a function');
    if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new TypeError('fetch must be a function');
    this.#refreshBefore = refreshBefore * 1000;
    this.now = options.now ?? Date.now;
    // Resolved at call time so a polyfill installed later is used, and bound so browsers accept the call.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Gets a token from the authorization server. Called by at most one caller at a time. */
  protected abstract obtain(): Promise<TokenSet>;

  /** The current access token, from the cache when it is not about to expire. */
  async getToken(): Promise<string> {
    return (await this.getTokenSet()).accessToken;
  }

  /** The whole current token response (scope, expiry, ...), from the cache when it is not about to expire. */
  async getTokenSet(): Promise<TokenSet> {
    const current = this.#current;
    if (current && !this.#isDue(current)) return current;
    try {
      return await this.#refresh();
    } catch (error) {
      // A proactive refresh that failed for a passing reason (5xx, network) leaves a still-valid token usable.
      if (current && error instanceof TokenRequestError && error.retryable && this.now() < current.expiresAt && this.#current === current) {
        return current;
      }
      throw error;
    }
  }

  /**
   * Forgets the cached access token so the next getToken() gets a new one. With `accessToken`, only if that is
   * still the cached one (a token another caller already replaced is left alone).
   */
  invalidate(accessToken?: string): void {
    if (accessToken === undefined || this.#current?.accessToken === accessToken) this.#current = undefined;
  }

  /**
   * `fetch` with `Authorization: Bearer <token>`. After a 401 it gets a fresh token and sends the request once
   * more, if its body can be sent again (none, a string, URLSearchParams, an ArrayBuffer or view, a Blob or
   * FormData; not a stream). Other responses, and a second 401, are returned as they are.
   */
  async fetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const replayable = canReplay(input, init);
    const send = this.#fetch; // called unbound: a browser's window.fetch refuses another `this`
    const token = await this.getToken();
    const response = await send(...withBearer(input, init, token));
    if (response.status !== 401 || !replayable) return response;
    await response.body?.cancel().catch(() => {});
    this.invalidate(token);
    const fresh = await this.getToken();
    return send(...withBearer(input, init, fresh));
  }

  /** The cached token set, if any, without any request (for inspection). */
  protected get current(): TokenSet | undefined {
    return this.#current;
  }

  #isDue(tokens: TokenSet): boolean {
    const lifetime = tokens.expiresIn !== undefined ? tokens.expiresIn * 1000 : Infinity;
    return this.now() >= tokens.expiresAt - Math.min(this.#refreshBefore, lifetime / 2);
  }

  #refresh(): Promise<TokenSet> {
    if (!this.#inflight) {
      const inflight = this.obtain().then(
        (tokens) => {
          this.#current = tokens;
          return tokens;
        },
      );
      this.#inflight = inflight;
      const clear = () => {
        if (this.#inflight === inflight) this.#inflight = undefined;
      };
      inflight.then(clear, clear);
    }
    return this.#inflight;
  }
}

function canReplay(input: string | URL | Request, init: RequestInit): boolean {
  const body = init.body ?? (typeof Request !== 'undefined' && input instanceof Request ? input.body : null);
  if (body === null || body === undefined) return true;
  if (typeof body === 'string' || body instanceof URLSearchParams || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return true;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return true;
  if (typeof FormData !== 'undefined' && body instanceof FormData) return true;
  return false;
}

function withBearer(input: string | URL | Request, init: RequestInit, token: string): [string | URL | Request, RequestInit] {
  const headers = new Headers(init.headers ?? (typeof Request !== 'undefined' && input instanceof Request ? input.headers : undefined));
  headers.set('authorization', `Bearer ${token}`);
  if (typeof Request !== 'undefined' && input instanceof Request) return [new Request(input, { ...init, headers }), {}];
  return [input, { ...init, headers }];
}
