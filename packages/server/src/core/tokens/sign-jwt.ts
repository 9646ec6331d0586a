import { sign, type KeyObject } from 'node:crypto';
import type { SigningAlg } from './signing-alg.js';

/** What signing needs: the key id published in the JWKS, its algorithm, and the private key. */
export interface JwtSigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyObject;
}

// The encoded header depends only on (alg, typ, kid): computed once per combination. Bounded, should a caller
// ever pass unbounded typ values.
const headers = new Map<string, string>();
const MAX_CACHED_HEADERS = 1024;

function encodedHeader(key: JwtSigningKey, typ: string): string {
  const cacheKey = `${key.alg}\u0000${key.kid}\u0000${typ}`;
  let header = headers.get(cacheKey);
  if (header === undefined) {
    header = Buffer.from(JSON.stringify({ alg: key.alg, typ, kid: key.kid })).toString('base64url');
    if (headers.size >= MAX_CACHED_HEADERS) headers.clear();
    headers.set(cacheKey, header);
  }
  return header;
}

/** The raw JWS signature (RFC 7518 section 3): ES256 is r || s (IEEE P1363), never DER. */
export function signJwsInput(key: Pick<JwtSigningKey, 'alg' | 'privateKey'>, input: Buffer): Buffer {
  switch (key.alg) {
    case 'EdDSA':
      return sign(null, input, key.privateKey);
    case 'ES256':
      return sign('sha256', input, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
      return sign('sha256', input, key.privateKey);
    default:
      throw new TypeError(`Unsupported signing algorithm: ${String((key as { alg: unknown }).alg)}`);
  }
}

/**
 * A compact JWS (RFC 7515) over `payload` with the header exactly {alg, typ, kid}, signed by node:crypto
 * directly: this is the token endpoint's hot path, and jose's WebCrypto path costs several times more.
 * jose verifies the output in the tests.
 */
export function signJwt(key: JwtSigningKey, payload: object, typ: string): string {
  const input = `${encodedHeader(key, typ)}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${signJwsInput(key, Buffer.from(input)).toString('base64url')}`;
}
