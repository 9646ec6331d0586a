import { checkAllowedOriginRegistration } from './allowed-origin.js';

/**
 * CORS for the endpoints a browser app calls (Fetch Standard, section 3.2 "CORS protocol"). Pure: the HTTP part
 * is http/plugins/cors.ts.
 *
 * - `public` endpoints (authorization server metadata, openid-configuration, JWKS) answer every origin with
 *   `Access-Control-Allow-Origin: *` and no credentials: their answer is the same for everyone.
 * - `client` endpoints (token, revocation, userinfo) answer a request's `Origin` only when it is one of the
 *   client's registered `allowedOrigins` (token and revocation: the authenticated client's; userinfo: the client
 *   the access token was issued to), echoed with `Vary: Origin`; never `Access-Control-Allow-Credentials`.
 *
 * A preflight carries no credentials and no body (Fetch 3.2.2), so it cannot say which client is calling. It is
 * approved for ANY origin that could be registered (https, or http on a loopback IP), and the decision is made on
 * the actual request: the browser shows the response to the page only if that response carries a matching
 * `Access-Control-Allow-Origin` (the CORS check, Fetch 4.10), and the token and revocation endpoints refuse a
 * request from an origin the authenticated client has not registered before doing anything (http/plugins/cors.ts).
 * Approving a preflight gives a page nothing it lacks already: a form-encoded POST without Authorization is a
 * "simple" request the browser sends with no preflight at all, so only the check on the actual request protects
 * anything. Doing so also keeps a newly registered origin working at once on every server process, with no set of
 * every client's origins cached per process and kept in step across a cluster.
 */

export type CorsEndpoint = 'public' | 'client';

export interface CorsInput {
  endpoint: CorsEndpoint;
  /** The methods the endpoint answers (sent as Access-Control-Allow-Methods). */
  methods: readonly string[];
  /** An OPTIONS request with Access-Control-Request-Method: a CORS preflight. */
  preflight: boolean;
  /** The request's Origin header; undefined when it has none. */
  origin: string | undefined;
  /** Gatehouse's own origins (the issuer's, the mTLS listener's): a request from them is not cross-origin. */
  ownOrigins: readonly string[];
  /**
   * Client endpoints, actual requests: the web origins registered for the calling client (token, revocation) or
   * for the client the access token was issued to (userinfo); undefined while no client is known.
   */
  clientOrigins?: readonly string[] | undefined;
}

export type CorsDecision =
  /** No Origin, or Gatehouse's own: not a cross-origin request; only the headers every answer carries. */
  | { outcome: 'same_origin'; headers: Record<string, string> }
  | { outcome: 'allowed'; headers: Record<string, string> }
  /** Cross-origin, not allowed: no Access-Control-Allow-Origin, so the browser keeps the answer from the page. */
  | { outcome: 'refused'; headers: Record<string, string> };

/** Request headers a browser app sends to these endpoints (Authorization: Basic or Bearer; DPoP, RFC 9449). */
export const CORS_ALLOWED_HEADERS = 'authorization, content-type, dpop';
/** Response headers the page may read besides the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = 'www-authenticate, retry-after';
/** How long a browser may cache a preflight answer, in seconds (Chromium caps it at 7200). */
export const CORS_MAX_AGE_SECONDS = 600;

export function decideCors(input: CorsInput): CorsDecision {
  const { endpoint, preflight, origin } = input;
  const preflightHeaders = {
    'access-control-allow-methods': input.methods.join(', '),
    'access-control-allow-headers': CORS_ALLOWED_HEADERS,
    'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
  };
  if (endpoint === 'public') {
    const headers: Record<string, string> = { 'access-control-allow-origin': '*', 'access-control-expose-headers': CORS_EXPOSED_HEADERS };
    if (origin === undefined || input.ownOrigins.includes(origin)) return { outcome: 'same_origin', headers };
    return { outcome: 'allowed', headers: preflight ? { ...headers, ...preflightHeaders } : headers };
  }
  // The answer of a client endpoint depends on the Origin: caches must keep one per origin.
  const vary = { vary: 'Origin' };
  if (origin === undefined || input.ownOrigins.includes(origin)) return { outcome: 'same_origin', headers: vary };
  if (preflight) {
    if (!checkAllowedOriginRegistration(origin).ok) return { outcome: 'refused', headers: vary };
    return { outcome: 'allowed', headers: { ...vary, 'access-control-allow-origin': origin, ...preflightHeaders } };
  }
  if (input.clientOrigins === undefined || !input.clientOrigins.includes(origin)) return { outcome: 'refused', headers: vary };
  return { outcome: 'allowed', headers: { ...vary, 'access-control-allow-origin': origin, 'access-control-expose-headers': CORS_EXPOSED_HEADERS } };
}
