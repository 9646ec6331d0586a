/**
 * Errors of the token clients. Each has a stable string `code` so callers can `switch` on it.
 *
 * - `TokenRequestError`: the token endpoint refused (the RFC 6749 `error`, e.g. `invalid_client`,
 *   `invalid_grant`), failed (`server_error`, `temporarily_unavailable`, or `http_<status>` when a 5xx carried no
 *   OAuth error), could not be reached (`network_error`) or answered something that is not a token response
 *   (`invalid_response`).
 * - `DiscoveryError`: the authorization server metadata could not be fetched or does not match the issuer.
 * - `TokenStorageError`: the app's storage hook failed to save a rotated refresh token.
 */
export type TokenRequestErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'network_error'
  | 'invalid_response'
  | (string & {});

export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
  readonly code: TokenRequestErrorCode;
  /** The HTTP status of the last response, absent for a network error. */
  readonly status: number | undefined;
  /** The server's `error_description`, if any. */
  readonly description: string | undefined;
  /** How many requests were sent (1 + retries). */
  readonly attempts: number;

  constructor(code: TokenRequestErrorCode, options: { status?: number; description?: string; attempts?: number; cause?: unknown } = {}) {
    super(
      `Token request failed: ${code}${options.status !== undefined ? ` (HTTP ${options.status})` : ''}${options.description ? `: ${options.description}` : ''}`,
      options.cause !== undefined ? { cause: options.cause } : undefined,
    );
    this.code = code;
    this.status = options.status;
    this.description = options.description;
    this.attempts = options.attempts ?? 1;
  }

  /** 5xx, network errors and 429 are worth retrying; a 4xx (invalid_client, invalid_grant, ...) is final. */
  get retryable(): boolean {
    return this.status === undefined ? this.code === 'network_error' : this.status >= 500 || this.status === 429;
  }
}

export type DiscoveryErrorCode = 'discovery_failed' | 'issuer_mismatch' | 'missing_endpoint';

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
  constructor(
    readonly code: DiscoveryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class TokenStorageError extends Error {
  override readonly name = 'TokenStorageError';
  readonly code = 'storage_failed' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export type AuthorizationResponseErrorCode = 'state_mismatch' | 'issuer_mismatch' | 'missing_code' | (string & {});

/** The authorization server sent the browser back with an error, or the response does not belong to this request. */
export class AuthorizationResponseError extends Error {
  override readonly name = 'AuthorizationResponseError';
  constructor(
    readonly code: AuthorizationResponseErrorCode,
    readonly description?: string,
  ) {
    super(`Authorization failed: ${code}${description ? `: ${description}` : ''}`);
  }
}
