import { CachedTokenSource, type TokenCacheOptions } from './cached-token-source.js';
import { MetadataCache, type FetchLike } from './discover-metadata.js';
import { isUrl } from './is-url.js';
import { checkClientAuthentication, checkRetryOptions, requestToken, type RetryOptions, type TokenSet } from './request-token.js';

export interface ClientCredentialsClientOptions extends TokenCacheOptions {
  /** The Gatehouse issuer URL; the token endpoint is discovered from its metadata unless `tokenEndpoint` is given. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes, or a list. Default: every scope the client is allowed. */
  scope?: string | string[];
  /** RFC 8707 resource indicator(s): the audience of the token. */
  resource?: string | string[];
  /** Default `client_secret_basic`. */
  authMethod?: 'client_secret_basic' | 'client_secret_post';
  tokenEndpoint?: string;
  /** The fetch used for discovery, the token endpoint and `client.fetch()` (default globalThis.fetch). */
  fetch?: FetchLike;
  retry?: RetryOptions;
}

/**
 * An OAuth 2.0 client-credentials client (RFC 6749 section 4.4) for service-to-service calls: caches the
 * access token, gets a new one 60 s before expiry, shares one token request among concurrent callers,
 * retries 5xx / network failures with backoff (never a 4xx such as invalid_client), and `fetch()` retries a
 * request once after a 401 with a fresh token.
 */
export class ClientCredentialsClient extends CachedTokenSource {
  readonly #options: ClientCredentialsClientOptions;
  readonly #metadata: MetadataCache;

  constructor(options: ClientCredentialsClientOptions) {
    super(options);
    if (typeof options?.issuer !== 'string' || !isUrl(options.issuer)) throw new TypeError('issuer must be a URL');
    if (!options.clientSecret) throw new TypeError('clientSecret is required');
    if (options.tokenEndpoint !== undefined && !isUrl(options.tokenEndpoint)) throw new TypeError('tokenEndpoint must be a URL');
    checkClientAuthentication(options);
    checkRetryOptions(options.retry);
    this.#options = { ...options };
    this.#metadata = new MetadataCache(options.issuer, options.fetch);
  }

  protected async obtain(): Promise<TokenSet> {
    const options = this.#options;
    const endpoint = options.tokenEndpoint ?? (await this.#metadata.get()).token_endpoint;
    return requestToken(
      endpoint,
      {
        grant_type: 'client_credentials',
        scope: Array.isArray(options.scope) ? options.scope.join(' ') : options.scope,
        resource: options.resource,
      },
      { clientId: options.clientId, clientSecret: options.clientSecret, authMethod: options.authMethod ?? 'client_secret_basic' },
      { fetch: options.fetch, retry: options.retry, now: this.now },
    );
  }
}
