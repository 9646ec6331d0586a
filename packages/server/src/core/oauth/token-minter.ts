import { createHash, hash, randomBytes } from 'node:crypto';
import { issueAccessToken } from '../tokens/access-token.js';
import { signJwt } from '../tokens/sign-jwt.js';
import { OIDC_SCOPES, formatScope } from './scopes.js';
import type { OAuthClientView, OAuthDeps, OAuthSigningKey, OAuthUserView } from './oauth-deps.js';

/** Codes and refresh tokens are stored by the SHA-256 of their value, like every other high-entropy secret. */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/**
 * Refresh tokens carry a prefix so that scanners recognise a leaked one; 256 random bits follow. It is
 * Gatehouse's own: tokens issued before it began `ghr_`, which is GitHub's refresh-token prefix, so secret
 * scanners reported them as GitHub's.
 */
export const REFRESH_TOKEN_PREFIX = 'gatehouse_rt_';
/** The prefix of refresh tokens issued before REFRESH_TOKEN_PREFIX: still honoured until they expire. */
export const LEGACY_REFRESH_TOKEN_PREFIX = 'ghr_';

export function newRefreshToken(): string {
  return REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function newAuthorizationCode(): string {
  return randomBytes(32).toString('base64url');
}

export function isRefreshTokenShaped(token: string): boolean {
  for (const prefix of [REFRESH_TOKEN_PREFIX, LEGACY_REFRESH_TOKEN_PREFIX]) {
    if (token.startsWith(prefix) && token.length === prefix.length + 43) return true;
  }
  return false;
}

export interface MintedAccessToken {
  token: string;
  jti: string;
  expiresAt: number;
  ttlSeconds: number;
}

/** The client's lifetime (or the server default), capped by the server maximum and by `resourceCap` (the resources' own). */
export function accessTokenTtl(deps: Pick<OAuthDeps, 'policy'>, client: OAuthClientView, resourceCap: number | null = null): number {
  const ttl = Math.min(client.accessTokenTtlSeconds ?? deps.policy.accessTokenTtlSeconds, deps.policy.maxTokenTtlSeconds);
  return resourceCap === null ? ttl : Math.min(ttl, resourceCap);
}

export async function mintAccessToken(
  deps: Pick<OAuthDeps, 'clock' | 'issuer' | 'policy'>,
  key: OAuthSigningKey,
  input: {
    client: OAuthClientView;
    subject: string;
    scopes: readonly string[];
    audience: readonly string[];
    tenantId: string | null;
    authTime?: number | null;
    /** RFC 8705: binds the token to this certificate thumbprint (`cnf.x5t#S256`). */
    certificateThumbprint?: string | undefined;
    /** The registered resources' cap on the lifetime (their accessTokenTtlSeconds); null or absent: none. */
    maxTtlSeconds?: number | null;
  },
): Promise<MintedAccessToken> {
  const ttlSeconds = accessTokenTtl(deps, input.client, input.maxTtlSeconds ?? null);
  const extraClaims: Record<string, unknown> = {};
  if (input.authTime != null) extraClaims.auth_time = Math.floor(input.authTime / 1000);
  if (input.certificateThumbprint !== undefined) extraClaims.cnf = { 'x5t#S256': input.certificateThumbprint };
  const issued = await issueAccessToken(key, {
    issuer: deps.issuer(),
    subject: input.subject,
    audience: input.audience.length === 1 ? input.audience[0]! : [...input.audience],
    clientId: input.client.id,
    scope: formatScope(input.scopes),
    tenantId: input.tenantId,
    ttlSeconds,
    now: deps.clock.now(),
    extraClaims,
  });
  return { token: issued.token, jti: issued.jti, expiresAt: issued.expiresAt, ttlSeconds };
}

/**
 * OpenID Connect Core 3.1.3.6: the left half of the hash of the access token, with the hash of the signing
 * algorithm (SHA-512 for Ed25519, as the OpenID Foundation's libraries do).
 */
export function accessTokenHash(accessToken: string, alg: OAuthSigningKey['alg']): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** The standard claims each OpenID Connect scope releases. */
export function userClaims(user: OAuthUserView, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes('profile') && user.name !== null) claims.name = user.name;
  if (scopes.includes('email')) claims.email = user.email;
  return claims;
}

/**
 * An OpenID Connect ID token, signed with the key of the client's `idTokenSignedResponseAlg` (RS256 unless the
 * client chose another), whatever algorithm the access token has.
 */
export async function mintIdToken(
  deps: Pick<OAuthDeps, 'clock' | 'issuer' | 'policy' | 'idTokenSigningKey'>,
  input: { client: OAuthClientView; user: OAuthUserView; scopes: readonly string[]; nonce: string | null; authTime: number; accessToken: string },
): Promise<string> {
  const key = deps.idTokenSigningKey(input.client.idTokenSignedResponseAlg);
  const iat = Math.floor(deps.clock.now() / 1000);
  return signJwt(
    key,
    {
      iss: deps.issuer(),
      sub: input.user.id,
      aud: input.client.id,
      exp: iat + deps.policy.idTokenTtlSeconds,
      iat,
      auth_time: Math.floor(input.authTime / 1000),
      ...(input.nonce !== null ? { nonce: input.nonce } : {}),
      at_hash: accessTokenHash(input.accessToken, key.alg),
      ...(input.user.tenantId !== null ? { tenant_id: input.user.tenantId } : {}),
      ...userClaims(input.user, input.scopes),
    },
    'JWT',
  );
}

export function wantsIdToken(scopes: readonly string[]): boolean {
  return scopes.includes(OIDC_SCOPES[0]);
}

/** The successful token response of RFC 6749 section 5.1. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}
