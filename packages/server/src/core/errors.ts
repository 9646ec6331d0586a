/**
 * Every error Gatehouse answers with. The wire shape is {"error": code, "error_description": text,
 * "request_id": id}; docs/errors.md lists every code and a test keeps the two in sync.
 * Descriptions are what clients see: useful, but vague where detail would help an attacker.
 */
export const ERROR_CATALOG = {
  invalid_request: { status: 400, description: 'The request is malformed or fails validation.' },
  invalid_json: { status: 400, description: 'The request body is not valid JSON.' },
  invalid_encoding: { status: 400, description: 'The request body is not valid UTF-8.' },
  credentials_in_query: {
    status: 400,
    description: 'Credentials must be sent in the Authorization header, never in the URL.',
  },
  invalid_token: { status: 401, description: 'The credential is missing, malformed, unknown, expired or revoked.' },
  certificate_refused: {
    status: 401,
    description: 'The client certificate is expired, not yet valid, revoked, or not issued by a trusted authority.',
  },
  insufficient_scope: { status: 403, description: 'The credential lacks the scope this operation requires.' },
  not_found: { status: 404, description: 'No such resource.' },
  key_not_active: { status: 409, description: 'The key is revoked or expired.' },
  last_admin_credential: {
    status: 409,
    description: 'The last active admin key bound to no tenant cannot be revoked or lose its admin scope.',
  },
  key_already_rotated: { status: 409, description: 'The key has already been rotated; rotate its successor instead.' },
  endpoint_disabled: { status: 409, description: 'The webhook endpoint is disabled; enable it first.' },
  conflict: { status: 409, description: 'The request conflicts with the current state of the resource.' },
  payload_too_large: { status: 413, description: 'The request body is too large.' },
  unsupported_media_type: { status: 415, description: 'The request body must be application/json.' },
  rate_limited: { status: 429, description: 'Too many requests; retry after the time in Retry-After.' },
  ip_blocked: {
    status: 429,
    description: 'Too many failed authentications from this address; retry after the time in Retry-After.',
  },
  client_ip_blocked: {
    status: 429,
    description: 'Too many failed authentications from the client address given as clientIp; retry after the time in Retry-After.',
  },
  request_header_too_large: { status: 431, description: 'The request headers are too large.' },
  server_error: { status: 500, description: 'An internal error occurred.' },
  temporarily_unavailable: {
    status: 503,
    description: 'The service is temporarily unavailable; retry later.',
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers (Retry-After, WWW-Authenticate, ...). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, description?: string, options: { headers?: Record<string, string>; cause?: unknown } = {}) {
    super(description ?? ERROR_CATALOG[code].description, { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.headers = options.headers ?? {};
  }
}

/** Storage (database or Redis) could not be reached or answered with an infrastructure failure. */
export class StorageUnavailableError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

/**
 * Errors of the OAuth endpoints, with RFC 6749 (section 5.2 and 4.1.2.1), OpenID Connect and RFC 8707 codes.
 * Codes marked `redirect` are only ever sent to the client in the authorization response's redirect.
 */
export const OAUTH_ERROR_CATALOG = {
  invalid_request: { status: 400, description: 'The request is missing a parameter, repeats one, or is otherwise malformed.' },
  invalid_client: { status: 401, description: 'Client authentication failed.' },
  invalid_grant: { status: 400, description: 'The grant or refresh token is invalid, expired, revoked, or was issued to another client.' },
  unauthorized_client: { status: 400, description: 'The client is not allowed to use this grant type.' },
  unsupported_grant_type: { status: 400, description: 'The grant type is not supported.' },
  invalid_scope: { status: 400, description: 'The requested scope is invalid, unknown, or exceeds what was granted.' },
  invalid_target: { status: 400, description: 'The requested resource is not an audience this client may ask for.' },
  unsupported_response_type: { status: 400, description: 'Only response_type=code is supported.' },
  access_denied: { status: 403, description: 'The resource owner denied the request.' },
  login_required: { status: 400, description: 'The user must log in, and prompt=none forbids asking.' },
  consent_required: { status: 400, description: 'The user must consent, and prompt=none forbids asking.' },
  invalid_redirect_uri: { status: 400, description: 'A redirect URI of the registration request is refused (RFC 7591).' },
  invalid_client_metadata: { status: 400, description: 'A client metadata field of the registration request is invalid or not allowed (RFC 7591).' },
} as const satisfies Record<string, { status: number; description: string }>;

export type OAuthErrorCode = keyof typeof OAUTH_ERROR_CATALOG;

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Why, for the audit log and debug logs only; never sent to the client. */
  readonly reason: string | undefined;

  constructor(code: OAuthErrorCode, description?: string, options: { headers?: Record<string, string>; reason?: string; cause?: unknown } = {}) {
    super(description ?? OAUTH_ERROR_CATALOG[code].description, { cause: options.cause });
    this.name = 'OAuthError';
    this.code = code;
    this.status = OAUTH_ERROR_CATALOG[code].status;
    this.headers = options.headers ?? {};
    this.reason = options.reason;
  }
}

/** RFC 6750 section 3: the challenges of Bearer-protected endpoints, built in one place. */
const BEARER_REALM = 'Bearer realm="gatehouse"';

/** `Authorization: Bearer <token>`, the token captured. */
export const BEARER_TOKEN = /^Bearer +([^\s]+) *$/i;

/** 401 for a request that carried no credentials (no error code in the challenge, section 3.1). */
export function missingCredentialsError(): GatehouseError {
  return new GatehouseError('invalid_token', 'Authentication required.', { headers: { 'www-authenticate': BEARER_REALM } });
}

/** 401 for a credential that is malformed, unknown, expired or revoked: one vague answer for all. */
export function invalidTokenError(): GatehouseError {
  return new GatehouseError('invalid_token', undefined, { headers: { 'www-authenticate': `${BEARER_REALM}, error="invalid_token"` } });
}

/** 429 for a client address blocked after too many failed authentications. */
export function ipBlockedError(retryAfterSeconds: number): GatehouseError {
  return new GatehouseError('ip_blocked', undefined, { headers: { 'retry-after': String(retryAfterSeconds) } });
}

/**
 * 429 for a verification on behalf of a blocked end client (`clientIp`): a code of its own, so that a verifier
 * can tell its client's block (pass it on) from its own (ip_blocked: the verifier itself is refused).
 */
export function clientIpBlockedError(retryAfterSeconds: number): GatehouseError {
  return new GatehouseError('client_ip_blocked', undefined, { headers: { 'retry-after': String(retryAfterSeconds) } });
}

/** 403 naming the scope the credential lacks. */
export function insufficientScopeError(scope: string, description = `This operation requires the ${scope} scope.`): GatehouseError {
  return new GatehouseError('insufficient_scope', description, {
    headers: { 'www-authenticate': `${BEARER_REALM}, error="insufficient_scope", scope="${scope}"` },
  });
}
