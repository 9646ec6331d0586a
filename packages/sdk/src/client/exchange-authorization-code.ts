import { discoverMetadata, type FetchLike } from './discover-metadata.js';
import { AuthorizationResponseError } from './errors.js';
import { isUrl } from './is-url.js';
import { checkClientAuthentication, checkRetryOptions, requestToken, type ClientAuthMethod, type RetryOptions, type TokenSet } from './request-token.js';

/**
 * Reads the redirect back from the authorization endpoint: checks `state` and, when the server sent it or
 * `issuer` is given, `iss` (RFC 9207, against mix-up attacks), and returns the code. An `error` in the
 * redirect (e.g. access_denied) becomes an AuthorizationResponseError with that code.
 */
export function parseAuthorizationResponse(callbackUrl: string | URL, expected: { state?: string; issuer?: string }): string {
  const params = new URL(callbackUrl).searchParams;
  if ((params.get('state') ?? undefined) !== expected.state) throw new AuthorizationResponseError('state_mismatch');
  const iss = params.get('iss');
  if (expected.issuer !== undefined && iss !== null && iss !== expected.issuer) throw new AuthorizationResponseError('issuer_mismatch');
  const error = params.get('error');
  if (error) throw new AuthorizationResponseError(error, params.get('error_description') ?? undefined);
  const code = params.get('code');
  if (!code) throw new AuthorizationResponseError('missing_code');
  return code;
}

export interface ExchangeAuthorizationCodeOptions {
  issuer?: string;
  tokenEndpoint?: string;
  clientId: string;
  clientSecret?: string;
  authMethod?: ClientAuthMethod;
  code: string;
  redirectUri: string;
  /** The PKCE verifier of the pair whose challenge started the flow. */
  codeVerifier: string;
  resource?: string | string[];
  fetch?: FetchLike;
  /** Default: one attempt. A code is single-use, so a retry after a lost response would fail anyway. */
  retry?: RetryOptions;
}

/** Redeems an authorization code with its PKCE verifier at the token endpoint (RFC 6749 4.1.3, RFC 7636 4.5). */
export async function exchangeAuthorizationCode(options: ExchangeAuthorizationCodeOptions): Promise<TokenSet> {
  checkClientAuthentication(options);
  checkRetryOptions(options.retry);
  if (!options.code) throw new TypeError('code is required');
  if (!options.codeVerifier) throw new TypeError('codeVerifier is required');
  let endpoint = options.tokenEndpoint;
  if (endpoint === undefined) {
    if (!isUrl(options.issuer)) throw new TypeError('issuer or tokenEndpoint is required');
    endpoint = (await discoverMetadata(options.issuer, options.fetch ? { fetch: options.fetch } : {})).token_endpoint;
  }
  return requestToken(
    endpoint,
    {
      grant_type: 'authorization_code',
      code: options.code,
      redirect_uri: options.redirectUri,
      code_verifier: options.codeVerifier,
      resource: options.resource,
    },
    { clientId: options.clientId, clientSecret: options.clientSecret, authMethod: options.authMethod },
    { fetch: options.fetch, retry: options.retry ?? { attempts: 1 } },
  );
}
