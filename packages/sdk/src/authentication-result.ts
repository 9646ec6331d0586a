/**
 * Why `authenticate()` denied a request. Stable: program against these. The HTTP body a client sees is
 * deliberately vaguer (see `error`): the code is for your logs and metrics.
 *
 * | code | status | meaning |
 * | --- | --- | --- |
 * | missing_credentials | 401 | No Authorization header (or an empty one). |
 * | malformed_authorization | 401 | Not `Bearer <token>` (another scheme, no token, several headers, over 8 KiB). |
 * | invalid_token | 401 | Neither a well-formed API key nor a JWT, or unknown, or a signature, issuer, audience, typ, algorithm, nbf or claim check failed. |
 * | expired_token | 401 | An expired API key or access token. |
 * | revoked_token | 401 | A revoked API key, or an access token on the revocation stream's denylist. |
 * | certificate_mismatch | 401 | A certificate-bound access token (RFC 8705 `cnf.x5t#S256`) presented without its certificate, or with another. |
 * | insufficient_scope | 403 | Valid, but lacks a scope the route requires. |
 * | wrong_tenant | 403 | Valid, but belongs to another tenant (or to none) than the route's. |
 * | rate_limited | 429 | The API key's own rate limit is used up (`Retry-After`). |
 * | ip_blocked | 429 | Gatehouse blocks the client's address (`clientIp`) after too many failed authentications (`Retry-After`). |
 * | unavailable | 503 | Gatehouse (verify endpoint, metadata or JWKS) could not be reached or answered an error. Never a 401. |
 */
export const DENIAL_CODES = [
  'missing_credentials',
  'malformed_authorization',
  'invalid_token',
  'expired_token',
  'revoked_token',
  'certificate_mismatch',
  'insufficient_scope',
  'wrong_tenant',
  'rate_limited',
  'ip_blocked',
  'unavailable',
] as const;
export type DenialCode = (typeof DENIAL_CODES)[number];

export interface RateLimitInfo {
  limit: number;
  remaining: number;
  /** Unix time (seconds) at which the full limit is available again. */
  reset: number;
  /**
   * Seconds until the next request is allowed: 0 while requests are allowed. Absent from the answers
   * of Gatehouse servers that predate it.
   */
  retryAfter?: number;
}

/** Who is calling. Frozen: the authenticator may hand the same object to many requests. */
export interface Auth {
  kind: 'api_key' | 'jwt';
  /** The API key's id (`key_...`), or the token's `sub`. */
  subject: string;
  tenantId: string | null;
  scopes: readonly string[];
  /** API keys: the key's id. */
  keyId?: string;
  /** JWTs: the `client_id` claim. */
  clientId?: string;
  /** JWTs: every verified claim. */
  claims?: Readonly<Record<string, unknown>>;
  /** API keys with a rate limit: the state after this request. */
  rateLimit?: RateLimitInfo;
}

export interface AuthSuccess {
  ok: true;
  auth: Auth;
  /** Headers to add to the response (`X-RateLimit-*` for rate-limited API keys); often empty. */
  headers: Readonly<Record<string, string>>;
}

export interface AuthDenial {
  ok: false;
  code: DenialCode;
  status: 401 | 403 | 429 | 503;
  /** The `WWW-Authenticate` value for 401 and 403 answers (RFC 6750). */
  wwwAuthenticate?: string;
  /** Every header to answer with, `WWW-Authenticate`, `Retry-After` and `X-RateLimit-*` included. */
  headers: Record<string, string>;
  /** The response body, in Gatehouse's error shape; vague on purpose. */
  error: { error: 'invalid_token' | 'insufficient_scope' | 'rate_limited' | 'ip_blocked' | 'temporarily_unavailable'; error_description: string };
}

export type AuthResult = AuthSuccess | AuthDenial;

export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export function rateLimitHeaders(rateLimit: RateLimitInfo): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(rateLimit.limit),
    'X-RateLimit-Remaining': String(rateLimit.remaining),
    'X-RateLimit-Reset': String(rateLimit.reset),
  };
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** Builds denials for one realm. */
export function denials(realm: string) {
  const challenge = `Bearer realm=${quote(realm)}`;
  const unauthorized = (code: DenialCode): AuthDenial => {
    const wwwAuthenticate = code === 'missing_credentials' ? challenge : `${challenge}, error="invalid_token"`;
    return {
      ok: false,
      code,
      status: 401,
      wwwAuthenticate,
      headers: { 'WWW-Authenticate': wwwAuthenticate },
      error: {
        error: 'invalid_token',
        error_description:
          code === 'missing_credentials' ? 'Authentication required.' : 'The access token or API key is invalid.',
      },
    };
  };
  return {
    unauthorized,
    forbidden(code: 'insufficient_scope' | 'wrong_tenant', scopes?: readonly string[]): AuthDenial {
      const wwwAuthenticate =
        `${challenge}, error="insufficient_scope"` + (code === 'insufficient_scope' && scopes?.length ? `, scope=${quote(scopes.join(' '))}` : '');
      return {
        ok: false,
        code,
        status: 403,
        wwwAuthenticate,
        headers: { 'WWW-Authenticate': wwwAuthenticate },
        error: { error: 'insufficient_scope', error_description: 'The credential does not grant access to this resource.' },
      };
    },
    rateLimited(rateLimit: RateLimitInfo, nowSeconds: number): AuthDenial {
      return {
        ok: false,
        code: 'rate_limited',
        status: 429,
        // Until the next request is allowed, as Gatehouse says (not until the whole limit is back: for 2 per
        // minute that is 30 s, not 60). An older Gatehouse does not say; then the time until the full reset.
        headers: { ...rateLimitHeaders(rateLimit), 'Retry-After': String(Math.max(1, rateLimit.retryAfter ?? rateLimit.reset - Math.floor(nowSeconds))) },
        error: { error: 'rate_limited', error_description: 'Rate limit exceeded; retry later.' },
      };
    },
    /** Gatehouse's answer to a blocked client address (`429 ip_blocked`), passed on with its Retry-After. */
    ipBlocked(retryAfterSeconds: number | undefined): AuthDenial {
      return {
        ok: false,
        code: 'ip_blocked',
        status: 429,
        headers: retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
        error: { error: 'ip_blocked', error_description: 'Too many failed authentications from this address; retry later.' },
      };
    },
    unavailable(): AuthDenial {
      return {
        ok: false,
        code: 'unavailable',
        status: 503,
        headers: { 'Retry-After': '1' },
        error: { error: 'temporarily_unavailable', error_description: 'Authentication is temporarily unavailable; retry later.' },
      };
    },
  };
}
