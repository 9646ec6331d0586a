import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { checkAllowedOriginRegistration, MAX_ALLOWED_ORIGINS } from './allowed-origin.js';
import { DEFAULT_ID_TOKEN_ALG, type SigningAlg } from '../tokens/signing-alg.js';
import { checkRedirectUriRegistration } from './redirect-uri.js';

/** The grants a client may be registered for. There is no implicit and no password grant. */
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/**
 * How a client authenticates at the token endpoint; `none` is a public client (no secret). The RFC 8705
 * methods use the client certificate of the TLS connection instead of a secret: `tls_client_auth` (a certificate
 * from the built-in CA naming the registered subject or SAN), `self_signed_tls_client_auth` (a certificate
 * registered in the client's `jwks`).
 */
export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'none',
  'tls_client_auth',
  'self_signed_tls_client_auth',
] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/**
 * How a client may authenticate at the token endpoint: the methods a stored client registers, plus RFC 7523
 * `private_key_jwt` (a JWT signed with a key of the client's `jwks`), which only clients described by a Client ID
 * Metadata Document use (core/oauth/client-id-metadata/).
 */
export type ClientAuthenticationMethod = TokenEndpointAuthMethod | 'private_key_jwt';

/** RFC 8705 section 2.1.2: the one certificate field a tls_client_auth client registers, and its value. */
export const TLS_CLIENT_AUTH_FIELDS = ['subject_dn', 'san_dns', 'san_uri', 'san_ip', 'san_email'] as const;
export type TlsClientAuthField = (typeof TLS_CLIENT_AUTH_FIELDS)[number];
export interface TlsClientAuthSubject {
  field: TlsClientAuthField;
  value: string;
}

/** A client's registered JWK Set (self_signed_tls_client_auth: each key's `x5c[0]` is a certificate it may present). */
export interface ClientJwks {
  keys: Array<Record<string, unknown>>;
}

export const MAX_CLIENT_JWKS_KEYS = 10;

export const MIN_ACCESS_TOKEN_TTL_SECONDS = 60;
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 86_400;
export const MAX_REDIRECT_URIS = 20;
export const MAX_SCOPES = 100;
export const MAX_AUDIENCES = 20;

/** RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ): printable ASCII without space, `"` or `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
/** An audience is a resource indicator or a name: printable ASCII without spaces. */
const AUDIENCE = /^[\x21-\x7E]{1,256}$/;

/**
 * How a client came to be known: created through the admin API (`admin`), registered by itself through Dynamic
 * Client Registration (`dynamic`, RFC 7591), or described by a Client ID Metadata Document fetched from its
 * `client_id` URL (`metadata_document`, never stored as a client row).
 */
export const CLIENT_REGISTRATIONS = ['admin', 'dynamic', 'metadata_document'] as const;
export type ClientRegistration = (typeof CLIENT_REGISTRATIONS)[number];

/** The registrable fields of a client, after defaults. */
export interface ClientMetadata {
  redirectUris: string[];
  /** Web origins whose pages may call the token, revocation and userinfo endpoints (CORS); see allowed-origin.ts. */
  allowedOrigins: string[];
  postLogoutRedirectUris: string[];
  grantTypes: GrantType[];
  scopes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  audiences: string[];
  defaultAudience: string | null;
  accessTokenTtlSeconds: number | null;
  /** OIDC Dynamic Client Registration `id_token_signed_response_alg`; default DEFAULT_ID_TOKEN_ALG (RS256). */
  idTokenSignedResponseAlg: SigningAlg;
  tlsClientAuth: TlsClientAuthSubject | null;
  jwks: ClientJwks | null;
}


export const isPublicMethod = (method: TokenEndpointAuthMethod): boolean => method === 'none';

/** How a method proves the client: a secret, a certificate, or nothing (public clients). */
export function authFamily(method: TokenEndpointAuthMethod): 'secret' | 'certificate' | 'none' {
  if (method === 'none') return 'none';
  return method === 'tls_client_auth' || method === 'self_signed_tls_client_auth' ? 'certificate' : 'secret';
}

/** The DER certificates a client registered for self_signed_tls_client_auth (`x5c[0]` of each key). */
export function registeredCertificates(jwks: ClientJwks | null): Buffer[] {
  const out: Buffer[] = [];
  for (const key of jwks?.keys ?? []) {
    const first = Array.isArray(key.x5c) ? key.x5c[0] : undefined;
    if (typeof first === 'string') out.push(Buffer.from(first, 'base64'));
  }
  return out;
}

function jwksProblem(jwks: ClientJwks): string | null {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys) || jwks.keys.length === 0) return 'jwks must be {"keys": [...]} with at least one key.';
  if (jwks.keys.length > MAX_CLIENT_JWKS_KEYS) return `jwks: at most ${MAX_CLIENT_JWKS_KEYS} keys.`;
  for (const key of jwks.keys) {
    if (typeof key !== 'object' || key === null || 'd' in key) return 'jwks: public keys only.';
    const x5c = key.x5c;
    if (!Array.isArray(x5c) || x5c.length === 0 || typeof x5c[0] !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(x5c[0])) {
      return 'jwks: every key needs an x5c whose first entry is the base64 DER certificate the client presents.';
    }
    try {
      new X509Certificate(Buffer.from(x5c[0], 'base64'));
    } catch {
      return 'jwks: an x5c entry is not a certificate.';
    }
  }
  return null;
}

function tlsClientAuthProblem(subject: TlsClientAuthSubject): string | null {
  const { field, value } = subject;
  if (!(TLS_CLIENT_AUTH_FIELDS as readonly string[]).includes(field)) return 'tlsClientAuth: unknown field.';
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024 || /[\u0000-\u001f\u007f]/.test(value)) {
    return 'tlsClientAuth: the value is 1 to 1024 printable characters.';
  }
  if (field === 'san_ip' && isIP(value) === 0) return 'tlsClientAuthSanIp must be an IPv4 or IPv6 address.';
  if (field === 'san_uri' && !URL.canParse(value)) return 'tlsClientAuthSanUri must be an absolute URI.';
  return null;
}

/**
 * Checks a client's metadata as a whole (the same rules on create and on the result of a PATCH). Returns the
 * reason it is refused, or null. Pure.
 */
export function clientMetadataProblem(m: ClientMetadata, idTokenAlgs: readonly SigningAlg[] = [DEFAULT_ID_TOKEN_ALG]): string | null {
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
  if (m.tokenEndpointAuthMethod === 'tls_client_auth' && m.tlsClientAuth === null) {
    return 'tls_client_auth needs exactly one of tlsClientAuthSubjectDn, tlsClientAuthSanDns, tlsClientAuthSanUri, tlsClientAuthSanIp, tlsClientAuthSanEmail.';
  }
  if (m.tlsClientAuth !== null) {
    const problem = tlsClientAuthProblem(m.tlsClientAuth);
    if (problem) return problem;
  }
  if (m.tokenEndpointAuthMethod === 'self_signed_tls_client_auth' && m.jwks === null) {
    return 'self_signed_tls_client_auth needs jwks: the certificates (x5c) the client presents.';
  }
  if (m.jwks !== null) {
    const problem = jwksProblem(m.jwks);
    if (problem) return problem;
  }
  if (grants.has('client_credentials') && isPublicMethod(m.tokenEndpointAuthMethod)) {
    return 'grantTypes: client_credentials needs a confidential client (tokenEndpointAuthMethod other than none).';
  }
  if (grants.has('authorization_code') && m.redirectUris.length === 0) {
    return 'redirectUris: authorization_code needs at least one redirect URI.';
  }
  if (m.redirectUris.length > MAX_REDIRECT_URIS) return `redirectUris: at most ${MAX_REDIRECT_URIS}.`;
  for (const uri of m.redirectUris) {
    const check = checkRedirectUriRegistration(uri, { publicClient: isPublicMethod(m.tokenEndpointAuthMethod) });
    if (!check.ok) return `redirectUris: ${JSON.stringify(uri.slice(0, 100))} is refused: ${check.reason}`;
  }
  if (m.allowedOrigins.length > MAX_ALLOWED_ORIGINS) return `allowedOrigins: at most ${MAX_ALLOWED_ORIGINS}.`;
  for (const origin of m.allowedOrigins) {
    const check = checkAllowedOriginRegistration(origin);
    if (!check.ok) return `allowedOrigins: ${JSON.stringify(String(origin).slice(0, 100))} is refused: ${check.reason}`;
  }
  if (m.postLogoutRedirectUris.length > MAX_REDIRECT_URIS) return `postLogoutRedirectUris: at most ${MAX_REDIRECT_URIS}.`;
  for (const uri of m.postLogoutRedirectUris) {
    const check = checkRedirectUriRegistration(uri);
    if (!check.ok) return `postLogoutRedirectUris: ${JSON.stringify(uri.slice(0, 100))} is refused: ${check.reason}`;
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
  if (!idTokenAlgs.includes(m.idTokenSignedResponseAlg)) {
    return `idTokenSignedResponseAlg must be one of the algorithms the signing keys sign with now: ${idTokenAlgs.join(', ')}.`;
  }
  const ttl = m.accessTokenTtlSeconds;
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < MIN_ACCESS_TOKEN_TTL_SECONDS || ttl > MAX_ACCESS_TOKEN_TTL_SECONDS)) {
    return `accessTokenTtlSeconds must be an integer from ${MIN_ACCESS_TOKEN_TTL_SECONDS} to ${MAX_ACCESS_TOKEN_TTL_SECONDS}.`;
  }
  return null;
}

/** Removes duplicates, keeping the first occurrence's order. */
export const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];
