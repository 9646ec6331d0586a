import { base64url } from 'jose';

export interface PkcePair {
  /** The code_verifier: 43 characters of base64url (256 random bits), kept by the client until the code exchange. */
  verifier: string;
  /** BASE64URL(SHA-256(verifier)), sent as code_challenge. */
  challenge: string;
  method: 'S256';
}

/** A random string of `bytes` random bytes in base64url (for state and nonce too). */
export function randomToken(bytes = 32): string {
  return base64url.encode(globalThis.crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A PKCE pair (RFC 7636, S256) from Web Crypto: runs in browsers and in Node 20+. */
export async function createPkcePair(): Promise<PkcePair> {
  const verifier = randomToken(32);
  return { verifier, challenge: await pkceChallenge(verifier), method: 'S256' };
}

/** The S256 code_challenge of a verifier. */
export async function pkceChallenge(verifier: string): Promise<string> {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) throw new TypeError('A PKCE verifier is 43 to 128 unreserved characters (RFC 7636 section 4.1)');
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url.encode(new Uint8Array(digest));
}
