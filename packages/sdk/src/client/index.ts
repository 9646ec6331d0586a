export { buildAuthorizationUrl, type AuthorizationUrlOptions } from './build-authorization-url.js';
export type { TokenCacheOptions } from './cached-token-source.js';
export { ClientCredentialsClient, type ClientCredentialsClientOptions } from './client-credentials-client.js';
export { createPkcePair, pkceChallenge, randomToken, type PkcePair } from './create-pkce-pair.js';
export { discoverMetadata, type AuthorizationServerMetadata, type FetchLike } from './discover-metadata.js';
export {
  AuthorizationResponseError,
  DiscoveryError,
  TokenRequestError,
  TokenStorageError,
  type AuthorizationResponseErrorCode,
  type DiscoveryErrorCode,
  type TokenRequestErrorCode,
} from './errors.js';
export { exchangeAuthorizationCode, parseAuthorizationResponse, type ExchangeAuthorizationCodeOptions } from './exchange-authorization-code.js';
export { RefreshingTokenClient, type RefreshingTokenClientOptions, type RefreshTokenStorage } from './refreshing-token-client.js';
export { requestToken, type ClientAuthentication, type ClientAuthMethod, type RetryOptions, type TokenRequestOptions, type TokenSet } from './request-token.js';
