/**
 * Test tables shared by the SDK's and the server's tests, so both sides are held to the same protocol rules:
 * the same bytes must be refused in a token, the same query names must be refused in a URL.
 */

/** Bytes that are not valid UTF-8 (RFC 3629), each set inside a JSON string of a JWS header or payload. */
export const INVALID_UTF8: ReadonlyArray<readonly [name: string, bytes: readonly number[]]> = [
  ['a stray 0xFF', [0xff]],
  ['a lone continuation byte', [0x80]],
  ['an overlong "/" (C0 AF)', [0xc0, 0xaf]],
  ['an overlong NUL (C0 80)', [0xc0, 0x80]],
  ['an overlong three-byte form (E0 80 AF)', [0xe0, 0x80, 0xaf]],
  ['a lone high surrogate encoded as UTF-8 (ED A0 80)', [0xed, 0xa0, 0x80]],
  ['a lone low surrogate encoded as UTF-8 (ED B0 80)', [0xed, 0xb0, 0x80]],
  ['a truncated sequence (E2 82)', [0xe2, 0x82]],
  ['a code point past U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
];

/**
 * `{...json, [claim]: "<prefix><bytes>"}` serialised to UTF-8 with the raw bytes spliced into the string value:
 * JSON that parses once the bytes are replaced by U+FFFD, as a lenient decoder does.
 */
export function jsonWithBytes(json: Record<string, unknown>, claim: string, bytes: readonly number[]): Uint8Array {
  const marker = '\u0000MARK\u0000';
  const text = JSON.stringify({ ...json, [claim]: `x${marker}y` });
  const [before, after] = text.split(JSON.stringify(marker).slice(1, -1)) as [string, string];
  const encoder = new TextEncoder();
  return new Uint8Array([...encoder.encode(before), ...bytes, ...encoder.encode(after)]);
}

/** Query parameter names that carry a credential, under the spellings both sides must refuse. */
export const CREDENTIAL_QUERY_NAMES: ReadonlyArray<readonly [sent: string, canonical: string]> = [
  ['api_key', 'api_key'],
  ['API_KEY', 'api_key'],
  ['Api_Key', 'api_key'],
  ['api_key[]', 'api_key'],
  ['api_key[0]', 'api_key'],
  ['api_key[a][b]', 'api_key'],
  ['API-KEY', 'api_key'],
  ['apiKey', 'apikey'],
  ['Api-Key[]', 'api_key'],
  ['apikey', 'apikey'],
  ['access_token', 'access_token'],
  ['Access_Token', 'access_token'],
  ['ACCESS-TOKEN', 'access_token'],
  ['accessToken[]', 'access_token'],
  ['token', 'token'],
  ['TOKEN[]', 'token'],
  ['key', 'key'],
  ['Key', 'key'],
  ['client_secret', 'client_secret'],
  ['Client-Secret[x]', 'client_secret'],
  [' api_key ', 'api_key'],
];

/** Query parameter names that merely look alike and must pass. */
export const HARMLESS_QUERY_NAMES: readonly string[] = ['page', 'keyword', 'keys', 'token_type_hint', 'page_token', 'apikeys', 'x_api_key', '[api_key]', 'api[key]'];
