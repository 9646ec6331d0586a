import { OAuthError } from '../errors.js';
import { allowedScopes, resolveAudience, type ResolvedAudience } from './audience.js';
import { isMetadataDocumentClientId, MAX_CLIENT_ID_URL_LENGTH } from './client-id-metadata/metadata-document-url.js';
import type { OAuthClientView, OAuthDeps } from './oauth-deps.js';
import { isValidS256Challenge } from './pkce.js';
import { matchRedirectUri } from './redirect-uri.js';
import { allParams, param, parseRequestParams } from './request-params.js';
import { parseScope, scopesOutside } from './scopes.js';

/** A validated authorization request (RFC 6749 section 4.1.1 with PKCE and OpenID Connect's additions). */
export interface AuthorizationRequest {
  client: OAuthClientView;
  redirectUri: string;
  state: string | undefined;
  scopes: string[];
  audience: string[];
  codeChallenge: string;
  nonce: string | null;
  prompt: { none: boolean; login: boolean; consent: boolean };
  maxAgeSeconds: number | null;
  /** The original query string, carried through the login and consent forms and validated again there. */
  raw: string;
}

export type AuthorizationRequestResult =
  | { ok: true; request: AuthorizationRequest }
  /** The client or redirect URI cannot be trusted: the error is shown to the user, never redirected. */
  | { ok: false; redirect: false; error: OAuthError }
  /** Anything else: the error goes back to the client at its (verified) redirect URI. */
  | { ok: false; redirect: true; error: OAuthError; redirectUri: string; state: string | undefined };

const MAX_STATE_LENGTH = 2048;
const MAX_NONCE_LENGTH = 512;

/**
 * Validates an authorization request. The client and redirect URI are checked first: until both are known
 * good, nothing may be redirected anywhere (RFC 6749 section 4.1.2.1; RFC 9700 section 4.1).
 */
export async function parseAuthorizationRequest(
  raw: string,
  deps: Pick<OAuthDeps, 'findClient' | 'issuer' | 'findResource'>,
): Promise<AuthorizationRequestResult> {
  const fatal = (description: string) => ({ ok: false as const, redirect: false as const, error: new OAuthError('invalid_request', description) });
  if (raw.length > 8192) return fatal('The authorization request is too long.');
  const params = parseRequestParams(raw);
  if (params instanceof OAuthError) {
    // A repeated client_id or redirect_uri leaves nowhere trustworthy to redirect to.
    return fatal(params.message);
  }
  const clientId = param(params, 'client_id');
  if (clientId === undefined) return fatal('The client_id parameter is required.');
  const client = clientId.length <= MAX_CLIENT_ID_URL_LENGTH ? await deps.findClient(clientId) : undefined;
  if (!client) {
    // A client_id URL (Client ID Metadata Document) whose document is off, unreachable or invalid: the detail is
    // in the audit log (client.authentication, metadata_document_refused), not for the person in the browser.
    return fatal(isMetadataDocumentClientId(clientId) ? 'Unknown client: this application could not be identified from its client_id.' : 'Unknown client.');
  }
  const redirectUri = param(params, 'redirect_uri');
  if (redirectUri === undefined) return fatal('The redirect_uri parameter is required.');
  if (!matchRedirectUri(client.redirectUris, redirectUri)) return fatal('The redirect_uri is not registered for this client.');

  const state = param(params, 'state');
  const fail = (code: ConstructorParameters<typeof OAuthError>[0], description?: string): AuthorizationRequestResult => ({
    ok: false,
    redirect: true,
    error: new OAuthError(code, description),
    redirectUri,
    state: state !== undefined && state.length <= MAX_STATE_LENGTH ? state : undefined,
  });

  if (state !== undefined && state.length > MAX_STATE_LENGTH) return fail('invalid_request', 'The state parameter is too long.');
  if (params.has('request') || params.has('request_uri')) return fail('invalid_request', 'Request objects are not supported.');
  const responseType = param(params, 'response_type');
  if (responseType === undefined) return fail('invalid_request', 'The response_type parameter is required.');
  if (responseType !== 'code') return fail('unsupported_response_type');
  if (!client.grantTypes.includes('authorization_code')) return fail('unauthorized_client');
  const responseMode = param(params, 'response_mode');
  if (responseMode !== undefined && responseMode !== 'query') return fail('invalid_request', 'Only response_mode=query is supported.');

  const codeChallenge = param(params, 'code_challenge');
  const method = param(params, 'code_challenge_method');
  if (codeChallenge === undefined) return fail('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256.');
  if (method !== 'S256') return fail('invalid_request', 'Only code_challenge_method=S256 is supported.');
  if (!isValidS256Challenge(codeChallenge)) return fail('invalid_request', 'The code_challenge is malformed.');

  const scopes = parseScope(param(params, 'scope'));
  if (scopes === undefined) return fail('invalid_scope', 'The scope parameter is malformed.');

  const nonce = param(params, 'nonce') ?? null;
  if (nonce !== null && nonce.length > MAX_NONCE_LENGTH) return fail('invalid_request', 'The nonce parameter is too long.');

  const promptValues = (param(params, 'prompt') ?? '').split(' ').filter(Boolean);
  const known = new Set(['none', 'login', 'consent', 'select_account']);
  if (promptValues.some((value) => !known.has(value))) return fail('invalid_request', 'Unsupported prompt value.');
  const prompt = {
    none: promptValues.includes('none'),
    login: promptValues.includes('login') || promptValues.includes('select_account'),
    consent: promptValues.includes('consent'),
  };
  if (prompt.none && promptValues.length > 1) return fail('invalid_request', 'prompt=none cannot be combined with other values.');

  const maxAgeText = param(params, 'max_age');
  let maxAgeSeconds: number | null = null;
  if (maxAgeText !== undefined) {
    if (!/^\d{1,10}$/.test(maxAgeText)) return fail('invalid_request', 'The max_age parameter must be a non-negative integer.');
    maxAgeSeconds = Number(maxAgeText);
  }

  let resolved: ResolvedAudience;
  try {
    resolved = await resolveAudience(client, allParams(params, 'resource'), deps);
  } catch (error) {
    if (error instanceof OAuthError) return fail(error.code, error.message);
    throw error;
  }
  const { audience } = resolved;
  // After the audience: a self-registered client's scopes are those of the resources it asks for.
  if (scopesOutside(scopes, allowedScopes(client, resolved.resources)).length > 0) return fail('invalid_scope');
  return {
    ok: true,
    request: { client, redirectUri, state, scopes, audience, codeChallenge, nonce, prompt, maxAgeSeconds, raw },
  };
}

/**
 * The URL an authorization response redirects to: the registered redirect URI with the response parameters
 * appended to its query, plus `iss` (RFC 9207) on every response, success or error.
 */
export function authorizationResponseUrl(redirectUri: string, issuer: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value);
  query.append('iss', issuer);
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query.toString()}`;
}

export function errorResponseUrl(redirectUri: string, issuer: string, error: OAuthError, state: string | undefined): string {
  return authorizationResponseUrl(redirectUri, issuer, { error: error.code, error_description: error.message, state });
}

