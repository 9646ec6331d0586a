import type { RegistrationMetadata } from '../../storage/stores.js';
import { OAuthError } from '../errors.js';
import { DEFAULT_ID_TOKEN_ALG, type SigningAlg } from '../tokens/signing-alg.js';
import { clientMetadataProblem, isPublicMethod, MAX_REDIRECT_URIS, unique, type ClientMetadata, type GrantType } from './client-metadata.js';
import { checkRedirectUriRegistration } from './redirect-uri.js';

/**
 * RFC 7591 section 2: the client metadata of a registration request (and of an RFC 7592 update), parsed and
 * checked against the same rules as admin-created clients (client-metadata.ts, redirect-uri.ts) and against the
 * deployment's registration policy. Unknown fields are ignored (RFC 7591 section 2); a known field of the wrong
 * type is refused. Pure.
 */

/** The token endpoint authentication methods a client may register for itself. */
export const REGISTRABLE_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'] as const;
export type RegistrableAuthMethod = (typeof REGISTRABLE_AUTH_METHODS)[number];

export const MAX_CLIENT_NAME_LENGTH = 200;
export const MAX_CONTACTS = 10;
const MAX_URI_LENGTH = 2000;
const MAX_SHORT_STRING = 200;
/** RFC 6749 section 3.3: scope-token, as client-metadata.ts checks it. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;

export interface ParsedRegistration {
  name: string;
  metadata: ClientMetadata;
  registrationMetadata: RegistrationMetadata;
  responseTypes: string[];
}

export interface RegistrationPolicy {
  /** token: an initial access token admitted the request; open: anyone (public clients only). */
  mode: 'token' | 'open';
  grantTypes: readonly GrantType[];
  idTokenAlgs?: readonly SigningAlg[];
}

const invalidMetadata = (description: string) => new OAuthError('invalid_client_metadata', description);
const invalidRedirect = (description: string) => new OAuthError('invalid_redirect_uri', description);

function optionalString(body: Record<string, unknown>, field: string, max = MAX_SHORT_STRING): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    throw invalidMetadata(`${field} must be a string of 1 to ${max} printable characters.`);
  }
  return value;
}

function optionalStringArray(body: Record<string, unknown>, field: string, maxItems: number, maxLength: number): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > maxItems || value.some((item) => typeof item !== 'string' || item.length === 0 || item.length > maxLength)) {
    throw invalidMetadata(`${field} must be an array of at most ${maxItems} non-empty strings.`);
  }
  return value as string[];
}

/** An informational web page or image URL: https (http only for loopback hosts), no user info or fragment. */
function optionalWebUri(body: Record<string, unknown>, field: string): string | undefined {
  const value = optionalString(body, field, MAX_URI_LENGTH);
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  const loopback = url !== undefined && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) || url.username || url.password || url.hash) {
    throw invalidMetadata(`${field} must be an https URL.`);
  }
  return value;
}

/**
 * Parses a registration request body into client metadata, or throws an OAuthError: invalid_redirect_uri for a
 * refused redirect URI, invalid_client_metadata for anything else (RFC 7591 section 3.2.2).
 */
export function parseRegistrationRequest(input: unknown, policy: RegistrationPolicy): ParsedRegistration {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidMetadata('The body must be a JSON object of client metadata.');
  const body = input as Record<string, unknown>;

  const methodValue = body.token_endpoint_auth_method ?? (policy.mode === 'open' ? 'none' : 'client_secret_basic');
  if (typeof methodValue !== 'string' || !(REGISTRABLE_AUTH_METHODS as readonly string[]).includes(methodValue)) {
    throw invalidMetadata(`token_endpoint_auth_method must be one of ${REGISTRABLE_AUTH_METHODS.join(', ')}.`);
  }
  const method = methodValue as RegistrableAuthMethod;
  if (policy.mode === 'open' && !isPublicMethod(method)) {
    throw invalidMetadata('Open registration accepts public clients only: token_endpoint_auth_method must be none.');
  }

  const grantTypes = optionalStringArray(body, 'grant_types', 3, 64) ?? ['authorization_code'];
  if (grantTypes.length === 0) throw invalidMetadata('grant_types must name at least one grant type.');
  for (const grant of grantTypes) {
    if (!policy.grantTypes.includes(grant as GrantType)) {
      throw invalidMetadata(`grant_types: "${grant.slice(0, 64)}" is not allowed here; allowed: ${policy.grantTypes.join(', ')}.`);
    }
  }
  if (grantTypes.includes('client_credentials') && (policy.mode !== 'token' || isPublicMethod(method))) {
    throw invalidMetadata('grant_types: client_credentials is for confidential clients registered with an initial access token.');
  }

  const responseTypes = optionalStringArray(body, 'response_types', 3, 64) ?? (grantTypes.includes('authorization_code') ? ['code'] : []);
  for (const type of responseTypes) {
    if (type !== 'code') throw invalidMetadata('response_types: only code is supported.');
  }
  // RFC 7591 section 2.1: response_types and grant_types must agree.
  if (responseTypes.includes('code') !== grantTypes.includes('authorization_code')) {
    throw invalidMetadata('response_types code goes with grant_types authorization_code, and only with it.');
  }

  let redirectUris: string[] | undefined;
  try {
    redirectUris = optionalStringArray(body, 'redirect_uris', MAX_REDIRECT_URIS, 2000);
  } catch {
    throw invalidRedirect(`redirect_uris must be an array of at most ${MAX_REDIRECT_URIS} URIs.`);
  }
  for (const uri of redirectUris ?? []) {
    const check = checkRedirectUriRegistration(uri, { publicClient: isPublicMethod(method) });
    if (!check.ok) throw invalidRedirect(`redirect_uris: ${JSON.stringify(uri.slice(0, 100))} is refused: ${check.reason}`);
  }
  if (grantTypes.includes('authorization_code') && (redirectUris ?? []).length === 0) {
    throw invalidRedirect('redirect_uris: authorization_code needs at least one redirect URI.');
  }

  const scopeText = optionalString(body, 'scope', 4000);
  const scopes = scopeText === undefined ? [] : scopeText.split(' ').filter(Boolean);
  for (const scope of scopes) {
    if (!SCOPE_TOKEN.test(scope)) throw invalidMetadata('scope: each scope is 1 to 128 printable ASCII characters without quotes or backslashes.');
  }

  const registrationMetadata: RegistrationMetadata = {};
  const clientUri = optionalWebUri(body, 'client_uri');
  if (clientUri !== undefined) registrationMetadata.clientUri = clientUri;
  const logoUri = optionalWebUri(body, 'logo_uri');
  if (logoUri !== undefined) registrationMetadata.logoUri = logoUri;
  const tosUri = optionalWebUri(body, 'tos_uri');
  if (tosUri !== undefined) registrationMetadata.tosUri = tosUri;
  const policyUri = optionalWebUri(body, 'policy_uri');
  if (policyUri !== undefined) registrationMetadata.policyUri = policyUri;
  const contacts = optionalStringArray(body, 'contacts', MAX_CONTACTS, 254);
  if (contacts !== undefined) registrationMetadata.contacts = unique(contacts);
  const softwareId = optionalString(body, 'software_id');
  if (softwareId !== undefined) registrationMetadata.softwareId = softwareId;
  const softwareVersion = optionalString(body, 'software_version');
  if (softwareVersion !== undefined) registrationMetadata.softwareVersion = softwareVersion;

  const name = optionalString(body, 'client_name', MAX_CLIENT_NAME_LENGTH) ?? 'Unnamed client';

  const metadata: ClientMetadata = {
    redirectUris: unique(redirectUris ?? []),
    allowedOrigins: [],
    postLogoutRedirectUris: [],
    grantTypes: unique(grantTypes) as GrantType[],
    scopes: unique(scopes),
    tokenEndpointAuthMethod: method,
    // What a self-registered client may ask for is decided by the registered resources (shared design, A).
    audiences: [],
    defaultAudience: null,
    accessTokenTtlSeconds: null,
    idTokenSignedResponseAlg: DEFAULT_ID_TOKEN_ALG,
    tlsClientAuth: null,
    jwks: null,
  };
  const problem = clientMetadataProblem(metadata, policy.idTokenAlgs ?? [DEFAULT_ID_TOKEN_ALG]);
  if (problem) throw invalidMetadata(problem);
  return { name, metadata, registrationMetadata, responseTypes: unique(responseTypes) };
}
