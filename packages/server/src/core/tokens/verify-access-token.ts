import { verify, type KeyObject } from 'node:crypto';
import { checkTimeClaims, decodeJoseSegment } from 'gatehouse-sdk';
import type { AccessTokenClaims } from './access-token.js';
import { isSigningAlg, type SigningAlg } from './signing-alg.js';

export interface VerificationKeys {
  /** The public key published under `kid`, with the one algorithm it is used with. */
  publicKey(kid: string): { alg: SigningAlg; publicKey: KeyObject } | undefined;
}

export interface VerifyAccessTokenDeps {
  keys: VerificationKeys;
  issuer: string;
  /** Milliseconds since the epoch. */
  now: number;
  /** Skip exp, nbf and iat: "is this a token Gatehouse issued, expired or not?" (unknown-token counting). */
  anyTime?: boolean;
}

/** Longer inputs are refused before any decoding. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const TYPES: ReadonlySet<string> = new Set(['at+jwt', 'application/at+jwt']);

function verifySignature(alg: SigningAlg, publicKey: KeyObject, input: Buffer, signature: Buffer): boolean {
  switch (alg) {
    case 'EdDSA':
      return verify(null, input, publicKey, signature);
    case 'ES256':
      return signature.length === 64 && verify('sha256', input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
    case 'RS256':
      return verify('sha256', input, publicKey, signature);
  }
}

/**
 * Local verification of a Gatehouse access token (RFC 9068 section 4, RFC 8725): the header's alg must be one
 * Gatehouse signs with AND the algorithm of the key named by kid (no `none`, no HMAC, no algorithm confusion);
 * typ must be at+jwt; the signature must verify; iss must equal the issuer exactly; exp, nbf and iat are judged
 * by the clock-skew policy the SDK applies too (checkTimeClaims, CLOCK_SKEW_SECONDS). Header and payload are
 * decoded by the SDK's one strict rule (decodeJoseSegment: canonical base64url, valid UTF-8, a JSON object).
 * Audience and scope are the caller's to check. Returns undefined for every invalid token; never throws on bad input.
 */
export function verifyAccessToken(token: string, deps: VerifyAccessTokenDeps): AccessTokenClaims | undefined {
  try {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];

    const header = decodeJoseSegment(encodedHeader);
    if (!header || !isSigningAlg(header.alg)) return undefined;
    if (typeof header.typ !== 'string' || !TYPES.has(header.typ.toLowerCase())) return undefined;
    // No extension is understood, so a critical one must fail (RFC 7515 section 4.1.11); keys are never
    // taken from the token itself.
    if ('crit' in header || 'jwk' in header || 'jku' in header || 'x5u' in header || 'x5c' in header) return undefined;
    if (typeof header.kid !== 'string') return undefined;
    const key = deps.keys.publicKey(header.kid);
    if (!key || key.alg !== header.alg) return undefined;

    if (!BASE64URL.test(encodedSignature)) return undefined;
    const signature = Buffer.from(encodedSignature, 'base64url');
    // One token, one encoding: refuse non-canonical base64url (stray trailing bits) of the same signature.
    if (signature.toString('base64url') !== encodedSignature) return undefined;
    if (!verifySignature(key.alg, key.publicKey, Buffer.from(`${encodedHeader}.${encodedPayload}`), signature)) return undefined;

    const claims = decodeJoseSegment(encodedPayload);
    if (!claims) return undefined;
    if (claims.iss !== deps.issuer) return undefined;
    if (!deps.anyTime && checkTimeClaims(claims, deps.now) !== 'valid') return undefined;
    if (typeof claims.sub !== 'string' || typeof claims.client_id !== 'string' || typeof claims.jti !== 'string') return undefined;
    if (typeof claims.scope !== 'string') return undefined;
    const aud = claims.aud;
    if (!(typeof aud === 'string' || (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')))) return undefined;
    if (claims.tenant_id !== undefined && typeof claims.tenant_id !== 'string') return undefined;
    return claims as AccessTokenClaims;
  } catch {
    return undefined;
  }
}
