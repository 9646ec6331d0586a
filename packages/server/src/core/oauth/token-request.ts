import type { RequestOrigin } from '../audit/audit-event.js';
import { OAuthError } from '../errors.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import type { OAuthClientView, OAuthDeps } from './oauth-deps.js';
import { param, type RequestParams } from './request-params.js';
import type { TokenResponse } from './token-minter.js';

export interface TokenRequest {
  /** The client, already authenticated by the token endpoint. */
  client: OAuthClientView;
  params: RequestParams;
  origin: RequestOrigin;
  /**
   * RFC 8705 section 3: the x5t#S256 of the client certificate of the connection (verified), when there is one.
   * Access tokens issued then are bound to it (`cnf`), and so are a public client's refresh tokens.
   */
  certificateThumbprint?: string | undefined;
}

/** One grant type (RFC 6749 section 4): its name and what it does with an authenticated token request. */
export interface GrantHandler {
  grantType: string;
  handle(deps: OAuthDeps, request: TokenRequest): Promise<TokenResponse>;
}

/** Every grant Gatehouse supports, in one place. There is no implicit and no password grant. */
export const GRANT_HANDLERS: ReadonlyMap<string, GrantHandler> = new Map(
  [authorizationCodeGrant, clientCredentialsGrant, refreshTokenGrant].map((grant) => [grant.grantType, grant]),
);

export const SUPPORTED_GRANT_TYPES = [...GRANT_HANDLERS.keys()];

/** Dispatches a token request to its grant, once the client is known to be allowed to use it. */
export async function handleTokenRequest(deps: OAuthDeps, request: TokenRequest): Promise<TokenResponse> {
  const grantType = param(request.params, 'grant_type');
  if (grantType === undefined) throw new OAuthError('invalid_request', 'The grant_type parameter is required.');
  const handler = GRANT_HANDLERS.get(grantType);
  if (!handler) throw new OAuthError('unsupported_grant_type');
  if (!request.client.grantTypes.includes(grantType)) {
    throw new OAuthError('unauthorized_client', 'The client is not allowed to use this grant type.');
  }
  return handler.handle(deps, request);
}
