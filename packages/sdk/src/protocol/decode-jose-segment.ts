const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64URL_ALPHABET.length; i++) VALUES[BASE64URL_ALPHABET.charCodeAt(i)] = i;

/**
 * Strict UTF-8 (RFC 7519 section 7.2, RFC 8259 section 8.1): a byte sequence that is not valid UTF-8 (a stray
 * 0xFF, an overlong form such as C0 AF, a UTF-16 surrogate encoded as ED A0 80, a truncated sequence) is an
 * error, never replaced by U+FFFD; a leading byte order mark is kept, so JSON.parse refuses it.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The bytes of an unpadded base64url string (RFC 7515 section 2), or undefined when it is not one in its single
 * canonical spelling: only the base64url alphabet, no padding, no length of 4n+1, and no stray bits in the last
 * character (so one value has one encoding). Pure JavaScript: the same in Node, browsers and edge runtimes.
 */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    buffer = (buffer << 6) | VALUES[text.charCodeAt(i)]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (buffer >> bits) & 0xff;
    }
  }
  // The bits left over must be zero (RFC 4648 section 3.5: canonical encoding).
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return bytes;
}

/**
 * The one decoding rule for the header and the payload of a JWS/JWT, used by Gatehouse's server and by the SDK:
 * canonical base64url, then UTF-8 decoded strictly (`TextDecoder` with `fatal: true`: RFC 7519 section 7.2
 * requires the decoded bytes to be valid UTF-8), then JSON that must be an object (not an array, not null).
 * Returns undefined for anything else; never throws.
 */
export function decodeJoseSegment(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64Url(segment);
  if (bytes === undefined || bytes.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(bytes));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
