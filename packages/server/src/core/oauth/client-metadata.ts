import { checkRedirectUriRegistration } from './redirect-uri.js';

/** The grants a client may be registered for. There is no implicit and no password grant. */
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** How a client authenticates at the token endpoint; `none` is a public client (no secret). */
export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

export const MIN_ACCESS_TOKEN_TTL_SECONDS = 60;
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 86_400;
export const MAX_REDIRECT_URIS = 20;
export const MAX_SCOPES = 100;
export const MAX_AUDIENCES = 20;

/** RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ): printable ASCII without space, `"` or `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
/** An audience is a resource indicator or a name: printable ASCII without spaces. */
const AUDIENCE = /^[\x21-\x7E]{1,256}$/;

/** The registrable fields of a client, after defaults. */
export interface ClientMetadata {
  redirectUris: string[];
  grantTypes: GrantType[];
  scopes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  audiences: string[];
  defaultAudience: string | null;
  accessTokenTtlSeconds: number | null;
}

export const isPublicMethod = (method: TokenEndpointAuthMethod): boolean => method === 'none';

/**
 * Checks a client's metadata as a whole (the same rules on create and on the result of a PATCH). Returns the
 * reason it is refused, or null. Pure.
 */
export function clientMetadataProblem(m: ClientMetadata): string | null {
  if (!(TOKEN_ENDPOINT_AUTH_METHODS as readonly string[]).includes(m.tokenEndpointAuthMethod)) {
    return `tokenEndpointAuthMethod must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}.`;
  }
  if (m.grantTypes.length === 0) return 'grantTypes must name at least one grant.';
  for (const grant of m.grantTypes) {
    if (!(GRANT_TYPES as readonly string[]).includes(grant)) return `grantTypes: unsupported grant "${String(grant).slice(0, 64)}".`;
  }
  const grants = new Set(m.grantTypes);
  if (grants.has('refresh_token') && !grants.has('authorization_code')) {
    return 'grantTypes: refresh_token is only issued with authorization_code.';
  }
  if (grants.has('client_credentials') && isPublicMethod(m.tokenEndpointAuthMethod)) {
    return 'grantTypes: client_credentials needs a confidential client (tokenEndpointAuthMethod other than none).';
  }
  if (grants.has('authorization_code') && m.redirectUris.length === 0) {
    return 'redirectUris: authorization_code needs at least one redirect URI.';
  }
  if (m.redirectUris.length > MAX_REDIRECT_URIS) return `redirectUris: at most ${MAX_REDIRECT_URIS}.`;
  for (const uri of m.redirectUris) {
    const check = checkRedirectUriRegistration(uri);
    if (!check.ok) return `redirectUris: ${JSON.stringify(uri.slice(0, 100))} is refused: ${check.reason}`;
  }
  if (m.scopes.length > MAX_SCOPES) return `scopes: at most ${MAX_SCOPES}.`;
  for (const scope of m.scopes) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) {
      return 'scopes: each scope is 1 to 128 printable ASCII characters without spaces, quotes or backslashes.';
    }
  }
  if (m.audiences.length > MAX_AUDIENCES) return `audiences: at most ${MAX_AUDIENCES}.`;
  for (const audience of m.audiences) {
    if (typeof audience !== 'string' || !AUDIENCE.test(audience)) {
      return 'audiences: each audience is 1 to 256 printable ASCII characters without spaces.';
    }
  }
  if (m.defaultAudience !== null && !m.audiences.includes(m.defaultAudience)) {
    return 'defaultAudience must be one of audiences.';
  }
  const ttl = m.accessTokenTtlSeconds;
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < MIN_ACCESS_TOKEN_TTL_SECONDS || ttl > MAX_ACCESS_TOKEN_TTL_SECONDS)) {
    return `accessTokenTtlSeconds must be an integer from ${MIN_ACCESS_TOKEN_TTL_SECONDS} to ${MAX_ACCESS_TOKEN_TTL_SECONDS}.`;
  }
  return null;
}

/** Removes duplicates, keeping the first occurrence's order. */
export const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];
