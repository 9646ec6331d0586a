/**
 * The JWS algorithms Gatehouse signs with (RFC 7518, RFC 8037). Asymmetric only: the verification key is
 * public, so there is no shared secret to leak and no HMAC to confuse with it (RFC 8725 section 2.1).
 */
export const SIGNING_ALGS = ['EdDSA', 'ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

const SIGNING_ALG_SET: ReadonlySet<string> = new Set(SIGNING_ALGS);

export function isSigningAlg(value: unknown): value is SigningAlg {
  return typeof value === 'string' && SIGNING_ALG_SET.has(value);
}

/**
 * The ID token algorithm of a client that names none (OpenID Connect Dynamic Client Registration 1.0 section 2,
 * `id_token_signed_response_alg`), and the one every OpenID Provider must offer (OpenID Connect Discovery 1.0
 * section 3): the signing keys always include an RS256 key, whatever GATEHOUSE_SIGNING_ALG says.
 */
export const DEFAULT_ID_TOKEN_ALG: SigningAlg = 'RS256';
