import { CachedTokenSource, type TokenCacheOptions } from './cached-token-source.js';
import { MetadataCache, type FetchLike } from './discover-metadata.js';
import { TokenStorageError } from './errors.js';
import { isUrl } from './is-url.js';
import { checkClientAuthentication, checkRetryOptions, requestToken, type ClientAuthMethod, type RetryOptions, type TokenSet } from './request-token.js';

/** Where the app keeps the current refresh token across restarts. */
export interface RefreshTokenStorage {
  /** The last saved refresh token, if any (it takes precedence over the `refreshToken` option). */
  load(): Promise<string | undefined>;
  /** Persists a rotated refresh token. Awaited before the new access token is handed out. */
  save(refreshToken: string): Promise<void>;
}

export interface RefreshingTokenClientOptions extends TokenCacheOptions {
  issuer: string;
  clientId: string;
  /** Absent for a public client (then `client_id` is sent in the body). */
  clientSecret?: string;
  /** The refresh token to start from; optional when `storage` holds one. */
  refreshToken?: string;
  storage?: RefreshTokenStorage;
  /** Narrows the scope of access tokens (never widens the grant). */
  scope?: string | string[];
  resource?: string | string[];
  authMethod?: ClientAuthMethod;
  tokenEndpoint?: string;
  fetch?: FetchLike;
  retry?: RetryOptions;
}

/**
 * Keeps a user's access token fresh with the refresh_token grant and refresh-token rotation: one refresh in
 * flight at a time; the rotated refresh token replaces the old one in memory before anything else can use it
 * (the old one is never sent again: Gatehouse treats reuse as theft and revokes the grant), and `storage.save()`
 * is awaited before the new access token is handed out. If save() fails, getToken() rejects with a
 * TokenStorageError; the new refresh token stays in memory and the next getToken() rotates and saves again.
 */
export class RefreshingTokenClient extends CachedTokenSource {
  readonly #options: RefreshingTokenClientOptions;
  readonly #metadata: MetadataCache;
  #refreshToken: string | undefined;
  #loaded = false;

  constructor(options: RefreshingTokenClientOptions) {
    super(options);
    if (!isUrl(options?.issuer)) throw new TypeError('issuer must be a URL');
    if (options.tokenEndpoint !== undefined && !isUrl(options.tokenEndpoint)) throw new TypeError('tokenEndpoint must be a URL');
    if (!options.refreshToken && !options.storage) throw new TypeError('refreshToken or storage is required');
    if (options.storage && (typeof options.storage.load !== 'function' || typeof options.storage.save !== 'function')) {
      throw new TypeError('storage must have load() and save()');
    }
    checkClientAuthentication(options);
    checkRetryOptions(options.retry);
    this.#options = { ...options };
    this.#metadata = new MetadataCache(options.issuer, options.fetch);
    this.#refreshToken = options.refreshToken;
  }

  /** The refresh token the next refresh will use (after the storage was loaded). */
  get refreshToken(): string | undefined {
    return this.#refreshToken;
  }

  protected async obtain(): Promise<TokenSet> {
    const options = this.#options;
    if (!this.#loaded && options.storage) {
      const stored = await options.storage.load();
      if (stored) this.#refreshToken = stored;
    }
    this.#loaded = true;
    const refreshToken = this.#refreshToken;
    if (!refreshToken) throw new TypeError('No refresh token: neither the refreshToken option nor storage.load() gave one');
    const endpoint = options.tokenEndpoint ?? (await this.#metadata.get()).token_endpoint;
    const tokens = await requestToken(
      endpoint,
      {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        scope: Array.isArray(options.scope) ? options.scope.join(' ') : options.scope,
        resource: options.resource,
      },
      { clientId: options.clientId, clientSecret: options.clientSecret, authMethod: options.authMethod },
      { fetch: options.fetch, retry: options.retry, now: this.now },
    );
    if (tokens.refreshToken && tokens.refreshToken !== refreshToken) {
      // The old token is spent the moment the server rotated it: replace it before anything can await.
      this.#refreshToken = tokens.refreshToken;
      if (options.storage) {
        try {
          await options.storage.save(tokens.refreshToken);
        } catch (cause) {
          throw new TokenStorageError('Saving the rotated refresh token failed; the new access token was not used', { cause });
        }
      }
    }
    return tokens;
  }
}
