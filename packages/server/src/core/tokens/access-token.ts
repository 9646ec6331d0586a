import { randomBase62 } from '../random.js';
import { signJwt, type JwtSigningKey } from './sign-jwt.js';

/** The header `typ` of an RFC 9068 access token. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** The claims of a JWT access token (RFC 9068 section 2.2), times in seconds since the epoch. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope: string;
  /** Present only when the client or user belongs to a tenant. */
  tenant_id?: string;
  [claim: string]: unknown;
}

export interface AccessTokenInput {
  issuer: string;
  subject: string;
  audience: string | string[];
  clientId: string;
  /** Space-separated scopes granted (RFC 6749 section 3.3). */
  scope: string;
  tenantId?: string | null;
  ttlSeconds: number;
  /** Milliseconds since the epoch (from the injected clock). */
  now: number;
  /** Further claims such as `cnf` or `auth_time`; they may not replace the claims above. */
  extraClaims?: Record<string, unknown>;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  claims: AccessTokenClaims;
}

const RESERVED_CLAIMS: ReadonlySet<string> = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'tenant_id']);

/** Issues a JWT access token per RFC 9068 (header typ `at+jwt`). Throws on caller misuse only. */
export async function issueAccessToken(key: JwtSigningKey, input: AccessTokenInput): Promise<IssuedAccessToken> {
  if (!Number.isInteger(input.ttlSeconds) || input.ttlSeconds <= 0) {
    throw new TypeError('ttlSeconds must be a positive whole number');
  }
  if (Array.isArray(input.audience) ? input.audience.length === 0 : !input.audience) {
    throw new TypeError('an access token needs an audience');
  }
  const iat = Math.floor(input.now / 1000);
  const exp = iat + input.ttlSeconds;
  const jti = randomBase62(22);
  const claims: AccessTokenClaims = {
    iss: input.issuer,
    sub: input.subject,
    aud: input.audience,
    exp,
    iat,
    jti,
    client_id: input.clientId,
    scope: input.scope,
  };
  if (input.tenantId) claims.tenant_id = input.tenantId;
  if (input.extraClaims) {
    for (const name of Object.keys(input.extraClaims)) {
      if (RESERVED_CLAIMS.has(name)) throw new TypeError(`extraClaims may not set the ${name} claim`);
      claims[name] = input.extraClaims[name];
    }
  }
  return { token: await signJwt(key, claims, ACCESS_TOKEN_TYP), jti, expiresAt: exp * 1000, claims };
}
