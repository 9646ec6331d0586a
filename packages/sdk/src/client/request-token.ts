import type { FetchLike } from './discover-metadata.js';
import { TokenRequestError } from './errors.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** How a client authenticates at the token endpoint. Without a secret it is a public client (`none`). */
export interface ClientAuthentication {
  clientId: string;
  clientSecret?: string | undefined;
  /** Default: `client_secret_basic` with a secret, `none` without. */
  authMethod?: ClientAuthMethod | undefined;
}

/** Retries of 5xx, 429 and network failures: exponential backoff with jitter, bounded. A 4xx is never retried. */
export interface RetryOptions {
  /** Total attempts, the first included (default 4; 1 disables retries). */
  attempts?: number;
  /** First delay in milliseconds (default 250), doubled at every retry. */
  baseDelayMs?: number;
  /** Longest delay in milliseconds (default 10,000); also caps a server's Retry-After. */
  maxDelayMs?: number;
}

/** A token response (RFC 6749 section 5.1). `expiresAt` is in milliseconds by the client's own clock. */
export interface TokenSet {
  accessToken: string;
  tokenType: string;
  /** `expires_in` as received, in seconds. */
  expiresIn: number | undefined;
  expiresAt: number;
  scope: string | undefined;
  refreshToken: string | undefined;
  idToken: string | undefined;
  /** The whole JSON response. */
  raw: Record<string, unknown>;
}

export interface TokenRequestOptions {
  fetch?: FetchLike | undefined;
  retry?: RetryOptions | undefined;
  /** The client's clock in milliseconds (default Date.now). */
  now?: (() => number) | undefined;
  /** Lifetime assumed when a response has no `expires_in` (default 300 s). */
  defaultExpiresInSeconds?: number | undefined;
}

/** RFC 6749 Appendix B: application/x-www-form-urlencoded encoding of one value. */
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

/** Checks client authentication options once, at setup: caller misuse throws here, not at the first request. */
export function checkClientAuthentication(auth: ClientAuthentication): void {
  if (typeof auth.clientId !== 'string' || auth.clientId.length === 0) throw new TypeError('clientId is required');
  const method = auth.authMethod ?? (auth.clientSecret ? 'client_secret_basic' : 'none');
  if (!['client_secret_basic', 'client_secret_post', 'none'].includes(method)) throw new TypeError(`Unknown authMethod ${String(method)}`);
  if (method !== 'none' && !auth.clientSecret) throw new TypeError(`authMethod ${method} needs a clientSecret`);
}

export function checkRetryOptions(retry: RetryOptions | undefined): void {
  if (!retry) return;
  if (retry.attempts !== undefined && (!Number.isInteger(retry.attempts) || retry.attempts < 1 || retry.attempts > 20)) {
    throw new TypeError('retry.attempts must be an integer from 1 to 20');
  }
  for (const name of ['baseDelayMs', 'maxDelayMs'] as const) {
    const value = retry[name];
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) throw new TypeError(`retry.${name} must be a non-negative number`);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function attempt(endpoint: string, params: URLSearchParams, headers: Record<string, string>, doFetch: FetchLike, now: () => number, defaultExpiresIn: number): Promise<{ tokens: TokenSet } | { error: TokenRequestError; retryAfter?: number }> {
  let response: Response;
  try {
    response = await doFetch(endpoint, { method: 'POST', headers, body: params.toString(), redirect: 'error' });
  } catch (cause) {
    return { error: new TokenRequestError('network_error', { cause }) };
  }
  const requestedAt = now();
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    body = undefined;
    if (response.ok) return { error: new TokenRequestError('invalid_response', { status: response.status, description: 'The token response is not JSON', cause }) };
  }
  const json = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (!response.ok) {
    const code = typeof json.error === 'string' && json.error ? json.error : response.status >= 500 ? `http_${response.status}` : 'invalid_response';
    const description = typeof json.error_description === 'string' ? json.error_description : undefined;
    const error = new TokenRequestError(code, { status: response.status, ...(description ? { description } : {}) });
    const retryAfter = retryAfterMs(response);
    return retryAfter === undefined ? { error } : { error, retryAfter };
  }
  const { access_token, token_type, expires_in, scope, refresh_token, id_token } = json;
  if (typeof access_token !== 'string' || access_token.length === 0 || typeof token_type !== 'string') {
    return { error: new TokenRequestError('invalid_response', { status: response.status, description: 'The token response has no access_token or token_type' }) };
  }
  if (token_type.toLowerCase() !== 'bearer') {
    return { error: new TokenRequestError('invalid_response', { status: response.status, description: `Unsupported token_type ${token_type}` }) };
  }
  const expiresIn = typeof expires_in === 'number' && Number.isFinite(expires_in) && expires_in >= 0 ? expires_in : undefined;
  return {
    tokens: {
      accessToken: access_token,
      tokenType: 'Bearer',
      expiresIn,
      expiresAt: requestedAt + (expiresIn ?? defaultExpiresIn) * 1000,
      scope: typeof scope === 'string' ? scope : undefined,
      refreshToken: typeof refresh_token === 'string' && refresh_token ? refresh_token : undefined,
      idToken: typeof id_token === 'string' && id_token ? id_token : undefined,
      raw: json,
    },
  };
}

/**
 * One token request (RFC 6749 section 3.2): POSTs `params` form-encoded to `endpoint` with the client's
 * authentication, retrying 5xx / 429 / network failures with exponential backoff and never retrying a 4xx.
 * Resolves with the token set, or rejects with a TokenRequestError whose `code` is the OAuth error.
 */
export async function requestToken(
  endpoint: string,
  grant: Record<string, string | string[] | undefined>,
  auth: ClientAuthentication,
  options: TokenRequestOptions = {},
): Promise<TokenSet> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const attempts = options.retry?.attempts ?? 4;
  const baseDelay = options.retry?.baseDelayMs ?? 250;
  const maxDelay = options.retry?.maxDelayMs ?? 10_000;
  const defaultExpiresIn = options.defaultExpiresInSeconds ?? 300;

  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(grant)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(name, one);
  }
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const method = auth.authMethod ?? (auth.clientSecret ? 'client_secret_basic' : 'none');
  if (method === 'client_secret_basic') {
    headers.authorization = `Basic ${btoa(`${formEncode(auth.clientId)}:${formEncode(auth.clientSecret!)}`)}`;
  } else {
    params.set('client_id', auth.clientId);
    if (method === 'client_secret_post') params.set('client_secret', auth.clientSecret!);
  }

  for (let n = 1; ; n++) {
    const result = await attempt(endpoint, params, headers, doFetch, now, defaultExpiresIn);
    if ('tokens' in result) return result.tokens;
    const { error } = result;
    if (!error.retryable || n >= attempts) {
      throw new TokenRequestError(error.code, {
        ...(error.status !== undefined ? { status: error.status } : {}),
        ...(error.description !== undefined ? { description: error.description } : {}),
        attempts: n,
        ...(error.cause !== undefined ? { cause: error.cause } : {}),
      });
    }
    const backoff = Math.min(maxDelay, baseDelay * 2 ** (n - 1)) * (0.5 + Math.random() / 2);
    await sleep(Math.min(maxDelay, Math.max(backoff, result.retryAfter ?? 0)));
  }
}
